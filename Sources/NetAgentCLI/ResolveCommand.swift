import ArgumentParser
import Config
import Foundation
import DNSCore
import NetAgent
import NetIO

/// `netagent resolve`: a dig-like look-up on the same c-ares engine the probes use.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Ask a DNS server for a name, and print the answers, the response code and the latency.",
        discussion: "Exits 0 on NOERROR, 1 on NXDOMAIN, SERVFAIL, REFUSED, other errors or no reply.")

    enum Output: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "The name to look up.")
    var name: String

    @Option(name: .long, help: "Record type: A, AAAA, CNAME, TXT, NS or SOA.")
    var type: String = "A"

    @Option(name: .long, help: "The server, HOST[:PORT] or [IPv6]:PORT (IP addresses only); the system's resolvers if absent.")
    var server: String?

    @Option(name: .long, help: "The whole time the query may take, e.g. 500ms, 2s.")
    var timeout: String = "2s"

    @Option(name: .long, help: "text or json.")
    var output: Output = .text

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard DNSQueryType(rawValue: type.uppercased()) != nil else {
            throw ValidationError("--type must be one of \(DNSQueryType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try CLIDuration.validateTimeout(timeout)
        if let server {
            do { _ = try DNSServer(parsing: server) } catch { throw ValidationError("--server: \(error.message)") }
        }
    }

    func run() async throws {
        global.bootstrapLogging()
        let queryType = DNSQueryType(rawValue: type.uppercased()) ?? .a
        let dnsServer = try server.map { text throws(ResolverError) in try DNSServer(parsing: text) }
        let resolver = Resolver(options: .init(timeout: CLIDuration.parse(timeout) ?? .seconds(2)))
        defer { resolver.shutdown() }
        do {
            let response = try await resolver.query(name, type: queryType, server: dnsServer)
            print(output == .json ? Self.json(response) : Self.text(response))
            if response.rcode != .noError { throw ExitCode(1) }
        } catch let error as ResolverError {
            if output == .json {
                print(Self.jsonString([
                    "name": name, "type": queryType.rawValue, "server": dnsServer?.description ?? "system",
                    "error": ["kind": error.kind.rawValue, "message": error.message],
                ]))
            } else {
                FileHandle.standardError.write(Data("netagent resolve: \(TerminalText.escaped("\(error)"))\n".utf8))
            }
            throw ExitCode(1)
        }
    }

    static func text(_ r: DNSResponse) -> String {
        let safe = TerminalText.escaped
        var lines = [";; \(safe(r.name)) \(r.type.rawValue) @\(r.server): \(r.rcode), \(Self.milliseconds(r.latency)) ms"]
        for record in r.answers {
            lines.append("\(safe(record.name)).\t\(record.ttl)\tIN\t\(record.data.typeName)\t\(safe(record.data.text))")
        }
        if r.answers.isEmpty {
            lines.append(";; no answer records")
            for record in r.authority {
                lines.append(";; authority: \(safe(record.name)).\t\(record.ttl)\tIN\t\(record.data.typeName)\t\(safe(record.data.text))")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ r: DNSResponse) -> String {
        jsonString([
            "name": r.name, "type": r.type.rawValue, "server": r.server, "rcode": r.rcode.description,
            "latencyMs": Self.milliseconds(r.latency),
            "cnameChain": r.cnameChain,
            "answers": r.answers.map { ["name": $0.name, "type": $0.data.typeName, "ttl": Int($0.ttl), "data": $0.data.text] as [String: Any] },
        ])
    }

    static func milliseconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return (Double(s) * 1000 + Double(atto) / 1e15).rounded(toPlaces: 3)
    }

    static func jsonString(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}

/// Durations on the command line, written as in the configuration (`250ms`, `2s`, `1m30s`).
enum CLIDuration {
    /// A positive duration, or nil for text that is not one.
    static func parse(_ text: String) -> Duration? {
        guard let duration = try? ConfigDuration.parse(text), duration > .zero else { return nil }
        return duration
    }

    /// `--timeout`: a duration up to `ProbesConfig.maxTimeout` (a DNS query's c-ares limit).
    static func validateTimeout(_ text: String) throws {
        guard let duration = parse(text) else { throw ValidationError("--timeout '\(text)' is not a duration like 500ms or 2s") }
        guard duration <= ProbesConfig.maxTimeout else {
            throw ValidationError("--timeout \(text) is above the \(ConfigDuration.format(ProbesConfig.maxTimeout)) maximum")
        }
    }
}
