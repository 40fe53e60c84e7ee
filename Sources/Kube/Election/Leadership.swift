import Foundation
import Synchronization

/// Whether this process may write now, as the writers see it. A `LeaderElector` grants it
/// until a deadline on the local monotonic clock (the start of the last successful renewal
/// plus `renewDeadline`); `isLeader` reads that clock on every call, so leadership ends at the
/// deadline even while the elector itself is stuck in a request that has not timed out yet.
public final class Leadership: Sendable {
    private struct State {
        var leading = false
        /// nil: leading without a deadline (no election: the only replica).
        var until: ContinuousClock.Instant?
        var watchers: [UUID: AsyncStream<Bool>.Continuation] = [:]
        /// Set by `released`: whether leadership was held up to the release (graceful shutdown).
        var heldAtRelease = false
    }

    private let state: Mutex<State>

    /// A leadership that nobody grants: not leading until an elector says so.
    public init() {
        state = Mutex(State())
    }

    /// Leading for good: a single replica without election.
    public static func unconditional() -> Leadership {
        let leadership = Leadership()
        leadership.state.withLock { $0.leading = true }
        return leadership
    }

    /// True while leadership is held: a write may start only when this is true.
    public var isLeader: Bool {
        state.withLock { s in s.leading && (s.until.map { ContinuousClock.now < $0 } ?? true) }
    }

    /// Whether leadership was held when the elector gave the lease back at shutdown.
    public var heldAtRelease: Bool { state.withLock { $0.heldAtRelease } }

    /// The current value, then every change, until `finish` (the elector stopped).
    public func changes() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .unbounded)
        let id = UUID()
        let current = state.withLock { s in
            s.watchers[id] = continuation
            return s.leading
        }
        continuation.yield(current)
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) } }
        return stream
    }

    /// Leading until `deadline` (extended by each renewal).
    func grant(until deadline: ContinuousClock.Instant) {
        let watchers = state.withLock { s -> [AsyncStream<Bool>.Continuation] in
            let changed = !(s.leading && (s.until.map { ContinuousClock.now < $0 } ?? true))
            s.leading = true
            s.until = deadline
            return changed ? Array(s.watchers.values) : []
        }
        for watcher in watchers { watcher.yield(true) }
    }

    /// Not leading any more (the deadline passed, or the lease went to another).
    func revoke() {
        let watchers = state.withLock { s -> [AsyncStream<Bool>.Continuation] in
            let changed = s.leading
            s.leading = false
            s.until = nil
            return changed ? Array(s.watchers.values) : []
        }
        for watcher in watchers { watcher.yield(false) }
    }

    /// Stops leading before the lease is given back, remembering whether it was held.
    func released() {
        let held = isLeader
        state.withLock { $0.heldAtRelease = held }
        revoke()
    }

    /// Ends every `changes()` stream.
    func finish() {
        let watchers = state.withLock { s in defer { s.watchers = [:] }; return Array(s.watchers.values) }
        for watcher in watchers { watcher.finish() }
    }

    /// The deadline, for the elector's own wake-ups.
    var deadline: ContinuousClock.Instant? { state.withLock { $0.leading ? $0.until : nil } }
}
