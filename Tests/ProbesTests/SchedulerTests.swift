import Probes
import Synchronization
import Testing

/// A probe that counts its runs and fails every other one.
final class CountingProbe: Probe {
    let kind: ProbeKind
    let runs = Mutex(0)
    init(kind: ProbeKind) { self.kind = kind }

    func run(timeout: Duration) async -> [ProbeResult] {
        let count = runs.withLock { runs in
            runs += 1
            return runs
        }
        let status: ProbeResult.Status = count % 2 == 0 ? .failed : .ok
        return [ProbeResult(kind: kind, target: "t", status: status, fault: status == .failed ? .timeout : nil,
                            reason: "run \(count)")]
    }
}

struct SchedulerTests {
    @Test func historyKeepsTheNewestResultsPerTarget() {
        let history = ProbeHistory(capacity: 3)
        for index in 0..<5 {
            history.record([
                ProbeResult(kind: .nodes, target: "a", status: .ok, reason: "\(index)"),
                ProbeResult(kind: .mtu, target: "a", status: .ok, reason: "\(index)"),
            ])
        }
        #expect(history.recent(.nodes, target: "a").map(\.reason) == ["2", "3", "4"])
        #expect(history.latest().map(\.kind) == [.mtu, .nodes])
    }

    @Test func eachKindRunsAtItsOwnIntervalUntilCancelled() async throws {
        let fast = CountingProbe(kind: .vip)
        let slow = CountingProbe(kind: .nodes)
        let history = ProbeHistory(capacity: 100)
        let scheduler = ProbeScheduler(probes: [
            ScheduledProbe(fast, interval: .milliseconds(5), timeout: .seconds(1)),
            ScheduledProbe(slow, interval: .seconds(3600), timeout: .seconds(1)),
        ], history: history, clock: ContinuousClock())
        let task = Task { await scheduler.run() }
        while fast.runs.withLock({ $0 }) < 6 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await task.value
        #expect(slow.runs.withLock { $0 } == 1)
        let fastRuns = history.recent(.vip, target: "t")
        #expect(fastRuns.count >= 6)
        #expect(fastRuns.contains { $0.fault == .timeout })
    }

    @Test func runOnceRunsEveryKindOnce() async {
        let a = CountingProbe(kind: .vip), b = CountingProbe(kind: .mtu)
        let history = ProbeHistory()
        let scheduler = ProbeScheduler(probes: [ScheduledProbe(a, interval: .seconds(1), timeout: .seconds(1)),
                                                ScheduledProbe(b, interval: .seconds(1), timeout: .seconds(1))],
                                       history: history, clock: ContinuousClock())
        let results = await scheduler.runOnce()
        #expect(Set(results.map(\.kind)) == [.vip, .mtu])
        #expect(history.latest().count == 2)
    }
}
