import DNSCore
import Foundation
import NetIO
import Probes

/// `netagent-bench nodes` and `netagent-bench dns-records`: one timed probe round each,
/// printed as one JSON line.
enum ProbesBench {
    /// `nodes --node NAME=ADDRESS … --timeout-ms N`: one nodes round (TCP ports and ICMP),
    /// timed from start to the last result. Run it inside the test bed's observer namespace.
    static func nodes(_ arguments: [String]) async throws {
        var nodes: [NodeTarget] = []
        var timeoutMs = 1000
        var index = 0
        while index + 1 < arguments.count {
            let (flag, value) = (arguments[index], arguments[index + 1])
            switch flag {
            case "--node":
                let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let address = IPAddress(parts[1]) else { throw BenchError("--node NAME=ADDRESS, not \(value)") }
                nodes.append(NodeTarget(name: parts[0], address: address))
            case "--timeout-ms":
                guard let ms = Int(value) else { throw BenchError("--timeout-ms takes a whole number") }
                timeoutMs = ms
            default:
                throw BenchError("unknown option \(flag)")
            }
            index += 2
        }
        let probe = NodesProbe(nodes: nodes)
        let start = ContinuousClock.now
        let results = await probe.run(timeout: .milliseconds(timeoutMs))
        let seconds = (ContinuousClock.now - start).seconds
        try printJSON([
            "nodes": nodes.count, "failed": results.filter { !$0.ok }.count, "timeoutSeconds": Double(timeoutMs) / 1000,
            "seconds": seconds, "ratio": seconds / (Double(timeoutMs) / 1000),
        ])
    }

    /// `dns-records --server HOST:PORT --names N --zone Z`: N desired A records `nI.Z → 198.18.0.5`
    /// compared in one dns-records round against the server.
    static func dnsRecords(_ arguments: [String]) async throws {
        var options = ["--server": "127.0.0.1:53", "--names": "20000", "--zone": "x.test", "--in-flight": "64"]
        var index = 0
        while index + 1 < arguments.count {
            guard options[arguments[index]] != nil else { throw BenchError("unknown option \(arguments[index])") }
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        guard let count = Int(options["--names"]!), let inFlight = Int(options["--in-flight"]!) else {
            throw BenchError("--names and --in-flight take whole numbers")
        }
        let server = DNSServerTarget(name: "bench", server: try DNSServer(parsing: options["--server"]!))
        let zone = options["--zone"]!
        let records = try (0..<count).map { index in
            ExpectedRecord(endpoint: Endpoint(name: try DNSName("n\(index).\(zone)"), type: .a, targets: ["198.18.0.5"]),
                           server: server)
        }
        let resolver = Resolver(options: .init(timeout: .seconds(2), tries: 2, maxInFlight: inFlight))
        defer { resolver.shutdown() }
        let probe = DNSRecordsProbe(records: records, resolver: resolver)
        let start = ContinuousClock.now
        let results = await probe.run(timeout: .seconds(5))
        let seconds = (ContinuousClock.now - start).seconds
        try printJSON([
            "names": count, "failed": results.filter { !$0.ok }.count, "seconds": seconds,
            "namesPerSecond": Double(results.count) / seconds,
        ])
    }
}
