import Foundation
import NetIO
import Testing
import TestSupport

/// Hostile HTTP peers on loopback (issue 20, defects 2 and 9): every body is bounded after
/// decoding, and no header value can carry CR, LF or NUL.
@Suite struct HostileHTTPTests {
    let client = HTTPClient()

    @Test func anEndlessBodyStopsAtTheRequestsLimit() async throws {
        let server = try HostileHTTPServer(.endless())
        defer { server.stop() }
        let error = await #expect(throws: NetIOError.self) {
            _ = try await client.send(HTTPRequest(url: server.url("/client/v4/zones"), maxBodyBytes: 1 << 20))
        }
        #expect(error?.kind == .responseTooLarge)
        #expect(error?.description.contains("1048576-byte limit") == true)
        // The transfer stopped near the bound, not after the peer gave up.
        #expect(server.bytesSent < 64 << 20)
    }

    @Test func anEndlessBodyStopsAtTheStandardLimitByDefault() async throws {
        let server = try HostileHTTPServer(.endless())
        defer { server.stop() }
        let error = await #expect(throws: NetIOError.self) {
            _ = try await client.send(HTTPRequest(url: server.url()))
        }
        #expect(error?.kind == .responseTooLarge)
    }

    @Test(.enabled(if: installed("gzip"), "needs gzip"))
    func aGzipBombStopsAtTheLimitOfDecodedBytes() async throws {
        let bomb = try CompressionBomb.gzip(decodedBytes: 64 << 20)
        #expect(bomb.count < 1 << 20)
        let server = try HostileHTTPServer(.encoded(encoding: "gzip", body: bomb))
        defer { server.stop() }
        let error = await #expect(throws: NetIOError.self) {
            _ = try await client.send(HTTPRequest(url: server.url("/api/config/dns/hosts"), maxBodyBytes: 4 << 20))
        }
        #expect(error?.kind == .responseTooLarge)
    }

    @Test(.enabled(if: installed("zstd"), "needs zstd"))
    func aZstdBombStopsAtTheLimitOfDecodedBytes() async throws {
        let bomb = try CompressionBomb.zstd(decodedBytes: 1 << 30)
        #expect(bomb.count < 200 << 10)
        let server = try HostileHTTPServer(.encoded(encoding: "zstd", body: bomb))
        defer { server.stop() }
        let error = await #expect(throws: NetIOError.self) {
            _ = try await client.send(HTTPRequest(url: server.url("/api/auth"), maxBodyBytes: HTTPBodyLimit.pihole))
        }
        #expect(error?.kind == .responseTooLarge)
    }

    @Test func aBodyWithinTheLimitArrivesWhole() async throws {
        let body = Array(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let server = try HostileHTTPServer(.plain(body: body))
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(url: server.url(), maxBodyBytes: 1 << 20))
        #expect(response.body.count == 1 << 20)
    }

    @Test func aStreamStopsAtItsLimit() async throws {
        let server = try HostileHTTPServer(.endless())
        defer { server.stop() }
        let response = try await client.stream(HTTPRequest(url: server.url(), timeout: nil, maxBodyBytes: 1 << 20))
        var received = 0
        let error = await #expect(throws: NetIOError.self) {
            for try await piece in response.body { received += piece.count }
        }
        #expect(error?.kind == .responseTooLarge)
        #expect(received <= 1 << 20)
    }

    @Test(arguments: ["tok\r\nX-Evil: 1", "tok\nX-Evil: 1", "tok\u{0}more", "tok\r"])
    func aHeaderValueWithCRLFOrNULIsRefusedBeforeAnythingIsSent(value: String) async throws {
        let server = try HostileHTTPServer(.plain(body: Array("{}".utf8)))
        defer { server.stop() }
        let error = await #expect(throws: NetIOError.self) {
            _ = try await client.send(HTTPRequest(url: server.url(), headers: [HTTPHeader(name: "X-FTL-SID", value: value)]))
        }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.description.contains("X-FTL-SID") == true)
        // The value (maybe a secret) is never quoted.
        #expect(error?.description.contains("tok") == false)
        #expect(server.bytesSent == 0)
    }

    @Test func aHeaderNameThatIsNoTokenIsRefused() async throws {
        let error = await #expect(throws: NetIOError.self) {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:9/", headers: [HTTPHeader(name: "X-A: b\r\nX", value: "1")]))
        }
        #expect(error?.kind == .invalidRequest)
    }
}

/// Hostile DNS servers on loopback (issue 20, defects 1 and 12): replies that are no answer to
/// the question are refused, absurd time budgets are clamped rather than crashing.
@Suite struct HostileDNSTests {
    let resolver = Resolver(options: .init(timeout: .milliseconds(600), tries: 1))
    static let address: [UInt8] = [198, 18, 0, 10]

    @Test func aReplyWithTheQRBitClearIsRefused() async throws {
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, flags: 0x0180, question: query.question,
                                  answers: [(nil, 1, Self.address)])
        }
        let error = await #expect(throws: ResolverError.self) {
            _ = try await resolver.query("app.test", type: .a, server: DNSServer(parsing: server.server))
        }
        #expect(error?.kind == .malformed)
        #expect(error?.message.contains("QR bit") == true)
    }

    @Test func aReplyForAnotherQuestionIsRefused() async throws {
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, question: DNSReplyBuilder.question(["evil", "test"], type: 1),
                                  answers: [(nil, 1, Self.address)])
        }
        // c-ares drops a reply whose question differs (it may be a spoof for another query),
        // so no answer arrives at all: the query times out, never "evil.test is 198.18.0.10".
        let error = await #expect(throws: ResolverError.self) {
            _ = try await resolver.query("app.test", type: .a, server: DNSServer(parsing: server.server))
        }
        #expect(error?.kind == .timeout || error?.kind == .malformed)
    }

    @Test func aReplyWithAnotherIDIsNeverTakenAsTheAnswer() async throws {
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id &+ 1, question: query.question, answers: [(nil, 1, Self.address)])
        }
        let error = await #expect(throws: ResolverError.self) {
            _ = try await resolver.query("app.test", type: .a, server: DNSServer(parsing: server.server))
        }
        #expect(error?.kind == .timeout)
    }

    @Test func aWellFormedReplyIsStillRead() async throws {
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, question: query.question, answers: [(nil, 1, Self.address)])
        }
        let response = try await resolver.query("App.Test", type: .a, server: DNSServer(parsing: server.server))
        #expect(response.records.map(\.data) == [.a("198.18.0.10")])
    }

    @Test func aTimeBudgetOf1790HoursIsClampedNotACrash() async throws {
        // 1790 h spread over 3 tries was 2^31 ms per try: an Int32 overflow, SIGILL.
        let server = try HostileDNSServer { query in
            DNSReplyBuilder.reply(id: query.id, question: query.question, answers: [(nil, 1, Self.address)])
        }
        for timeout in [Duration.seconds(1790 * 3600), .seconds(Int64.max / 2)] {
            let response = try await Resolver(options: .init(timeout: timeout, tries: 2))
                .query("app.test", type: .a, server: DNSServer(parsing: server.server))
            #expect(response.records.count == 1)
        }
        let response = try await resolver.query("app.test", type: .a, server: DNSServer(parsing: server.server),
                                                timeout: .seconds(1790 * 3600), tries: 100)
        #expect(response.records.count == 1)
    }

    @Test func aNameWithAControlCharacterIsNotAsked() async throws {
        let server = try HostileDNSServer { _ in nil }
        let error = await #expect(throws: ResolverError.self) {
            _ = try await resolver.query("app\u{0}.evil.test", type: .a, server: DNSServer(parsing: server.server))
        }
        #expect(error?.kind == .badName)
        let dnsServer = try DNSServer(parsing: server.server)
        let results = await resolver.queryAll([DNSQuestion(name: "a\u{1b}[31m.test", type: .a)], server: dnsServer)
        guard case .failure(let failure) = results.first else { Issue.record("asked"); return }
        #expect(failure.kind == .badName)
    }
}
