import NetIO
import Testing
import TestSupport

@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct ResolverTests {
    static let records = [
        "--address=/x.test/198.18.0.5",
        "--host-record=web.y.test,198.18.0.10,2001:db8::10",
        "--cname=alias.y.test,web.y.test",
        "--cname=deep.y.test,alias.y.test",
        "--txt-record=y.test,v=spf1 -all,second string",
        "--address=/nx.test/",
    ]

    @Test func answersEachRecordType() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let server = try DNSServer(parsing: dns.address)
        let resolver = Resolver()
        defer { resolver.shutdown() }

        let a = try await resolver.query("web.x.test", type: .a, server: server)
        #expect(a.rcode == .noError)
        #expect(a.records.map(\.data) == [.a("198.18.0.5")])
        #expect(a.records.first?.ttl == 60)

        let aaaa = try await resolver.query("web.y.test", type: .aaaa, server: server)
        #expect(aaaa.records.map(\.data) == [.aaaa("2001:db8::10")])

        let txt = try await resolver.query("y.test", type: .txt, server: server)
        #expect(txt.records.map(\.data) == [.txt(["v=spf1 -all", "second string"])])

        let chain = try await resolver.query("deep.y.test", type: .a, server: server)
        #expect(chain.cnameChain == ["alias.y.test", "web.y.test"])
        #expect(chain.records.map(\.data) == [.a("198.18.0.10")])

        let cname = try await resolver.query("alias.y.test", type: .cname, server: server)
        #expect(cname.answers.first?.data == .cname("web.y.test"))
    }

    @Test func nxdomainAndRefusedAreAnswersWithTheirCode() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let server = try DNSServer(parsing: dns.address)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let nx = try await resolver.query("gone.nx.test", type: .a, server: server)
        #expect(nx.rcode == .nameError)
        #expect(nx.answers.isEmpty)
        // dnsmasq with --no-resolv refuses names it has no data for.
        let refused = try await resolver.query("elsewhere.example", type: .a, server: server)
        #expect(refused.rcode == .refused)
        #expect(refused.rcode.description == "REFUSED")
    }

    @Test func aDeadServerTimesOutWithinItsBudget() async throws {
        let silent = try SilentUDPServer()
        let resolver = Resolver(options: .init(timeout: .milliseconds(600), tries: 2))
        defer { resolver.shutdown() }
        do {
            _ = try await resolver.query("web.x.test", type: .a, server: try DNSServer(address: "127.0.0.1", port: silent.port))
            Issue.record("a silent server answered")
        } catch {
            #expect(error.kind == .timeout)
            // 200 ms + 400 ms over two tries, measured on the channel's own thread so a busy
            // test run does not blur it; c-ares's timers are coarse, so allow it some slack.
            let elapsed = try #require(error.elapsed)
            #expect(elapsed >= .milliseconds(550))
            #expect(elapsed < .milliseconds(1200))
        }
    }

    @Test func aClosedPortIsUnreachableNotATimeout() async throws {
        let port = try freeLoopbackPort(type: 2)  // SOCK_DGRAM
        let resolver = Resolver()
        defer { resolver.shutdown() }
        await #expect {
            try await resolver.query("web.x.test", type: .a, server: try DNSServer(address: "127.0.0.1", port: port))
        } throws: { error in
            (error as? ResolverError)?.kind == .unreachable
        }
    }

    @Test func tenThousandQueriesInOneBurstAreAllAnswered() async throws {
        let dns = try await DnsmasqServer(records: Self.records, extra: ["--dns-forward-max=1000"])
        let server = try DNSServer(parsing: dns.address)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<10_000 {
                group.addTask {
                    let response = try await resolver.query("n\(i).x.test", type: .a, server: server)
                    return response.rcode == .noError && response.records.map(\.data) == [.a("198.18.0.5")]
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(answered == 10_000)
    }

    @Test func queryAllAnswersEachQuestionInOrder() async throws {
        let dns = try await DnsmasqServer(records: Self.records)
        let server = try DNSServer(parsing: dns.address)
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let questions = [
            DNSQuestion(name: "web.y.test", type: .aaaa), DNSQuestion(name: "gone.nx.test", type: .a),
            DNSQuestion(name: "a.x.test", type: .a), DNSQuestion(name: "elsewhere.example", type: .a),
        ] + (0..<2000).map { DNSQuestion(name: "b\($0).x.test", type: .a) }
        let results = await resolver.queryAll(questions, server: server)
        #expect(results.count == questions.count)
        let codes = results.prefix(4).map { (try? $0.get())?.rcode }
        #expect(codes == [.noError, .nameError, .noError, .refused])
        #expect((try? results[0].get())?.records.map(\.data) == [.aaaa("2001:db8::10")])
        for (question, result) in zip(questions, results).dropFirst(4) {
            let response = try result.get()
            #expect(response.name == question.name)
            #expect(response.records.map(\.data) == [.a("198.18.0.5")])
        }
        #expect(await resolver.queryAll([], server: server).isEmpty)
    }

    @Test func cancellationEndsAWaitingBatch() async throws {
        let silent = try SilentUDPServer()
        let resolver = Resolver(options: .init(timeout: .seconds(10), tries: 1, maxInFlight: 4))
        defer { resolver.shutdown() }
        let server = try DNSServer(address: "127.0.0.1", port: silent.port)
        let task = Task { await resolver.queryAll((0..<50).map { DNSQuestion(name: "q\($0).x.test", type: .a) }, server: server) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let results = await task.value
        #expect(results.count == 50)
        #expect(results.allSatisfy { if case .failure(let error) = $0 { error.kind == .cancelled } else { false } })
    }

    @Test func cancellationEndsAWaitingQuery() async throws {
        let silent = try SilentUDPServer()
        let resolver = Resolver(options: .init(timeout: .seconds(10), tries: 1))
        defer { resolver.shutdown() }
        let server = try DNSServer(address: "127.0.0.1", port: silent.port)
        let task = Task { try await resolver.query("web.x.test", type: .a, server: server) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as ResolverError) = result else {
            Issue.record("expected cancellation, got \(result)")
            return
        }
        #expect(error.kind == .cancelled)
    }

    @Test(arguments: ["1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353", "[2001:db8::1]"])
    func parsesServers(text: String) throws {
        let server = try DNSServer(parsing: text)
        #expect(IPAddress.isValid(server.address))
    }

    @Test(arguments: ["dns.example.com", "1.2.3.4:0", "1.2.3.4:x", "[::1", "300.1.1.1"])
    func refusesBadServers(text: String) {
        #expect(throws: ResolverError.self) { try DNSServer(parsing: text) }
    }
}
