import Foundation
import Glibc
import NetIO
import Testing
import TestSupport

/// The fault matrix's hostile peers (issue 20): a Cloudflare that bends its envelope or sends a
/// record it cannot read, a relay that refuses netagent's login, and a flood of idle clients on
/// the status server — each against the built `netagent`.
@Suite struct HostilePeerFaultTests {
    typealias CF = HostileCloudflare
    static let token = "hostile-matrix-token"
    static let environment = ProcessInfo.processInfo.environment.merging(
        ["NETAGENT_MATRIX_TOKEN": token, "NETAGENT_MATRIX_SMTP": "wrong-password"]) { $1 }

    static func config(_ folder: URL, hosts: [String], url: String, resync: String = "1h", extra: String = "") throws -> String {
        try CF.agentConfig(folder: folder, hosts: hosts, url: url, tokenEnv: "NETAGENT_MATRIX_TOKEN", resync: resync, extra: extra)
    }

    static func once(_ config: String, environment: [String: String] = environment) async throws -> (status: Int32, out: String) {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let run = try await Netagent.run(binary, ["run", "--once", "--config", config], environment: environment)
        return (run.status, run.stdout + run.stderr)
    }

    static let created = CF.envelope(result: #"{"deletes":[],"patches":[],"puts":[],"posts":[\#(CF.record("n1", "wiki.home.test", "A", "198.18.0.50"))]}"#)

    @Test("hostile-cf-success-false") func unsuccessfulEnvelope() async throws {
        try await Scenario(
            id: "hostile-cf-success-false", area: "hostile peer",
            fault: "Cloudflare answers the listing `success: false` inside HTTP 200, then `result: null`, then answers well",
            assertions: "no write while the listing is bad (never read as an empty zone), exit 1 naming Cloudflare's code; converges once the peer answers well"
        ).run {
            let server = try await ScriptedHTTPPeer(CF.rules(
                records: CF.envelope(success: false, errors: #"[{"code":1101,"message":"internal"}]"#, result: "[]"), batch: Self.created))
            defer { server.stop() }
            let config = try Self.config(try Repository.temporaryFolder("matrix-cf-false"), hosts: ["wiki.home.test"], url: server.url)
            let first = try await Self.once(config)
            #expect(first.status != 0 && first.out.contains("1101") && first.out.contains("success: false"), "\(first.out)")
            try server.script(CF.rules(records: CF.envelope(result: "null"), batch: Self.created))
            let second = try await Self.once(config)
            #expect(second.status != 0 && second.out.contains("result is null"), "\(second.out)")
            #expect(server.requests().allSatisfy { $0.method != "POST" }, "a write was sent against a listing not read")
            try server.script(CF.rules(records: CF.envelope(result: "[]"), batch: Self.created))
            let third = try await Self.once(config)
            let posts = server.requests().filter { $0.method == "POST" }
            #expect(posts.count == 1 && posts[0].body.contains("wiki.home.test"), "\(third.out)")
            return "2 bad listings refused (no write), the good one planned and written (\(posts.count) batch)"
        }
    }

    @Test("hostile-cf-undecodable-record") func undecodableRecord() async throws {
        try await Scenario(
            id: "hostile-cf-undecodable-record", area: "hostile peer",
            fault: "Cloudflare lists a record with `content: null` beside the others",
            assertions: "the record is skipped and named; the zone's other changes go ahead; nothing is written at the skipped record's name"
        ).run {
            let listing = CF.envelope(result: "[" + CF.record("r1", "foreign.home.test", "A", "198.18.0.9") + ","
                + #"{"id":"bad1","name":"photos.home.test","type":"A","content":null,"ttl":1}"# + "]")
            let server = try await ScriptedHTTPPeer(CF.rules(records: listing, batch: Self.created))
            defer { server.stop() }
            let config = try Self.config(try Repository.temporaryFolder("matrix-cf-null"), hosts: ["wiki.home.test", "photos.home.test"],
                                         url: server.url)
            let run = try await Self.once(config)
            #expect(run.out.contains("skipped: record photos.home.test A id bad1 could not be read"), "\(run.out)")
            let posts = server.requests().filter { $0.method == "POST" }
            #expect(posts.count == 1 && posts[0].body.contains("wiki.home.test"), "\(run.out)")
            #expect(posts.allSatisfy { !$0.body.contains("photos") && !$0.body.contains("bad1") }, "\(posts.map(\.body))")
            return "skipped and named; wiki written, photos left alone"
        }
    }

    @Test("hostile-smtp-535") func refusedLogin() async throws {
        try await Scenario(
            id: "hostile-smtp-535", area: "hostile peer",
            fault: "the relay answers 535 to netagent's login while an alert fires; the password is fixed and the agent restarted",
            assertions: "the mail stays queued (never rejected), the relay problem is logged at the default level; delivered once the password is right"
        ).run {
            // Cloudflare refuses everything: a provider-failing alert fires.
            let server = try await ScriptedHTTPPeer([ScriptedHTTPPeer.Rule("*", "/", status: 403,
                body: #"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"result":null}"#)])
            defer { server.stop() }
            let relay = try await SMTPAuthRelay(password: "right-password", certificates: nil)
            let folder = try Repository.temporaryFolder("matrix-535")
            let port = try freeLoopbackPort()
            let config = try Self.config(folder, hosts: ["wiki.home.test"], url: server.url, extra: """
                \(AgentYAML.promptAlerting(smtp: "url: \"smtp://127.0.0.1:\(relay.port)\", from: netagent@home.test, to: [owner@home.test], starttls: none, username: netagent, passwordEnv: NETAGENT_MATRIX_SMTP"))
                server:
                  listen: 127.0.0.1:\(port)
                """)
            let binary = try #require(Netagent.binary, "the netagent binary is not built")
            let wrong = try ChildProcess(binary.path, ["run", "--config", config], environment: Self.environment)
            try await eventually("the relay refused the login", timeout: .seconds(90)) {
                wrong.output.contains("the SMTP relay refuses netagent")
            }
            wrong.spawned.kill(SIGTERM)
            try await eventually("exit", timeout: .seconds(20)) { wrong.spawned.exitStatusIfEnded() != nil }
            #expect(relay.mails.isEmpty)
            #expect(!wrong.output.contains("rejected by the relay"), "\(wrong.output.suffix(3000))")
            let right = try ChildProcess(binary.path, ["run", "--config", config],
                                         environment: Self.environment.merging(["NETAGENT_MATRIX_SMTP": "right-password"]) { $1 })
            try await eventually("the queued mail went out", timeout: .seconds(90)) { !relay.mails.isEmpty }
            right.spawned.kill(SIGTERM)
            try await eventually("exit", timeout: .seconds(20)) { right.spawned.exitStatusIfEnded() != nil }
            let firing = relay.mails.filter { String(decoding: $0, as: UTF8.self).contains("FIRING") }
            #expect(firing.count == 1, "\(relay.mails.count) mails")
            return "kept queued through the 535s, delivered once after the fix (\(relay.mails.count) mail(s))"
        }
    }

    @Test("hostile-status-idle-flood") func idleConnectionFlood() async throws {
        try await Scenario(
            id: "hostile-status-idle-flood", area: "hostile peer",
            fault: "1,500 idle TCP connections to the status server (more than a 1,024-descriptor limit would hold)",
            assertions: "/healthz answers throughout; a reconcile still reads and writes (a new route's record is created); the state file works"
        ).run {
            let server = try await ScriptedHTTPPeer(CF.rules(records: CF.envelope(result: "[]"), batch: Self.created))
            defer { server.stop() }
            let folder = try Repository.temporaryFolder("matrix-flood")
            let port = try freeLoopbackPort()
            // Manifests are read anew at every reconcile; a short resync makes one while the flood holds.
            let config = try Self.config(folder, hosts: [], url: server.url, resync: "1s", extra: "server:\n  listen: 127.0.0.1:\(port)")
            let binary = try #require(Netagent.binary, "the netagent binary is not built")
            let agent = try ChildProcess(binary.path, ["run", "--config", config], environment: Self.environment)
            defer { agent.spawned.kill(SIGKILL) }
            try await waitForTCP(port: port)
            // The test's own soft descriptor limit raised to its hard one, so the flood can outnumber the agent's.
            var limit = rlimit()
            if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                limit.rlim_cur = limit.rlim_max
                _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            }
            var flood: [Int32] = []
            defer { flood.forEach { close($0) } }
            for _ in 0..<1500 {
                let fd = idleConnection(to: port)
                guard fd >= 0 else { break }  // the test's own descriptors ran out
                flood.append(fd)
            }
            var healthy = 0
            for _ in 0..<5 {
                let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/healthz", timeout: .seconds(5)))
                if response.status == 200 { healthy += 1 }
            }
            #expect(healthy == 5)
            // A route appears while the flood holds: the reconcile reads Cloudflare and writes.
            let routes = folder.appendingPathComponent("routes.yaml")
            try [GatewayFixtures.gatewayYAML, GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"])]
                .joined(separator: "\n---\n").write(to: routes, atomically: true, encoding: .utf8)
            try await eventually("the new route's record was written", timeout: .seconds(60)) {
                server.requests().contains { $0.method == "POST" && $0.body.contains("wiki.home.test") }
            }
            #expect(!agent.output.contains("SQLite error"), "\(agent.output.suffix(3000))")
            return "\(flood.count) idle connections; /healthz \(healthy)/5; the route's record written"
        }
    }
}
