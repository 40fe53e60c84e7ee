import Synchronization

/// What `/readyz` and `--once` report: whether the sources have synced and how each
/// target's last reconcile went. Written by the reconcilers, read by the status server.
public final class DaemonStatus: Sendable {
    /// One target's latest outcome.
    public struct TargetState: Sendable, Equatable {
        /// Whether a reconcile has ever read the target (its API answered at least once).
        public var reached = false
        /// The last cycle's error; nil after a cycle that succeeded.
        public var lastError: String?
        /// Completed cycles, failed ones included.
        public var cycles = 0
    }

    private let state = Mutex<(sourcesReady: Bool, targets: [String: TargetState])>((false, [:]))

    /// `instances` are the targets that must each be reached once before the agent is ready.
    public init(instances: [String]) {
        state.withLock { $0.targets = Dictionary(uniqueKeysWithValues: instances.map { ($0, TargetState()) }) }
    }

    public func setSourcesReady(_ ready: Bool) { state.withLock { $0.sourcesReady = ready } }

    /// Records one cycle of `instance`: `error` nil when it planned (and applied) fine.
    public func recordCycle(_ instance: String, error: String?) {
        state.withLock { s in
            var target = s.targets[instance] ?? TargetState()
            target.cycles += 1
            target.lastError = error
            if error == nil { target.reached = true }
            s.targets[instance] = target
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
