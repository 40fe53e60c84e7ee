import Foundation

/// Benchmark drivers for scripts/bench-*: one mode per file, each printing its results.
struct BenchError: Error, CustomStringConvertible {
    let message: String
    init(message: String) { self.message = message }
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Prints one line of results: `object` as JSON with sorted keys.
func printJSON(_ object: [String: Any]) throws {
    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
}

extension Duration {
    /// As fractional seconds and milliseconds, for reports.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let rest = Array(arguments.dropFirst())
    switch arguments.first {
    case "planner": try PlannerBench.run(rest)
    case "resolver": try await ResolverBench.run(rest)
    case "pihole": try await PiholeBench.run(rest)
    case "cloudflare": try await CloudflareBench.run(rest)
    case "nodes": try await ProbesBench.nodes(rest)
    case "dns-records": try await ProbesBench.dnsRecords(rest)
    case "daemon-latency": try await DaemonBench.latency(rest)
    case "daemon-footprint": try await DaemonBench.footprint(rest)
    default:
        throw BenchError("""
            usage: netagent-bench planner [--records N] [--changed-percent P] [--repeat K]
                   netagent-bench resolver [--server HOST:PORT] [--queries N] [--names N] [--window N] [--in-flight N]
                   netagent-bench pihole [--a N] [--cname N]
                   netagent-bench cloudflare [--routes N] [--chunk N]
                   netagent-bench nodes --node NAME=ADDRESS … [--timeout-ms N]
                   netagent-bench dns-records [--server HOST:PORT] [--names N] [--zone Z] [--in-flight N]
                   netagent-bench daemon-latency --netagent PATH [--changes N]
                   netagent-bench daemon-footprint --netagent PATH [--routes N] [--idle-seconds S]
            """)
    }
} catch {
    FileHandle.standardError.write(Data("netagent-bench: \(error)\n".utf8))
    exit(2)
}
