import DNSCore
public import Diagnosis
import Foundation
import NetIO
public import Kube
public import Logging
import ServiceLifecycle
import Synchronization

/// Wakes a reconciler: any number of `poke`s between two runs collapse into one run.
public final class ReconcileTrigger: Sendable {
    private let dirty = Mutex(false)
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a run; cheap, never blocks.
    public func poke() {
        dirty.withLock { $0 = true }
        continuation.yield()
    }

    /// Ends `wakeups`: the reconciler finishes the run in flight and returns.
    public func finish() { continuation.finish() }

    var wakeups: AsyncStream<Void> { stream }

    /// Whether a poke came since the last `take`; clears it.
    func take() -> Bool { dirty.withLock { d in defer { d = false }; return d } }
}

/// One target's reconcile loop: a change schedules a run after `debounce`, pokes during the
/// wait or the run collapse into one more run, a full resync runs every `resync`, and a failed
/// cycle is retried after a back-off that doubles up to `maxBackoff` — per target, so one
/// target being down never holds up another. On graceful shutdown the run in flight finishes.
public struct TargetReconciler<C: Clock>: Sendable where C.Duration == Duration {
    public let target: DNSTarget
    public let sources: RouteSources
    public let annotationPrefixes: [String]
    public let dryRun: Bool
    public let debounce: Duration
    public let resync: Duration
    public let initialBackoff: Duration
    public let maxBackoff: Duration
    public let trigger: ReconcileTrigger
    public let status: DaemonStatus
    public let clock: C
    public let logger: Logger
    /// Called after every cycle (the alert service takes the outcome).
    public let onCycle: @Sendable (CycleOutcome) async -> Void
    /// Checked before every apply: a follower plans (and so stays ready) but never writes.
    public let leadership: Leadership

    public init(target: DNSTarget, sources: RouteSources, annotationPrefixes: [String], dryRun: Bool,
                debounce: Duration, resync: Duration, initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(60),
                trigger: ReconcileTrigger = ReconcileTrigger(), status: DaemonStatus, clock: C, logger: Logger,
                leadership: Leadership = .unconditional(),
                onCycle: @escaping @Sendable (CycleOutcome) async -> Void = { _ in }) {
        self.target = target
        self.sources = sources
        self.annotationPrefixes = annotationPrefixes
        self.dryRun = dryRun
        self.debounce = debounce
        self.resync = resync
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.trigger = trigger
        self.status = status
        self.clock = clock
        self.logger = logger
        self.onCycle = onCycle
        self.leadership = leadership
    }

    /// One cycle: the sources' objects now, planned against the target and (unless a dry run)
    /// applied. Never throws: a failure is the outcome's `error`.
    public func reconcileOnce() async -> CycleOutcome {
        let started = ContinuousClock.now
        let objects = await sources.objects()
        // A kind that cannot be read (CRDs missing, RBAC, the API down) keeps its last objects or
        // none: say so once, when it appears, not at every cycle.
        let unsaid = sources.unsaid(objects)
        for problem in unsaid.problems { logger.warning("source problem (planning with what was last read): \(problem)") }
        for note in unsaid.notes { logger.notice("source not served (its records are kept, never deleted for it): \(note)") }
        let outcome = await Self.cycle(target, objects: objects, annotationPrefixes: annotationPrefixes,
                                       dryRun: dryRun, leadership: leadership)
        AgentMetrics.record(outcome, duration: ContinuousClock.now - started)
        status.record(outcome, dryRun: dryRun)
        log(outcome)
        await onCycle(outcome)
        return outcome
    }

    /// Plans `objects`' records against `target` and, unless `dryRun` or another replica leads
    /// (`leadership` checked right before the apply), applies the changes.
    public static func cycle(_ target: DNSTarget, objects: SourceObjects, annotationPrefixes: [String], dryRun: Bool,
                             leadership: Leadership = .unconditional()) async -> CycleOutcome {
        var outcome = await plannedCycle(target, objects: objects, annotationPrefixes: annotationPrefixes,
                                         dryRun: dryRun, leadership: leadership)
        outcome.warnings = await target.warnings()
        return outcome.redacted
    }

    private static func plannedCycle(_ target: DNSTarget, objects: SourceObjects, annotationPrefixes: [String], dryRun: Bool,
                                     leadership: Leadership) async -> CycleOutcome {
        var plan: Plan?
        do {
            let desired = try objects.desired(for: target.config, annotationPrefixes: annotationPrefixes)
            let (planned, current) = try await target.planning.planReading(desired: desired.endpoints, registry: target.registry)
            let made = objects.guarding(planned)
            plan = made
            let owner = target.registry.ownerID
            let ownedBefore = current.filter { $0.labels.owner == owner }
            // A dry run and a follower (another replica leads) plan without applying.
            guard !dryRun, leadership.isLeader else {
                var outcome = CycleOutcome(instance: target.instance, result: .success(made), owned: Self.owned(ownedBefore, after: nil, nil))
                outcome.notLeader = !dryRun
                return outcome
            }
            // Called with no changes too: it records adoptions (the provider is not called).
            let report = try await target.registry.apply(made.changes)
            // A registry's own writes (the comment registry's take-over) report even without plan changes.
            let applied = made.changes.isEmpty && report == ApplyReport() ? nil : report
            return CycleOutcome(instance: target.instance, result: .success(made), report: applied,
                                owned: Self.owned(ownedBefore, after: applied.map { _ in made.changes }, applied))
        } catch {
            let stage = plan == nil ? "" : "apply: "
            return CycleOutcome(instance: target.instance, result: .failure(PlanFailure(error, prefix: stage)))
        }
    }

    /// Counts `owned` by type as it stands once `applied` went through, less what `report` says failed.
    static func owned(_ owned: [Endpoint], after applied: Plan.Changes?, _ report: ApplyReport?) -> [RecordType: Int] {
        var counts = Dictionary(RecordType.allCases.map { ($0, 0) }, uniquingKeysWith: { a, _ in a })
        for record in owned { counts[record.type, default: 0] += 1 }
        for record in applied?.creates ?? [] { counts[record.type, default: 0] += 1 }
        for record in applied?.deletes ?? [] { counts[record.type, default: 0] -= 1 }
        for failure in report?.failures ?? [] {
            switch failure.operation {
            case .create: counts[failure.key.type, default: 0] -= 1
            case .delete: counts[failure.key.type, default: 0] += 1
            case .update: break
            }
        }
        return counts
    }

    /// Runs until the trigger is finished (graceful shutdown) or the task is cancelled, then
    /// gives back what the target holds (the Pi-hole session).
    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await resyncTicks() }
                await loop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            trigger.finish()
        }
        await target.close()
    }

    private func loop() async {
        var backoff = initialBackoff
        for await _ in trigger.wakeups {
            guard trigger.take() else { continue }
            // Sleeps end early on shutdown or cancellation; the run after them does not.
            if !(await pause(debounce)) { return }
            _ = trigger.take()
            guard await sources.isReady() else {
                status.setSourcesReady(false)
                continue  // the informers poke again when they have listed
            }
            status.setSourcesReady(true)
            let outcome = await reconcileOnce()
            // The cycle's snapshot, plan and replies are freed by now, scattered between what stays.
            Allocator.releaseFreePages()
            if outcome.ok {
                backoff = initialBackoff
            } else {
                logger.info("retrying \(target.instance) in \(backoff)")
                if !(await pause(backoff)) { return }
                backoff = min(backoff * 2, maxBackoff)
                trigger.poke()
            }
        }
    }

    /// The first run, then one every `resync`.
    private func resyncTicks() async {
        trigger.poke()
        while await pause(resync) {
            trigger.poke()
        }
    }

    /// Sleeps `duration` on the clock; false when woken by graceful shutdown or cancellation.
    private func pause(_ duration: Duration) async -> Bool {
        let clock = self.clock
        do {
            try await cancelWhenGracefulShutdown { try await clock.sleep(for: duration) }
            return !Task.isCancelled && !Task.isShuttingDownGracefully
        } catch {
            return false
        }
    }

    private func log(_ outcome: CycleOutcome) {
        let mode = dryRun ? " (dry run)" : ""
        if let error = outcome.error {
            logger.error("reconcile \(outcome.instance) failed: \(error)")
        } else if outcome.notLeader, case .success(let plan) = outcome.result, !plan.changes.isEmpty {
            let c = plan.changes
            logger.debug("reconcile \(outcome.instance): not the leader; \(c.creates.count + c.updates.count + c.deletes.count) change(s) left to the leader")
        } else if case .success(let plan) = outcome.result, !plan.changes.isEmpty {
            let c = plan.changes
            logger.notice("reconcile \(outcome.instance)\(mode): \(c.creates.count) created, \(c.updates.count) updated, \(c.deletes.count) deleted")
        } else {
            logger.debug("reconcile \(outcome.instance): nothing to change")
        }
        for warning in outcome.warnings { logger.warning("reconcile \(outcome.instance): \(warning)") }
        // At the default level: which record failed and why, and which deletes the guard held back.
        for failure in outcome.report?.failures ?? [] {
            logger.error("reconcile \(outcome.instance): \(failure)")
        }
        if case .success(let plan) = outcome.result, let reason = plan.guardReason {
            for record in plan.withheldDeletes {
                logger.warning("reconcile \(outcome.instance): delete \(record.key) withheld: \(reason)")
            }
        }
    }
}
