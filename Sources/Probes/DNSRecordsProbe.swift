public import DNSCore
public import NetIO

/// A desired record and the server that should serve it (Pi-hole for local records, a
/// public resolver for Cloudflare ones).
public struct ExpectedRecord: Sendable, Hashable {
    public var endpoint: Endpoint
    public var server: DNSServerTarget

    public init(endpoint: Endpoint, server: DNSServerTarget) {
        self.endpoint = endpoint
        self.server = server
    }
}

/// dns-records ("DNS truth"): every desired record is asked of its server and compared with
/// the plan, per name: missing, NXDOMAIN, wrong or stale target. A and AAAA answers are
/// read after any CNAME chain (the chain is kept in the facts); CNAME records are asked as
/// CNAME. Thousands of names a round go through `Resolver.queryAll`, one batch per server.
public struct DNSRecordsProbe: Probe {
    public let kind = ProbeKind.dnsRecords
    public var records: [ExpectedRecord]
    public let resolver: Resolver
    /// Servers restarting on netagent's request, by server name (`ResolverRestarts`).
    public let restarts: ResolverRestarts?

    public init(records: [ExpectedRecord], resolver: Resolver, restarts: ResolverRestarts? = nil) {
        self.records = records
        self.resolver = resolver
        self.restarts = restarts
    }

    public func run(timeout: Duration) async -> [ProbeResult] {
        let byServer = Dictionary(grouping: records.indices, by: { records[$0].server })
        return await withTaskGroup(of: [(Int, ProbeResult)].self) { group in
            for (server, indices) in byServer {
                group.addTask {
                    let questions = indices.map { index in
                        DNSQuestion(name: records[index].endpoint.name.text, type: Self.queryType(records[index].endpoint.type))
                    }
                    let answers = await resolver.queryAll(questions, server: server.server, timeout: timeout, tries: 2)
                    return zip(indices, answers).map { index, answer in (index, verdict(records[index], answer)) }
                }
            }
            var results = [ProbeResult?](repeating: nil, count: records.count)
            for await batch in group { for (index, result) in batch { results[index] = result } }
            return results.compactMap { $0 }
        }
    }

    static func queryType(_ type: RecordType) -> DNSQueryType {
        switch type {
        case .a: .a
        case .aaaa: .aaaa
        case .cname: .cname
        case .txt: .txt
        }
    }

    /// The verdict on one name; a failure while its server restarts on netagent's request is
    /// `resolverRestarting`, with what was seen kept in the facts.
    func verdict(_ record: ExpectedRecord, _ answer: Result<DNSResponse, ResolverError>) -> ProbeResult {
        let result = compare(record, answer)
        guard result.status == .failed, let until = restarts?.restartingUntil(record.server.name) else { return result }
        var facts = result.observed.dnsRecord ?? DNSRecordFacts(desired: record.endpoint.targets, server: record.server.server)
        facts.seen = result.fault.map { "\($0.rawValue): \(result.reason)" } ?? result.reason
        let left = (until - .now).components.seconds
        var restarting = ProbeResult.failure(kind, result.target, .resolverRestarting, phase: "dns",
                        "\(record.server.name) is restarting its resolver after netagent's changes (for at most \(left) s more)",
                        observed: .dnsRecord(facts))
        restarting.latencyMs = result.latencyMs
        return restarting
    }

    /// The verdict on one name, from the answer alone.
    func compare(_ record: ExpectedRecord, _ answer: Result<DNSResponse, ResolverError>) -> ProbeResult {
        let endpoint = record.endpoint
        let target = "\(endpoint.name) \(endpoint.type.rawValue) @\(record.server.name)"
        var facts = DNSRecordFacts(desired: endpoint.targets, server: record.server.server)
        let response: DNSResponse
        switch answer {
        case .failure(let error):
            let fault: ProbeFault = error.kind == .timeout ? .timeout : error.kind == .unreachable ? .unreachable : .dnsError
            return .failure(kind, target, fault, phase: "dns", error.message, latency: error.elapsed, observed: .dnsRecord(facts))
        case .success(let reply):
            response = reply
        }
        facts.rcode = response.rcode
        facts.cnameChain = response.cnameChain
        switch response.rcode {
        case .noError: break
        case .nameError:
            return .failure(kind, target, .nxdomain, phase: "dns", "\(endpoint.name) does not exist (NXDOMAIN)",
                            latency: response.latency, observed: .dnsRecord(facts))
        case .refused:
            return .failure(kind, target, .dnsRefused, phase: "dns", "the server refused the question",
                            latency: response.latency, observed: .dnsRecord(facts))
        case .serverFailure:
            return .failure(kind, target, .servfail, phase: "dns", "the server answered SERVFAIL",
                            latency: response.latency, observed: .dnsRecord(facts))
        default:
            return .failure(kind, target, .dnsError, phase: "dns", "the server answered \(response.rcode)",
                            latency: response.latency, observed: .dnsRecord(facts))
        }
        let found = Self.values(of: endpoint.type, in: response)
        facts.found = found
        let desired = Set(endpoint.targets)
        if found.isEmpty {
            return .failure(kind, target, .missing, phase: "dns", "no \(endpoint.type.rawValue) record for \(endpoint.name)",
                            latency: response.latency, observed: .dnsRecord(facts))
        }
        if found == desired {
            return ProbeResult(kind: kind, target: target, status: .ok, reason: "matches the plan",
                               latency: response.latency, observed: .dnsRecord(facts))
        }
        let extra = found.subtracting(desired).sorted(), absent = desired.subtracting(found).sorted()
        let words = (absent.isEmpty ? [] : ["lacks \(absent.joined(separator: ", "))"])
            + (extra.isEmpty ? [] : ["still has \(extra.joined(separator: ", "))"])
        if found.isDisjoint(with: desired) {
            return .failure(kind, target, .wrongTarget, phase: "dns",
                            "points at \(found.sorted().joined(separator: ", ")), the plan says \(endpoint.targets.joined(separator: ", "))",
                            latency: response.latency, observed: .dnsRecord(facts))
        }
        return .failure(kind, target, .stale, phase: "dns", "stale: " + words.joined(separator: "; "),
                        latency: response.latency, observed: .dnsRecord(facts))
    }

    /// The values of `type` in a response, normalised as `Endpoint` normalises targets.
    static func values(of type: RecordType, in response: DNSResponse) -> Set<String> {
        switch type {
        case .cname:
            let owner = response.name.lowercased().hasSuffix(".") ? String(response.name.lowercased().dropLast()) : response.name.lowercased()
            return Set(response.answers.compactMap { record in
                guard record.name == owner, case .cname(let next) = record.data else { return nil }
                return next.lowercased()
            })
        case .txt:
            return Set(response.records.compactMap { if case .txt(let strings) = $0.data { strings.joined() } else { nil } })
        case .a, .aaaa:
            return Set(response.records.compactMap { record -> String? in
                switch record.data {
                case .a(let value), .aaaa(let value): value.lowercased()
                default: nil
                }
            })
        }
    }
}
