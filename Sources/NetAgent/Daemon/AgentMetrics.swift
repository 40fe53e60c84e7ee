import DNSCore
import Metrics
public import Prometheus
public import Probes

/// The agent's metrics, through swift-metrics into a Prometheus registry that `/metrics`
/// serves. Without `bootstrap` (tests, `--once`) every call is swift-metrics' no-op.
public enum AgentMetrics {
    /// Makes the process's registry the swift-metrics backend; call once, before the agent runs.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        Gauge(label: "netagent_build_info", dimensions: [("version", BuildInfo.version)]).record(1)
        return registry
    }

    /// One reconcile cycle of a target: its outcome, duration, plan changes and guard trips.
    public static func record(_ outcome: CycleOutcome, duration: Duration) {
        let provider = ("provider", outcome.instance)
        Counter(label: "netagent_reconcile_total", dimensions: [provider, ("outcome", outcome.ok ? "success" : "failure")]).increment()
        Timer(label: "netagent_reconcile_duration_seconds", dimensions: [provider])
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
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

    /// Probe results in blackbox_exporter's style: `probe_success` and `probe_duration_seconds`.
    public static func record(_ results: [ProbeResult]) {
        for result in results {
            let dimensions = [("kind", result.kind.rawValue), ("target", result.target)]
            Gauge(label: "probe_success", dimensions: dimensions).record(result.ok ? 1 : 0)
            if let latency = result.latencyMs {
                Gauge(label: "probe_duration_seconds", dimensions: dimensions).record(latency / 1000)
            }
        }
    }
}
