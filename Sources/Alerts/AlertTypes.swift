public import Config
public import Foundation

/// What an alert is about, by name (`node-down`, `vip-down`, …). Rules are also the unit of
/// grouping: every alert of one rule goes into one mail. Silences in the configuration match
/// on this name.
public struct AlertRule: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    init(_ rawValue: String) { self.rawValue = rawValue }

    /// A node answers neither TCP nor ICMP.
    public static let nodeDown = AlertRule("node-down")
    /// Some of a node's ports fail while the node itself answers.
    public static let nodePort = AlertRule("node-port")
    /// Only control-plane ports (the API server) fail on a control-plane node.
    public static let controlPlanePort = AlertRule("controlplane-port")
    /// The link to a node is bad: echoes lost above `probes.nodes.maxLoss`, or slower than `maxLatency`.
    public static let packetLoss = AlertRule("node-packet-loss")
    /// The ICMP probes cannot run (sysctl or capability missing).
    public static let icmpUnavailable = AlertRule("icmp-unavailable")
    /// The path MTU to a node is below the expected one, or a black hole.
    public static let mtu = AlertRule("mtu")
    /// The control-plane VIP does not accept connections.
    public static let vipDown = AlertRule("vip-down")
    /// The VIP accepts TCP but the TLS handshake fails.
    public static let vipTLS = AlertRule("vip-tls")
    /// Nobody, or more than one MAC, holds the VIP; or ARP cannot be asked.
    public static let vipHolder = AlertRule("vip-holder")
    /// A condition, never mailed: the VIP has no holder or is moving (a failover). It exists
    /// to inhibit the alerts that follow from a failover (see `InhibitRule.defaults`), as
    /// kube-prometheus's `InfoInhibitor` alert does in Alertmanager.
    public static let vipMoving = AlertRule("vip-moving")
    /// Rules that are conditions for inhibition only: never mailed, never listed as firing.
    public static let conditions: Set<AlertRule> = [.vipMoving]
    /// A DNS server does not answer as it should.
    public static let dnsServer = AlertRule("dns-server")
    /// A desired record does not resolve to its targets.
    public static let dnsRecord = AlertRule("dns-record")
    /// The Cloudflare tunnel is not ready or unhealthy.
    public static let tunnel = AlertRule("tunnel")
    /// A public name does not CNAME to the tunnel.
    public static let tunnelCNAME = AlertRule("tunnel-cname")
    /// A DNS provider cannot be read or written.
    public static let providerFailing = AlertRule("provider-failing")
    /// The deletion safety guard withheld a plan's deletes.
    public static let deleteGuard = AlertRule("delete-guard")
    /// Two claims on one DNS name; one lost.
    public static let dnsConflict = AlertRule("dns-conflict")
    /// A provider refused some changes.
    public static let dnsApply = AlertRule("dns-apply")

    /// Every rule netagent raises, with the words a subject uses for a group of them.
    public static let titles: [AlertRule: String] = [
        .nodeDown: "nodes unreachable", .nodePort: "node ports failing",
        .controlPlanePort: "API server ports failing", .packetLoss: "packet loss to nodes",
        .icmpUnavailable: "ICMP probes unavailable", .mtu: "path MTU wrong",
        .vipDown: "control-plane VIP down", .vipTLS: "VIP TLS handshake failing",
        .vipHolder: "VIP holder wrong", .vipMoving: "VIP failing over", .dnsServer: "DNS servers failing",
        .dnsRecord: "DNS records drifted", .tunnel: "Cloudflare tunnel unhealthy",
        .tunnelCNAME: "public names off the tunnel", .providerFailing: "DNS providers failing",
        .deleteGuard: "DNS deletes withheld by the safety guard", .dnsConflict: "DNS name conflicts",
        .dnsApply: "DNS changes refused",
    ]

    /// The group's words in a subject (`nodes unreachable`); the rule's name when unknown.
    public var title: String { Self.titles[self] ?? rawValue }
    public var description: String { rawValue }
    public static func < (lhs: AlertRule, rhs: AlertRule) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One alert's identity: the rule and the thing it is about (`node-down` / `k8s-6`).
public struct AlertKey: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rule: AlertRule
    public var target: String

    public init(rule: AlertRule, target: String) {
        self.rule = rule
        self.target = target
    }

    public var description: String { "\(rule)/\(target)" }
    public static func < (lhs: AlertKey, rhs: AlertKey) -> Bool { (lhs.rule, lhs.target) < (rhs.rule, rhs.target) }
}

/// A condition seen at one moment: what is wrong, with what, in words and observed facts.
/// Probe results and reconcile outcomes become signals (`AlertSignals`); the engine turns
/// signals that persist into alerts.
public struct AlertSignal: Hashable, Codable, Sendable {
    public var key: AlertKey
    /// The cluster node the condition concerns, if any: used for inhibition (a node that is
    /// down mutes its ports and MTU) and for known-offline nodes, which never alert.
    public var node: String?
    /// The condition in words (`node 10.0.60.26 does not answer: 50000 timeout, …`).
    public var summary: String
    /// Observed values a reader wants: MTU found, VIP holder, the record that drifted.
    public var facts: [String: String]

    public init(key: AlertKey, node: String? = nil, summary: String, facts: [String: String] = [:]) {
        self.key = key
        self.node = node
        self.summary = summary
        self.facts = facts
    }
}

/// An alert as the engine tracks it: pending until its condition has held for `for`, then
/// firing, then resolved when the condition clears (or is not seen for `resolveTimeout`).
public struct Alert: Hashable, Codable, Sendable {
    public enum State: String, Hashable, Codable, Sendable { case pending, firing, resolved }

    /// The latest signal for this alert.
    public var signal: AlertSignal
    /// The observation scope that raised it; only that scope can clear it.
    public var scope: String
    public var state: State
    /// When the condition was first seen in this episode.
    public var since: Date
    /// When it started firing.
    public var firingSince: Date?
    /// When a signal for it was last seen.
    public var lastSeen: Date
    /// When the condition cleared.
    public var resolvedAt: Date?

    public var key: AlertKey { signal.key }
}

/// Mutes alerts whose rule and target match until `until` (`alerting.silences`).
public typealias AlertSilence = AlertingConfig.Silence

extension AlertingConfig.Silence {
    /// Whether this silence mutes `key` at `now`.
    public func mutes(_ key: AlertKey, at now: Date) -> Bool {
        now < until && (rule.map { $0 == key.rule.rawValue } ?? true) && (target.map { $0 == key.target } ?? true)
    }
}

/// "While an alert of `source` is active on a node (or anywhere, when `sameNode` is false),
/// alerts of `targets` are not sent": a down node does not also alert for its ports and MTU.
public struct InhibitRule: Hashable, Sendable {
    public var source: AlertRule
    public var targets: Set<AlertRule>
    /// Only inhibit alerts about the same node as the source alert.
    public var sameNode: Bool

    public init(source: AlertRule, targets: Set<AlertRule>, sameNode: Bool) {
        self.source = source
        self.targets = targets
        self.sameNode = sameNode
    }

    /// A node that is down does not alert for its ports, echo loss or MTU; the VIP being down
    /// does not alert once per control plane for the API port, nor for its TLS or holder; while
    /// the VIP has no holder or is moving (`vip-moving`), a failed TLS handshake through it and
    /// the control planes' API ports do not alert: a failover cuts both for a moment, and only
    /// `vip-down` (if the VIP stays unusable past `alerting.for`) is the news.
    public static let defaults: [InhibitRule] = [
        InhibitRule(source: .nodeDown, targets: [.nodePort, .controlPlanePort, .packetLoss, .mtu, .icmpUnavailable], sameNode: true),
        InhibitRule(source: .vipDown, targets: [.controlPlanePort, .vipTLS, .vipHolder], sameNode: false),
        InhibitRule(source: .vipMoving, targets: [.vipTLS, .controlPlanePort], sameNode: false),
    ]
}
