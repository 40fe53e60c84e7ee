public import Alerts
public import Foundation
public import Probes
import Synchronization

/// The live side of `/status`: holds the probe history the scheduler writes and the VIP's
/// holder log, and gathers a `StatusSnapshot` from them, the daemon's status, the alert
/// engine and the outbox on each request. Nothing it shows comes from a secret: node and
/// target names, probe words, alert summaries and mail subjects only; URLs lose any user info.
public final class StatusPage: Sendable {
    /// One DNS target as the page names it.
    public struct Target: Sendable, Hashable {
        public var instance: String
        public var provider: String
        public var type: String

        public init(instance: String, provider: String, type: String) {
            self.instance = instance
            self.provider = provider
            self.type = type
        }
    }

    public let cluster: String
    public let nodes: [NodeTarget]
    public let columns: [StatusSnapshot.Column]
    /// `VIP:port` when the vip probe runs.
    public let vipTarget: String?
    public let targets: [Target]
    public let status: DaemonStatus
    public let alerts: AlertService?
    /// The scheduler's history (`ProbeScheduler(history:)`): the newest result per target.
    public let history: ProbeHistory
    /// Mails listed under "Recent mail".
    let mailLimit: Int
    private let vipLog: Mutex<VIPHolderLog>

    public init(cluster: String, nodes: [NodeTarget], columns: [StatusSnapshot.Column], vipTarget: String?, targets: [Target],
                status: DaemonStatus, alerts: AlertService?, history: ProbeHistory = ProbeHistory(),
                vipLog: VIPHolderLog = VIPHolderLog(), mailLimit: Int = 10) {
        self.cluster = cluster
        self.nodes = nodes
        self.columns = columns
        self.vipTarget = vipTarget
        self.targets = targets
        self.status = status
        self.alerts = alerts
        self.history = history
        self.vipLog = Mutex(vipLog)
        self.mailLimit = mailLimit
    }

    /// Takes a probe run's results (call from the scheduler's `onResults`); the scheduler
    /// itself writes `history`.
    public func record(_ results: [ProbeResult]) {
        let vip = results.filter { $0.kind == .vip }
        guard !vip.isEmpty else { return }
        vipLog.withLock { log in for result in vip { log.record(result) } }
    }

    /// Everything the page shows, now.
    public func snapshot(now: Date = Date()) async -> StatusSnapshot {
        let latest = history.latest()
        var snapshot = StatusSnapshot(cluster: cluster, generatedAt: now, columns: columns)
        snapshot.nodes = StatusSnapshot.nodeRows(nodes: nodes, columns: columns, latest: latest)
        if let vipTarget {
            snapshot.vip = StatusSnapshot.vipStatus(latest: latest.last { $0.kind == .vip }, log: vipLog.withLock { $0 },
                                                    target: vipTarget)
        }
        let states = status.targets
        snapshot.dns = targets.map {
            StatusSnapshot.DNSRow(instance: $0.instance, provider: $0.provider, type: $0.type,
                                  state: states[$0.instance] ?? DaemonStatus.TargetState())
        }
        snapshot.checks = latest.filter { ![.nodes, .mtu, .vip].contains($0.kind) }
        if let alerts {
            snapshot.alerting = true
            let engine = await alerts.engine
            snapshot.alerts = engine.state.open.map {
                StatusSnapshot.AlertRow(rule: $0.key.rule.rawValue, title: $0.key.rule.title, target: $0.key.target,
                                        state: $0.state, since: $0.firingSince ?? $0.since, summary: $0.signal.summary,
                                        muted: engine.isMuted($0, at: now))
            }
            do { snapshot.mail = try await alerts.outbox.recent(limit: mailLimit) } catch {
                snapshot.problems.append("recent mail: \(error)")
            }
        }
        return snapshot
    }

    /// `scheme://user:password@host/…` without `user:password@`, anywhere in `text`: the page
    /// shows target names and errors through this.
    static func withoutUserInfo(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { "/ ?#".contains($0) } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        }
        return result + rest
    }
}
