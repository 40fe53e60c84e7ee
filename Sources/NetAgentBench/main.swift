import Foundation

/// Benchmark drivers for scripts/bench-*: each mode prints one JSON line of results.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "resolver":
        try await ResolverBench.run(Array(arguments.dropFirst()))
    case "nodes":
        try await ProbesBench.nodes(Array(arguments.dropFirst()))
    case "dns-records":
        try await ProbesBench.dnsRecords(Array(arguments.dropFirst()))
    default:
        throw BenchError("""
            usage: netagent-bench resolver [--server HOST:PORT] [--queries N] [--names N] [--window N] [--in-flight N]
                   netagent-bench nodes --node NAME=ADDRESS … [--timeout-ms N]
                   netagent-bench dns-records [--server HOST:PORT] [--names N] [--zone Z] [--in-flight N]
            """)
    }
} catch {
    FileHandle.standardError.write(Data("netagent-bench: \(error)\n".utf8))
    exit(2)
}
