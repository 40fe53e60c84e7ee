import Foundation
import Glibc
import Testing
import TestSupport

/// The network under the probes breaks, on real sockets in network namespaces (scripts/testbed).
/// The agent and the relay run inside the bed's observer namespace; each scenario has a bed of
/// its own (a unique TESTBED_PREFIX), so they run in parallel.
@Suite(.enabled(if: getuid() == 0 || Repository.isCI, "needs root for network namespaces (runs under CI=true)"))
struct NetworkFaultTests {
    /// The bed's healthy nodes (w2, w3, w4 and far carry faults of their own and are left out).
    static let cluster = """
        cluster:
          name: bed
          network: 198.18.0.0/16
          vip: 198.18.0.10
          mtu: 1500
          nodes:
            - { name: cp1, address: 198.18.0.11, role: controlplane }
            - { name: cp2, address: 198.18.0.12, role: controlplane }
            - { name: cp3, address: 198.18.0.13, role: controlplane }
            - { name: w1, address: 198.18.0.21, role: worker }
        sources:
          manifests: []
        providers: []
        """

    /// `cluster` probed every second.
    static let config = cluster + """

        probes:
          interval: 1s
          nodes: { tcpPorts: [50000, 10250], controlPlanePorts: [6443], icmp: true, timeout: 1s }
          vip: { port: 6443, interval: 1s, timeout: 1s }
          mtu: { expected: 1500, interval: 4s, timeout: 3s }
        """

    /// A bed, the relay and `netagent run` inside the observer; `body` gets the bed and the relay.
    static func withAgent(_ body: (Bed, FaultRelay, ChildProcess) async throws -> Void) async throws -> MailLedger {
        let bed = try await Bed.start()
        do {
            let relay = try await FaultRelay(namespace: bed.namespace("obs"))
            defer { relay.stop() }
            let folder = try Repository.temporaryFolder("fault-net")
            let state = folder.appendingPathComponent("state.sqlite").path
            let config = folder.appendingPathComponent("netagent.yaml").path
            try (Self.config + """

                alerting:
                  smtp: { url: "\(relay.url)", from: netagent@lab.test, to: [owner@lab.test], starttls: none }
                  for: 0s
                  groupWait: 0s
                  groupInterval: 0s
                  retryDelay: 1s
                state:
                  path: \(state)
                server:
                  listen: 127.0.0.1:9099
                """).write(toFile: config, atomically: true, encoding: .utf8)
            let binary = try #require(Netagent.binary)
            let agent = try ChildProcess("/usr/sbin/ip", ["netns", "exec", bed.namespace("obs"), binary.path, "run", "--config", config])
            try await body(bed, relay, agent)
            agent.spawned.kill(SIGTERM)
            try await eventually("the agent exits", timeout: .seconds(30)) { agent.spawned.exitStatusIfEnded() != nil }
            let ledger = MailLedger(mails: try relay.mails(), outbox: try await AlertOutboxReader.entries(state))
            await bed.stop()
            return ledger
        } catch {
            await bed.stop()
            throw error
        }
    }

    @Test("net-node-down") func nodeDown() async throws {
        try await Scenario(
            id: "net-node-down", area: "network", fault: "worker w1's link goes down for a while, then up",
            assertions: "node-down for w1 fired once, resolved once; no other alert; mails exact"
        ).run {
            let ledger = try await Self.withAgent { bed, relay, agent in
                try await Task.sleep(for: .seconds(3))
                try await bed.script(["exec", "w1", "ip", "link", "set", "eth0", "down"])
                try await Self.waitForMail(relay, agent, "FIRING", key: "node-down w1")
                try await bed.script(["exec", "w1", "ip", "link", "set", "eth0", "up"])
                try await Self.waitForMail(relay, agent, "RESOLVED", key: "node-down w1")
                // The link down can fail w1's MTU probe too; its alert resolves on that probe's own round.
                try await Self.waitUntilAllResolved(relay, agent)
            }
            #expect(ledger.invariantFailures.isEmpty, "\(ledger.invariantFailures)")
            #expect(ledger.episodes.keys.allSatisfy { $0.hasSuffix(" w1") }, "only w1 alerts: \(ledger.summary)")
            #expect(ledger.episodes(of: "node-down w1").map(\.fired) == [1], "\(ledger.summary)")
            return "probed down, then up; \(ledger.summary)"
        }
    }

    @Test("net-mtu-drop") func mtuDrop() async throws {
        try await Scenario(
            id: "net-mtu-drop", area: "network", fault: "w1's switch port drops to MTU 1400 (big frames vanish), then back to 1500",
            assertions: "the mtu alert for w1 fired once, resolved once; mails exact"
        ).run {
            let ledger = try await Self.withAgent { bed, relay, agent in
                try await Task.sleep(for: .seconds(3))
                try await bed.script(["exec", "sw", "ip", "link", "set", "p-w1", "mtu", "1400"])
                try await Self.waitForMail(relay, agent, "FIRING", key: "mtu w1")
                try await bed.script(["exec", "sw", "ip", "link", "set", "p-w1", "mtu", "1500"])
                try await Self.waitForMail(relay, agent, "RESOLVED", key: "mtu w1")
            }
            #expect(ledger.invariantFailures.isEmpty, "\(ledger.invariantFailures)")
            #expect(ledger.episodes(of: "mtu w1").map(\.fired) == [1], "\(ledger.summary)")
            return "black hole found, cleared after the MTU came back; \(ledger.summary)"
        }
    }

    @Test("net-vip-move") func vipMove() async throws {
        try await Scenario(
            id: "net-vip-move", area: "network", fault: "the VIP leaves cp1; once vip-down is mailed, cp2 takes it (gratuitous ARP)",
            assertions: "vip-down fired once, resolved once after cp2 holds it; no other alert; mails exact"
        ).run {
            let ledger = try await Self.withAgent { bed, relay, agent in
                try await Task.sleep(for: .seconds(3))
                try await bed.script(["vip-del", "cp1"])
                try await Self.waitForMail(relay, agent, "FIRING", key: "vip-down")
                try await bed.script(["vip-add", "cp2"])
                try await Self.waitForMail(relay, agent, "RESOLVED", key: "vip-down")
                let (_, holders) = try await bed.script(["holders"])
                #expect(holders.split(separator: "\n") == ["cp2"])
            }
            #expect(ledger.invariantFailures.isEmpty, "\(ledger.invariantFailures)")
            #expect(ledger.episodes(of: "vip-down").map(\.fired) == [1], "\(ledger.summary)")
            #expect(ledger.episodes.keys.allSatisfy { $0.hasPrefix("vip-down") }, "no other alert: \(ledger.summary)")
            return "VIP down while nobody held it, up on cp2; \(ledger.summary)"
        }
    }

    /// Waits until every alert a FIRING mail named has a RESOLVED mail after it.
    static func waitUntilAllResolved(_ relay: FaultRelay, _ agent: ChildProcess) async throws {
        for key in try MailLedger(mails: relay.mails(), outbox: []).episodes.keys.sorted() {
            try await waitForMail(relay, agent, "RESOLVED", key: key)
        }
    }

    static func waitForMail(_ relay: FaultRelay, _ agent: ChildProcess, _ state: String, key: String) async throws {
        do {
            try await eventually("\(state) \(key)", timeout: .seconds(60)) {
                if let status = agent.spawned.exitStatusIfEnded() {
                    throw TestSupportError("netagent run exited (\(status)): \(agent.output.suffix(3000))")
                }
                return try relay.mails().contains { $0.entries.contains { $0.state == state && $0.key.contains(key) } }
            }
        } catch {
            throw TestSupportError("no \(state) mail for \(key) (\(error)); mails: \((try? relay.mails().map(\.subject)) ?? []); agent: \(agent.output.suffix(3000))")
        }
    }
}

/// One scripts/testbed of its own (a random TESTBED_PREFIX), removed by `stop()`.
final class Bed: Sendable {
    let prefix: String

    private init(prefix: String) { self.prefix = prefix }

    static func start() async throws -> Bed {
        let bed = Bed(prefix: "f" + String(UInt32.random(in: 0..<UInt32.max), radix: 16).prefix(7))
        let (status, output) = try await bed.script(["up"])
        guard status == 0 else {
            await bed.stop()
            throw TestSupportError("scripts/testbed up failed (\(status)): \(output)")
        }
        return bed
    }

    func namespace(_ name: String) -> String { prefix + name }

    func stop() async { _ = try? await script(["down"]) }

    @discardableResult
    func script(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["TESTBED_PREFIX"] = prefix
        let spawned = try Spawned.start("/bin/bash", [Repository.root.appendingPathComponent("scripts/testbed").path] + arguments,
                                        environment: environment)
        defer { spawned.removeFiles() }
        while true {
            if let status = spawned.exitStatusIfEnded() { return (status, spawned.output) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
