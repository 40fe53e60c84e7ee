import Foundation
import NetAgent
import NetIO
import Synchronization
import Testing
import TestSupport

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
