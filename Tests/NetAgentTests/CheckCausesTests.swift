import Cloudflare
@testable import Diagnosis
import NetAgent
@testable import NetIO
@testable import Pihole
@testable import Probes
import Testing

/// The cause lines of `CheckCauses`, one rule at a time, from typed facts (CheckAgainstLabTests
/// covers the ones the lab can produce), and the causal order of `CausalOrder`.
struct CheckCausesTests {
    static let url = "http://198.18.0.7:8080"

    static func failure(code: Int, _ words: String) -> PlanFailure {
        let transport = NetIOError(kind: .transfer, code: code, message: words, url: url + "/api/auth")
        return PlanFailure(PiholeError(kind: .unreachable, instance: url, status: 0, message: transport.description, transport: transport))
    }

    @Test func anAPIThatCannotBeReachedIsNamedWithItsURLAndTheWayItFailed() {
        #expect(CheckCauses.planFailure(Self.failure(code: 28, "Operation timed out after 2001 milliseconds"), holder: "Pi-hole", url: Self.url)
            == "cannot read Pi-hole at \(Self.url): no answer in time — the host down, or a firewall drops the port?")
        #expect(CheckCauses.planFailure(Self.failure(code: 6, "Could not resolve host: pihole.lan"), holder: "Cloudflare", url: Self.url)
            == "cannot read Cloudflare at \(Self.url): the host name does not resolve — a typo in apiURL, or this machine's DNS?")
        #expect(CheckCauses.planFailure(Self.failure(code: 60, "SSL certificate problem: self-signed certificate"), holder: "Pi-hole", url: Self.url)
            == "cannot read Pi-hole at \(Self.url): TLS failed (SSL certificate problem: self-signed certificate) — a certificate this machine does not trust, or http/https mixed up?")
        // The same words without the typed error are not scraped for a curl code.
        let words = PlanFailure(message: Self.failure(code: 28, "Operation timed out").message)
        #expect(!CheckCauses.planFailure(words, holder: "Pi-hole", url: Self.url).contains("no answer in time"))
    }

    @Test func aProviderErrorKeepsItsOwnAdviceAndOnlyAnUnknownOneGetsAGuess() {
        let advised = PlanFailure(PiholeError(kind: .wrongPassword, instance: Self.url, status: 401, key: "unauthorized", message: "password incorrect"))
        #expect(CheckCauses.planFailure(advised, holder: "Pi-hole", url: Self.url) == "cannot read Pi-hole at \(Self.url): \(advised.message)")
        let plain = PlanFailure(CloudflareError(kind: .serverError, operation: .listRecords, scope: "zone home.test", status: 500))
        #expect(CheckCauses.planFailure(plain, holder: "Cloudflare", url: Self.url)
            == "cannot read Cloudflare at \(Self.url): \(plain.message) — the password/token refused, or the API answered something unexpected?")
    }

    @Test func aRevokedTokenAndAMissingPermissionAreToldApartByTheVerify() {
        var revoked = CloudflareError(kind: .invalidToken, operation: .listZones, scope: "zone home.test", status: 403,
                                      errors: [CloudflareAPIMessage(code: 10000, message: "Authentication error")])
        revoked.tokenVerify = .invalid("1000 Invalid API Token")
        #expect(CheckCauses.planFailure(PlanFailure(revoked), holder: "Cloudflare", url: Self.url)
            .hasPrefix("cannot read Cloudflare at \(Self.url): token invalid or revoked (1000 Invalid API Token)"))
        var lacking = CloudflareError(kind: .missingPermission, operation: .listZones, scope: "zone home.test", status: 403,
                                      errors: [CloudflareAPIMessage(code: 10000, message: "Authentication error")])
        lacking.tokenVerify = .active
        #expect(CheckCauses.planFailure(PlanFailure(lacking), holder: "Cloudflare", url: Self.url)
            .hasPrefix("cannot read Cloudflare at \(Self.url): token valid but lacks Zone:Read on zone home.test"))
        // Without a verify, a 403 stays the provider's own words.
        lacking.tokenVerify = nil
        #expect(PlanFailure(lacking).token == nil)
    }

    // MARK: nodes

    static func port(_ port: Int, _ outcome: TCPConnectResult.Outcome, attempts: Int = 1) -> PortOutcome {
        PortOutcome(port: port, TCPConnectResult(outcome: outcome, latency: .microseconds(200), errorNumber: 0, message: outcome.rawValue),
                    attempts: attempts)
    }

    static func echo(_ received: Int, of sent: Int, rtt: Duration = .microseconds(300)) -> NodeFacts.Echo {
        .measured(PingResult(sent: sent, received: received, roundTrips: Array(repeating: rtt, count: received), socketKind: .unprivileged))
    }

    static func node(_ name: String, _ ports: [PortOutcome], _ echo: NodeFacts.Echo, role: NodeTarget.Role = .worker) -> ProbeResult {
        let facts = NodeFacts(address: IPAddress("198.18.0.24")!, role: role, ports: ports, echo: echo)
        let target = NodeTarget(name: name, address: facts.address, role: role)
        let verdict = NodesProbe.verdict(node: target, facts: facts)
        return ProbeResult(kind: .nodes, target: name, status: verdict.fault == nil ? .ok : .failed, fault: verdict.fault,
                           phase: verdict.phase, reason: verdict.reason, observed: .node(facts))
    }

    @Test func everyPortRefusedMeansTheHostIsUpEvenWithoutEcho() {
        let result = Self.node("cp1", [Self.port(50000, .refused), Self.port(10250, .refused), Self.port(6443, .refused)], Self.echo(0, of: 3),
                               role: .controlplane)
        #expect(ProbeCauses.describe(result) == "cp1: TCP 6443, 10250, 50000 refused, no ICMP echo — the host is up but nothing listens "
            + "(the API server, kubelet, Talos apid): Talos services not running (booting, maintenance mode, or stopped?)")
        let one = Self.node("w1", [Self.port(50000, .connected), Self.port(10250, .refused)], Self.echo(3, of: 3))
        #expect(ProbeCauses.describe(one) == "w1: TCP 10250 refused, ICMP ok — kubelet down?")
    }

    @Test func aNodeThatAnswersNothingIsDown() {
        let down = Self.node("k8s-6", [Self.port(50000, .timeout), Self.port(10250, .timeout)], Self.echo(0, of: 30))
        #expect(ProbeCauses.describe(down) == "k8s-6: TCP 10250, 50000 timed out, no ICMP echo — node down, or a firewall drops everything?")
    }

    @Test func highLatencyIsNamedWithTheRoundTripAndTheNode() {
        let slow = Self.node("k8s-4", [Self.port(50000, .connected), Self.port(10250, .connected)], Self.echo(30, of: 30, rtt: .microseconds(800_600)))
        #expect(slow.fault == .highLatency)
        #expect(ProbeCauses.describe(slow).hasPrefix("high latency: ~800 ms round trip to k8s-4 (median of 30/30 echo replies"))
        #expect(ProbeCauses.about(.microseconds(818_900)) == "~800 ms" && ProbeCauses.about(.microseconds(1_260_000)) == "~1300 ms")
        #expect(ProbeCauses.about(.microseconds(43_400)) == "~43 ms" && ProbeCauses.about(.microseconds(2_340)) == "~2.3 ms")
    }

    @Test func packetLossAboveMaxLossIsNamedBeforeThePortThatTimedOutOnIt() {
        let lossy = Self.node("k8s-2", [Self.port(50000, .connected), Self.port(10250, .timeout, attempts: 2)], Self.echo(18, of: 30))
        #expect(lossy.fault == .packetLoss)
        let line = ProbeCauses.describe(lossy)
        #expect(line.hasPrefix("40 % packet loss to k8s-2 (12 of 30 echoes lost, probes.nodes.maxLoss 20 %)"))
        #expect(line.contains("TCP 10250 timed out after a retry — follows from the loss"))
        // 3 of 30 (10 %) is under the threshold: healthy.
        #expect(Self.node("k8s-2", [Self.port(50000, .connected)], Self.echo(27, of: 30)).status == .ok)
    }

    @Test func echoBlockedAndICMPUnavailableWhileTCPWorks() {
        #expect(ProbeCauses.describe(Self.node("w2", [Self.port(50000, .connected)], Self.echo(0, of: 30)))
            == "w2: 0/30 echo replies (TCP ok) — ICMP echo blocked by a firewall on the node or the way?")
        #expect(ProbeCauses.describe(Self.node("w2", [Self.port(50000, .connected)], .unavailable("no socket")))
            .hasPrefix("w2: TCP ok, ICMP cannot be sent from here (no socket)"))
    }

    // MARK: DNS and the tunnel

    static let pihole = try! DNSServer(address: "198.18.0.53")

    static func dnsServer(_ fault: ProbeFault) -> ProbeResult {
        .failure(.dnsServer, "pihole (198.18.0.53:53)", fault, phase: "dns", "answered REFUSED",
                 observed: .dnsServer(DNSServerFacts(server: pihole, question: DNSQuestion(name: "example.com", type: .a),
                                                     outcome: .answered(rcode: .refused, answers: [], latency: .milliseconds(1)))))
    }

    static func record(_ name: String, _ fault: ProbeFault) -> ProbeResult {
        .failure(.dnsRecords, "\(name) A @pihole", fault, phase: "dns", "the server refused the question",
                 observed: .dnsRecord(DNSRecordFacts(desired: ["198.18.0.80"], server: pihole, rcode: .refused, answeredBy: "Pi-hole")))
    }

    @Test func aPiholeThatRefusesNamesItsListeningModeAndACL() {
        #expect(ProbeCauses.describe(Self.dnsServer(.dnsRefused))
            .hasPrefix("pihole (198.18.0.53:53): REFUSED for example.com A — Pi-hole refuses queries from this address: its listening mode / ACL"))
    }

    @Test func theTunnelsAPILineBlamesTheAPINotCloudflared() {
        let transport = NetIOError(kind: .transfer, code: 28, message: "Operation timed out")
        let api = ProbeResult.failure(.tunnel, "tunnel 1111", .timeout, phase: "api", "the tunnel status cannot be read",
                                      observed: .tunnelAPIUnreadable(transport: transport, message: transport.description))
        #expect(ProbeCauses.describe(api) == "tunnel 1111: the Cloudflare API cannot be read (Operation timed out) — Cloudflare's API unreachable "
            + "from here, or the token cannot read tunnels (Account: Cloudflare Tunnel: Read)?")
        let ready = ProbeResult.failure(.tunnel, "cloudflared http://127.0.0.1:2000/ready", .unreachable, phase: "ready", "cannot be read")
        #expect(ProbeCauses.describe(ready).contains("cloudflared not running"))
    }

    // MARK: causal order

    static func report(_ items: [CheckItem]) -> CheckReport {
        CheckReport(items: items, areas: CheckArea.allCases)
    }

    @Test func aRefusingDNSServerIsTheFirstFailingLineAndItsRecordsFollowFromIt() {
        let report = Self.report([CheckItem(Self.record("grafana.example.com", .dnsRefused)),
                                  CheckItem(Self.record("jellyfin.example.com", .dnsRefused)),
                                  CheckItem(Self.dnsServer(.dnsRefused))])
        #expect(report.failures.first?.area == .dns)
        #expect(report.failures.first?.reason.contains("Pi-hole refuses queries from this address: its listening mode / ACL") == true)
        #expect(report.failures.dropFirst().allSatisfy { $0.followsFrom == CheckItem.Reference(area: .dns, target: "pihole (198.18.0.53:53)") })
        #expect(report.failures[1].reason.hasSuffix("— follows from DNS servers: pihole (198.18.0.53:53)"))
        let table = report.table(colour: false)
        let firstFail = table.split(separator: "\n").first { $0.contains("FAIL") }
        #expect(firstFail?.contains("REFUSED") == true, "\(table)")
        #expect(report.json().contains(#""followsFrom":{"kind":"dns","target":"pihole (198.18.0.53:53)"}"#))
        // A record failing at another server is its own root.
        let other = CheckItem(.failure(.dnsRecords, "x.example.com A @cf", .wrongTarget, phase: "dns", "wrong",
                                       observed: .dnsRecord(DNSRecordFacts(desired: ["1.2.3.4"], server: try! DNSServer(address: "198.18.0.1")))))
        #expect(Self.report([other, CheckItem(Self.dnsServer(.dnsRefused))]).items.allSatisfy { $0.followsFrom == nil })
    }

    @Test func theVIPComesBeforeAControlPlanesAPIPort() {
        let tcp = TCPConnectResult(outcome: .refused, latency: .milliseconds(1), errorNumber: 0, message: "refused")
        let vip = ProbeResult.failure(.vip, "198.18.0.10:6443", .vipDown, phase: "connect", "refused",
                                      observed: .vip(VIPFacts(tcp: PortOutcome(port: 6443, tcp), tlsError: "no connection",
                                                              arp: .answered(macs: [], interface: "eth0"), holders: [])))
        let cp = Self.node("cp1", [Self.port(6443, .refused), Self.port(50000, .connected)], Self.echo(3, of: 3), role: .controlplane)
        let report = Self.report([CheckItem(cp), CheckItem(vip)])
        #expect(report.failures.map(\.area) == [.vip, .nodes])
        #expect(report.failures[1].followsFrom?.area == .vip)
    }

    @Test func aVIPFailingWhileItMovesIsAFailoverNotABrokenAPIServer() {
        let tcp = TCPConnectResult(outcome: .connected, latency: .milliseconds(1), errorNumber: 0, message: "")
        var facts = VIPFacts(tcp: PortOutcome(port: 6443, tcp), tlsError: "timeout", arp: .answered(macs: ["02:00:00:00:00:02"], interface: "eth0"),
                             holders: ["cp2"])
        let steady = ProbeResult.failure(.vip, "198.18.0.10:6443", .tlsFailed, phase: "tls", "TLS handshake failed: timeout", observed: .vip(facts))
        #expect(steady.cause.contains("something other than the API server answers"), "\(steady.cause)")
        facts.moving = "moved from cp1 to cp2"
        let moving = ProbeResult.failure(.vip, "198.18.0.10:6443", .tlsFailed, phase: "tls", "TLS handshake failed: timeout", observed: .vip(facts))
        #expect(moving.cause.hasPrefix("VIP 198.18.0.10:6443 TLS handshake failed while it moves (moved from cp1 to cp2) — a failover in progress"),
                "\(moving.cause)")
    }

    @Test func aDownNodeExplainsItsUnknownMTUAndABlackHoleExplainsTimeouts() {
        let down = Self.node("k8s-6", [Self.port(50000, .timeout)], Self.echo(0, of: 30))
        let report = PathMTUReport(largestAnswered: nil, smallestSilent: nil, reportedMTU: nil, reportedBy: nil, routeMTU: 1500,
                                   probesSent: 3, socketKind: .unprivileged)
        let mtu = ProbeResult.failure(.mtu, "k8s-6", .unreachable, phase: "pmtu", "no echo",
                                      observed: .mtu(MTUFacts(address: IPAddress("198.18.0.26")!, expected: 1500, report: report)))
        #expect(CausalOrder.nodeBeforeMTU(CheckItem(down), CheckItem(mtu)))
        #expect(!CausalOrder.nodeBeforeMTU(CheckItem(mtu), CheckItem(down)))

        let hole = PathMTUReport(largestAnswered: 1400, smallestSilent: 1401, reportedMTU: nil, reportedBy: nil, routeMTU: 1500,
                                 probesSent: 9, socketKind: .unprivileged)
        let black = ProbeResult.failure(.mtu, "k8s-3", .mtuBlackHole, phase: "pmtu", "black hole",
                                        observed: .mtu(MTUFacts(address: IPAddress("198.18.0.23")!, expected: 1500, report: hole)))
        let slow = Self.node("k8s-3", [Self.port(50000, .timeout), Self.port(10250, .connected)], Self.echo(30, of: 30))
        #expect(Self.report([CheckItem(slow), CheckItem(black)]).failures.map(\.area) == [.mtu, .nodes])
    }

    @Test func anInvalidTokenIsTheRootOfItsProvidersOtherZonesAndRecords() {
        func plan(_ zone: String) -> CheckItem {
            var item = CheckItem(area: .records, target: "cloudflare zone \(zone)", ok: false, reason: "token invalid or revoked")
            item.subject = .plan(provider: "cloudflare", token: .invalid("1000 Invalid API Token"))
            return item
        }
        var record = CheckItem(.failure(.dnsRecords, "www.a.test A @public", .missing, phase: "dns", "missing",
                                        observed: .dnsRecord(DNSRecordFacts(desired: ["1.2.3.4"], server: try! DNSServer(address: "198.18.0.1")))))
        record.subject = .probe(ProbeResult.failure(.dnsRecords, "www.a.test A @public", .missing, phase: "dns", "missing"), provider: "cloudflare")
        let tunnelAPI = CheckItem(.failure(.tunnel, "tunnel 1111", .unreachable, phase: "api", "cannot be read",
                                           observed: .tunnelAPIUnreadable(transport: nil, message: "Cloudflare: read the tunnel: HTTP 403")))
        let report = Self.report([tunnelAPI, record, plan("a.test"), plan("b.test")])
        #expect(report.failures.first?.target == "cloudflare zone a.test")
        #expect(report.failures.dropFirst().allSatisfy { $0.followsFrom?.target == "cloudflare zone a.test" })
        #expect(report.failures.last?.area == .tunnel)
    }
}
