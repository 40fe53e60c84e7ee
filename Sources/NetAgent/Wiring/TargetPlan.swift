public import Config
public import DNSCore
public import Diagnosis
import Foundation
import State

/// What `netagent plan --config` shows for one target: the changes it would make, read-only,
/// or why it could not be planned.
public struct TargetPlan: Sendable {
    public var provider: String
    public var instance: String
    public var desiredCount: Int
    public var outcome: Result<Plan, PlanFailure>
    /// The records the routes ask of this target (before the provider's adjustments).
    public var desired: [Endpoint] = []

    public init(provider: String, instance: String, desiredCount: Int, outcome: Result<Plan, PlanFailure>) {
        self.provider = provider
        self.instance = instance
        self.desiredCount = desiredCount
        self.outcome = outcome
    }

    /// Plans `desired` against `target` without writing anything.
    public static func make(_ target: DNSTarget, desired: [Endpoint]) async -> TargetPlan {
        let outcome: Result<Plan, PlanFailure>
        do {
            outcome = .success(try await target.planning.plan(desired: desired, registry: target.registry))
        } catch {
            outcome = .failure(PlanFailure(error))
        }
        var plan = TargetPlan(provider: target.config.name, instance: target.instance, desiredCount: desired.count, outcome: outcome)
        plan.desired = desired
        return plan
    }

    /// Plans every target of `config` against the records `objects` ask for, read-only: each
    /// target is planned, and fails, on its own. The state file's ledger is read when the file
    /// exists, never created or written.
    public static func all(config: NetAgentConfig, secrets: ResolvedSecrets, objects: SourceObjects) async -> [TargetPlan] {
        let state = FileManager.default.fileExists(atPath: config.state.path) ? try? StateStore(readingOnly: config.state.path) : nil
        var plans: [TargetPlan] = []
        let ledgers = config.sharedLedgers(environment: ProcessInfo.processInfo.environment)
        for target in DNSTarget.all(config: config, secrets: secrets, state: state, ledgers: ledgers) {
            do {
                let desired = try objects.desired(for: target.config, annotationPrefixes: config.sources.annotationPrefixes)
                var made = await make(target, desired: desired.endpoints)
                made.outcome = made.outcome.map(objects.guarding)
                plans.append(made)
            } catch {
                plans.append(TargetPlan(provider: target.config.name, instance: target.instance, desiredCount: 0,
                                        outcome: .failure(PlanFailure(error))))
            }
            await target.close()
        }
        return plans
    }
}
