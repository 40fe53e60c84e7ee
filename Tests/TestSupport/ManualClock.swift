import Synchronization

/// A clock that moves only when the test says so: `run` is driven without real sleeping.
public final class ManualClock: Clock, Sendable {
    public typealias Duration = Swift.Duration
    public typealias Instant = ContinuousClock.Instant

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state: Mutex<(now: Instant, sleepers: [Sleeper])>
    public let start: Instant

    public init() {
        start = ContinuousClock.now
        state = Mutex((start, []))
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            // Decided under the lock, so a sleeper cannot slip in after `cancelAll`.
            let outcome: Result<Bool, CancellationError> = state.withLock { state in
                if Task.isCancelled { return .failure(CancellationError()) }
                if deadline <= state.now { return .success(true) }
                state.sleepers.append(Sleeper(deadline: deadline, continuation: continuation))
                return .success(false)
            }
            switch outcome {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(true): continuation.resume()
            case .success(false): break
            }
        }
    }

    /// Moves time on and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let woken = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Wakes every sleeper with CancellationError (the test is over).
    public func cancelAll() {
        let all = state.withLock { state in defer { state.sleepers = [] }; return state.sleepers }
        for sleeper in all { sleeper.continuation.resume(throwing: CancellationError()) }
    }
}
