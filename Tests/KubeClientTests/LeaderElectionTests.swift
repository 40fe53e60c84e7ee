import Foundation
import Kube
import Lab
import Logging
import Synchronization
import Testing
import TestSupport

/// The elector against the API simulator on loopback, with short timings: acquire, renew,
/// takeover after expiry, release, and a partitioned leader that stops before another starts.
@Suite("Leader election on a Lease")
struct LeaderElectionTests {
    /// One replica: its elector and the task running it.
    final class Candidate: Sendable {
        let elector: LeaderElector
        let task: Mutex<Task<Void, Never>?> = Mutex(nil)
        var isLeader: Bool { elector.leadership.isLeader }

        /// Short timings, with room for a busy machine: a renewal may be late by a second before leadership lapses.
        init(_ identity: String, url: String, token: String? = nil, leaseDuration: Duration = .seconds(2),
             renewDeadline: Duration = .milliseconds(1200), retryPeriod: Duration = .milliseconds(200)) {
            let connection = ClusterConnection(server: url, credentials: token.map { .token($0) } ?? .none)
            var logger = Logger(label: "test.election.\(identity)")
            logger.logLevel = .critical
            elector = LeaderElector(
                client: KubeClient(connection: connection),
                settings: LeaderElectionSettings(leaseName: "netagent", namespace: "network", identity: identity,
                                                 leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: retryPeriod),
                logger: logger)
        }

        func start() {
            let elector = elector
            task.withLock { $0 = Task { await elector.run() } }
        }

        /// Stops campaigning without giving the lease back, as a killed process does.
        func crash() async {
            let running = task.withLock { t in defer { t = nil }; return t }
            running?.cancel()
            await running?.value
        }

        /// Graceful shutdown: stop campaigning, then give the lease back.
        func shutDown() async {
            await crash()
            await elector.release()
        }
    }

    static func spec(_ simulator: KubeAPISimulator) async throws -> [String: Any] {
        let lease = try #require(await simulator.objects(.leases).first { $0.name == "netagent" })
        let object = try #require(try JSONSerialization.jsonObject(with: lease.json) as? [String: Any])
        return try #require(object["spec"] as? [String: Any])
    }

    static func holder(_ simulator: KubeAPISimulator) async throws -> String? {
        guard await !simulator.objects(.leases).isEmpty else { return nil }
        return try await spec(simulator)["holderIdentity"] as? String
    }

    @Test("acquire, renew while another waits, take over after expiry, release for a fast handover")
    func lifecycle() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let a = Candidate("pod-a", url: url)
            let b = Candidate("pod-b", url: url)
            a.start()
            try await eventually("pod-a leads") { a.isLeader }
            var spec = try await Self.spec(simulator)
            #expect(spec["holderIdentity"] as? String == "pod-a")
            #expect(spec["leaseDurationSeconds"] as? Int == 2)
            #expect(spec["leaseTransitions"] as? Int == 0)
            let acquired = try #require(spec["acquireTime"] as? String)
            #expect(acquired.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil, "\(acquired)")

            // B campaigns while A renews: A's renewTime moves on, B never leads.
            b.start()
            var renewals: Set<String> = []
            try await eventually("three renewals by pod-a") {
                let spec = try await Self.spec(simulator)
                #expect(spec["holderIdentity"] as? String == "pod-a")
                #expect(!b.isLeader)
                if let renewed = spec["renewTime"] as? String { renewals.insert(renewed) }
                return renewals.count >= 3
            }
            spec = try await Self.spec(simulator)
            #expect(spec["acquireTime"] as? String == acquired, "a renewal keeps acquireTime")
            let reads = await simulator.requests().filter { $0.method == "GET" && $0.path.hasSuffix("/leases/netagent") }
            #expect(!reads.isEmpty, "pod-b reads the lease while it waits")

            // A dies without a word: B takes over once the lease has not moved for its duration.
            await a.crash()
            try await eventually("pod-b takes over") { b.isLeader }
            #expect(!a.isLeader, "pod-a's leadership lapsed at its renew deadline")
            spec = try await Self.spec(simulator)
            #expect(spec["holderIdentity"] as? String == "pod-b")
            #expect(spec["leaseTransitions"] as? Int == 1)
            #expect(spec["acquireTime"] as? String != acquired)

            // B shuts down gracefully: it stops leading and gives the lease back; C takes it.
            await b.shutDown()
            #expect(!b.isLeader)
            spec = try await Self.spec(simulator)
            #expect(spec["holderIdentity"] as? String == "")
            #expect(spec["leaseDurationSeconds"] as? Int == 1)
            let c = Candidate("pod-c", url: url, leaseDuration: .seconds(30), renewDeadline: .seconds(20))
            c.start()
            try await eventually("pod-c takes the released lease without waiting out a duration") { c.isLeader }
            spec = try await Self.spec(simulator)
            #expect(spec["holderIdentity"] as? String == "pod-c")
            #expect(spec["leaseTransitions"] as? Int == 2)
            #expect(spec["leaseDurationSeconds"] as? Int == 30)
            await c.shutDown()
            // Only the verbs the Role grants: get, create, update.
            let verbs = Set(await simulator.requests().filter { $0.path.contains("/leases") }.map(\.method))
            #expect(verbs.isSubset(of: ["GET", "POST", "PUT"]), "\(verbs)")
        }
    }

    @Test("a leader cut off from the API stops leading before the other replica starts")
    func partitionedLeaderStepsDownFirst() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let a = Candidate("pod-a", url: url, token: "token-a", leaseDuration: .seconds(3), renewDeadline: .seconds(2),
                              retryPeriod: .milliseconds(250))
            let b = Candidate("pod-b", url: url, token: "token-b", leaseDuration: .seconds(3), renewDeadline: .seconds(2),
                              retryPeriod: .milliseconds(250))
            a.start()
            try await eventually("pod-a leads") { a.isLeader }
            b.start()

            // Watch both, often: the two must never lead at once.
            let overlaps = Mutex(0)
            let samples = Mutex(0)
            let watcher = Task {
                while !Task.isCancelled {
                    if a.isLeader && b.isLeader { overlaps.withLock { $0 += 1 } }
                    samples.withLock { $0 += 1 }
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
            await simulator.setUnreachable(bearerToken: "token-a", true)
            try await eventually("pod-b takes over from the cut-off leader") { b.isLeader }
            #expect(!a.isLeader)
            #expect(try await Self.holder(simulator) == "pod-b")

            // Reconnected, pod-a finds the lease held and stays a follower.
            await simulator.setUnreachable(bearerToken: "token-a", false)
            try await eventually("pod-a reads the lease again") {
                await simulator.requests().contains { $0.method == "GET" && $0.path.hasSuffix("/leases/netagent") }
                    && samples.withLock { $0 } > 100
            }
            let before = await simulator.requests().count
            try await eventually("pod-a tried again since reconnecting") { await simulator.requests().count > before + 10 }
            #expect(!a.isLeader && b.isLeader)
            watcher.cancel()
            await watcher.value
            #expect(overlaps.withLock { $0 } == 0, "both led at once in \(overlaps.withLock { $0 }) of \(samples.withLock { $0 }) samples")
            await a.crash()
            await b.shutDown()
        }
    }

    @Test("the simulator answers Lease and ConfigMap writes as the apiserver does")
    func simulatorWriteRules() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let client = KubeClient(connection: ClusterConnection(server: url))
            func lease(_ spec: [String: JSONValue], resourceVersion: String? = nil) -> JSONValue {
                var metadata: [String: JSONValue] = ["name": .string("l")]
                if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
                return .object(["metadata": .object(metadata), "spec": .object(spec)])
            }
            // A Lease may be created by PUT (AllowCreateOnUpdate) …
            let created = try await client.replace(.leases, namespace: "network", object: lease(["holderIdentity": .string("a")]))
            // … but not replaced without a resourceVersion (AllowUnconditionalUpdate is false).
            let blind = await #expect(throws: KubeError.self) {
                _ = try await client.replace(.leases, namespace: "network", object: lease(["holderIdentity": .string("b")]))
            }
            #expect(blind?.status == 422 && blind?.reason == "Invalid" && blind?.message.contains("metadata.resourceVersion") == true)
            let stale = await #expect(throws: KubeError.self) {
                _ = try await client.replace(.leases, namespace: "network", object: lease([:], resourceVersion: "1"))
            }
            #expect(stale?.refusal == .conflict)
            let taken = await #expect(throws: KubeError.self) {
                _ = try await client.create(.leases, namespace: "network", object: lease([:]))
            }
            #expect(taken?.refusal == .alreadyExists)
            let missing = await #expect(throws: KubeError.self) {
                _ = try await client.get(.leases, namespace: "network", name: "absent")
            }
            #expect(missing?.refusal == .notFound)
            // MicroTime needs six fractional digits; durations must be positive.
            let coarse = await #expect(throws: KubeError.self) {
                _ = try await client.replace(.leases, namespace: "network", object: lease(
                    ["renewTime": .string("2026-01-01T00:00:00Z")], resourceVersion: created.resourceVersion))
            }
            #expect(coarse?.status == 400 && coarse?.reason == "BadRequest", "\(String(describing: coarse))")
            let zero = await #expect(throws: KubeError.self) {
                _ = try await client.replace(.leases, namespace: "network", object: lease(
                    ["leaseDurationSeconds": .int(0)], resourceVersion: created.resourceVersion))
            }
            #expect(zero?.status == 422 && zero?.message.contains("spec.leaseDurationSeconds") == true)
            _ = try await client.replace(.leases, namespace: "network", object: lease(
                ["renewTime": .string(MicroTime.format(Date())), "leaseDurationSeconds": .int(15)],
                resourceVersion: created.resourceVersion))

            // A ConfigMap must exist to be replaced, and may be replaced without a resourceVersion.
            let map: JSONValue = .object(["metadata": .object(["name": .string("m")]), "data": .object(["k": .string("v")])])
            let absent = await #expect(throws: KubeError.self) { _ = try await client.replace(.configMaps, namespace: "network", object: map) }
            #expect(absent?.refusal == .notFound)
            _ = try await client.create(.configMaps, namespace: "network", object: map)
            _ = try await client.replace(.configMaps, namespace: "network", object: map)
        }
    }
}

@Suite("Who a replica is and where its Lease lives")
struct PodIdentityTests {
    @Test("identity: POD_NAME, else hostname and pid — never random")
    func identity() {
        #expect(PodIdentity.identity(environment: ["POD_NAME": "netagent-7d9f-abc"], hostName: "h", pid: 7) == "netagent-7d9f-abc")
        #expect(PodIdentity.identity(environment: [:], hostName: "builder", pid: 4242) == "builder_4242")
        #expect(PodIdentity.identity(environment: ["POD_NAME": " "], hostName: "builder", pid: 1) == "builder_1")
        #expect(PodIdentity.identity() == PodIdentity.identity(), "stable for the life of the process")
    }

    @Test("namespace: POD_NAMESPACE, else the service account's file, else the kubeconfig context's, else default")
    func namespace() throws {
        let folder = try Repository.temporaryFolder("pod-namespace")
        let file = folder.appendingPathComponent("namespace")
        try "network\n".write(to: file, atomically: true, encoding: .utf8)
        let context = ClusterConnection(server: "http://127.0.0.1:1", namespace: "from-context")
        let missing = folder.appendingPathComponent("absent").path
        #expect(PodIdentity.namespace(environment: ["POD_NAMESPACE": "env"], namespaceFile: file.path, connection: context) == "env")
        #expect(PodIdentity.namespace(environment: [:], namespaceFile: file.path, connection: context) == "network")
        #expect(PodIdentity.namespace(environment: [:], namespaceFile: missing, connection: context) == "from-context")
        #expect(PodIdentity.namespace(environment: [:], namespaceFile: missing,
                                      connection: ClusterConnection(server: "http://127.0.0.1:1")) == "default")
    }
}
