import NetIO
import Testing
import TestSupport

/// Echo statistics: the schedule that fits a timeout, and the percentiles.
struct EchoStatisticsTests {
    @Test func aScheduleThatFitsHalfTheTimeoutIsKept() {
        let schedule = EchoSchedule(count: 10, spacing: .milliseconds(100), timeout: .seconds(2))
        #expect(schedule.count == 10)
        #expect(schedule.spacing == .milliseconds(100))
        #expect(schedule.clamping == nil)
    }

    @Test func tooManyEchoesForTheTimeoutAreSpacedCloserNotDropped() {
        // 20 × 100 ms = 2 s does not fit in half of 2 s: 20 echoes 50 ms apart.
        let schedule = EchoSchedule(count: 20, spacing: .milliseconds(100), timeout: .seconds(2))
        #expect(schedule.count == 20)
        #expect(schedule.spacing == .milliseconds(50))
        #expect(schedule.clamping?.contains("sent 20") == true)
    }

    @Test func belowTheMinimumSpacingTheCountShrinks() {
        // Half of 10 ms holds five 1 ms slots.
        let schedule = EchoSchedule(count: 100, spacing: .milliseconds(5), timeout: .milliseconds(10))
        #expect(schedule.spacing == EchoSchedule.minimumSpacing)
        #expect(schedule.count == 5)
        #expect(schedule.requestedCount == 100)
        #expect(EchoSchedule(count: 0, spacing: .zero, timeout: .seconds(1)).count == 1)
        #expect(EchoSchedule(count: 100_000, spacing: .zero, timeout: .seconds(1)).count == EchoSchedule.maximumCount)
    }

    @Test func percentilesByNearestRank() {
        let times = (1...20).map { Duration.milliseconds($0 * 10) }
        let result = PingResult(sent: 25, received: 20, roundTrips: times.shuffled(), socketKind: .raw, late: 2)
        #expect(result.minRoundTrip == .milliseconds(10))
        #expect(result.medianRoundTrip == .milliseconds(110))
        #expect(result.p90RoundTrip == .milliseconds(190))
        #expect(result.maxRoundTrip == .milliseconds(200))
        #expect(result.lossPercent == 20)
        let three = PingResult(sent: 3, received: 3, roundTrips: [.milliseconds(3), .milliseconds(1), .milliseconds(2)], socketKind: .raw)
        #expect(three.medianRoundTrip == .milliseconds(2))
        #expect(three.p90RoundTrip == .milliseconds(3))
        #expect(PingResult(sent: 3, received: 0, roundTrips: [], socketKind: .raw).p90RoundTrip == nil)
    }
}
