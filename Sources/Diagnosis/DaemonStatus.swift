public import Foundation
import Synchronization

/// What `/readyz` and `--once` report: whether the sources have synced and how each
/// target's last reconcile went. Written by the reconcilers, read by the status server.
public final class DaemonStatus: Sendable {
    /// One target's latest outcome.
    public struct TargetState: Sendable, Hashable {
        /// Whether a reconcile has ever read the target (its API answered at least once).
        public var reached = false
        /// The last cycle's error; nil after a cycle that succeeded.
        public var lastError: String?
        /// Completed cycles, failed ones included.
        public var cycles = 0
        /// When the last cycle ended.
        public var lastCycleAt: Date?
        /// Records the target's owner holds after the last cycle that planned; nil before one did.
        public var owned: Int?
        /// Changes the last cycle that planned left undone: all of them in a dry run, those the
        /// provider refused, and deletes the safety guard withheld; nil before a cycle planned.
        public var pending: Int?
    }

    private let state = Mutex<(sourcesReady: Bool, targets: [String: TargetState])>((false, [:]))

    /// `instances` are the targets that must each be reached once before the agent is ready.
    public init(instances: [String]) {
        state.withLock { $0.targets = Dictionary(uniqueKeysWithValues: instances.map { ($0, TargetState()) }) }
    }

    public func setSourcesReady(_ ready: Bool) { state.withLock { $0.sourcesReady = ready } }

    /// Records one cycle of `outcome.instance` (its error nil when it planned and applied fine)
    /// with what the status page shows: the time, the owned records and the changes left
    /// pending (`dryRun`: the plan was not applied). One lock, so a reader never sees the cycle
    /// counted without its time and counts.
    public func record(_ outcome: CycleOutcome, dryRun: Bool, at time: Date = Date()) {
        let error = outcome.error
        state.withLock { s in
            var target = s.targets[outcome.instance] ?? TargetState()
            target.cycles += 1
            // Shown only through /readyz and /status, which redact at their door.
            target.lastError = error
            if error == nil { target.reached = true }
            target.lastCycleAt = time
            if case .success(let plan) = outcome.result {
                // A dry run and a follower (another replica leads) plan without applying.
                let applied = !dryRun && !outcome.notLeader
                let report = applied ? outcome.report : nil
                target.owned = plan.owned + (report.map { $0.created - $0.deleted } ?? 0)
                target.pending = (applied ? report?.failures.count ?? 0 : plan.changes.count) + plan.withheldDeletes.count
            }
            s.targets[outcome.instance] = target
        }
    }

    public var targets: [String: TargetState] { state.withLock { $0.targets } }

    /// Why the agent is not ready, one reason a line; empty when it is.
    public func notReadyReasons() -> [String] {
        state.withLock { s in
            var reasons: [String] = s.sourcesReady ? [] : ["sources: not synced yet"]
            for (instance, target) in s.targets.sorted(by: { $0.key < $1.key }) where !target.reached {
                reasons.append("\(instance): not reached yet" + (target.lastError.map { " (\($0))" } ?? ""))
            }
            return reasons
        }
    }
}
