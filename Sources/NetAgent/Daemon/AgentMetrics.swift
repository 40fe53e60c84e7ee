import DNSCore
public import Diagnosis
import Foundation
import Metrics
import NetIO
public import Probes
public import Prometheus
import Synchronization

/// The agent's metrics, through swift-metrics into a Prometheus registry that `/metrics`
/// serves. Without `bootstrap` (tests, `--once`) every call is swift-metrics' no-op.
/// docs/metrics.md lists every family.
public enum AgentMetrics {
    /// Makes the process's registry the swift-metrics backend; call once, before the agent runs.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        Gauge(label: "netagent_build_info", dimensions: [("version", BuildInfo.version)]).record(1)
        return registry
    }

    /// One reconcile cycle of a target: its outcome, duration, plan changes, guard trips and
    /// the records it owns afterwards.
    public static func record(_ outcome: CycleOutcome, duration: Duration) {
        let provider = ("provider", outcome.instance)
        Counter(label: "netagent_reconcile_total", dimensions: [provider, ("outcome", outcome.ok ? "success" : "failure")]).increment()
        Timer(label: "netagent_reconcile_duration_seconds", dimensions: [provider])
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        for (type, count) in outcome.owned ?? [:] {
            Gauge(label: "netagent_records", dimensions: [provider, ("type", type.rawValue)]).record(count)
        }
        guard case .success(let plan) = outcome.result else { return }
        let changes = plan.changes
        for (action, count) in [("create", changes.creates.count), ("update", changes.updates.count), ("delete", changes.deletes.count)] where count > 0 {
            Counter(label: "netagent_plan_changes_total", dimensions: [provider, ("action", action)]).increment(by: count)
        }
        if plan.guardReason != nil {
            Counter(label: "netagent_guard_trips_total", dimensions: [provider]).increment()
        }
    }

    /// `netagent_leader`: 1 while this replica may write DNS (always, without leader election), else 0.
    public static func recordLeader(_ leading: Bool) {
        Gauge(label: "netagent_leader").record(leading ? 1 : 0)
    }

    /// The `onCall` of a provider's API client: counts each HTTP request by the reply's status
    /// (`error` when none came).
    public static func apiCallCounter(provider: String) -> @Sendable (_ status: Int?) -> Void {
        { status in
            Counter(label: "netagent_api_requests_total", dimensions: [("provider", provider), ("status", status.map(String.init) ?? "error")])
                .increment()
        }
    }

    /// Probe results in blackbox_exporter's style: `probe_success` and `probe_duration_seconds`;
    /// and from the VIP and MTU probes, the VIP's holder, its failovers and each node's path MTU.
    public static func record(_ results: [ProbeResult]) {
        for result in results {
            // A target may be a URL (the tunnel's readyURL): its query values are not a label's business.
            let dimensions = [("kind", result.kind.rawValue), ("target", Redaction.text(result.target))]
            Gauge(label: "probe_success", dimensions: dimensions).record(result.ok ? 1 : 0)
            if let latency = result.latencyMs {
                Gauge(label: "probe_duration_seconds", dimensions: dimensions).record(latency / 1000)
            }
            switch result.kind {
            case .vip: recordVIP(result)
            case .mtu:
                if let mtu = result.observed.mtu?.report.largestAnswered {
                    Gauge(label: "netagent_path_mtu_bytes", dimensions: [("node", result.target)]).record(mtu)
                }
            default: break
            }
        }
    }

    /// Nodes each VIP's holder gauge last set to 1, so the one that lost it can be set to 0.
    private static let vipHolders = Mutex<[String: Set<String>]>([:])

    /// `netagent_vip_holder{vip,node}`: 1 for each node answering ARP for the VIP (two in a
    /// split brain), 0 for one that held it before; `netagent_vip_failovers_total{vip}`.
    private static func recordVIP(_ result: ProbeResult) {
        let vip = result.target
        let failovers = Counter(label: "netagent_vip_failovers_total", dimensions: [("vip", vip)])
        guard let facts = result.observed.vip else { return }
        failovers.increment(by: facts.failover == nil ? 0 : 1)
        // Without an ARP answer the holder is unknown, not gone: leave the gauges.
        guard case .answered = facts.arp else { return }
        let holders = Set(facts.holders)
        let before = vipHolders.withLock { known in
            defer { known[vip] = holders }
            return known[vip] ?? []
        }
        for node in before.subtracting(holders) {
            Gauge(label: "netagent_vip_holder", dimensions: [("vip", vip), ("node", node)]).record(0)
        }
        for node in holders {
            Gauge(label: "netagent_vip_holder", dimensions: [("vip", vip), ("node", node)]).record(1)
        }
    }
}
