import ArgumentParser
import Config
import Logging
import NetAgent
import Synchronization

/// Options every subcommand shares: how much to log and in which form.
struct GlobalOptions: ParsableArguments {
    /// `--log-level`: the least severe level that is written.
    enum Level: String, CaseIterable, ExpressibleByArgument {
        case trace, debug, info, notice, warning, error

        var logger: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
    }

    /// `--log-format`: text for people, JSON lines for machines.
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, json

        var format: LogFormat { self == .json ? .json : .text }
    }

    @Option(help: "Least severe log level written to stderr.")
    var logLevel: Level = .info

    @Option(help: "Log lines on stderr as text, or as one JSON object per line.")
    var logFormat: Format = .text

    /// Sends swift-log to stderr with these options. Only the first call in a process takes
    /// effect, since swift-log may be bootstrapped once; each subcommand calls it in `run()`.
    func bootstrapLogging() {
        let first = loggingBootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let level = logLevel.logger
        let format = logFormat.format
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: level, format: format) }
    }
}

private let loggingBootstrapped = Mutex(false)
