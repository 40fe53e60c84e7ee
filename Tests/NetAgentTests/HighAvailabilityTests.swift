import Foundation
import Glibc
import Lab
import NetIO
import Testing
import TestSupport

/// Two `netagent run` processes with leader election against the Kubernetes API simulator and
/// the Pi-hole simulator: one writes, the other only plans; SIGKILL the leader and the other
/// takes over, knowing from the shared ConfigMap ledger which records are its own.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct HighAvailabilityTests {
    /// One agent's configuration: the simulated cluster as the source and the Lease's home,
    /// the Pi-hole as the target, short election timings, the ledger in a ConfigMap.
    static func write(folder: URL, kubeURL: String, piholeURL: String, httpPort: Int) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let kubeconfig = try Kubeconfig.write(in: folder, server: kubeURL, namespace: "default")
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            \(AgentYAML.loopbackCluster(kubeconfig: kubeconfig))
            providers:
              - name: pihole
                type: pihole
                urls: [\(piholeURL)]
                passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
                select: { domainFilters: [home.test] }
                policy: sync
            reconcile: { debounce: 100ms, resync: 1h }
            leaderElection: { enabled: true, leaseDuration: 6s, renewDeadline: 4s, retryPeriod: 1s }
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
              ledger: configmap
            server:
              listen: 127.0.0.1:\(httpPort)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    struct Agent {
        var name: String
        var port: Int
        var process: ChildProcess
    }

    static func environment(pod: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["KUBERNETES_SERVICE_HOST"] = nil
        environment["NETAGENT_TEST_PIHOLE_PASSWORD"] = "pihole-lab-password"
        environment["POD_NAME"] = pod
        environment["POD_NAMESPACE"] = "network"
        return environment
    }

    static func lease(_ kube: KubeAPISimulator) async throws -> [String: Any]? {
        guard let lease = await kube.objects(.leases).first(where: { $0.namespace == "network" && $0.name == "netagent" }) else {
            return nil
        }
        let object = try JSONSerialization.jsonObject(with: lease.json) as? [String: Any]
        return object?["spec"] as? [String: Any]
    }

    static func ledger(_ kube: KubeAPISimulator) async throws -> String {
        let maps = await kube.objects(.configMaps).filter { $0.namespace == "network" && $0.name.hasPrefix("netagent-ledger-pihole-") }
        guard maps.count == 1, let object = try JSONSerialization.jsonObject(with: maps[0].json) as? [String: Any] else { return "" }
        return ((object["data"] as? [String: String])?["records"]) ?? ""
    }

    @Test("two replicas: one writes, no double writes; SIGKILL the leader and the other takes over from the shared ledger")
    func failover() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("ha")
        let (kube, pihole) = try await DaemonTests.clusterAndPihole()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                var agents: [Agent] = []
                for name in ["agent-a", "agent-b"] {
                    let port = try freeLoopbackPort()
                    let config = try Self.write(folder: folder.appendingPathComponent(name), kubeURL: kubeURL, piholeURL: piholeURL,
                                                httpPort: port)
                    let process = try ChildProcess(binary.path, ["run", "--config", config, "--log-level", "debug"],
                                                   environment: Self.environment(pod: name))
                    agents.append(Agent(name: name, port: port, process: process))
                }
                for agent in agents { try await waitForTCP(port: agent.port) }
                func logs() -> String { agents.map { "--- \($0.name)\n\($0.process.output)\($0.process.spawned.errorOutput)" }.joined() }

                // One leads; the route there at start is written; both are ready (a follower plans, so it is ready too).
                try await eventually("grafana in Pi-hole") { await pihole.hosts().contains("198.18.0.50 grafana.home.test") }
                for agent in agents {
                    try await eventually("\(agent.name) ready") {
                        try await DaemonTests.get("http://127.0.0.1:\(agent.port)/readyz").status == 200
                    }
                }
                let holder = try #require(try await Self.lease(kube)?["holderIdentity"] as? String, "\(logs())")
                let leader = try #require(agents.first { $0.name == holder }, "lease held by \(holder)")
                let follower = try #require(agents.first { $0.name != holder })
                #expect(try await DaemonTests.get("http://127.0.0.1:\(leader.port)/metrics").body.contains("netagent_leader 1"))
                #expect(try await DaemonTests.get("http://127.0.0.1:\(follower.port)/metrics").body.contains("netagent_leader 0"))

                // A route added: written once, by the leader alone.
                _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("wiki", hosts: ["wiki.home.test"]))
                try await eventually("wiki in Pi-hole") { await pihole.hosts().contains("198.18.0.50 wiki.home.test") }
                try await eventually("the ledger ConfigMap names both") {
                    let ledger = try await Self.ledger(kube)
                    return ledger.contains("grafana.home.test A") && ledger.contains("wiki.home.test A")
                }
                let before = await pihole.writes()
                #expect(Set(before.map(\.session)).count == 1, "writes from more than one session: \(before)\n\(logs())")
                #expect(before.allSatisfy { $0.status == 201 }, "\(before)")
                #expect(Set(before.map(\.value)).count == before.count, "a line written twice: \(before)")

                // The leader dies without a word. A route added meanwhile is planned by the follower
                // but applied only once it has taken the lease over.
                leader.process.spawned.kill(SIGKILL)
                _ = leader.process.spawned.wait()
                _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("docs", hosts: ["docs.home.test"]))
                try await eventually("docs in Pi-hole, written by the new leader", timeout: .seconds(40)) {
                    await pihole.hosts().contains("198.18.0.50 docs.home.test")
                }
                let spec = try #require(try await Self.lease(kube))
                #expect(spec["holderIdentity"] as? String == follower.name)
                #expect((spec["leaseTransitions"] as? Int ?? 0) >= 1)
                #expect(try await DaemonTests.get("http://127.0.0.1:\(follower.port)/metrics").body.contains("netagent_leader 1"))

                // The new leader owns what the old one made (the shared ledger): a route deleted goes.
                try await kube.delete(.httpRoutes, namespace: "apps", name: "grafana")
                try await eventually("grafana gone") { await !pihole.hosts().contains("198.18.0.50 grafana.home.test") }
                try await eventually("the ledger forgets grafana") { try await !Self.ledger(kube).contains("grafana.home.test") }
                let after = Array(await pihole.writes().dropFirst(before.count))
                #expect(!after.isEmpty && Set(after.map(\.session)).count == 1, "\(after)")
                #expect(after.first?.session != before.first?.session, "the new leader writes with its own session")
                #expect(after.allSatisfy { $0.status == 201 || $0.status == 204 }, "\(after)")
                #expect(Set(after.map { "\($0.method) \($0.value)" }).count == after.count, "a write sent twice: \(after)")

                // Only what the Role grants: get, create, update of single objects in the pod's namespace.
                let own = await kube.requests().filter { $0.path.contains("/leases") || $0.path.contains("/configmaps") }
                for request in own {
                    let single = request.path.hasPrefix("/apis/coordination.k8s.io/v1/namespaces/network/leases/")
                        || request.path.hasPrefix("/api/v1/namespaces/network/configmaps/")
                    let collection = request.path == "/apis/coordination.k8s.io/v1/namespaces/network/leases"
                        || request.path == "/api/v1/namespaces/network/configmaps"
                    #expect((request.method == "POST" && collection) || (["GET", "PUT"].contains(request.method) && single),
                            "a verb the Role does not grant: \(request.method) \(request.path)")
                }

                // SIGTERM: a clean exit that gives the lease back.
                follower.process.spawned.kill(SIGTERM)
                var status: Int32?
                try await eventually("exit after SIGTERM", timeout: .seconds(15)) {
                    status = follower.process.spawned.exitStatusIfEnded()
                    return status != nil
                }
                #expect(status == 0, "\(logs())")
                let released = try #require(try await Self.lease(kube))
                #expect(released["holderIdentity"] as? String == "" && released["leaseDurationSeconds"] as? Int == 1, "\(released)")
            }
        }
    }
}
