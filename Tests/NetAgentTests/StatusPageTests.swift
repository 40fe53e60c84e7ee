@testable import Alerts
import DNSCore
@testable import Diagnosis
import Foundation
@testable import NetAgent
@testable import NetIO
import Probes
import Testing

/// The status page's snapshot and HTML, from made-up probe results: cells, the VIP log, the
/// DNS rows, and escaping of whatever text comes from outside.
struct StatusPageTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func node(_ name: String, _ address: String, _ role: NodeTarget.Role = .worker, offline: String? = nil) throws -> NodeTarget {
        NodeTarget(name: name, address: try #require(IPAddress(address)), role: role, offline: offline)
    }

    static func nodesResult(_ target: String, _ status: ProbeResult.Status, fault: ProbeFault? = nil, reason: String,
                            tcp: [Int: TCPConnectResult.Outcome], replies: Int? = 3) -> ProbeResult {
        let ports = tcp.map { PortOutcome(port: $0.key, TCPConnectResult(outcome: $0.value, latency: .microseconds(200), errorNumber: 0, message: "")) }
        let echo: NodeFacts.Echo = replies.map {
            .measured(PingResult(sent: 3, received: $0, roundTrips: Array(repeating: .microseconds(100), count: $0), socketKind: .unprivileged))
        } ?? .notProbed
        let facts = NodeFacts(address: IPAddress("198.18.0.99")!, role: .worker, ports: ports, echo: echo)
        return ProbeResult(kind: .nodes, target: target, status: status, fault: fault, phase: fault == nil ? nil : "connect",
                           reason: reason, observed: .node(facts), at: t0)
    }

    static func vipResult(up: Bool, holders: [String], at offset: Double) -> ProbeResult {
        let tcp = TCPConnectResult(outcome: up ? .connected : .refused, latency: .microseconds(300), errorNumber: 0, message: "")
        let facts = VIPFacts(tcp: PortOutcome(port: 6443, tcp), tlsError: up ? nil : "no connection",
                             arp: .answered(macs: holders.map { _ in "02:00:00:00:00:01" }, interface: "eth0"), holders: holders)
        return ProbeResult(kind: .vip, target: "198.18.0.10:6443", status: up && holders.count == 1 ? .ok : .failed,
                           fault: up ? (holders.count > 1 ? .splitBrain : nil) : .vipDown, reason: up ? "up" : "198.18.0.10:6443 refused",
                           observed: .vip(facts), at: t0.addingTimeInterval(offset))
    }

    @Test("the grid: a row per configured node, offline ones too; cells say the reason in words, coloured by state")
    func gridCells() throws {
        let nodes = [try Self.node("cp1", "198.18.0.11", .controlplane), try Self.node("w1", "198.18.0.21"),
                     try Self.node("w4", "198.18.0.24", offline: "PSU not working"), try Self.node("w9", "198.18.0.29")]
        let latest = [
            Self.nodesResult("cp1", .ok, reason: "all 3 ports connect", tcp: [6443: .connected, 50000: .connected, 10250: .connected]),
            Self.nodesResult("w1", .failed, fault: .refused, reason: "port 10250 on 198.18.0.21: refused",
                             tcp: [50000: .connected, 10250: .refused]),
            Self.nodesResult("w4", .knownOffline, reason: "known offline (PSU not working); as expected",
                             tcp: [50000: .timeout, 10250: .timeout], replies: 0),
            ProbeResult(kind: .mtu, target: "w1", status: .failed, fault: .mtuSmaller, phase: "pmtu", reason: "path MTU 1400 is below the expected 1500",
                        observed: .mtu(MTUFacts(address: IPAddress("198.18.0.21")!, expected: 1500, report: PathMTUReport(
                            largestAnswered: 1400, smallestSilent: nil, reportedMTU: 1400, reportedBy: nil, routeMTU: 1500,
                            probesSent: 4, socketKind: .unprivileged))), at: Self.t0),
            Self.vipResult(up: true, holders: ["cp1"], at: 0),
        ]
        let rows = StatusSnapshot.nodeRows(nodes: nodes, columns: [.tcp, .icmp, .mtu, .vip], latest: latest)
        #expect(rows.map(\.name) == ["cp1", "w1", "w4", "w9"])
        #expect(rows[0].cells.map(\.state) == [.ok, .ok, .unknown, .ok])
        #expect(rows[0].cells[0].text == "6443, 10250, 50000 open")
        #expect(rows[0].cells[3].text == "holder")
        #expect(rows[1].cells[0] == StatusSnapshot.Cell(.failed, "10250 refused", detail: "w1: TCP 10250 refused, ICMP ok — kubelet down?"))
        #expect(rows[1].cells[2].state == .failed && rows[1].cells[2].text == "1400 < 1500")
        #expect(rows[1].cells[3].text == "—")
        #expect(rows[2].offline == "PSU not working")
        #expect(rows[2].cells[0].state == .offline && rows[2].cells[0].text.contains("50000 timeout"))
        #expect(rows[3].cells.map(\.state) == [.unknown, .unknown, .unknown, .idle])

        let html = StatusPageHTML.render(StatusSnapshot(cluster: "lab", generatedAt: Self.t0, columns: [.tcp, .icmp, .mtu, .vip], nodes: rows))
        #expect(html.contains(#"<td class="cell failed" title="w1: TCP 10250 refused, ICMP ok — kubelet down?">✘ 10250 refused</td>"#), "\(html)")
        #expect(html.contains("offline: PSU not working"))
        #expect(html.contains("<th>Path MTU</th>"))
    }

    @Test("the VIP log: holder segments, a failover with the outage between the holders, bounded")
    func vipLog() {
        var log = VIPHolderLog()
        for (offset, up, holders) in [(0.0, true, ["cp1"]), (1, true, ["cp1"]), (2, false, [String]()), (3, false, []),
                                      (4.5, true, ["cp2"]), (5.5, true, ["cp2"]), (6.5, true, ["cp2", "cp3"]), (7.5, true, ["cp2"])] {
            log.record(Self.vipResult(up: up, holders: holders, at: offset))
        }
        #expect(log.segments.map(\.label) == ["cp1", "down", "cp2", "split brain: cp2, cp3", "cp2"])
        #expect(log.segments.map(\.rounds) == [2, 2, 2, 1, 1])
        let failover = log.timeline.events.first { $0.kind == .failover }
        #expect(failover != nil)
        #expect(failover?.oldHolder == "cp1" && failover?.newHolder == "cp2")
        #expect(failover?.durationSeconds == 2.5)

        let status = StatusSnapshot.vipStatus(latest: log.segments.isEmpty ? nil : Self.vipResult(up: true, holders: ["cp2"], at: 7.5),
                                              log: log, target: "198.18.0.10:6443")
        let html = StatusPageHTML.render(StatusSnapshot(cluster: "lab", generatedAt: Self.t0.addingTimeInterval(8), vip: status))
        #expect(html.contains(#"<section id="vip">"#))
        #expect(html.contains("<td>failover</td><td>cp1 → cp2</td><td>2.5s</td>"), "\(html)")
        #expect(html.contains("<td>split brain</td><td>cp2, cp3</td><td>1.0s</td>"), "\(html)")
        #expect(html.contains("Held by <b>cp2</b>"))

        var small = VIPHolderLog(capacity: 3)
        for round in 0..<10 { small.record(Self.vipResult(up: round % 2 == 0, holders: ["cp1"], at: Double(round))) }
        #expect(small.segments.count == 3)
        #expect(small.segments.last?.start == Self.t0.addingTimeInterval(9))
        #expect(small.timeline.events.count <= 3)
    }

    @Test("hostile names, reasons, summaries and subjects are escaped; user info in URLs never shows")
    func escaping() throws {
        let evil = #"<script>alert("x")</script>&'"#
        let nodes = [try Self.node(evil, "198.18.0.21", offline: "<b>gone</b>")]
        let latest = [Self.nodesResult(evil, .failed, fault: .refused, reason: #"<img src=x onerror="alert(1)">"#, tcp: [50000: .refused])]
        var snapshot = StatusSnapshot(cluster: "<lab>", generatedAt: Self.t0, columns: [.tcp],
                                      nodes: StatusSnapshot.nodeRows(nodes: nodes, columns: [.tcp], latest: latest))
        snapshot.alerting = true
        snapshot.alerts = [StatusSnapshot.AlertRow(rule: "node-down", title: "nodes unreachable", target: evil, state: .firing,
                                                   since: Self.t0, summary: "</td></tr><script>steal()</script>", muted: false)]
        snapshot.mail = [OutboxEntry(id: 1, messageID: "m1@x", group: "node-down", subject: "[lab] <i>down</i> & out", status: .rejected,
                                     attempts: 1, createdAt: Self.t0, nextAttempt: Self.t0, deliveredAt: nil,
                                     lastError: "550 <no>", replyCode: 550)]
        var state = DaemonStatus.TargetState()
        state.cycles = 1
        state.lastError = "http://admin:s3cret@pihole.lan/api: 401 <unauthorized>"
        snapshot.dns = [StatusSnapshot.DNSRow(instance: "pihole http://admin:s3cret@pihole.lan", provider: "pihole", type: "pihole", state: state)]
        snapshot.checks = [ProbeResult(kind: .dnsServer, target: "x\"><script>", status: .failed, fault: .servfail, reason: "<servfail>", at: Self.t0)]
        let html = StatusPageHTML.render(snapshot)
        #expect(!html.contains("<script>"), "\(html)")
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>gone"))
        #expect(!html.contains("<i>down"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;steal()&lt;/script&gt;"))
        #expect(html.contains("[lab] &lt;i&gt;down&lt;/i&gt; &amp; out"))
        #expect(html.contains("<title>netagent · &lt;lab&gt;</title>"))
        // The redaction happens where the page gathers the rows; the error text is redacted when rendered.
        #expect(!html.contains("s3cret"), "\(html)")
        #expect(html.contains("http://pihole.lan/api: 401 &lt;unauthorized&gt;"))
        #expect(!html.lowercased().contains("<script src") && !html.contains("<link"), "self-contained: no external assets")
    }

    @Test("a target's row: owned records and pending changes from the last cycle, dry run or applied")
    func targetState() {
        let status = DaemonStatus(instances: ["pihole a", "pihole b"])
        let endpoint = Endpoint(name: try! DNSName("new.home.test"), type: .a, targets: ["198.18.0.50"])
        let plan = Plan(changes: Plan.Changes(creates: [endpoint, endpoint]), owned: 5)
        status.record(CycleOutcome(instance: "pihole a", result: .success(plan)), dryRun: true, at: Self.t0)
        status.record(CycleOutcome(instance: "pihole b", result: .success(plan), report: ApplyReport(created: 2)), dryRun: false, at: Self.t0)
        #expect(status.targets["pihole a"]?.owned == 5 && status.targets["pihole a"]?.pending == 2)
        #expect(status.targets["pihole b"]?.owned == 7 && status.targets["pihole b"]?.pending == 0)
        #expect(status.targets["pihole b"]?.lastCycleAt == Self.t0)

        status.record(CycleOutcome(instance: "pihole b", result: .failure(PlanFailure(message: "connection refused"))), dryRun: false)
        let b = status.targets["pihole b"]
        #expect(b?.lastError == "connection refused" && b?.owned == 7 && b?.cycles == 2)

        let rows = ["pihole a", "pihole b"].map { StatusSnapshot.DNSRow(instance: $0, provider: "pihole", type: "pihole", state: status.targets[$0]!) }
        let html = StatusPageHTML.render(StatusSnapshot(cluster: "lab", generatedAt: Self.t0, dns: rows))
        #expect(html.contains("▲ 2 change(s) pending"), "\(html)")
        #expect(html.contains("✘ failing; 0 pending before"), "\(html)")
        #expect(html.contains(#"<td class="num">7</td>"#))
    }
}
