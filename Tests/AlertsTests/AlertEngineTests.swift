import Alerts
import Foundation
import NetAgent
import Probes
import Testing

/// The engine's state machine as tables: what is observed when, and which mails it decides.
struct AlertEngineTests {
    /// One observation round: seconds after t0 and the results seen then.
    typealias Round = (at: TimeInterval, results: [ProbeResult])

    /// Runs every round, stepping at each, and returns the subjects mailed and the last engine.
    static func subjects(_ rounds: [Round], policy: AlertPolicy = Fixture.policy()) -> (subjects: [String], engine: AlertEngine) {
        var engine = AlertEngine(policy: policy)
        var subjects: [String] = []
        for round in rounds {
            subjects += engine.run(round.results, at: Fixture.at(round.at)).map { AlertMessage.subject($0, cluster: "home") }
        }
        return (subjects, engine)
    }

    @Test(arguments: [
        // Pending, then firing once `for` (120s) has passed.
        ([(0, [Fixture.nodeDown("k8s-6")]), (60, [Fixture.nodeDown("k8s-6")]), (119, [Fixture.nodeDown("k8s-6")])], []),
        ([(0, [Fixture.nodeDown("k8s-6")]), (120, [Fixture.nodeDown("k8s-6")])],
         ["[FIRING:1] home: nodes unreachable (k8s-6)"]),
        // Recovered while pending: nothing at all.
        ([(0, [Fixture.nodeDown("k8s-6")]), (60, [Fixture.nodeOK("k8s-6")]), (200, [Fixture.nodeOK("k8s-6")])], []),
        // Several nodes failing together make one mail; resolution makes one more.
        ([(0, [Fixture.nodeDown("k8s-7"), Fixture.nodeDown("k8s-6")]), (120, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")]),
          (150, [Fixture.nodeOK("k8s-6"), Fixture.nodeOK("k8s-7")])],
         ["[FIRING:2] home: nodes unreachable (k8s-6, k8s-7)", "[RESOLVED] home: nodes unreachable (k8s-6, k8s-7)"]),
        // De-duplication: the same condition seen again and again is mailed once.
        ([(0, [Fixture.nodeDown("k8s-6")]), (120, [Fixture.nodeDown("k8s-6")]), (150, [Fixture.nodeDown("k8s-6")]),
          (3600, [Fixture.nodeDown("k8s-6")])],
         ["[FIRING:1] home: nodes unreachable (k8s-6)"]),
        // repeatInterval (4h): mailed again while still firing.
        ([(0, [Fixture.nodeDown("k8s-6")]), (120, [Fixture.nodeDown("k8s-6")]), (120 + 4 * 3600, [Fixture.nodeDown("k8s-6")])],
         ["[FIRING:1] home: nodes unreachable (k8s-6)", "[FIRING:1] home: nodes unreachable (k8s-6)"]),
        // A second node joining a firing group: an update listing both.
        ([(0, [Fixture.nodeDown("k8s-6")]), (120, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")]),
          (240, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")])],
         ["[FIRING:1] home: nodes unreachable (k8s-6)", "[FIRING:2] home: nodes unreachable (k8s-6, k8s-7)"]),
        // Different rules are different groups.
        ([(0, [Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-7")]), (120, [Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-7")])],
         ["[FIRING:1] home: path MTU wrong (k8s-7)", "[FIRING:1] home: nodes unreachable (k8s-6)"]),
    ] as [([Round], [String])])
    func stateMachine(rounds: [Round], expected: [String]) {
        #expect(Self.subjects(rounds).subjects == expected)
    }

    @Test(arguments: [
        // A node that is down does not also alert for its MTU or its ports.
        ([Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-6", fault: .unreachable)], ["[FIRING:1] home: nodes unreachable (k8s-6)"]),
        // …but another node's MTU still alerts.
        ([Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-7")],
         ["[FIRING:1] home: path MTU wrong (k8s-7)", "[FIRING:1] home: nodes unreachable (k8s-6)"]),
        // The VIP down does not alert once per control plane for the API port.
        ([Fixture.vip(up: false)] + ["k8s-1", "k8s-3", "k8s-5"].map { Fixture.nodePorts($0, failing: [6443]) },
         ["[FIRING:1] home: control-plane VIP down (10.0.60.10:6443)"]),
        // With the VIP up, the API port on a control plane alerts on its own.
        ([Fixture.vip(up: true), Fixture.nodePorts("k8s-3", failing: [6443])],
         ["[FIRING:1] home: API server ports failing (k8s-3)"]),
        // A worker's kubelet port is not the VIP's business.
        ([Fixture.vip(up: false), Fixture.nodePorts("k8s-6", failing: [10250])],
         ["[FIRING:1] home: node ports failing (k8s-6)", "[FIRING:1] home: control-plane VIP down (10.0.60.10:6443)"]),
        // Known-offline nodes never alert, whatever a probe says of them.
        ([Fixture.knownOffline("k8s-4"), Fixture.nodeDown("k8s-10"), Fixture.mtu("k8s-4", fault: .icmpUnavailable)], []),
    ] as [([ProbeResult], [String])])
    func inhibitionAndOffline(results: [ProbeResult], expected: [String]) {
        #expect(Self.subjects([(0, results), (120, results)]).subjects == expected)
    }

    /// Issue 18: a failover (the VIP leaves k8s-1, nobody holds it, k8s-3 takes it) mails
    /// vip-down and its resolution only: the TLS handshake and the API ports that fail while the
    /// VIP has no holder or is moving are inhibited by the `vip-moving` condition, which is
    /// itself never mailed nor listed as open. `for: 0`, `groupWait: 0`: nothing hides behind timing.
    @Test func aFailoverMailsVIPDownAndNothingElse() {
        let policy = Fixture.policy(for: 0)
        let apiPort = Fixture.nodePorts("k8s-1", failing: [6443])
        var engine = AlertEngine(policy: policy)
        var subjects: [String] = []
        let rounds: [(TimeInterval, [ProbeResult])] = [
            (0, [Fixture.vip(up: true)]),
            (1, [Fixture.vipTLS(moving: "moved during the probe: held by k8s-1 at the start, by nobody after"), apiPort]),
            (2, [Fixture.moving(Fixture.vip(up: false), "nobody holds 10.0.60.10"), apiPort]),
        ]
        for (at, results) in rounds {
            subjects += engine.run(results, at: Fixture.at(at)).map { AlertMessage.subject($0, cluster: "home") }
            #expect(!engine.state.open.contains { $0.key.rule == .vipMoving })
        }
        #expect(engine.state.alerts.keys.contains { $0.rule == .vipMoving }, "the condition holds while the VIP moves")
        // k8s-3 takes the VIP; the first round on it still fails TLS, then all is well.
        subjects += engine.run([Fixture.vipTLS(moving: "moved from k8s-1 to k8s-3"), Fixture.nodeOK("k8s-1")], at: Fixture.at(3))
            .map { AlertMessage.subject($0, cluster: "home") }
        subjects += engine.run([Fixture.vip(up: true, holder: "k8s-3")], at: Fixture.at(4)).map { AlertMessage.subject($0, cluster: "home") }
        #expect(subjects == ["[FIRING:1] home: control-plane VIP down (10.0.60.10:6443)",
                             "[RESOLVED] home: control-plane VIP down (10.0.60.10:6443)"])
        #expect(engine.state.alerts.isEmpty, "\(engine.state.alerts.keys)")
    }

    /// Without a failover the same TLS failure and API port are news.
    @Test func aTLSFailureOnASteadyHolderIsMailed() {
        let subjects = Self.subjects([(0, [Fixture.vipTLS(moving: nil), Fixture.nodePorts("k8s-1", failing: [6443])])],
                                     policy: Fixture.policy(for: 0)).subjects
        #expect(subjects == ["[FIRING:1] home: API server ports failing (k8s-1)", "[FIRING:1] home: VIP TLS handshake failing (10.0.60.10:6443)"])
    }

    @Test func inhibitionHoldsWhileTheSourceIsOnlyPending() {
        // The MTU probe saw the dead node first; the node probe catches up a minute later.
        let subjects = Self.subjects([
            (0, [Fixture.mtu("k8s-6", fault: .unreachable)]),
            (60, [Fixture.nodeDown("k8s-6")]),
            (120, [Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-6", fault: .unreachable)]),
            (180, [Fixture.nodeDown("k8s-6"), Fixture.mtu("k8s-6", fault: .unreachable)]),
        ]).subjects
        #expect(subjects == ["[FIRING:1] home: nodes unreachable (k8s-6)"])
    }

    @Test(arguments: [
        (AlertSilence(rule: "node-down", target: nil, until: Fixture.at(10000)), [] as [String]),
        (AlertSilence(rule: nil, target: "k8s-6", until: Fixture.at(10000)), ["k8s-7"]),
        (AlertSilence(rule: "node-down", target: "k8s-6", until: Fixture.at(10000)), ["k8s-7"]),
        (AlertSilence(rule: "mtu", target: nil, until: Fixture.at(10000)), ["k8s-6", "k8s-7"]),
        // Ended before anything fired.
        (AlertSilence(rule: "node-down", target: "k8s-6", until: Fixture.at(60)), ["k8s-6", "k8s-7"]),
    ])
    func silences(silence: AlertSilence, mailed: [String]) {
        let policy = Fixture.policy(silences: [silence])
        let down = [Fixture.nodeDown("k8s-6")], other = [Fixture.nodeDown("k8s-7")]
        // k8s-6 fires at 120, inside most silences; k8s-7 fires at 700, after all of them.
        let (_, engine) = Self.subjects([(0, down), (120, down), (580, down + other), (700, down + other)], policy: policy)
        let firing = engine.state.alerts.values.filter { $0.state == .firing }.map(\.key.target).sorted()
        #expect(firing == ["k8s-6", "k8s-7"], "silences mute mail, not the alert")
        var replay = AlertEngine(policy: policy)
        var targets: [String] = []
        for (at, results) in [(0.0, down), (120, down), (580, down + other), (700, down + other)] {
            for mail in replay.run(results, at: Fixture.at(at)) { targets += mail.firing.map(\.key.target) }
        }
        #expect(Array(Set(targets)).sorted() == mailed)
    }

    @Test func groupWaitGathersAlertsThatFireTogether() {
        let policy = Fixture.policy(groupWait: 30, groupInterval: 300)
        let (subjects, _) = Self.subjects([
            (0, [Fixture.nodeDown("k8s-6")]),
            (10, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")]),
            (120, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")]),
            (130, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")]),
            (150, [Fixture.nodeDown("k8s-6"), Fixture.nodeDown("k8s-7")]),
            // Resolved at 200, but the group was mailed at 150: the change waits for groupInterval.
            (200, [Fixture.nodeOK("k8s-6"), Fixture.nodeOK("k8s-7")]),
            (400, [Fixture.nodeOK("k8s-6"), Fixture.nodeOK("k8s-7")]),
            (450, [Fixture.nodeOK("k8s-6"), Fixture.nodeOK("k8s-7")]),
        ], policy: policy)
        #expect(subjects == ["[FIRING:2] home: nodes unreachable (k8s-6, k8s-7)", "[RESOLVED] home: nodes unreachable (k8s-6, k8s-7)"])
    }

    @Test func resolvedMailThreadsToTheFiringMailAndANewEpisodeStartsANewThread() {
        var engine = AlertEngine(policy: Fixture.policy())
        _ = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let firing = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(120))
        let repeated = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(120 + 4 * 3600))
        let resolved = engine.run([Fixture.nodeOK("k8s-6")], at: Fixture.at(130 + 4 * 3600))
        #expect(firing.count == 1 && repeated.count == 1 && resolved.count == 1)
        let root = firing[0].messageID
        #expect(firing[0].threadRoot == nil && firing[0].inReplyTo == nil)
        #expect(repeated[0].threadRoot == root && repeated[0].inReplyTo == root)
        #expect(resolved[0].status == .resolved)
        #expect(resolved[0].threadRoot == root && resolved[0].inReplyTo == repeated[0].messageID)
        #expect(resolved[0].resolved.map(\.key.target) == ["k8s-6"])
        #expect(Set([firing[0].messageID, repeated[0].messageID, resolved[0].messageID]).count == 3)

        _ = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(20000))
        let again = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(20120))
        #expect(again.count == 1 && again[0].threadRoot == nil, "a new episode starts its own thread")
        #expect(engine.state.alerts.count == 1, "resolved alerts are forgotten once mailed")
    }

    @Test func anAlertNoLongerReportedResolvesAfterTheTimeout() {
        var engine = AlertEngine(policy: Fixture.policy())
        _ = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        #expect(engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(120)).count == 1)
        #expect(engine.step(now: Fixture.at(900)).isEmpty, "seen at 120: not yet stale at 900")
        let mails = engine.step(now: Fixture.at(1100))
        #expect(mails.map(\.status) == [.resolved])
    }

    @Test func stateSurvivesASnapshotRoundTrip() throws {
        var engine = AlertEngine(policy: Fixture.policy())
        _ = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(0))
        let firing = engine.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(120))
        let data = try JSONEncoder().encode(engine.state)
        var restored = AlertEngine(policy: Fixture.policy(), state: try JSONDecoder().decode(AlertEngine.State.self, from: data))
        #expect(restored.state == engine.state)
        #expect(restored.run([Fixture.nodeDown("k8s-6")], at: Fixture.at(200)).isEmpty, "no second firing mail after a restart")
        let resolved = restored.run([Fixture.nodeOK("k8s-6")], at: Fixture.at(300))
        #expect(resolved.first?.inReplyTo == firing.first?.messageID)
    }
}
