import DNSCore
import Foundation
import Lab
import Pihole

/// `netagent-bench pihole [--a N] [--cname N]`: converge N A and M CNAME records into the Lab's
/// Pi-hole from empty, then one idle resync; the simulator counts the API calls, logins and
/// resolver restarts it served. Prints one JSON line.
enum PiholeBench {
    static func run(_ arguments: [String]) async throws {
        var counts = ["--a": 500, "--cname": 200]
        var index = 0
        while index + 1 < arguments.count {
            guard counts[arguments[index]] != nil, let value = Int(arguments[index + 1]) else {
                throw BenchError("usage: netagent-bench pihole [--a N] [--cname N]")
            }
            counts[arguments[index]] = value
            index += 2
        }
        let aCount = counts["--a"]!, cnameCount = counts["--cname"]!
        var desired: [Endpoint] = []
        for i in 0..<aCount {
            desired.append(Endpoint(name: try DNSName("host\(i).home.test"), type: .a,
                                    targets: ["198.18.\(i / 250).\(i % 250 + 1)"]))
        }
        for i in 0..<cnameCount {
            desired.append(Endpoint(name: try DNSName("alias\(i).home.test"), type: .cname,
                                    targets: ["host\(i % max(aCount, 1)).home.test"]))
        }
        let simulator = try PiholeSimulator(.benchmark)
        let run = PlanningRun(policy: .sync)
        let clock = ContinuousClock()
        var report = ApplyReport()
        var idlePlan = Plan()
        var converge = Duration.zero, idle = Duration.zero
        var afterConverge = PiholeSimulator.Counters(), afterIdle = PiholeSimulator.Counters()
        try await simulator.withRunning { url in
            let provider = PiholeProvider(client: PiholeClient(url: url, password: "pihole-lab-password"))
            let registry = LedgerRegistry(provider: provider, ledger: InMemoryLedger(), ownerID: "bench")
            converge = try await clock.measure { report = try await run.reconcile(desired: desired, registry: registry).report }
            afterConverge = await simulator.counters()
            idle = try await clock.measure { idlePlan = try await run.reconcile(desired: desired, registry: registry).plan }
            afterIdle = await simulator.counters()
            await provider.close()
        }
        let peer = try await replayExternalDNS(desired)
        guard report.isComplete, report.created == desired.count, !idlePlan.hasChanges else {
            throw BenchError("did not converge: \(report), idle plan \(idlePlan.changes.count) changes")
        }
        let result: [String: Any] = [
            "records": desired.count, "a": aCount, "cname": cnameCount,
            "converge": summary(afterConverge, converge), "idle": summary(afterIdle.since(afterConverge), idle),
            "externalDNS": peer,
        ]
        try printJSON(result)
    }
}

/// external-dns v0.21's documented Pi-hole v6 pattern (EXTERNAL-DNS.md §5), replayed against
/// a fresh simulator: a login every run, three list calls (hosts twice, CNAMEs once), then one
/// call per target, each CNAME call restarting the resolver.
func replayExternalDNS(_ desired: [Endpoint]) async throws -> [String: Any] {
    let simulator = try PiholeSimulator(.benchmark)
    let clock = ContinuousClock()
    func oneRun(_ url: String, writes: Bool) async throws {
        let client = PiholeClient(url: url, password: "pihole-lab-password")
        _ = try await client.lines(.hosts)
        _ = try await client.lines(.hosts)
        _ = try await client.lines(.cnameRecords)
        guard writes else { return }
        for endpoint in desired {
            for target in endpoint.targets {
                if endpoint.type == .cname {
                    try await client.add("\(endpoint.name),\(target)", to: .cnameRecords, restart: true)
                } else {
                    try await client.add("\(target) \(endpoint.name)", to: .hosts)
                }
            }
        }
    }
    var converge = Duration.zero, idle = Duration.zero
    var afterConverge = PiholeSimulator.Counters(), afterIdle = PiholeSimulator.Counters()
    try await simulator.withRunning { url in
        converge = try await clock.measure { try await oneRun(url, writes: true) }
        afterConverge = await simulator.counters()
        idle = try await clock.measure { try await oneRun(url, writes: false) }
        afterIdle = await simulator.counters()
    }
    return ["converge": summary(afterConverge, converge), "idle": summary(afterIdle.since(afterConverge), idle)]
}

/// One phase's counts and wall time, as the bench prints them.
func summary(_ counters: PiholeSimulator.Counters, _ elapsed: Duration) -> [String: Any] {
    ["calls": counters.calls, "logins": counters.logins, "restarts": counters.restarts, "ms": elapsed.milliseconds]
}

