public import NetIO

/// A DNS server the probes ask, by its configured name.
public struct DNSServerTarget: Sendable, Hashable {
    public var name: String
    public var server: DNSServer

    public init(name: String, server: DNSServer) {
        self.name = name
        self.server = server
    }
}

/// dns-server: each server answers a known name. Latency, response code and answers are
/// recorded; REFUSED, SERVFAIL, a closed port and silence are four different faults.
public struct DNSServerProbe: Probe {
    public let kind = ProbeKind.dnsServer
    public var servers: [DNSServerTarget]
    /// The name every server must answer, and its type.
    public var question: DNSQuestion
    public let resolver: Resolver

    public init(servers: [DNSServerTarget], question: DNSQuestion, resolver: Resolver) {
        self.servers = servers
        self.question = question
        self.resolver = resolver
    }

    public func run(timeout: Duration) async -> [ProbeResult] {
        await eachInParallel(servers) { target in await check(target, timeout: timeout) }
    }

    func check(_ target: DNSServerTarget, timeout: Duration) async -> ProbeResult {
        let label = "\(target.name) (\(target.server))"
        do {
            let response = try await resolver.query(question.name, type: question.type, server: target.server,
                                                    timeout: timeout, tries: 2)
            let observed = ProbeFacts.dnsServer(DNSServerFacts(
                server: target.server, question: question,
                outcome: .answered(rcode: response.rcode, answers: response.answers.map { "\($0.data.typeName) \($0.data.text)" },
                                   latency: response.latency)))
            let fault: ProbeFault? = switch response.rcode {
            // A CNAME chain that ends without the asked-for type is no answer to an A question.
            case .noError: response.records.isEmpty ? .missing : nil
            case .refused: .dnsRefused
            case .serverFailure: .servfail
            case .nameError: .nxdomain
            default: .dnsError
            }
            guard let fault else {
                return ProbeResult(kind: kind, target: label, status: .ok,
                                   reason: "answered \(response.records.count) record(s) in \(response.latency.readable)",
                                   latency: response.latency, observed: observed)
            }
            let chain = response.cnameChain.isEmpty ? "" : " (only CNAME \(response.cnameChain.joined(separator: " -> ")))"
            let reason = fault == .missing
                ? "answered NOERROR with no \(question.type.rawValue) record for \(question.name)\(chain)"
                : "answered \(response.rcode) for \(question.name)"
            return .failure(kind, label, fault, phase: "dns", reason, latency: response.latency, observed: observed)
        } catch {
            let fault: ProbeFault = switch error.kind {
            case .timeout: .timeout
            case .unreachable: .unreachable
            default: .dnsError
            }
            let reason = switch error.kind {
            case .timeout: "no reply within \(timeout.readable): the server is silent"
            case .unreachable: "the server's port is closed or unreachable (\(error.message))"
            default: error.message
            }
            let observed = ProbeFacts.dnsServer(DNSServerFacts(server: target.server, question: question,
                                                               outcome: .failed(error.kind, message: error.message)))
            return .failure(kind, label, fault, phase: "dns", reason, latency: error.elapsed, observed: observed)
        }
    }
}
