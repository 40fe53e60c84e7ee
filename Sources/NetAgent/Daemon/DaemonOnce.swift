import Config
public import Diagnosis
import DNSCore
import Foundation
import NetIO
public import Probes
import State

extension Daemon {
    /// What `netagent run --once` did: one cycle per target and one round of every probe.
    public struct OnceReport: Sendable {
        public var cycles: [CycleOutcome] = []
        public var probes: [ProbeResult] = []
        /// Sources that could not be read in full.
        public var problems: [String] = []
        /// All well: every target reconciled in full, every probe passed, every source read.
        public var ok: Bool { cycles.allSatisfy(\.ok) && probes.allSatisfy(\.ok) && problems.isEmpty }
    }

    /// One reconcile of every target and one probe round. When the cluster gave nothing at all,
    /// targets are not reconciled (an empty source must not delete every record).
    /// Throws when the state file cannot be opened.
    public func once() async throws -> OnceReport {
        let store = try StateStore(path: config.state.path)
        var report = OnceReport()
        let (objects, clusterUnreachable) = await SourceObjects.readOnce(config: config)
        report.problems = objects.problems
        let alerts = try await alertService(store: store)
        // --once takes no part in leader election: it writes as a single replica would.
        let restarts = ResolverRestarts()
        for target in DNSTarget.all(config: config, secrets: secrets, state: store, ledgers: ledgers(), restarts: restarts) {
            let outcome: CycleOutcome
            if clusterUnreachable {
                outcome = CycleOutcome(instance: target.instance,
                                       result: .failure(PlanFailure(message: "not reconciled: the cluster could not be read")))
            } else {
                outcome = await Self.cycle(target, objects: objects, annotationPrefixes: config.sources.annotationPrefixes,
                                           dryRun: dryRun, within: config.reconcile.onceTimeout)
            }
            await target.close()
            report.cycles.append(outcome)
            await alerts?.observe(outcome.alert, at: Date())
        }
        let resolver = Resolver()
        // After the reconciles, so the records they wrote are what the dns-records probe asks for.
        let records = config.scheduledRecordsProbe(resolver: resolver, restarts: restarts) { clusterUnreachable ? nil : objects }
        let scheduler = ProbeScheduler(probes: config.scheduledProbes(resolver: resolver, tunnelStatus: config.tunnelStatusSource(secrets: secrets)) + (records.map { [$0] } ?? []),
                                       history: ProbeHistory(),
                                       clock: ContinuousClock(), onResults: { alerts?.record($0) })
        report.probes = await scheduler.runOnce()
        resolver.shutdown()
        if let alerts {
            do { _ = try await alerts.step(now: Date()) } catch { report.problems.append("alerts: \(error)") }
        }
        return report
    }

    /// One target's cycle, given up after `budget` (`reconcile.onceTimeout`): the cycle is
    /// cancelled (curl drops its transfers at once) and reported as failed, so a peer that never
    /// answers cannot hold `run --once` through every timeout and retry of its client. A write
    /// on the wire when the budget ends may still land; the next run reads it back, as after a kill.
    static func cycle(_ target: DNSTarget, objects: SourceObjects, annotationPrefixes: [String], dryRun: Bool,
                      within budget: Duration) async -> CycleOutcome {
        await withTaskGroup(of: CycleOutcome?.self) { group in
            group.addTask {
                await TargetReconciler<ContinuousClock>.cycle(target, objects: objects, annotationPrefixes: annotationPrefixes,
                                                              dryRun: dryRun)
            }
            group.addTask {
                do { try await Task.sleep(for: budget) } catch { return nil }
                return CycleOutcome(instance: target.instance, result: .failure(PlanFailure(
                    message: "gave up after \(ConfigDuration.format(budget)) (reconcile.onceTimeout): the target did not finish its cycle")))
            }
            var first: CycleOutcome?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? CycleOutcome(instance: target.instance, result: .failure(PlanFailure(message: "cancelled")))
        }
    }
}
