import Foundation
import NetIO

/// `netagent-bench resolver`: many A queries through `Resolver` to one server, with a bounded
/// number of awaiting tasks, timed from the first query to the last answer.
enum ResolverBench {
    static func run(_ arguments: [String]) async throws {
        var options = ["--server": "127.0.0.1:53", "--queries": "100000", "--names": "1000", "--window": "512",
                       "--in-flight": "64", "--zone": "x.test", "--mode": "single", "--batch": "1000"]
        var index = 0
        while index + 1 < arguments.count {
            guard options[arguments[index]] != nil else { throw BenchError("unknown option \(arguments[index])") }
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        guard let queries = Int(options["--queries"]!), let names = Int(options["--names"]!),
              let window = Int(options["--window"]!), let inFlight = Int(options["--in-flight"]!),
              let batch = Int(options["--batch"]!)
        else { throw BenchError("--queries, --names, --window, --batch and --in-flight take whole numbers") }
        let server = try DNSServer(parsing: options["--server"]!)
        let zone = options["--zone"]!
        let resolver = Resolver(options: .init(timeout: .seconds(2), tries: 2, maxInFlight: inFlight))
        defer { resolver.shutdown() }

        let start = ContinuousClock.now
        let (answered, failed) = switch options["--mode"] {
        case "single": await single(resolver, server, queries: queries, names: names, zone: zone, window: window)
        case "batch": await batched(resolver, server, queries: queries, names: names, zone: zone, batch: batch)
        default: throw BenchError("--mode is single or batch")
        }
        let seconds = (ContinuousClock.now - start).seconds
        let result: [String: Any] = [
            "mode": options["--mode"]!, "queries": queries, "answered": answered, "failed": failed,
            "seconds": seconds, "qps": Double(answered) / seconds,
        ]
        try printJSON(result)
    }

    /// One `query` call per name, at most `window` awaiting at once.
    static func single(_ resolver: Resolver, _ server: DNSServer, queries: Int, names: Int, zone: String, window: Int) async -> (Int, Int) {
        await withTaskGroup(of: Bool.self) { group in
            var next = 0
            var answered = 0
            var failed = 0
            func add() {
                let name = "n\(next % names).\(zone)"
                next += 1
                group.addTask {
                    guard let response = try? await resolver.query(name, type: .a, server: server) else { return false }
                    return response.rcode == .noError && !response.records.isEmpty
                }
            }
            while next < min(window, queries) { add() }
            for await ok in group {
                if ok { answered += 1 } else { failed += 1 }
                if next < queries { add() }
            }
            return (answered, failed)
        }
    }

    /// `queryAll` over batches of `batch` names, one batch after another.
    static func batched(_ resolver: Resolver, _ server: DNSServer, queries: Int, names: Int, zone: String, batch: Int) async -> (Int, Int) {
        var answered = 0
        var failed = 0
        var next = 0
        while next < queries {
            let count = min(batch, queries - next)
            let questions = (next..<next + count).map { DNSQuestion(name: "n\($0 % names).\(zone)", type: .a) }
            next += count
            for result in await resolver.queryAll(questions, server: server) {
                if case .success(let response) = result, response.rcode == .noError, !response.records.isEmpty {
                    answered += 1
                } else {
                    failed += 1
                }
            }
        }
        return (answered, failed)
    }
}
