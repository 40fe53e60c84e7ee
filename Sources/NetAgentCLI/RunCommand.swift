import ArgumentParser
import Foundation
import Logging
import NetAgent

/// `netagent run`: the agent. Without `--once` it runs until SIGTERM or SIGINT and exits 0
/// after a clean shutdown; with `--once` it reconciles every target and probes once, and exits
/// 0 when all is well, 1 otherwise. A bad configuration exits 2 before anything runs.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: keep DNS in step with the routes, probe the network, alert, serve /healthz, /readyz and /metrics.")

    @Option(help: "The configuration file.")
    var config: String

    @Flag(help: "Reconcile every provider and run every probe once, then exit: 0 when all is well, 1 otherwise.")
    var once = false

    @Flag(help: "Plan and log the changes, never write (as reconcile.dryRun).")
    var dryRun = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.bootstrapLogging()
        let (config, secrets) = try PlanWithConfig.load(self.config)
        let logger = Logger(label: "netagent.run")
        let daemon = Daemon(config: config, secrets: secrets, dryRun: dryRun, logger: logger)
        if once {
            let report = try await daemon.once()
            print(Self.summary(report), terminator: "")
            if !report.ok { throw ExitCode(1) }
            return
        }
        try await daemon.run(metrics: AgentMetrics.bootstrap())
    }

    /// One line per target, probe result and source problem.
    static func summary(_ report: Daemon.OnceReport) -> String {
        var out = ""
        for cycle in report.cycles {
            defer { for warning in cycle.warnings { out += "WARN    \(cycle.instance): \(warning)\n" } }
            switch cycle.result {
            case .failure(let failure):
                out += "FAIL  reconcile \(cycle.instance): \(failure)\n"
            case .success(let plan):
                let c = plan.changes
                let applied = cycle.report.map { " (applied: \($0.created) created, \($0.updated) updated, \($0.deleted) deleted, \($0.failures.count) failed)" } ?? ""
                out += "\(cycle.ok ? "ok  " : "FAIL")  reconcile \(cycle.instance): \(c.creates.count) to create, \(c.updates.count) to update, \(c.deletes.count) to delete\(applied)\n"
                // Each refused change by record, with its cause: "N failed" alone tells nobody what to fix.
                for failure in cycle.report?.failures ?? [] {
                    out += "FAIL    \(cycle.instance): \(failure)\n"
                }
                for record in plan.withheldDeletes {
                    out += "HELD    \(cycle.instance): delete \(record.key) withheld: \(plan.guardReason.map(\.description) ?? "by the delete guard")\n"
                }
            }
        }
        for result in report.probes {
            out += "\(result.ok ? "ok  " : "FAIL")  probe \(result.kind.rawValue) \(result.target): \(result.reason)\n"
        }
        for problem in report.problems { out += "FAIL  source: \(problem)\n" }
        return out
    }
}
