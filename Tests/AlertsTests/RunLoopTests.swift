import Alerts
import Foundation
import NetAgent
import NetIO
import State
import Synchronization
import TestSupport
import Testing

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

/// Under leader election only the leader mails: a follower's engine advances but queues nothing.
struct FollowerMailTests {
    @Test func aFollowerQueuesNothingAndDoesNotMailAgainWhenItLeads() async throws {
        let port = try freeLoopbackPort()   // no relay: mail stays queued, which is what is counted here
        let service = try await AlertService(
            policy: Fixture.policy(for: 0), store: try StateStore(path: try temporaryStatePath()),
            mailer: AlertMailer(relay: SMTPRelay(url: "smtp://127.0.0.1:\(port)", startTLS: .none)))
        service.record([Fixture.nodeDown("k8s-6")], at: Fixture.t0)
        let following = try await service.step(now: Fixture.at(1), mailing: false)
        #expect(following.queued.isEmpty && following.delivery == nil)
        let leader = try await AlertService(
            policy: Fixture.policy(for: 0), store: try StateStore(path: try temporaryStatePath()),
            mailer: AlertMailer(relay: SMTPRelay(url: "smtp://127.0.0.1:\(port)", startTLS: .none)))
        leader.record([Fixture.nodeDown("k8s-6")], at: Fixture.t0)
        #expect(try await leader.step(now: Fixture.at(1)).queued.map(\.subject) == ["[FIRING:1] home: nodes unreachable (k8s-6)"],
                "the leader, seeing the same, mails it")
        #expect(try await service.outbox.entries().isEmpty, "a follower leaves the mail to the leader")

        // Leading now: what the leader already mailed is not mailed again; a new alert is.
        service.record([Fixture.nodeDown("k8s-6")], at: Fixture.at(2))
        #expect(try await service.step(now: Fixture.at(3)).queued.isEmpty)
        service.record([Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-7")], at: Fixture.at(400))
        let leading = try await service.step(now: Fixture.at(401))
        #expect(leading.queued.count == 1 && leading.queued.allSatisfy { !$0.subject.contains("nodes unreachable") },
                "\(leading.queued.map(\.subject))")
        #expect(try await service.outbox.entries().count == 1)
    }
}
