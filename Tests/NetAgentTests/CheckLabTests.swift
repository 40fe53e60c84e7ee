import Alerts
import Config
import DNSCore
import Foundation
import Glibc
import Kube
import Lab
import NetAgent
@testable import NetIO
import Probes
import State
import TestSupport
import Testing

/// `netagent check` against the Lab's Pi-hole (with its real dnsmasq), manifests on disk and a
/// real SMTP relay (aiosmtpd): records in sync exit 0, a record that differs names both values
/// and exits 1, the relay is greeted but sent nothing, every JSON output has the documented
/// shape, and a bad configuration exits 2 naming file, line and key.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct CheckLabTests {
    static let password = "pihole-lab-password"
    static var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["NETAGENT_TEST_PIHOLE_PASSWORD": password, "NO_COLOR": "1"]) { $1 }
    }

    static func manifests(address: String) -> String {
        [GatewayFixtures.gatewayYAML.replacingOccurrences(of: "198.18.0.50", with: address),
         GatewayFixtures.routeYAML("grafana", namespace: "monitoring", hosts: ["grafana.home.test"]),
         GatewayFixtures.routeYAML("wiki", namespace: "docs", hosts: ["wiki.home.test"])].joined(separator: "\n---\n")
    }

    static func config(folder: URL, piholeURL: String, dnsPort: Int, relay: String) -> String {
        """
        cluster:
          name: lab
          network: 198.18.0.0/24
          nodes:
            - { name: n1, address: 198.18.0.21 }
        sources:
          manifests: [\(folder.appendingPathComponent("routes.yaml").path)]
        providers:
          - name: pihole
            type: pihole
            url: \(piholeURL)
            passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
            select: { domainFilters: [home.test] }
        probes:
          dns:
            servers: [{ name: pihole, address: 127.0.0.1, port: \(dnsPort) }]
            question: envoy-internal.home.test
          dnsRecords: { timeout: 2s }
        alerting:
          smtp: { url: "\(relay)", from: netagent@home.test, to: [owner@home.test], starttls: none }
        state:
          path: \(folder.appendingPathComponent("state.sqlite").path)
        """
    }

    /// Runs `netagent check ARGS --output json`, checks the output's shape, and returns it decoded.
    static func check(_ arguments: [String]) async throws -> (status: Int32, checks: [[String: Any]], stderr: String) {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let run = try await Netagent.run(binary, ["check"] + arguments + ["--output", "json"], environment: environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                                  "exit \(run.status): \(run.stdout) \(run.stderr)")
        let problems = JSONShape.problems(object, schema: try JSONShape.schema("docs/check.schema.json"))
        #expect(problems.isEmpty, "\(problems)")
        #expect(object["ok"] as? Bool == (run.status == 0))
        return (run.status, object["checks"] as? [[String: Any]] ?? [], run.stderr)
    }

    @Test func recordsInSyncThenAPiholeRecordThatDiffers() async throws {
        let folder = try Repository.temporaryFolder("check-lab")
        let routes = folder.appendingPathComponent("routes.yaml")
        try Self.manifests(address: "198.18.0.50").write(to: routes, atomically: true, encoding: .utf8)
        var options = PiholeSimulator.Options(password: Self.password)
        options.hosts = ["198.18.0.50 envoy-internal.home.test"]
        let pihole = try PiholeSimulator(options)
        let relay = try await SMTPSink()
        defer { relay.child.stop() }
        try await pihole.withRunning { url in
            let file = folder.appendingPathComponent("netagent.yaml")
            try Self.config(folder: folder, piholeURL: url, dnsPort: pihole.dnsPort, relay: relay.url)
                .write(to: file, atomically: true, encoding: .utf8)

            // Reconcile once through the library, as `run` would, so the Pi-hole holds the plan.
            let config = try NetAgentConfig.load(file: file.path)
            let secrets = try config.resolveSecrets(environment: Self.environment)
            var objects = SourceObjects()
            objects.add(ManifestLoader.load(paths: config.sources.manifests))
            let state = try StateStore(path: config.state.path)
            for target in DNSTarget.all(config: config, secrets: secrets, state: state) {
                let desired = try objects.desired(select: target.config.select, annotationPrefixes: config.sources.annotationPrefixes)
                _ = try await target.planning.reconcile(desired: desired.endpoints, registry: target.registry)
                await target.close()
            }
            let stateBefore = try Data(contentsOf: URL(fileURLWithPath: config.state.path))
            let hostsBefore = await pihole.hosts()
            let callsBefore = await pihole.counters()

            // 1. In sync: exit 0, the plan and the DNS answers agree, the relay answers, nothing is sent.
            let good = try await Self.check(["--config", file.path])
            #expect(good.status == 0, "\(good.checks) \(good.stderr)")
            let plan = try #require(good.checks.first { $0["kind"] as? String == "records" && ($0["target"] as? String)?.hasPrefix("pihole http") == true })
            #expect((plan["reason"] as? String)?.hasPrefix("in sync (2 desired records)") == true, "\(plan)")
            let answered = try #require(good.checks.first { ($0["target"] as? String)?.hasPrefix("pihole @pihole") == true })
            #expect(answered["reason"] as? String == "2 of 2 desired names answer as planned")
            let greeted = try #require(good.checks.first { ($0["target"] as? String)?.hasPrefix("relay ") == true })
            #expect(greeted["ok"] as? Bool == true, "\(greeted)")
            #expect(relay.messages().isEmpty, "check greets the relay, it never sends")
            #expect(good.checks.contains { $0["kind"] as? String == "dns" && $0["ok"] as? Bool == true })
            #expect(good.checks.contains { $0["target"] as? String == "outbox" && $0["reason"] as? String == "every alert mail delivered" })

            // 2. The routes now ask for another address: the plan and Pi-hole's dnsmasq both say so.
            try Self.manifests(address: "198.18.0.10").write(to: routes, atomically: true, encoding: .utf8)
            let bad = try await Self.check(["--config", file.path, "--only", "records"])
            #expect(bad.status == 1)
            #expect(Set(bad.checks.compactMap { $0["kind"] as? String }) == ["records"])
            let reasons = bad.checks.compactMap { $0["reason"] as? String }
            #expect(reasons.contains("grafana.home.test: Pi-hole answers 198.18.0.50, plan says 198.18.0.10"), "\(reasons)")
            let pending = try #require(bad.checks.first { ($0["target"] as? String)?.hasPrefix("pihole http") == true })
            #expect((pending["reason"] as? String)?.hasPrefix(
                "2 changes pending: grafana.home.test A: Pi-hole has 198.18.0.50, plan says 198.18.0.10; wiki.home.test A: Pi-hole has") == true,
                "\(pending)")
            #expect((pending["facts"] as? [String: String])?["updates"] == "2")
            // Read-only: the Pi-hole's records are as they were, and no write call was made.
            #expect(await pihole.hosts() == hostsBefore)
            #expect(try Data(contentsOf: URL(fileURLWithPath: config.state.path)) == stateBefore, "the state file is only read")
            let calls = await pihole.counters().since(callsBefore)
            #expect(calls.restarts == 0)
            #expect(await pihole.activeSessions() == 0)

            // 3. The relay gone: the alerts area fails and says the relay cannot be greeted.
            relay.child.stop()
            let noRelay = try await Self.check(["--config", file.path, "--only", "alerts"])
            #expect(noRelay.status == 1)
            let down = try #require(noRelay.checks.first { ($0["target"] as? String)?.hasPrefix("relay ") == true })
            #expect((down["reason"] as? String)?.contains("cannot be greeted") == true, "\(down)")
        }
    }

    @Test func watchRedrawsUntilInterruptedAndExitsWithTheLastRound() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let relay = try await SMTPSink()
        defer { relay.child.stop() }
        let folder = try Repository.temporaryFolder("check-watch")
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster:
              name: lab
              network: 198.18.0.0/24
              nodes: [{ name: n1, address: 198.18.0.21 }]
            alerting:
              smtp: { url: "\(relay.url)", from: netagent@home.test, to: [owner@home.test], starttls: none }
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            """.write(to: file, atomically: true, encoding: .utf8)
        let watch = try Spawned.start(binary.path, ["check", "--config", file.path, "--watch", "--interval", "200ms"],
                                      environment: Self.environment, separateStderr: true)
        defer {
            watch.kill()
            watch.removeFiles()
        }
        let header = "netagent check \(file.path) — "
        try await eventually("two rounds printed") { watch.output.components(separatedBy: header).count > 2 }
        watch.kill(SIGINT)
        var status: Int32?
        try await eventually("the watch ends on SIGINT") {
            status = watch.exitStatusIfEnded()
            return status != nil
        }
        #expect(status == 0, "\(watch.output) \(watch.errorOutput)")
        #expect(watch.output.hasSuffix("all 2 checks ok\n"), "\(watch.output)")
        #expect(relay.messages().isEmpty)
    }

    @Test func undeliveredMailAndFiringAlertsFromTheStateFile() async throws {
        // A relay that is gone: its port refuses connections (held, so no other test's server takes it).
        let gone = try BoundSocket(tcp: true)
        defer { withExtendedLifetime(gone) {} }
        let relayURL = "smtp://127.0.0.1:\(gone.port)"
        let folder = try Repository.temporaryFolder("check-outbox")
        let statePath = folder.appendingPathComponent("state.sqlite").path
        // The running agent's alert service saw k8s-6 down long enough to fire, and could not mail.
        let policy = AlertPolicy(cluster: "lab", from: "netagent@home.test", to: ["owner@home.test"], forDuration: 60, groupWait: 0)
        let service = try await AlertService(policy: policy, store: try StateStore(path: statePath),
                                             mailer: AlertMailer(relay: SMTPRelay(url: relayURL, startTLS: .none, timeout: .seconds(5))))
        let ports = [50000, 10250].map { PortOutcome(port: $0, TCPConnectResult(outcome: .timeout, latency: .seconds(2), errorNumber: 0, message: "")) }
        let facts = NodeFacts(address: IPAddress("198.18.0.26")!, role: .worker, ports: ports,
                              echo: .measured(PingResult(sent: 3, received: 0, roundTrips: [], socketKind: .unprivileged)))
        let down = ProbeResult(kind: .nodes, target: "k8s-6", status: .failed, fault: .timeout, phase: "connect",
                               reason: "node does not answer", observed: .node(facts))
        let start = Date().addingTimeInterval(-600)
        await service.observe([down], at: start)
        _ = try await service.step(now: start)
        await service.observe([down], at: start.addingTimeInterval(120))
        let step = try await service.step(now: start.addingTimeInterval(120))
        #expect(step.queued.count == 1)
        #expect(try await service.outbox.entries(.pending).count == 1)

        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster:
              name: lab
              network: 198.18.0.0/24
              nodes: [{ name: k8s-6, address: 198.18.0.26 }]
            alerting:
              smtp: { url: "\(relayURL)", from: netagent@home.test, to: [owner@home.test], starttls: none }
            state:
              path: \(statePath)
            """.write(to: file, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: statePath))
        let result = try await Self.check(["--config", file.path])
        #expect(result.status == 1)
        let outbox = try #require(result.checks.first { $0["target"] as? String == "outbox" })
        #expect((outbox["reason"] as? String)?.hasPrefix("1 alert mail(s) undelivered, 1 waiting to be retried, oldest from ") == true, "\(outbox)")
        #expect((outbox["facts"] as? [String: String])?["pending"] == "1")
        let open = try #require(result.checks.first { $0["target"] as? String == "open alerts" })
        #expect((open["reason"] as? String)?.hasPrefix("1 firing: node-down k8s-6 (since ") == true, "\(open)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: statePath)) == before, "the state file is only read")
        #expect(try await service.outbox.entries(.pending).count == 1, "check sends nothing from the outbox")
    }

    /// On a terminal (script(1) gives one): colours and a progress line; NO_COLOR turns colours off.
    @Test func coloursAndProgressOnlyOnATerminal() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let relay = try await SMTPSink()
        defer { relay.child.stop() }
        let folder = try Repository.temporaryFolder("check-tty")
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster:
              name: lab
              network: 198.18.0.0/24
              nodes: [{ name: n1, address: 198.18.0.21 }]
            alerting:
              smtp: { url: "\(relay.url)", from: netagent@home.test, to: [owner@home.test], starttls: none }
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            """.write(to: file, atomically: true, encoding: .utf8)
        func onTerminal(noColour: Bool) async throws -> (Int32, String) {
            var environment = ProcessInfo.processInfo.environment
            environment["NO_COLOR"] = noColour ? "1" : nil
            environment["TERM"] = "xterm"
            let spawned = try Spawned.start("/usr/bin/script", ["-qec", "\(binary.path) check --config \(file.path)", "/dev/null"],
                                            environment: environment)
            defer { spawned.removeFiles() }
            var status: Int32?
            try await eventually("check on a terminal ends") {
                status = spawned.exitStatusIfEnded()
                return status != nil
            }
            return (status ?? -1, spawned.output)
        }
        let (status, coloured) = try await onTerminal(noColour: false)
        #expect(status == 0, "\(coloured)")
        #expect(coloured.contains("\u{1B}[32mok  \u{1B}[0m"), "\(coloured)")
        #expect(coloured.contains("checking 0/1 done; waiting for alerts…"), "the progress line: \(coloured)")
        let (plainStatus, plain) = try await onTerminal(noColour: true)
        #expect(plainStatus == 0)
        #expect(!plain.contains("\u{1B}[32m") && !plain.contains("\u{1B}[1m"), "NO_COLOR: \(plain)")
        #expect(plain.contains("  ok    relay smtp://127.0.0.1:"), "\(plain)")
    }

    /// A cloudflared whose /ready answers 503, and a DNS server whose port is closed.
    @Test func tunnelNotReadyAndADNSServerThatIsNotThere() async throws {
        let cloudflared = try await HTTPTestServer()
        defer { cloudflared.child.stop() }
        let closed = try LoopbackPort.free(udp: true)
        let folder = try Repository.temporaryFolder("check-tunnel")
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster:
              name: lab
              network: 198.18.0.0/24
              nodes: [{ name: n1, address: 198.18.0.21 }]
            probes:
              dns:
                servers: [{ name: pihole, address: 127.0.0.1, port: \(closed) }]
              tunnel:
                readyURL: \(cloudflared.url("/status/503"))
                tunnelID: "11111111-2222-3333-4444-555555555555"
            """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await Self.check(["--config", file.path])
        #expect(result.status == 1)
        let reasons = Dictionary(result.checks.map { ($0["kind"] as? String ?? "", $0["reason"] as? String ?? "") }) { first, _ in first }
        #expect(reasons["tunnel"] == "cloudflared \(cloudflared.url("/status/503")): HTTP 503 without readyConnections — "
            + "cloudflared cannot reach Cloudflare's edge (egress to port 7844, credentials?)", "\(reasons)")
        #expect(reasons["dns"] == "pihole (127.0.0.1:\(closed)): port closed — the DNS service is not running (dnsmasq/FTL crashed?)",
                "\(reasons)")
    }

    @Test func badConfigurationAndBadFlagsExitTwo() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("check-bad")
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster:
              name: lab
              network: 198.18.0.0/24
              nodes:
                - { name: n1, address: 198.18.0.21 }
            probes:
              nodes: { tcpPorts: [70000] }
            """.write(to: file, atomically: true, encoding: .utf8)
        let bad = try await Netagent.run(binary, ["check", "--config", file.path], environment: Self.environment)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("\(file.path):7: probes.nodes.tcpPorts[0]"), "\(bad.stderr)")
        #expect(bad.stdout.isEmpty)

        let unknownKind = try await Netagent.run(binary, ["check", "--config", file.path, "--only", "nodes,dhcp"])
        #expect(unknownKind.status == 2)
        #expect(unknownKind.stderr.contains("unknown kind 'dhcp'"), "\(unknownKind.stderr)")
        let unknownFlag = try await Netagent.run(binary, ["check", "--config", file.path, "--frobnicate"])
        #expect(unknownFlag.status == 2, "\(unknownFlag.stderr)")
        let missingConfig = try await Netagent.run(binary, ["check"])
        #expect(missingConfig.status == 2, "\(missingConfig.stderr)")
        // A valid file that sets up none of the areas asked for: nothing to check.
        let valid = folder.appendingPathComponent("valid.yaml")
        try "cluster: { name: lab, network: 198.18.0.0/24, nodes: [{ name: n1, address: 198.18.0.21 }] }\n"
            .write(to: valid, atomically: true, encoding: .utf8)
        let nothing = try await Netagent.run(binary, ["check", "--config", valid.path, "--only", "vip,tunnel"])
        #expect(nothing.status == 2)
        #expect(nothing.stderr.contains("nothing to check: not configured: vip (probes.vip with cluster.vip), tunnel (probes.tunnel)"),
                "\(nothing.stderr)")
        // Other commands keep ArgumentParser's 64 for usage errors.
        #expect(try await Netagent.run(binary, ["probe", "dhcp"]).status == 64)
    }
}

/// The shape checker the `check` tests rely on refuses what the schema does not allow.
struct CheckSchemaTests {
    @Test func theSchemaRefusesOutputOfAnotherShape() throws {
        let schema = try JSONShape.schema("docs/check.schema.json")
        let good: [String: Any] = ["ok": false, "checks": [
            ["kind": "nodes", "target": "w3", "ok": false, "reason": "w3: down", "latencyMs": 12.5, "facts": ["fault": "timeout"]] as [String: Any],
            ["kind": "alerts", "target": "outbox", "ok": true, "reason": "every alert mail delivered", "latencyMs": NSNull(), "facts": [:] as [String: String]],
        ]]
        #expect(JSONShape.problems(try Self.roundTrip(good), schema: schema).isEmpty)
        let bad: [String: Any] = ["ok": 1, "extra": true, "checks": [
            ["kind": "dhcp", "target": "", "ok": "yes", "reason": "x", "facts": ["mtu": 1400]] as [String: Any],
        ]]
        let problems = JSONShape.problems(try Self.roundTrip(bad), schema: schema)
        #expect(Set(problems) == [
            "$: unexpected key 'extra'", "$.ok: expected boolean, found number", "$.checks[0]: missing 'latencyMs'",
            "$.checks[0].kind: dhcp is not one of [\"records\", \"dns\", \"nodes\", \"mtu\", \"vip\", \"tunnel\", \"alerts\"]",
            "$.checks[0].target: shorter than 1", "$.checks[0].ok: expected boolean, found string",
            "$.checks[0].facts.mtu: expected string, found number",
        ], "\(problems)")
    }

    /// Through JSON text and back, as the tests read `check`'s output.
    static func roundTrip(_ object: [String: Any]) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONSerialization.data(withJSONObject: object))
    }
}
