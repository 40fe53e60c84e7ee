import Alerts
import Foundation
import NetAgent
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

    static func role(_ name: String) -> String { ["k8s-1", "k8s-3", "k8s-5"].contains(name) ? "controlplane" : "worker" }

    static func ports(_ name: String) -> [Int] { role(name) == "controlplane" ? [6443, 10250, 50000] : [10250, 50000] }

    /// A node answering nothing: every port times out, no echo reply.
    static func nodeDown(_ name: String) -> ProbeResult {
        var facts = ["role": role(name), "address": "10.0.60.2\(name.last ?? "0")", "icmp": "0/3 replies"]
        for port in ports(name) { facts["tcp/\(port)"] = "timeout 2.0s" }
        return ProbeResult(kind: .nodes, target: name, status: .failed, fault: .timeout, phase: "connect",
                           reason: "node does not answer: all ports timeout, no echo reply", facts: facts)
    }

    /// A node up except `failing` ports, refused.
    static func nodePorts(_ name: String, failing: Set<Int>) -> ProbeResult {
        var facts = ["role": role(name), "icmp": "3/3 replies"]
        for port in ports(name) { facts["tcp/\(port)"] = failing.contains(port) ? "refused 0.4ms" : "connected 0.3ms" }
        let status: ProbeResult.Status = failing.isEmpty ? .ok : .failed
        return ProbeResult(kind: .nodes, target: name, status: status, fault: failing.isEmpty ? nil : .refused,
                           phase: failing.isEmpty ? nil : "connect",
                           reason: failing.isEmpty ? "all ports connect" : "ports \(failing.sorted()) refused", facts: facts)
    }

    static func nodeOK(_ name: String) -> ProbeResult { nodePorts(name, failing: []) }

    /// What the node probe says of a node the configuration marks offline.
    static func knownOffline(_ name: String) -> ProbeResult {
        ProbeResult(kind: .nodes, target: name, status: .knownOffline, reason: "known offline (PSU not working)",
                    facts: ["offline": "PSU not working"])
    }

    static func mtu(_ name: String, fault: ProbeFault? = .mtuSmaller, mtu: Int = 1400) -> ProbeResult {
        guard let fault else {
            return ProbeResult(kind: .mtu, target: name, status: .ok, reason: "path MTU 1500 as expected", facts: ["mtu": "1500"])
        }
        return ProbeResult(kind: .mtu, target: name, status: .failed, fault: fault, phase: "pmtu",
                           reason: "path MTU \(mtu) is below the expected 1500", facts: ["mtu": "\(mtu)", "expected": "1500"])
    }

    /// The VIP accepts TCP but the handshake fails; `moving` is the probe's `moving` fact.
    static func vipTLS(moving: String?) -> ProbeResult {
        var facts = ["tcp": "connected 0.4ms", "tls": "failed: timeout", "holders": "k8s-1"]
        facts["moving"] = moving
        return ProbeResult(kind: .vip, target: "10.0.60.10:6443", status: .failed, fault: .tlsFailed, phase: "tls",
                           reason: "TLS handshake with 10.0.60.10:6443 failed: timeout", facts: facts)
    }

    /// A VIP result with the `moving` fact added.
    static func moving(_ result: ProbeResult, _ moving: String) -> ProbeResult {
        var result = result
        result.facts["moving"] = moving
        return result
    }

    static func vip(up: Bool, holder: String = "k8s-1") -> ProbeResult {
        up ? ProbeResult(kind: .vip, target: "10.0.60.10:6443", status: .ok, reason: "up, held by \(holder)", facts: ["holder": holder])
            : ProbeResult(kind: .vip, target: "10.0.60.10:6443", status: .failed, fault: .vipDown, phase: "connect",
                          reason: "10.0.60.10:6443 connection refused", facts: ["tcp": "refused 1.0ms", "holders": ""])
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
