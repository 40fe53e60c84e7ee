import DNSCore
import NetIO
import Probes
import Testing
import TestSupport

@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct DNSProbeTests {
    static let records = [
        "--host-record=web.y.test,198.18.0.10",
        "--host-record=two.y.test,198.18.0.11",
        "--host-record=two.y.test,198.18.0.12",
        "--cname=alias.y.test,web.y.test",
        "--cname=deep.y.test,alias.y.test",
        "--txt-record=y.test,v=spf1 -all",
        "--address=/nx.test/",
        "--address=/bulk.test/198.18.0.5",
        "--local=/y.test/",  // y.test is authoritative here: absent data is NODATA or NXDOMAIN, not REFUSED
    ]

    func endpoint(_ name: String, _ type: RecordType, _ targets: [String]) throws -> Endpoint {
        Endpoint(name: try DNSName(name), type: type, targets: targets)
    }

    @Test func dnsServerTellsAnswerRefusedClosedPortAndSilenceApart() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let silent = try SilentUDPServer()
        let closed = try freeLoopbackPort(type: 2)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        func target(_ name: String, _ port: Int) throws -> DNSServerTarget {
            DNSServerTarget(name: name, server: try DNSServer(address: "127.0.0.1", port: port))
        }
        let good = DNSServerProbe(servers: [try target("pihole", dns.port), try target("silent", silent.port), try target("closed", closed)],
                                  question: DNSQuestion(name: "web.y.test", type: .a), resolver: resolver)
        let results = await good.run(timeout: .milliseconds(600))
        #expect(results.map(\.status) == [.ok, .failed, .failed])
        #expect(results[0].facts["answers"] == "A 198.18.0.10")
        #expect(results[0].facts["rcode"] == "NOERROR")
        #expect(results[1].fault == .timeout)
        #expect(results[2].fault == .unreachable)

        let refused = DNSServerProbe(servers: [try target("pihole", dns.port)],
                                     question: DNSQuestion(name: "not-served.example", type: .a), resolver: resolver)
        let refusedResult = try #require(await refused.run(timeout: .seconds(1)).first)
        #expect(refusedResult.fault == .dnsRefused)
        #expect(refusedResult.facts["rcode"] == "REFUSED")
    }

    @Test func dnsRecordsNamesEachDifference() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let server = DNSServerTarget(name: "pihole", server: try DNSServer(address: "127.0.0.1", port: dns.port))
        let cases: [(Endpoint, ProbeFault?)] = [
            (try endpoint("web.y.test", .a, ["198.18.0.10"]), nil),
            (try endpoint("deep.y.test", .a, ["198.18.0.10"]), nil),              // through two CNAMEs
            (try endpoint("alias.y.test", .cname, ["web.y.test"]), nil),
            (try endpoint("y.test", .txt, ["v=spf1 -all"]), nil),
            (try endpoint("web.y.test", .a, ["198.18.0.99"]), .wrongTarget),
            (try endpoint("two.y.test", .a, ["198.18.0.11"]), .stale),            // still has .12
            (try endpoint("alias.y.test", .cname, ["other.y.test"]), .wrongTarget),
            (try endpoint("gone.nx.test", .a, ["198.18.0.1"]), .nxdomain),
            (try endpoint("web.y.test", .aaaa, ["2001:db8::1"]), .missing),  // the name has only an A record
            (try endpoint("nope.y.test", .a, ["198.18.0.1"]), .nxdomain),
        ]
        let probe = DNSRecordsProbe(records: cases.map { ExpectedRecord(endpoint: $0.0, server: server) }, resolver: resolver)
        let results = await probe.run(timeout: .seconds(2))
        #expect(results.count == cases.count)
        for (result, (endpoint, fault)) in zip(results, cases) {
            #expect(result.fault == fault, "\(endpoint.key): \(result.reason)")
            #expect(result.ok == (fault == nil))
        }
        #expect(results[1].facts["cname-chain"] == "alias.y.test -> web.y.test")
        #expect(results[5].reason.contains("still has 198.18.0.12"))
    }

    @Test func dnsRecordsAsksThousandsOfNamesInOneRound() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let server = DNSServerTarget(name: "pihole", server: try DNSServer(address: "127.0.0.1", port: dns.port))
        var records = try (0..<3000).map { index in
            ExpectedRecord(endpoint: try endpoint("n\(index).bulk.test", .a, ["198.18.0.5"]), server: server)
        }
        records[1234] = ExpectedRecord(endpoint: try endpoint("n1234.bulk.test", .a, ["198.18.0.6"]), server: server)
        let results = await DNSRecordsProbe(records: records, resolver: resolver).run(timeout: .seconds(5))
        #expect(results.count == 3000)
        #expect(results.filter { !$0.ok }.map(\.target) == ["n1234.bulk.test A @pihole"])
        #expect(results[1234].fault == .wrongTarget)
    }

    @Test func aRecordMissingWhileItsServerRestartsOnOurRequestIsNotDrift() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let server = DNSServerTarget(name: "pihole", server: try DNSServer(address: "127.0.0.1", port: dns.port))
        let other = DNSServerTarget(name: "other", server: try DNSServer(address: "127.0.0.1", port: dns.port))
        let records = [
            ExpectedRecord(endpoint: try endpoint("moved.y.test", .a, ["198.18.0.1"]), server: server),
            ExpectedRecord(endpoint: try endpoint("web.y.test", .a, ["198.18.0.10"]), server: server),
            ExpectedRecord(endpoint: try endpoint("moved.y.test", .a, ["198.18.0.1"]), server: other),
        ]
        let restarts = ResolverRestarts()
        restarts.restarting("pihole", until: .now + .seconds(30))
        let during = await DNSRecordsProbe(records: records, resolver: resolver, restarts: restarts).run(timeout: .seconds(2))
        #expect(during.map(\.fault) == [.resolverRestarting, nil, .nxdomain], "\(during.map(\.reason))")
        #expect(during[0].facts["seen"]?.hasPrefix("nxdomain") == true)
        #expect(during[0].reason.contains("restarting"))

        restarts.ended("pihole")
        let after = await DNSRecordsProbe(records: records, resolver: resolver, restarts: restarts).run(timeout: .seconds(2))
        #expect(after.map(\.fault) == [.nxdomain, nil, .nxdomain])
    }
}
