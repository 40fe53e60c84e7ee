import Foundation
import Probes
import Testing

struct VIPTimelineTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test func aHolderChangeWithAnOutageIsAFailoverWithItsDuration() throws {
        var timeline = VIPTimeline()
        timeline.observe(up: true, holders: ["cp1"], at: at(0))
        timeline.observe(up: false, holders: [], at: at(1))
        timeline.observe(up: false, holders: ["cp2"], at: at(2))
        let events = timeline.observe(up: true, holders: ["cp2"], at: at(3.5))
        #expect(events.count == 1)
        let failover = try #require(events.first)
        #expect(failover.kind == .failover)
        #expect(failover.oldHolder == "cp1")
        #expect(failover.newHolder == "cp2")
        #expect(failover.start == at(1))
        #expect(failover.end == at(3.5))
        #expect(failover.durationSeconds == 2.5)
        #expect(failover.outageObserved == true)
        #expect(timeline.holder == "cp2")
    }

    @Test func aMoveBetweenTwoRoundsIsAFailoverBoundedByTheRounds() {
        var timeline = VIPTimeline()
        timeline.observe(up: true, holders: ["cp1"], at: at(0))
        let events = timeline.observe(up: true, holders: ["cp3"], at: at(1))
        #expect(events.map(\.kind) == [.failover])
        #expect(events.first?.durationSeconds == 1)
        #expect(events.first?.outageObserved == false)
    }

    @Test func anOutageOnTheSameHolderIsNotAFailover() {
        var timeline = VIPTimeline()
        timeline.observe(up: true, holders: ["cp1"], at: at(0))
        timeline.observe(up: false, holders: ["cp1"], at: at(1))
        #expect(timeline.currentOutageStart == at(1))
        let events = timeline.observe(up: true, holders: ["cp1"], at: at(4))
        #expect(events.map(\.kind) == [.outage])
        #expect(events.first?.durationSeconds == 3)
        #expect(timeline.currentOutageStart == nil)
    }

    @Test func twoHoldersAtOnceIsASplitBrainThatEnds() {
        var timeline = VIPTimeline()
        timeline.observe(up: true, holders: ["cp1"], at: at(0))
        let started = timeline.observe(up: true, holders: ["cp1", "cp2"], at: at(1))
        #expect(started.map(\.kind) == [.splitBrain])
        #expect(started.first?.holders == ["cp1", "cp2"])
        // Still split: no second event.
        #expect(timeline.observe(up: true, holders: ["cp2", "cp1"], at: at(2)).isEmpty)
        timeline.observe(up: true, holders: ["cp1"], at: at(3))
        let split = timeline.events.first { $0.kind == .splitBrain }
        #expect(split?.end == at(3))
        #expect(split?.durationSeconds == 2)
    }

    @Test func theEventListIsBounded() {
        var timeline = VIPTimeline(capacity: 3)
        for round in 0..<10 {
            timeline.observe(up: true, holders: [round % 2 == 0 ? "cp1" : "cp2"], at: at(Double(round)))
        }
        #expect(timeline.events.count == 3)
        #expect(timeline.events.last?.end == at(9))
    }
}
