import Synchronization

/// A bounded history of recent results per target (kind + target), for `netagent check`
/// and the status page. Thread-safe.
public final class ProbeHistory: Sendable {
    public struct Key: Hashable, Sendable {
        public var kind: ProbeKind
        public var target: String
    }

    /// Results kept per target; older ones are dropped.
    public let capacity: Int
    private let entries = Mutex<[Key: [ProbeResult]]>([:])

    public init(capacity: Int = 20) { self.capacity = max(1, capacity) }

    public func record(_ results: [ProbeResult]) {
        entries.withLock { entries in
            for result in results {
                let key = Key(kind: result.kind, target: result.target)
                var list = entries[key] ?? []
                list.append(result)
                if list.count > capacity { list.removeFirst(list.count - capacity) }
                entries[key] = list
            }
        }
    }

    /// The target's results, oldest first.
    public func recent(_ kind: ProbeKind, target: String) -> [ProbeResult] {
        entries.withLock { $0[Key(kind: kind, target: target)] ?? [] }
    }

    /// The newest result of every target, sorted by kind and target.
    public func latest() -> [ProbeResult] {
        entries.withLock { $0.values.compactMap(\.last) }
            .sorted { ($0.kind.rawValue, $0.target) < ($1.kind.rawValue, $1.target) }
    }
}

/// A probe with its schedule.
public struct ScheduledProbe: Sendable {
    public var probe: any Probe
    public var interval: Duration
    /// Each target's deadline within a run.
    public var timeout: Duration

    public init(_ probe: any Probe, interval: Duration, timeout: Duration) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
    }
}

/// Runs every kind at its own interval, the kinds in parallel, until cancelled; each run's
/// results go into the history and to `onResults`. A run that overruns its interval starts
/// the next one at once rather than piling up.
public struct ProbeScheduler<C: Clock>: Sendable where C.Duration == Duration {
    public let probes: [ScheduledProbe]
    public let history: ProbeHistory
    public let clock: C
    private let onResults: @Sendable ([ProbeResult]) -> Void

    public init(probes: [ScheduledProbe], history: ProbeHistory, clock: C,
                onResults: @escaping @Sendable ([ProbeResult]) -> Void = { _ in }) {
        self.probes = probes
        self.history = history
        self.clock = clock
        self.onResults = onResults
    }

    /// Runs until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for scheduled in probes {
                group.addTask { await loop(scheduled) }
            }
        }
    }

    /// Every kind once, in parallel; returns all results.
    public func runOnce() async -> [ProbeResult] {
        await withTaskGroup(of: [ProbeResult].self) { group in
            for scheduled in probes {
                group.addTask {
                    let results = await scheduled.probe.run(timeout: scheduled.timeout)
                    history.record(results)
                    onResults(results)
                    return results
                }
            }
            var all: [ProbeResult] = []
            for await results in group { all += results }
            return all
        }
    }

    private func loop(_ scheduled: ScheduledProbe) async {
        var next = clock.now
        while !Task.isCancelled {
            let results = await scheduled.probe.run(timeout: scheduled.timeout)
            history.record(results)
            onResults(results)
            next = next.advanced(by: scheduled.interval)
            let now = clock.now
            if next < now { next = now }
            do { try await clock.sleep(until: next, tolerance: nil) } catch { return }
        }
    }
}
