import ArgumentParser
import Config
import Foundation
import Logging
import NetAgent

/// `netagent config …`: work with the configuration file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration file.",
        subcommands: [ConfigValidateCommand.self]
    )
}

/// `netagent config validate --config FILE`: checks a file without reading secrets or
/// touching the network. Exit 0 and a summary when valid; exit 2 and one
/// `FILE:LINE: PATH: message` line per problem on stderr when not.
struct ConfigValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a configuration file: every problem with its line and key path; no secrets read, no network."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The configuration file to check.")
    var config: String

    func run() throws {
        global.bootstrapLogging()
        let logger = Logger(label: "netagent.config")
        let loaded: NetAgentConfig
        do {
            loaded = try NetAgentConfig.load(file: config)
        } catch {
            let text = error.issues.map { $0.description + "\n" }.joined()
            FileHandle.standardError.write(Data(text.utf8))
            logger.debug("configuration refused", metadata: ["file": "\(config)", "problems": "\(error.issues.count)"])
            throw ExitCode(2)
        }
        logger.debug("configuration valid", metadata: ["file": "\(config)"])
        print("\(config): valid")
        print(loaded.summary)
    }
}
