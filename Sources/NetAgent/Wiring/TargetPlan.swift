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
            outcome = .failure(PlanFailure(message: "\(error)"))
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
                                        outcome: .failure(PlanFailure(message: "\(error)"))))
            }
            await target.close()
        }
        return plans
    }
}

/// Prints per-target plans as a table or one JSON object.
public enum TargetPlanReport {
    public static func table(_ plans: [TargetPlan]) -> String {
        var out = ""
        for plan in plans {
            switch plan.outcome {
            case .failure(let failure):
                out += "\n== \(plan.instance): cannot plan: \(TerminalText.escaped("\(failure)"))\n"
            case .success(let result):
                let c = result.changes
                out += "\n== \(plan.instance): \(plan.desiredCount) desired; "
                out += c.isEmpty ? "nothing to change\n" : "\(c.creates.count) to create, \(c.updates.count) to update, \(c.deletes.count) to delete\n"
                for e in c.creates { out += "  + \(line(e))\n" }
                for u in c.updates { out += "  ~ \(line(u.old)) -> \(TerminalText.escaped(u.new.targets.joined(separator: ",")))\(ttl(u.new))\n" }
                for e in c.deletes { out += "  - \(line(e))\n" }
                for conflict in result.conflicts { out += "  ! \(TerminalText.escaped("\(conflict)"))\n" }
                if let reason = result.guardReason {
                    out += "  guard: \(reason) — \(result.withheldDeletes.count) deletes withheld\n"
                }
            }
        }
        return out
    }

    public static func json(_ plans: [TargetPlan]) -> [[String: Any]] {
        plans.map { plan in
            var object: [String: Any] = ["provider": plan.provider, "instance": plan.instance, "desired": plan.desiredCount]
            switch plan.outcome {
            case .failure(let failure):
                object["error"] = failure.message
            case .success(let result):
                object["creates"] = result.changes.creates.map(json)
                object["updates"] = result.changes.updates.map { ["old": json($0.old), "new": json($0.new)] }
                object["deletes"] = result.changes.deletes.map(json)
                object["conflicts"] = result.conflicts.map { "\($0)" }
                object["guard"] = result.guardReason.map { "\($0)" } ?? NSNull()
                object["withheldDeletes"] = result.withheldDeletes.map(json)
            }
            return object
        }
    }

    static func line(_ e: Endpoint) -> String {
        TerminalText.escaped("\(e.name) \(e.type.rawValue) \(e.targets.joined(separator: ","))") + ttl(e)
    }

    static func ttl(_ e: Endpoint) -> String { e.ttl.map { " ttl=\($0)" } ?? "" }

    static func json(_ e: Endpoint) -> [String: Any] {
        ["name": e.name.text, "type": e.type.rawValue, "targets": e.targets, "ttl": e.ttl.map { $0 as Any } ?? NSNull(),
         "resource": e.labels.resource.map { $0 as Any } ?? NSNull()]
    }
}
