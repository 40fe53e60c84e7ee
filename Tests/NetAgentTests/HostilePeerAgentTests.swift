import Foundation
import Glibc
import NetIO
import Testing
import TestSupport

/// `netagent` (the built binary) against hostile peers on loopback (issue 20): what `run --once`
/// says when a Cloudflare bends its envelope, and that a peer echoing the request's headers, or
/// a URL carrying a token in its query, puts no secret in any output.
@Suite struct HostilePeerAgentTests {
    typealias CF = HostileCloudflare
    static let token = "cf-echo-canary-Hq2Vn8Tz4"
    static let urlToken = "url-canary-Pw6Xe1Rk9"
    static let environment = ProcessInfo.processInfo.environment.merging(["NETAGENT_HOSTILE_TOKEN": token]) { $1 }

    static func ownership(_ id: String, _ name: String, resource: String) -> String {
        CF.record(id, "a-\(name)", "TXT", #"\"heritage=external-dns,external-dns/owner=default,external-dns/resource=\#(resource)\""#)
    }

    static func config(folder: URL, hosts: [String], cloudflareURL: String, extra: String = "") throws -> String {
        try CF.agentConfig(folder: folder, hosts: hosts, url: cloudflareURL, tokenEnv: "NETAGENT_HOSTILE_TOKEN", extra: extra)
    }

    @Test("run --once names each failed record with its cause, each withheld delete with the guard's reason, each skipped record")
    func runOnceSaysWhatHappened() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        // Owned: a and b (the routes are gone, so the guard holds both deletes back); wiki cannot be
        // read; new is wanted, and its batch is answered success:false inside HTTP 200.
        let listing = CF.envelope(result: "[" + [
            CF.record("r1", "a.home.test", "A", "198.18.0.1"), Self.ownership("t1", "a.home.test", resource: "httproute/docs/a"),
            CF.record("r2", "b.home.test", "A", "198.18.0.2"), Self.ownership("t2", "b.home.test", resource: "httproute/docs/b"),
            #"{"id":"bad1","name":"wiki.home.test","type":"A","content":null,"ttl":1}"#,
        ].joined(separator: ",") + "]")
        let batch = CF.envelope(success: false, errors: #"[{"code":1004,"message":"DNS Validation Error"}]"#, result: "null")
        let server = try await ScriptedHTTPPeer(CF.rules(records: listing, batch: batch))
        defer { server.stop() }
        let folder = try Repository.temporaryFolder("hostile-once")
        let config = try Self.config(folder: folder, hosts: ["wiki.home.test", "new.home.test"], cloudflareURL: server.url)
        let run = try await Netagent.run(binary, ["run", "--once", "--config", config], environment: Self.environment)
        let out = run.stdout
        #expect(run.status != 0, "\(out)")
        let instance = "cloudflare zone home.test"
        #expect(out.contains("FAIL    \(instance): create new.home.test A:") && out.contains("1004"), "\(out)")
        #expect(out.contains("HELD    \(instance): delete a.home.test A withheld:"), "\(out)")
        #expect(out.contains("HELD    \(instance): delete b.home.test A withheld:"), "\(out)")
        #expect(out.contains("WARN    \(instance): skipped: record wiki.home.test A id bad1 could not be read (content is null)"), "\(out)")
        // Nothing was counted as done, and nothing was sent about the unreadable record or the held deletes.
        #expect(!out.contains("1 created"), "\(out)")
        let bodies = server.requests().filter { $0.method == "POST" }.map(\.body)
        #expect(bodies.allSatisfy { !$0.contains("wiki") && !$0.contains("\"deletes\":[{") }, "\(bodies)")
    }

    @Test("run --once gives a Cloudflare that never answers up after reconcile.onceTimeout, and says so")
    func runOnceBoundsAHangingPeer() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        // Connections are taken into the backlog and never answered: every request of the client
        // would wait out its own timeout (30 s) and retries without the run's budget.
        let hanging = try BoundSocket.hanging()
        let folder = try Repository.temporaryFolder("hostile-hang")
        let config = try Self.config(folder: folder, hosts: ["wiki.home.test"], cloudflareURL: "http://127.0.0.1:\(hanging.port)")
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "reconcile: { debounce: 50ms,", with: "reconcile: { onceTimeout: 2s, debounce: 50ms,")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Netagent.run(binary, ["run", "--once", "--config", config], environment: Self.environment)
        #expect(run.status != 0, "\(run.stdout)")
        #expect(run.stdout.contains("gave up after 2s (reconcile.onceTimeout)"), "\(run.stdout)\n\(run.stderr)")
    }

    /// Each planted secret as it could appear in an output: as is and base64.
    static func leaks(in outputs: [(name: String, text: String)]) -> [String] {
        let secrets = [token, urlToken]
        let forms = secrets + secrets.map { Data($0.utf8).base64EncodedString() }
        return outputs.flatMap { output in forms.filter { output.text.contains($0) }.map { "\(output.name) holds \($0)" } }
    }

    @Test("a peer echoing request headers, and a token in a URL's query, reach no log, page, outbox or mail")
    func echoedSecretsReachNoOutput() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        // Every Cloudflare call refused with the request's headers (Authorization: Bearer …) echoed back.
        let server = try await ScriptedHTTPPeer([
            ScriptedHTTPPeer.Rule("*", "/", status: 403, body: #"{"success":false,"errors":[{"code":10000,"message":"denied; you sent {{headers_json}}"}],"result":null}"#),
        ])
        defer { server.stop() }
        let relay = try await SMTPSink()
        let folder = try Repository.temporaryFolder("hostile-echo")
        let port = try freeLoopbackPort()
        let closed = try BoundSocket(tcp: true)
        let extra = """
              - name: pihole
                type: pihole
                urls: ["http://127.0.0.1:\(closed.port)/admin?token=\(Self.urlToken)"]
                select: { domainFilters: [home.test] }
            \(AgentYAML.promptAlerting(smtp: "url: \"\(relay.url)\", from: netagent@home.test, to: [owner@home.test], starttls: none"))
            server:
              listen: 127.0.0.1:\(port)
            """
        let config = try Self.config(folder: folder, hosts: ["wiki.home.test"], cloudflareURL: "\(server.url)/client/v4?key=\(Self.urlToken)",
                                     extra: extra)
        let agent = try ChildProcess(binary.path, ["run", "--config", config, "--log-level", "trace"], environment: Self.environment)
        try await waitForTCP(port: port)
        try await eventually("the failures were mailed", timeout: .seconds(90)) { !relay.messages().isEmpty }
        var outputs: [(name: String, text: String)] = []
        for page in ["/metrics", "/readyz", "/status", "/healthz"] {
            let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)\(page)", timeout: .seconds(5)))
            outputs.append((page, String(decoding: response.body, as: UTF8.self)))
        }
        agent.spawned.kill(SIGTERM)
        try await eventually("exit after SIGTERM", timeout: .seconds(10)) { agent.spawned.exitStatusIfEnded() != nil }
        let log = agent.output
        outputs.append(("the log", log))
        // Quoted-printable soft line breaks undone, so a secret split across lines is still found.
        outputs += relay.messages().map { ("a mail", $0.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=\n", with: "")) }
        let state = folder.appendingPathComponent("state.sqlite").path
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: state + suffix) {
            outputs.append(("the state file\(suffix)", String(decoding: try Data(contentsOf: URL(fileURLWithPath: state + suffix)), as: UTF8.self)))
        }
        #expect(Self.leaks(in: outputs).isEmpty, "\(Self.leaks(in: outputs))")
        // The errors are there to read, only without the secrets.
        #expect(log.contains("10000") && log.contains("REDACTED"), "\(log.suffix(3000))")
        #expect(outputs.first { $0.name == "/readyz" }?.text.contains("REDACTED") == true)
        withExtendedLifetime(closed) {}
    }
}
