public import Alerts
public import Foundation
public import Probes

/// Everything `/status` shows, gathered at one moment: plain values, no I/O. `StatusPage`
/// builds one from the daemon's live state; `StatusPageHTML` renders it.
public struct StatusSnapshot: Sendable {
    /// How a cell reads at a glance; the page colours it and also says it in words.
    public enum CellState: String, Sendable, Hashable {
        case ok, failed, warning, offline
        /// No result yet.
        case unknown
        /// Not applicable (a worker has no VIP role) or nothing to say (a standby control plane).
        case idle
    }

    /// One grid cell: its state, a short reason and, for a tooltip, the probe's full words.
    public struct Cell: Sendable, Hashable {
        public var state: CellState
        public var text: String
        public var detail: String?

        public init(_ state: CellState, _ text: String, detail: String? = nil) {
            self.state = state
            self.text = text
            self.detail = detail
        }
    }

    /// A column of the nodes × checks grid; present when its probe is configured.
    public enum Column: String, Sendable, Hashable, CaseIterable {
        case tcp, icmp, mtu, vip

        public var title: String {
            switch self {
            case .tcp: "TCP ports"
            case .icmp: "ICMP echo"
            case .mtu: "Path MTU"
            case .vip: "VIP role"
            }
        }
    }

    public struct NodeRow: Sendable, Hashable {
        public var name: String
        public var address: String
        public var role: NodeTarget.Role
        /// Why the configuration marks the node offline.
        public var offline: String?
        /// One cell per column of the snapshot, in its order.
        public var cells: [Cell]
    }

    public struct VIPStatus: Sendable, Hashable {
        /// `VIP:port`.
        public var target: String
        /// The latest round in words.
        public var current: Cell
        /// Oldest first, bounded.
        public var segments: [VIPHolderLog.Segment]
        /// Failovers, outages and split brains, newest first.
        public var events: [VIPEvent]
    }

    /// One DNS target (a Pi-hole instance, a Cloudflare zone) and its last reconcile.
    public struct DNSRow: Sendable, Hashable {
        public var instance: String
        public var provider: String
        public var type: String
        public var state: DaemonStatus.TargetState
    }

    /// An open alert: pending (waiting out `alerting.for`) or firing.
    public struct AlertRow: Sendable, Hashable {
        public var rule: String
        public var title: String
        public var target: String
        public var state: Alert.State
        public var since: Date
        public var summary: String
        /// Silenced, inhibited by another alert, or about an offline node: not mailed.
        public var muted: Bool
    }

    public var cluster: String
    public var version: String
    public var generatedAt: Date
    public var columns: [Column]
    public var nodes: [NodeRow]
    /// Nil when no VIP probe runs.
    public var vip: VIPStatus?
    public var dns: [DNSRow]
    /// Whether `alerting:` is configured (no alerts and no mail otherwise).
    public var alerting: Bool
    public var alerts: [AlertRow]
    /// The newest mails of the outbox, newest first.
    public var mail: [OutboxEntry]
    /// The latest result of every other probe target (DNS servers, DNS records, the tunnel).
    public var checks: [ProbeResult]
    /// What could not be gathered (an unreadable state file), in words.
    public var problems: [String]

    public init(cluster: String, version: String = BuildInfo.version, generatedAt: Date, columns: [Column] = [],
                nodes: [NodeRow] = [], vip: VIPStatus? = nil, dns: [DNSRow] = [], alerting: Bool = false,
                alerts: [AlertRow] = [], mail: [OutboxEntry] = [], checks: [ProbeResult] = [], problems: [String] = []) {
        self.cluster = cluster
        self.version = version
        self.generatedAt = generatedAt
        self.columns = columns
        self.nodes = nodes
        self.vip = vip
        self.dns = dns
        self.alerting = alerting
        self.alerts = alerts
        self.mail = mail
        self.checks = checks
        self.problems = problems
    }
}

extension StatusSnapshot {
    /// The grid's rows: every configured node (offline ones too) with one cell per column,
    /// from the newest nodes, mtu and vip results.
    public static func nodeRows(nodes: [NodeTarget], columns: [Column], latest: [ProbeResult]) -> [NodeRow] {
        var byKey: [ProbeKind: [String: ProbeResult]] = [:]
        for result in latest { byKey[result.kind, default: [:]][result.target] = result }
        let vip = byKey[.vip]?.values.first
        return nodes.map { node in
            let cells = columns.map { column -> Cell in
                switch column {
                case .tcp: tcpCell(byKey[.nodes]?[node.name])
                case .icmp: icmpCell(byKey[.nodes]?[node.name])
                case .mtu: mtuCell(byKey[.mtu]?[node.name])
                case .vip: vipRoleCell(node, vip: vip)
                }
            }
            return NodeRow(name: node.name, address: node.address.description, role: node.role, offline: node.offline,
                           cells: cells)
        }
    }

    static let notYet = Cell(.unknown, "not probed yet")

    /// The node's TCP ports: `50000, 10250 open` or the ones failing with their outcome.
    static func tcpCell(_ result: ProbeResult?) -> Cell {
        guard let result else { return notYet }
        let ports = result.observed.node?.ports ?? []
        let failing = ports.filter { !$0.connected }
        let text = ports.isEmpty ? "no ports"
            : failing.isEmpty ? ports.map { "\($0.port)" }.joined(separator: ", ") + " open"
            : failing.map { "\($0.port) \($0.outcome.rawValue)" }.joined(separator: ", ")
        if result.status == .knownOffline { return Cell(.offline, "offline: " + text, detail: result.cause) }
        if !failing.isEmpty { return Cell(.failed, text, detail: result.cause) }
        return Cell(.ok, text, detail: result.cause)
    }

    /// The node's echo replies: `3/3 replies, median 0.2ms`, losses, or ICMP unavailable.
    static func icmpCell(_ result: ProbeResult?) -> Cell {
        guard let result else { return notYet }
        switch result.observed.node?.echo ?? .notProbed {
        case .notProbed:
            return Cell(.idle, "not asked")
        case .unavailable(let message):
            if result.status == .knownOffline { return Cell(.offline, "offline: unavailable: " + message, detail: result.cause) }
            return Cell(.warning, "ICMP unavailable", detail: "unavailable: " + message)
        case .measured(let stats):
            let text = "\(stats.received)/\(stats.sent) replies" + (stats.medianRoundTrip.map { ", median \($0.readable)" } ?? "")
                + (stats.received < stats.sent ? " (\(stats.lostPercent)% lost)" : "")
            if result.status == .knownOffline { return Cell(.offline, "offline: " + text, detail: result.cause) }
            // The node's verdict decides (probes.nodes.maxLatency, maxLoss), as in `check`.
            let failed = result.fault == .highLatency || result.fault == .packetLoss || (result.status == .failed && stats.received == 0)
            return Cell(failed ? .failed : .ok, text, detail: result.cause)
        }
    }

    /// The path MTU: `1500` when as expected, else what is wrong in a few words.
    static func mtuCell(_ result: ProbeResult?) -> Cell {
        guard let result else { return notYet }
        let facts = result.observed.mtu
        let mtu = facts?.report.largestAnswered.map(String.init)
        if result.status == .knownOffline {
            return Cell(.offline, "offline" + (mtu.map { ": \($0)" } ?? ""), detail: result.cause)
        }
        guard result.status == .failed else { return Cell(.ok, mtu ?? "ok", detail: result.cause) }
        let expected = facts.map { "\($0.expected)" } ?? "?"
        let text = switch result.fault {
        case .mtuSmaller?: "\(mtu ?? "?") < \(expected)"
        case .mtuBlackHole?: "black hole from \(facts?.report.smallestSilent.map(String.init) ?? "?")"
        case .unreachable?: "no echo reply"
        case .icmpUnavailable?: "ICMP unavailable"
        default: result.fault?.rawValue ?? "failed"
        }
        return Cell(result.fault == .icmpUnavailable ? .warning : .failed, text, detail: result.cause)
    }

    /// Whether the node holds the VIP: `holder`, `standby`, or `—` for a worker.
    static func vipRoleCell(_ node: NodeTarget, vip: ProbeResult?) -> Cell {
        guard node.role == .controlplane else { return Cell(.idle, "—", detail: "workers never hold the VIP") }
        guard let vip else { return notYet }
        let holders = vip.observed.vip?.holders ?? []
        guard holders.contains(node.name) else { return Cell(.idle, "standby", detail: vip.cause) }
        if holders.count > 1 { return Cell(.failed, "holder (split brain)", detail: vip.cause) }
        if vip.status == .failed { return Cell(.failed, "holder, VIP " + (vip.fault?.rawValue ?? "failing"), detail: vip.cause) }
        return Cell(.ok, "holder", detail: vip.cause)
    }

    /// The VIP section from the newest vip result and the holder log.
    public static func vipStatus(latest: ProbeResult?, log: VIPHolderLog, target: String) -> VIPStatus {
        let current: Cell = if let latest {
            Cell(latest.status == .failed ? .failed : .ok, latest.reason, detail: latest.fault?.rawValue)
        } else {
            notYet
        }
        return VIPStatus(target: latest?.target ?? target, current: current, segments: log.segments,
                         events: log.timeline.events.reversed())
    }
}
