import Alerts
import Foundation
import NetAgent
@testable import NetIO
import Probes

/// Probe results shaped like the real probes make them, at fixed times.
enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    static func policy(for forDuration: TimeInterval = 120, groupWait: TimeInterval = 0, groupInterval: TimeInterval = 0,
                       repeatInterval: TimeInterval = 4 * 3600, silences: [AlertSilence] = [],
                       offline: Set<String> = ["k8s-4", "k8s-10"]) -> AlertPolicy {
        AlertPolicy(cluster: "home", from: "netagent@example.com", to: ["owner@example.com"], forDuration: forDuration,
                    repeatInterval: repeatInterval, groupWait: groupWait, groupInterval: groupInterval,
                    silences: silences, offlineNodes: offline)
    }

    static func role(_ name: String) -> NodeTarget.Role { ["k8s-1", "k8s-3", "k8s-5"].contains(name) ? .controlplane : .worker }

    static func ports(_ name: String) -> [Int] { role(name) == .controlplane ? [6443, 10250, 50000] : [10250, 50000] }

    /// A node's typed facts: each port's outcome and `replies` of 3 echoes answered.
    static func nodeFacts(_ name: String, _ outcome: (Int) -> TCPConnectResult.Outcome, replies: Int) -> NodeFacts {
        let ports = ports(name).map { port in
            PortOutcome(port: port, TCPConnectResult(outcome: outcome(port), latency: outcome(port) == .timeout ? .seconds(2) : .microseconds(400),
                                              errorNumber: 0, message: ""))
        }
        let echo = PingResult(sent: 3, received: replies, roundTrips: Array(repeating: .microseconds(300), count: replies), socketKind: .unprivileged)
        return NodeFacts(address: IPAddress("10.0.60.2\(name.last ?? "0")")!, role: role(name), ports: ports, echo: .measured(echo))
    }

    /// A node answering nothing: every port times out, no echo reply.
    static func nodeDown(_ name: String) -> ProbeResult {
        ProbeResult(kind: .nodes, target: name, status: .failed, fault: .timeout, phase: "connect",
                    reason: "node does not answer: all ports timeout, no echo reply",
                    observed: .node(nodeFacts(name, { _ in .timeout }, replies: 0)))
    }

    /// A node up except `failing` ports, refused.
    static func nodePorts(_ name: String, failing: Set<Int>) -> ProbeResult {
        let status: ProbeResult.Status = failing.isEmpty ? .ok : .failed
        return ProbeResult(kind: .nodes, target: name, status: status, fault: failing.isEmpty ? nil : .refused,
                           phase: failing.isEmpty ? nil : "connect",
                           reason: failing.isEmpty ? "all ports connect" : "ports \(failing.sorted()) refused",
                           observed: .node(nodeFacts(name, { failing.contains($0) ? .refused : .connected }, replies: 3)))
    }

    static func nodeOK(_ name: String) -> ProbeResult { nodePorts(name, failing: []) }

    /// What the node probe says of a node the configuration marks offline.
    static func knownOffline(_ name: String) -> ProbeResult {
        var facts = nodeFacts(name, { _ in .timeout }, replies: 0)
        facts.offline = "PSU not working"
        return ProbeResult(kind: .nodes, target: name, status: .knownOffline, reason: "known offline (PSU not working)",
                           observed: .node(facts))
    }

    static func mtuReport(_ mtu: Int) -> PathMTUReport {
        PathMTUReport(largestAnswered: mtu, smallestSilent: nil, reportedMTU: mtu == 1500 ? nil : mtu, reportedBy: nil,
                      routeMTU: 1500, probesSent: 5, socketKind: .unprivileged)
    }

    static func mtu(_ name: String, fault: ProbeFault? = .mtuSmaller, mtu: Int = 1400) -> ProbeResult {
        let address = IPAddress("10.0.60.2\(name.last ?? "0")")!
        guard let fault else {
            return ProbeResult(kind: .mtu, target: name, status: .ok, reason: "path MTU 1500 as expected",
                               observed: .mtu(MTUFacts(address: address, expected: 1500, report: mtuReport(1500))))
        }
        return ProbeResult(kind: .mtu, target: name, status: .failed, fault: fault, phase: "pmtu",
                           reason: "path MTU \(mtu) is below the expected 1500",
                           observed: .mtu(MTUFacts(address: address, expected: 1500, report: mtuReport(mtu))))
    }

    static func vipFacts(up: Bool, holder: String) -> VIPFacts {
        let tcp = TCPConnectResult(outcome: up ? .connected : .refused, latency: .milliseconds(1), errorNumber: 0, message: "")
        return VIPFacts(tcp: PortOutcome(port: 6443, tcp), tlsError: nil, arp: .answered(macs: up ? ["02:00:00:00:00:01"] : [], interface: "eth0"),
                        holders: up ? [holder] : [])
    }

    /// The VIP accepts TCP but the handshake fails; `moving` is the probe's `moving` fact.
    static func vipTLS(moving: String?) -> ProbeResult {
        let tcp = TCPConnectResult(outcome: .connected, latency: .microseconds(400), errorNumber: 0, message: "")
        let facts = VIPFacts(tcp: PortOutcome(port: 6443, tcp), tlsError: "timeout", arp: .answered(macs: ["02:00:00:00:00:01"], interface: "eth0"),
                             holders: ["k8s-1"], moving: moving)
        return ProbeResult(kind: .vip, target: "10.0.60.10:6443", status: .failed, fault: .tlsFailed, phase: "tls",
                           reason: "TLS handshake with 10.0.60.10:6443 failed: timeout", observed: .vip(facts))
    }

    /// A VIP result with the `moving` fact added.
    static func moving(_ result: ProbeResult, _ moving: String) -> ProbeResult {
        var result = result
        var facts = result.observed.vip!
        facts.moving = moving
        result.observed = .vip(facts)
        return result
    }

    static func vip(up: Bool, holder: String = "k8s-1") -> ProbeResult {
        up ? ProbeResult(kind: .vip, target: "10.0.60.10:6443", status: .ok, reason: "up, held by \(holder)",
                         observed: .vip(vipFacts(up: true, holder: holder)))
            : ProbeResult(kind: .vip, target: "10.0.60.10:6443", status: .failed, fault: .vipDown, phase: "connect",
                          reason: "10.0.60.10:6443 connection refused", observed: .vip(vipFacts(up: false, holder: holder)))
    }
}

extension AlertEngine {
    /// Observes every result (each in its own scope, as `AlertService` does), then steps.
    mutating func run(_ results: [ProbeResult], at now: Date) -> [AlertNotification] {
        for result in results {
            observe(scope: AlertSignals.scope(of: result), signals: AlertSignals.signals(for: result), at: now)
        }
        return step(now: now)
    }
}
