import Cloudflare
import DNSCore
import Foundation
import Lab

/// `netagent-bench cloudflare [--routes N] [--chunk N]`: converge N routes (one record each,
/// plus its ownership TXT) into the Lab's Cloudflare simulator from empty, then one idle
/// resync; the simulator's request log gives the calls. Beside it, external-dns v0.21's
/// documented pattern replayed against a fresh simulator. Prints one JSON line.
enum CloudflareBench {
    static func run(_ arguments: [String]) async throws {
        var values = ["--routes": 1000, "--chunk": 200]
        var index = 0
        while index + 1 < arguments.count {
            guard values[arguments[index]] != nil, let value = Int(arguments[index + 1]) else {
                throw BenchError("usage: netagent-bench cloudflare [--routes N] [--chunk N]")
            }
            values[arguments[index]] = value
            index += 2
        }
        let routes = values["--routes"]!, chunk = values["--chunk"]!
        var desired: [Endpoint] = []
        for i in 0..<routes {
            let name = try DNSName("app\(i).example.test")
            let labels = EndpointLabels(resource: "httproute/bench/app\(i)")
            desired.append(i % 4 == 3
                ? Endpoint(name: name, type: .cname, targets: ["app\(i - 1).example.test"], labels: labels)
                : Endpoint(name: name, type: .a, targets: ["198.18.\(i / 250).\(i % 250 + 1)"], labels: labels))
        }
        var options = CloudflareSimulator.Options()
        options.batchLimit = max(chunk, 200)
        let simulator = CloudflareSimulator(options)
        let run = PlanningRun(policy: .sync)
        let clock = ContinuousClock()
        var result: [String: Any] = ["routes": routes, "chunk": chunk]
        try await simulator.withRunning { url in
            let client = CloudflareClient(baseURL: url, token: "lab-token")
            let provider = CloudflareProvider(client: client, options: .init(zones: [try DNSName("example.test")], batchChunkSize: chunk))
            let registry = try TXTRegistry(provider: provider, ownerID: "bench", mapper: TXTNameMapper())
            var phase = await simulator.requests().count
            func calls(_ elapsed: Duration) async -> [String: Any] {
                let log = await simulator.requests()
                defer { phase = log.count }
                return Self.summary(log[phase...], elapsed)
            }
            let startup = try await clock.measure { try await provider.preflight() }
            result["startup"] = await calls(startup)
            var report = ApplyReport()
            let converge = try await clock.measure { report = try await run.reconcile(desired: desired, registry: registry).report }
            result["converge"] = await calls(converge)
            var idlePlan = Plan()
            let idle = try await clock.measure { idlePlan = try await run.reconcile(desired: desired, registry: registry).plan }
            result["idle"] = await calls(idle)
            guard report.isComplete, report.created == 2 * routes, !idlePlan.hasChanges else {
                throw BenchError("did not converge: \(report.failures.prefix(3)), idle plan \(idlePlan.changes.count) changes")
            }
        }
        result["records"] = 2 * routes
        result["externalDNS"] = try await replayExternalDNS(desired, chunk: chunk)
        try printJSON(result)
    }

    /// external-dns v0.21's documented Cloudflare pattern (EXTERNAL-DNS.md §4): each run lists
    /// zones and every record 100 per page; a run with changes re-lists the zone's records to
    /// map ids, then sends batches of max(200, batch-change-size) operations (its 1 s pause
    /// between chunks is left out here). Replayed with the same records and TXT, fresh simulator.
    static func replayExternalDNS(_ desired: [Endpoint], chunk: Int) async throws -> [String: Any] {
        var options = CloudflareSimulator.Options()
        options.batchLimit = max(chunk, 200)
        let simulator = CloudflareSimulator(options)
        let clock = ContinuousClock()
        var result: [String: Any] = [:]
        try await simulator.withRunning { url in
            let client = CloudflareClient(baseURL: url, token: "lab-token")
            func listEverything() async throws -> String {
                guard let zone = try await client.zones(named: "example.test").first else { throw BenchError("no zone") }
                _ = try await client.records(zoneID: zone.id, perPage: 100)
                return zone.id
            }
            var posts: [CloudflareRecordBody] = []
            for endpoint in desired {
                let type = endpoint.type.rawValue
                posts.append(CloudflareRecordBody(name: endpoint.name.text, type: type, content: endpoint.targets[0], ttl: 1, proxied: false))
                let txt = "\"heritage=external-dns,external-dns/owner=bench,external-dns/resource=\(endpoint.labels.resource ?? "")\""
                posts.append(CloudflareRecordBody(name: "\(type.lowercased())-\(endpoint.name.text)", type: "TXT", content: txt, ttl: 1, proxied: nil))
            }
            let converge = try await clock.measure {
                let zoneID = try await listEverything()
                _ = try await client.records(zoneID: zoneID, perPage: 100)  // the re-list before submission
                let size = max(chunk, 200)
                for start in stride(from: 0, to: posts.count, by: size) {
                    _ = try await client.batch(zoneID: zoneID, CloudflareBatch(posts: Array(posts[start..<min(start + size, posts.count)])))
                }
            }
            let afterConverge = await simulator.requests()
            result["converge"] = Self.summary(afterConverge[...], converge)
            let idle = try await clock.measure { _ = try await listEverything() }
            result["idle"] = Self.summary(await simulator.requests()[afterConverge.count...], idle)
        }
        return result
    }

    static func summary(_ log: ArraySlice<CloudflareSimulator.LoggedRequest>, _ elapsed: Duration) -> [String: Any] {
        ["calls": log.count, "lists": log.filter(\.isRecordList).count, "batches": log.filter(\.isBatch).count,
         "writes": log.filter(\.isWrite).count, "ms": elapsed.milliseconds]
    }
}
