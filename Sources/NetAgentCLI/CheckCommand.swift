import ArgumentParser
import Diagnosis
import Foundation
import NetAgent

/// `netagent check`: one look at everything the configuration names, for a person at a
/// terminal. Exits 0 when all is well, 1 when something failed, 2 for a bad configuration
/// or bad flags (see `NetAgentCommand.main`). Writes nothing anywhere.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check everything once, read-only: DNS records per provider, DNS servers, nodes, MTU, VIP, tunnel, alerts.",
        discussion: """
            Runs every configured probe once, plans each provider read-only, greets the SMTP relay without \
            sending, and reads the state file's outbox and open alerts. Each failure gets a one-line cause \
            (docs/troubleshooting.md). Exits 0 when all is well, 1 when something failed, 2 for a bad \
            configuration or bad flags.
            """)

    enum Output: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "The configuration file (as `netagent run --config`).")
    var config: String

    @Option(help: ArgumentHelp("Only these areas, comma-separated: \(CheckArea.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "KINDS"))
    var only: String?

    @Option(help: "table or json.")
    var output: Output = .table

    @Flag(help: "Check again every --interval, redrawing the table, until Ctrl-C.")
    var watch = false

    @Option(help: "Time between --watch rounds, e.g. 10s.")
    var interval: String = "10s"

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        _ = try areas()
        guard CLIDuration.parse(interval) != nil else { throw ValidationError("--interval '\(interval)' is not a duration like 500ms or 10s") }
    }

    /// The areas `--only` names; nil for all.
    func areas() throws -> Set<CheckArea>? {
        guard let only else { return nil }
        let names = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--only needs at least one of \(CheckArea.allCases.map(\.rawValue).joined(separator: ", "))") }
        return Set(try names.map { name in
            guard let area = CheckArea(rawValue: name) else {
                throw ValidationError("--only: unknown kind '\(name)'; one of \(CheckArea.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return area
        })
    }

    func run() async throws {
        global.bootstrapLogging()
        let (loaded, secrets) = try PlanWithConfig.load(config)
        let checker = Checker(config: loaded, secrets: secrets, only: try areas())
        defer { checker.shutdown() }
        guard !checker.areas.isEmpty else {
            let missing = checker.notConfigured.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) (\($0.value))" }
            FileHandle.standardError.write(Data("\(config): nothing to check: not configured: \(missing.joined(separator: ", "))\n".utf8))
            throw ExitCode(2)
        }
        let terminal = Terminal()
        guard watch else {
            let report = await round(checker, terminal)
            FileHandle.standardOutput.write(Data(render(report, terminal).utf8))
            if !report.ok { throw ExitCode(1) }
            return
        }
        let every = CLIDuration.parse(interval) ?? .seconds(10)
        switch await watchUntilInterrupted(checker, terminal, every: every) {
        case true?: return
        case false?: throw ExitCode(1)
        case nil: throw ExitCode(130)  // interrupted before a round was complete, as a shell reports SIGINT
        }
    }

    /// One round with a progress line on a terminal's stderr.
    private func round(_ checker: Checker, _ terminal: Terminal) async -> CheckReport {
        let total = checker.areas.count
        let report = await checker.run { running in
            guard terminal.stderrIsTerminal else { return }
            let line = running.isEmpty ? "" : "checking \(total - running.count)/\(total) done; waiting for \(running.map(\.rawValue).joined(separator: ", "))…"
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        }
        if terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        return report
    }

    private func render(_ report: CheckReport, _ terminal: Terminal) -> String {
        output == .json ? report.json() + "\n" : report.table(colour: terminal.colour)
    }

    /// Rounds every `every` until SIGINT; returns whether the last complete round was all well,
    /// nil when none completed.
    private func watchUntilInterrupted(_ checker: Checker, _ terminal: Terminal, every: Duration) async -> Bool? {
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let rounds = Task { () -> Bool? in
            var lastOK: Bool?
            while !Task.isCancelled {
                let start = ContinuousClock.now
                let report = await round(checker, terminal)
                if Task.isCancelled { break }
                lastOK = report.ok
                var text = ""
                if output == .table {
                    let header = "netagent check \(config) — \(Date().formatted(.iso8601)), every \(interval) (Ctrl-C to stop)\n\n"
                    text = (terminal.stdoutIsTerminal ? "\u{1B}[H\u{1B}[2J" : "\n") + header
                }
                FileHandle.standardOutput.write(Data((text + render(report, terminal)).utf8))
                try? await Task.sleep(until: start + every, clock: .continuous)
            }
            return lastOK
        }
        interrupt.setEventHandler { rounds.cancel() }
        interrupt.resume()
        let ok = await rounds.value
        interrupt.cancel()
        return ok
    }
}

/// Whether stdout and stderr are terminals, and whether to colour: only on a terminal, never
/// with NO_COLOR set (https://no-color.org) or TERM=dumb.
struct Terminal {
    let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    let stderrIsTerminal = isatty(STDERR_FILENO) == 1
    var colour: Bool {
        let environment = ProcessInfo.processInfo.environment
        return stdoutIsTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }
}
