import ArgumentParser
import NetAgent
import NetIO

@main
struct NetAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netagent",
        abstract: "Keeps Cloudflare and Pi-hole in step with Gateway API routes and watches the network.",
        subcommands: [VersionCommand.self, ResolveCommand.self, ConfigCommand.self, ProbeCommand.self, PlanCommand.self, RunCommand.self, LabCommand.self]
    )
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
