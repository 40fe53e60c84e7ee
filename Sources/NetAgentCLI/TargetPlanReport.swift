import DNSCore
import Diagnosis
import NetAgent
import PlanOutput

/// `plan --config`'s part per provider instance: the changes it would make, or why it could not
/// be planned, as a table or as the JSON object's `providers` (one entry per instance).
enum TargetPlanReport {
    static func table(_ plans: [TargetPlan]) -> String {
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

    static func line(_ e: Endpoint) -> String {
        TerminalText.escaped("\(e.name) \(e.type.rawValue) \(e.targets.joined(separator: ","))") + ttl(e)
    }

    static func ttl(_ e: Endpoint) -> String { e.ttl.map { " ttl=\($0)" } ?? "" }

    /// One entry of `providers`: `error` when the instance could not be planned, otherwise its
    /// changes (records as in `desired`), the conflicts, and the delete guard's reason (null when
    /// it let every delete through) with the deletes it withheld.
    struct Entry: Encodable {
        var provider: String
        var instance: String
        var desired: Int
        var outcome: Result<Plan, PlanFailure>

        init(_ plan: TargetPlan) {
            provider = plan.provider
            instance = plan.instance
            desired = plan.desiredCount
            outcome = plan.outcome
        }

        struct Update: Encodable {
            var old: PlanReport.Record
            var new: PlanReport.Record
        }

        enum CodingKeys: String, CodingKey {
            case provider, instance, desired, error, creates, updates, deletes, conflicts, `guard`, withheldDeletes
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(provider, forKey: .provider)
            try container.encode(instance, forKey: .instance)
            try container.encode(desired, forKey: .desired)
            switch outcome {
            case .failure(let failure):
                try container.encode(failure.message, forKey: .error)
            case .success(let plan):
                try container.encode(plan.changes.creates.map(PlanReport.Record.init), forKey: .creates)
                try container.encode(plan.changes.updates.map { Update(old: .init($0.old), new: .init($0.new)) }, forKey: .updates)
                try container.encode(plan.changes.deletes.map(PlanReport.Record.init), forKey: .deletes)
                try container.encode(plan.conflicts.map { "\($0)" }, forKey: .conflicts)
                try container.encode(plan.guardReason.map { "\($0)" }, forKey: .guard)
                try container.encode(plan.withheldDeletes.map(PlanReport.Record.init), forKey: .withheldDeletes)
            }
        }
    }
}
