import Foundation
import NetAgent
import NetIO
import Synchronization
import Testing
import TestSupport

/// A clock that moves only when the test says so: `run` is driven without real sleeping.
final class ManualClock: Clock, Sendable {
    typealias Duration = Swift.Duration
    typealias Instant = ContinuousClock.Instant

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state: Mutex<(now: Instant, sleepers: [Sleeper])>
    let start: Instant

    init() {
        start = ContinuousClock.now
        state = Mutex((start, []))
    }

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }
    var sleepers: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
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
    func advance(by duration: Duration) {
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
    func cancelAll() {
        let all = state.withLock { state in defer { state.sleepers = [] }; return state.sleepers }
        for sleeper in all { sleeper.continuation.resume(throwing: CancellationError()) }
    }
}

struct RunLoopTests {
    /// Waits until `condition` holds: the loop's step does real I/O (SQLite, a refused
    /// connection), so this polls, up to a generous deadline for a busy machine.
    static func settle(_ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return await condition()
    }

    @Test func runStepsOnTheInjectedClockUntilCancelled() async throws {
        let clock = ManualClock()
        let port = try freeLoopbackPort()   // no relay: mail stays queued, which is what is counted here
        let service = try await AlertService(
            policy: Fixture.policy(for: 60), store: try StateStore(path: try temporaryStatePath()),
            mailer: AlertMailer(relay: SMTPRelay(url: "smtp://127.0.0.1:\(port)", startTLS: .none)))
        let wall: @Sendable () -> Date = { Fixture.t0.addingTimeInterval((clock.now - clock.start).seconds) }
        let loop = Task { await service.run(clock: clock, every: .seconds(30), now: wall) }
        service.record([Fixture.nodeDown("k8s-6")], at: Fixture.t0)

        #expect(await Self.settle { clock.sleepers == 1 }, "the first step ran and the loop sleeps")
        #expect(try await service.outbox.entries().isEmpty, "pending: `for` has not passed")
        clock.advance(by: .seconds(30))
        #expect(await Self.settle { clock.sleepers == 1 && clock.now - clock.start == Duration.seconds(30) })
        service.record([Fixture.nodeDown("k8s-6")], at: wall())
        clock.advance(by: .seconds(30))
        #expect(await Self.settle { (try? await service.outbox.entries().count) == 1 }, "fired at 60s on the clock, not the wall")
        let queued = try await service.outbox.entries()
        #expect(queued.first?.subject == "[FIRING:1] home: nodes unreachable (k8s-6)")
        #expect(queued.first?.createdAt == Fixture.at(60))

        loop.cancel()
        clock.cancelAll()
        await loop.value
    }
}

extension Duration {
    var seconds: TimeInterval { TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18 }
}
