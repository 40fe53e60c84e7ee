import Alerts
import DNSCore
import Foundation
import NetAgent
import NetIO
import Probes
import Testing

/// Which rule each probe result and reconcile outcome raises, and how a mail is written.
struct SignalAndMessageTests {
    @Test(arguments: [
        (Fixture.nodeDown("k8s-6"), "node-down" as String?),
        (Fixture.nodePorts("k8s-6", failing: [10250]), "node-port"),
        (Fixture.nodePorts("k8s-1", failing: [6443]), "controlplane-port"),
        (Fixture.nodePorts("k8s-1", failing: [6443, 10250]), "node-port"),
        (Fixture.nodeOK("k8s-6"), nil),
        (Fixture.knownOffline("k8s-4"), nil),
        (Fixture.mtu("k8s-6"), "mtu"),
        (Fixture.mtu("k8s-6", fault: .mtuBlackHole), "mtu"),
        (Fixture.mtu("k8s-6", fault: .icmpUnavailable), "icmp-unavailable"),
        (Fixture.vip(up: false), "vip-down"),
        (Fixture.vip(up: true), nil),
        (ProbeResult.failure(.vip, "10.0.60.10:6443", .splitBrain, phase: "arp", "split brain"), "vip-holder"),
        (ProbeResult.failure(.vip, "10.0.60.10:6443", .tlsFailed, phase: "tls", "handshake failed"), "vip-tls"),
        (ProbeResult.failure(.nodes, "k8s-6", .packetLoss, phase: "icmp", "1 of 3 lost"), "node-packet-loss"),
        (ProbeResult.failure(.dnsServer, "pihole", .servfail, phase: "dns", "SERVFAIL"), "dns-server"),
        (ProbeResult.failure(.dnsRecords, "jellyfin.example.com A", .wrongTarget, phase: "dns", "wrong"), "dns-record"),
        (ProbeResult.failure(.tunnel, "ready", .tunnelNotReady, phase: "ready", "1 of 2"), "tunnel"),
        (ProbeResult.failure(.tunnel, "www.example.com", .cnameMismatch, phase: "cname", "not tunnel"), "tunnel-cname"),
    ] as [(ProbeResult, String?)])
    func probeRules(result: ProbeResult, rule: String?) {
        let signal = AlertSignals.signal(for: result)
        #expect(signal?.key.rule.rawValue == rule)
        if let signal {
            #expect(signal.key.target == result.target)
            // The mail says the cause `check` says (ProbeCauses), not the probe's bare reason.
            #expect(signal.summary == result.cause)
        }
    }

    @Test func theDriftedRecordAndVIPAreFacts() throws {
        let server = try DNSServer(address: "10.0.60.53")
        let facts = DNSRecordFacts(desired: ["10.0.60.10"], server: server, rcode: .noError, found: ["10.0.60.99", "10.0.60.10"])
        let record = try #require(AlertSignals.signal(for: .failure(.dnsRecords, "jellyfin.example.com A", .stale, phase: "dns",
                                                                    "stale", observed: .dnsRecord(facts))))
        #expect(record.facts["record"] == "jellyfin.example.com A")
        #expect(record.facts["found"] == "10.0.60.10, 10.0.60.99")
        #expect(record.facts["fault"] == "stale")
        #expect(AlertSignals.signal(for: Fixture.nodeDown("k8s-6"))?.node == "k8s-6")
    }

    @Test func reconcileOutcomes() throws {
        let name = try DNSName("jellyfin.example.com")
        let desired = Endpoint(name: name, type: .a, targets: ["10.0.60.80"], labels: EndpointLabels(resource: "httproute/media/jellyfin"))
        let loser = Endpoint(name: name, type: .a, targets: ["10.0.60.81"], labels: EndpointLabels(resource: "httproute/media/other"))
        let plan = Plan(conflicts: [Plan.Conflict(key: desired.key, winner: desired, loser: loser, reason: .preferredTargets)],
                        guardReason: .desiredEmpty(owned: 12), withheldDeletes: [desired])
        let report = ApplyReport(failures: [ApplyFailure(operation: .create, key: desired.key, message: "403 forbidden")])
        let signals = AlertSignals.signals(for: .init(provider: "cloudflare", plan: plan, report: report))
        #expect(signals.map(\.key.rule) == [.deleteGuard, .dnsConflict, .dnsApply])
        #expect(signals[0].summary.contains("no desired records while 12 owned records exist"))
        #expect(signals[1].summary.contains("httproute/media/other"))
        #expect(signals[2].summary.contains("403 forbidden"))
        let failed = AlertSignals.signals(for: .init(provider: "pihole", error: "connection refused"))
        #expect(failed.map(\.key) == [AlertKey(rule: .providerFailing, target: "pihole")])
        #expect(AlertSignals.signals(for: .init(provider: "pihole", plan: Plan(), report: ApplyReport())).isEmpty)

        // A provider that recovers resolves its alert through the same scope.
        var engine = AlertEngine(policy: Fixture.policy(for: 0))
        let scope = AlertSignals.scope(ofProvider: "pihole")
        engine.observe(scope: scope, signals: failed, at: Fixture.at(0))
        #expect(engine.step(now: Fixture.at(0)).map { AlertMessage.subject($0, cluster: "home") }
            == ["[FIRING:1] home: DNS providers failing (pihole)"])
        engine.observe(scope: scope, signals: [], at: Fixture.at(60))
        #expect(engine.step(now: Fixture.at(60)).map(\.status) == [.resolved])
    }

    /// A rendered mail as text, and its header block.
    static func render(_ results: [ProbeResult], cluster: String = "home") throws -> (message: AlertMessage, text: String) {
        var engine = AlertEngine(policy: Fixture.policy(for: 0))
        let mail = try #require(engine.run(results, at: Fixture.at(0)).first)
        var policy = Fixture.policy()
        policy.cluster = cluster
        let message = AlertMessage(mail, policy: policy)
        return (message, String(decoding: message.bytes, as: UTF8.self))
    }

    @Test func messageIsCRLFShortLinesAndASCII() throws {
        var result = Fixture.nodeDown("k8s-6")
        result.reason = "<b>down</b> & \"gone\" — " + String(repeating: "x", count: 200)
        let (message, text) = try Self.render([result])
        #expect(message.bytes.allSatisfy { $0 < 128 })
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(text.contains("Subject: [FIRING:1] home: nodes unreachable (k8s-6)\r\n"))
        #expect(text.contains("Message-ID: <\(message.messageID)>\r\n"))
        #expect(text.contains("Content-Type: multipart/alternative;"))
        #expect(!text.contains("In-Reply-To"), "the first mail of a thread replies to nothing")
    }

    @Test func dateHeaderIsRFC5322() throws {
        let (_, text) = try Self.render([Fixture.nodeDown("k8s-6")])
        // t0 = 1_795_000_000 = Wed, 18 Nov 2026 11:06:40 UTC.
        #expect(text.contains("Date: Wed, 18 Nov 2026 11:06:40 +0000\r\n"))
    }

    @Test func nonASCIISubjectIsEncodedWords() throws {
        let (message, text) = try Self.render([Fixture.nodeDown("k8s-6")], cluster: "zuhause-küche")
        #expect(message.subject == "[FIRING:1] zuhause-küche: nodes unreachable (k8s-6)")
        #expect(text.contains("Subject: =?UTF-8?B?"))
        let encoded = text.components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }.prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        let decoded = encoded.joined().replacingOccurrences(of: "Subject: ", with: "").split(separator: " ").map { word -> String in
            let base64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return Data(base64Encoded: String(base64)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }.joined()
        #expect(decoded == message.subject)
    }
}
