public import DNSCore
public import Probes

/// Turns probe results and reconcile outcomes into alert signals, each with the scope it
/// speaks for: an observation of a scope replaces every signal that scope raised before, so
/// a condition that is no longer reported is recovered.
public enum AlertSignals {
    /// The scope of one probe target (`probe/nodes/k8s-6`).
    public static func scope(of result: ProbeResult) -> String { "probe/\(result.kind.rawValue)/\(result.target)" }

    /// The scope of one provider's reconcile outcome (`reconcile/pihole`).
    public static func scope(ofProvider provider: String) -> String { "reconcile/\(provider)" }

    /// The signal a probe result raises: nil when it is healthy or known offline.
    /// - Parameter controlPlanePorts: ports that only control planes serve (the API server):
    ///   a control plane failing only those is `controlplane-port`, which the VIP being down mutes.
    public static func signal(for result: ProbeResult, controlPlanePorts: Set<Int> = [6443]) -> AlertSignal? {
        guard result.status == .failed else { return nil }
        var facts = result.facts
        if let phase = result.phase { facts["phase"] = phase }
        if let fault = result.fault { facts["fault"] = fault.rawValue }
        let rule: AlertRule
        var node: String?
        switch result.kind {
        case .nodes:
            node = result.target
            rule = nodeRule(result, controlPlanePorts: controlPlanePorts)
        case .mtu:
            node = result.target
            rule = result.fault == .icmpUnavailable ? .icmpUnavailable : .mtu
        case .vip:
            facts["vip"] = result.target
            rule = switch result.fault {
            case .vipDown?: .vipDown
            case .tlsFailed?: .vipTLS
            default: .vipHolder
            }
        case .dnsServer:
            rule = .dnsServer
        case .dnsRecords:
            facts["record"] = result.target
            rule = .dnsRecord
        case .tunnel:
            rule = result.fault == .cnameMismatch ? .tunnelCNAME : .tunnel
        }
        return AlertSignal(key: AlertKey(rule: rule, target: result.target), node: node, summary: result.cause, facts: facts)
    }

    /// Every signal a probe result raises: its own (`signal(for:)`) and, for the VIP, the
    /// `vip-moving` condition while the VIP has no holder or is moving (`VIPFacts.moving`),
    /// healthy round or not; the condition only inhibits, it is never mailed.
    public static func signals(for result: ProbeResult, controlPlanePorts: Set<Int> = [6443]) -> [AlertSignal] {
        var signals = signal(for: result, controlPlanePorts: controlPlanePorts).map { [$0] } ?? []
        if result.kind == .vip, let moving = result.observed.vip?.moving {
            signals.append(AlertSignal(key: AlertKey(rule: .vipMoving, target: result.target), summary: moving,
                                       facts: ["vip": result.target, "moving": moving]))
        }
        return signals
    }

    /// The node rule from the result's typed port outcomes.
    static func nodeRule(_ result: ProbeResult, controlPlanePorts: Set<Int>) -> AlertRule {
        switch result.fault {
        case .packetLoss?, .highLatency?: return .packetLoss
        case .icmpUnavailable?: return .icmpUnavailable
        default: break
        }
        guard let facts = result.observed.node else { return .nodeDown }
        let failing = facts.failedPorts.map(\.port)
        if facts.ports.isEmpty || failing.count == facts.ports.count { return .nodeDown }
        return facts.role == .controlplane && failing.allSatisfy(controlPlanePorts.contains) ? .controlPlanePort : .nodePort
    }

    /// What one reconcile cycle of one provider gave, for alerting: the error that stopped it,
    /// or its plan and what applying it did.
    public struct ReconcileOutcome: Sendable {
        public var provider: String
        /// The error that stopped the cycle (the provider could not be read or written).
        public var error: String?
        public var plan: Plan?
        public var report: ApplyReport?

        /// A cycle that failed with `error`.
        public init(provider: String, error: String) {
            self.provider = provider
            self.error = error
        }

        /// A cycle that planned and (unless a dry run) applied.
        public init(provider: String, plan: Plan, report: ApplyReport?) {
            self.provider = provider
            self.plan = plan
            self.report = report
        }
    }

    /// The signals a reconcile outcome raises: a failing provider, the deletion guard
    /// tripping, each conflict, each refused change.
    public static func signals(for outcome: ReconcileOutcome) -> [AlertSignal] {
        let provider = outcome.provider
        var signals: [AlertSignal] = []
        if let error = outcome.error {
            signals.append(AlertSignal(key: AlertKey(rule: .providerFailing, target: provider),
                                       summary: "\(provider): \(error)", facts: ["provider": provider]))
        }
        if let plan = outcome.plan {
            if let reason = plan.guardReason {
                let withheld = plan.withheldDeletes.prefix(10).map { "\($0.name.text) \($0.type.rawValue)" }
                signals.append(AlertSignal(
                    key: AlertKey(rule: .deleteGuard, target: provider), summary: "\(provider): \(reason)",
                    facts: ["provider": provider, "withheld deletes": "\(plan.withheldDeletes.count)",
                            "first withheld": withheld.joined(separator: ", ")]))
            }
            for conflict in plan.conflicts {
                signals.append(AlertSignal(
                    key: AlertKey(rule: .dnsConflict, target: "\(provider) \(conflict.key)"),
                    summary: conflict.description,
                    facts: ["provider": provider, "record": "\(conflict.key)", "reason": conflict.reason.description]))
            }
        }
        for failure in outcome.report?.failures ?? [] {
            signals.append(AlertSignal(
                key: AlertKey(rule: .dnsApply, target: "\(provider) \(failure.operation.rawValue) \(failure.key)"),
                summary: "\(provider): \(failure)",
                facts: ["provider": provider, "record": "\(failure.key)", "operation": failure.operation.rawValue]))
        }
        return signals
    }
}
