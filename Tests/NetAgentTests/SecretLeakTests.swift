import Foundation
import Glibc
import Lab
import NetIO
import Testing
import TestSupport

/// Known secret values handed to `netagent` through the environment variables its configuration
/// names, then looked for in everything it writes: the logs of `run` (text and JSON, at trace
/// level), the status server's pages, the state file, the mail it sends, and what `plan --config`
/// prints, with the Lab's Cloudflare and Pi-hole and an SMTP relay that demands STARTTLS and AUTH,
/// once accepting every secret and once refusing each (Pi-hole 401, Cloudflare 403, SMTP 535).
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct SecretLeakTests {
    /// The status server's pages read while the agent runs: a new page is one line here.
    static let pages = ["/metrics", "/healthz", "/readyz", "/status"]

    static let secrets = [
        "cloudflare token": "cf-canary-Tk7Q2mW9xZ4vB8nR",
        "pihole password": "ph-canary-Lp3Hs8Jd1Fq6Wy0Ue",
        "smtp password": "smtp-canary-Gv5Nc2Xr7Ka9Mt4Zb",
    ]
    static let smtpUser = "netagent"
    static let environment = ProcessInfo.processInfo.environment.merging([
        "NETAGENT_CANARY_CLOUDFLARE": secrets["cloudflare token"]!,
        "NETAGENT_CANARY_PIHOLE": secrets["pihole password"]!,
        "NETAGENT_CANARY_SMTP": secrets["smtp password"]!,
    ]) { $1 }

    /// Each secret as it could appear: itself, base64 (a Basic header), and SMTP AUTH PLAIN's
    /// base64 of `\0user\0password`.
    static let forms: [(what: String, bytes: Data)] = secrets.sorted { $0.key < $1.key }.flatMap { name, value in
        [(name, Data(value.utf8)),
         ("\(name) (base64)", Data(Data(value.utf8).base64EncodedString().utf8)),
         ("\(name) (AUTH PLAIN)", Data(Data("\0\(smtpUser)\0\(value)".utf8).base64EncodedString().utf8))]
    }

    /// One thing the agent wrote, by name.
    struct Output {
        let name: String
        let bytes: Data
        init(_ name: String, _ bytes: Data) { self.name = name; self.bytes = bytes }
        init(_ name: String, _ text: String) { self.init(name, Data(text.utf8)) }
    }

    /// Records an issue for each output holding a form of a secret, or one of `also` (secrets
    /// handed out during the run, such as Pi-hole session ids).
    static func expectNoSecrets(_ outputs: [Output], also: [(what: String, value: String)] = [],
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let all = forms + also.map { ($0.what, Data($0.value.utf8)) }
        for output in outputs {
            for form in all where output.bytes.range(of: form.bytes) != nil {
                Issue.record("\(output.name) contains the \(form.what)", sourceLocation: sourceLocation)
            }
        }
    }

    /// The relay of Tests/Fixtures/smtp_auth_relay.py (TestSupport).
    typealias AuthRelay = SMTPAuthRelay

    /// Two providers on the Lab (the same route for both), alert mail through `relay` with
    /// STARTTLS required and AUTH, and a DNS probe of a closed port so that an alert fires.
    static func writeConfig(folder: URL, cloudflareURL: String, piholeURL: String, relay: AuthRelay,
                            certificates: TestCertificates, httpPort: Int) throws -> String {
        let routes = folder.appendingPathComponent("routes.yaml")
        try [GatewayFixtures.gatewayYAML, GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"])]
            .joined(separator: "\n---\n").write(to: routes, atomically: true, encoding: .utf8)
        let closed = try freeLoopbackPort(type: Int32(SOCK_DGRAM.rawValue))
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            \(AgentYAML.loopbackCluster)
            sources:
              manifests: [\(routes.path)]
            providers:
              - name: cloudflare
                type: cloudflare
                apiURL: \(cloudflareURL)
                apiTokenEnv: NETAGENT_CANARY_CLOUDFLARE
                zones: [home.test]
              - name: pihole
                type: pihole
                urls: [\(piholeURL)]
                passwordEnv: NETAGENT_CANARY_PIHOLE
                select: { domainFilters: [home.test] }
            reconcile: { debounce: 50ms, resync: 1h }
            probes:
              interval: 1s
              timeout: 500ms
              dns:
                servers: [{ name: closed, address: 127.0.0.1, port: \(closed) }]
                question: wiki.home.test
            alerting:
              smtp:
                url: smtp://127.0.0.1:\(relay.port)
                from: netagent@home.test
                to: [owner@home.test]
                starttls: required
                caFile: \(certificates.caCertificate)
                username: \(smtpUser)
                passwordEnv: NETAGENT_CANARY_SMTP
              for: 0s
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            server:
              listen: 127.0.0.1:\(httpPort)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Runs the agent with `format` logs until `done`, reads every page, stops it with SIGTERM,
    /// and returns its log, the pages, and the state file's bytes (with any WAL and journal).
    static func runAgent(config: String, folder: URL, httpPort: Int, format: String,
                         until done: () async throws -> Bool) async throws -> [Output] {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let agent = try ChildProcess(binary.path, ["run", "--config", config, "--log-level", "trace", "--log-format", format],
                                     environment: environment)
        try await waitForTCP(port: httpPort)
        do {
            try await eventually("the scenario played out", timeout: .seconds(90)) { try await done() }
        } catch {
            let metrics = try? await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(httpPort)/metrics", timeout: .seconds(5)))
            let lines = String(decoding: metrics?.body ?? Data(), as: UTF8.self).split(separator: "\n").filter { $0.contains("probe_success") || $0.contains("alert") }
            throw TestSupportError("\(error); the agent's log ends:\n\(agent.output.suffix(4000))\nmetrics:\n\(lines.joined(separator: "\n"))")
        }
        var outputs: [Output] = []
        for page in pages {
            let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(httpPort)\(page)", timeout: .seconds(5)))
            outputs.append(Output("\(page) (\(format) run)", response.body))
        }
        agent.spawned.kill(SIGTERM)
        try await eventually("exit after SIGTERM", timeout: .seconds(10)) { agent.spawned.exitStatusIfEnded() != nil }
        outputs.append(Output("the \(format) log of run", agent.output))
        let state = folder.appendingPathComponent("state.sqlite").path
        for suffix in ["", "-wal", "-journal"] where FileManager.default.fileExists(atPath: state + suffix) {
            outputs.append(Output("the state file\(suffix) (\(format) run)", try Data(contentsOf: URL(fileURLWithPath: state + suffix))))
        }
        try? FileManager.default.removeItem(atPath: state)
        for suffix in ["-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: state + suffix) }
        return outputs
    }

    static func plan(_ config: String) async throws -> Output {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let run = try await Netagent.run(binary, ["plan", "--config", config], environment: environment)
        return Output("plan --config (exit \(run.status))", run.stdout + run.stderr)
    }

    /// One scenario with one log format: its own simulators, relay and agent, so the text and
    /// JSON runs go side by side (each waits out the alert engine's 30 s group wait).
    /// `accepted`: every secret is the right one; else each is refused.
    static func scenario(accepted: Bool, format: String) async throws
        -> (outputs: [Output], sessionIDs: [(what: String, value: String)], authLog: String, log: String) {
        let certificates = try TestCertificates.make()
        let relay = try await AuthRelay(password: accepted ? secrets["smtp password"]! : "the-relay-wants-another",
                                        certificates: certificates)
        // Refused: a known token without DNS:Edit, so reads work and the write is answered 403.
        let token = CloudflareSimulator.Token(secrets["cloudflare token"]!,
                                              permissions: accepted ? [.zoneRead, .dnsEdit] : [.zoneRead, .dnsRead])
        let cloudflare = CloudflareSimulator(.init(tokens: [token], zones: [SimulatedZone(name: "home.test")]))
        var options = PiholeSimulator.Options(password: accepted ? secrets["pihole password"]! : "the-pihole-wants-another")
        options.hosts = ["198.18.0.50 envoy-internal.home.test"]
        let pihole = try PiholeSimulator(options)
        let folder = try Repository.temporaryFolder("leak-\(accepted ? "ok" : "refused")-\(format)")
        var outputs: [Output] = []
        try await cloudflare.withRunning { cloudflareURL in
            try await pihole.withRunning { piholeURL in
                let port = try freeLoopbackPort()
                let config = try writeConfig(folder: folder, cloudflareURL: cloudflareURL, piholeURL: piholeURL,
                                             relay: relay, certificates: certificates, httpPort: port)
                outputs += try await runAgent(config: config, folder: folder, httpPort: port, format: format) {
                    let readyz = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/readyz"))
                    let requests = await cloudflare.requests()
                    if accepted {
                        let recorded = await pihole.hosts().contains("198.18.0.50 wiki.home.test")
                        return readyz.status == 200 && recorded && requests.contains { $0.isBatch && $0.status == 200 }
                            && !relay.mails.isEmpty
                    }
                    // Pi-hole's login failed (its error on /readyz), Cloudflare refused the write (an
                    // alert of its own: the reads worked), and the relay refused the login.
                    let piholeFailed = String(decoding: readyz.body, as: UTF8.self).contains("password incorrect")
                    return piholeFailed && requests.contains { $0.status == 403 } && relay.authLog.contains("refused")
                }
                outputs.append(try await plan(config))
            }
        }
        outputs += relay.mails.enumerated().map { Output("alert mail \($0.offset + 1) (\(format) run)", $0.element) }
        let log = outputs.first { $0.name.contains("log of run") }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
        if !accepted {
            #expect(relay.mails.isEmpty)
            #expect(await pihole.hosts() == ["198.18.0.50 envoy-internal.home.test"])
        }
        let sessionIDs = await pihole.issuedSessionIDs().map { (what: "Pi-hole session id", value: $0) }
        if accepted { #expect(!sessionIDs.isEmpty) }
        return (outputs, sessionIDs, relay.authLog, log)
    }

    @Test("every secret accepted: records written, alert mailed; no secret in logs, pages, state, mail or plan")
    func acceptedSecretsStayHidden() async throws {
        async let text = Self.scenario(accepted: true, format: "text")
        async let json = Self.scenario(accepted: true, format: "json")
        for run in [try await text, try await json] {
            #expect(run.authLog.contains("ok"), "\(run.authLog)")
            #expect(run.outputs.contains { $0.name.hasPrefix("alert mail") })
            #expect(run.outputs.count >= Self.pages.count + 4, "\(run.outputs.map(\.name))")
            Self.expectNoSecrets(run.outputs, also: run.sessionIDs)
        }
    }

    @Test("every secret refused (Pi-hole 401, Cloudflare 403, SMTP 535): the errors name no secret")
    func refusedSecretsStayHidden() async throws {
        async let text = Self.scenario(accepted: false, format: "text")
        async let json = Self.scenario(accepted: false, format: "json")
        for run in [try await text, try await json] {
            Self.expectNoSecrets(run.outputs, also: run.sessionIDs)
            // The errors are there to read, only without the secrets.
            #expect(run.log.contains("535") || run.log.lowercased().contains("login denied"),
                    "no SMTP refusal in the log:\n\(run.log.suffix(3000))")
            let plan = try #require(run.outputs.first { $0.name.hasPrefix("plan --config") })
            let planText = String(decoding: plan.bytes, as: UTF8.self)
            #expect(planText.contains("password incorrect"), "plan does not show the Pi-hole's refusal:\n\(planText)")
        }
    }

    @Test("the search finds each form of each secret: as is, base64, and inside AUTH PLAIN")
    func searchFindsEveryForm() {
        for (name, value) in Self.secrets {
            let forms = [value, Data(value.utf8).base64EncodedString(),
                         Data("\0\(Self.smtpUser)\0\(value)".utf8).base64EncodedString()]
            for form in forms {
                withKnownIssue("\(name) planted as \(form)") {
                    Self.expectNoSecrets([Output("a planted line", "before \(form) after")])
                }
            }
        }
    }

    @Test("helper programs (arping, ip) get a clean environment, not the agent's secrets")
    func helperProgramsGetNoSecrets() async throws {
        setenv("NETAGENT_CANARY_HELPER_ENV", "helper-canary-Qm4Rt7", 1)
        defer { unsetenv("NETAGENT_CANARY_HELPER_ENV") }
        let env = try #require(Repository.which("env"))
        let output = try await CommandRunner.run(env, [], timeout: .seconds(5))
        #expect(output.status == 0)
        #expect(output.output.contains("PATH="))
        #expect(!output.output.contains("helper-canary-Qm4Rt7"), "\(output.output)")
    }
}
