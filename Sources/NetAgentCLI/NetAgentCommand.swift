import ArgumentParser
import Diagnosis
import Foundation
import NetAgent
import NetIO

@main
struct NetAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netagent",
        abstract: "Keeps Cloudflare and Pi-hole in step with Gateway API routes and watches the network.",
        subcommands: [VersionCommand.self, ResolveCommand.self, ConfigCommand.self, ProbeCommand.self, PlanCommand.self, RunCommand.self,
                      CheckCommand.self, LabCommand.self]
    )

    /// ArgumentParser's own `main`, except that `check` and `plan` exit 2 for bad flags (`check` as
    /// for a bad configuration; `plan` so that 1 means "input errors were reported", 2 "bad
    /// flags"); ArgumentParser's usage errors exit 64, EX_USAGE, which other commands keep.
    static func main() async {
        Allocator.useOneArena()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure, [CheckCommand.configuration.commandName, PlanCommand.configuration.commandName].contains(CommandLine.arguments.dropFirst().first ?? "") {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of netagent and of the C libraries it runs on.")

    func run() {
        print("netagent \(BuildInfo.version)")
        print(LibraryVersions.curl)
        print(LibraryVersions.cares)
    }
}
