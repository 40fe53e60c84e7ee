import DNSCore
import NetIO
import Probes
import Testing
import TestSupport

/// The DNS probes against hostile servers on loopback (issue 20, defect 12).
@Suite struct HostileDNSProbeTests {
    /// The dns-server probe's result for `web.y.test A` asked of `server`.
    static func probe(_ server: HostileDNSServer) async throws -> ProbeResult {
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let probe = DNSServerProbe(servers: [DNSServerTarget(name: "pihole", server: try DNSServer(parsing: server.server))],
                                   question: DNSQuestion(name: "web.y.test", type: .a), resolver: resolver)
        return try #require(await probe.run(timeout: .seconds(1)).first)
    }

    @Test func aCNAMEOnlyAnswerIsNotOkForAnARecord() async throws {
        let target = DNSReplyBuilder.name(["elsewhere", "test"])
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, question: query.question, answers: [(nil, 5, target)])
        }
        let result = try await Self.probe(server)
        #expect(result.status == .failed)
        #expect(result.fault == .missing)
        #expect(result.reason.contains("only CNAME elsewhere.test"), "\(result.reason)")
    }

    @Test func aReplyWithTheQRBitClearIsAFaultNotAnAnswer() async throws {
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, flags: 0x0180 & ~0x8000, question: query.question,
                                  answers: [(nil, 1, [198, 18, 0, 10])])
        }
        let result = try await Self.probe(server)
        #expect(result.status == .failed)
        #expect(result.fault == .dnsError)
        #expect(result.reason.contains("QR bit"))
    }
}
