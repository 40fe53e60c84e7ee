@testable import NetIO
@testable import Probes
import Testing

/// The verdict tables: which named fault each observation gives.
struct VerdictTests {
    static func report(answered: Int?, silent: Int? = nil, reported: Int? = nil, by: String? = nil) -> PathMTUReport {
        PathMTUReport(largestAnswered: answered, smallestSilent: silent, reportedMTU: reported, reportedBy: by,
                      routeMTU: 1500, probesSent: 5, socketKind: .unprivileged)
    }

    @Test(arguments: [
        (report(answered: 1500), nil as ProbeFault?),
        (report(answered: 1400, reported: 1400, by: "198.18.0.1"), .mtuSmaller),
        (report(answered: 1400, silent: 1401), .mtuBlackHole),
        (report(answered: 1500, silent: nil, reported: 1500, by: "198.18.0.1"), nil),
        (report(answered: nil), .unreachable),
    ])
    func mtuVerdicts(report: PathMTUReport, fault: ProbeFault?) {
        #expect(MTUProbe.verdict(report, expected: 1500).fault == fault)
    }

    @Test func theBlackHoleReasonGivesTheSizes() {
        let reason = MTUProbe.verdict(Self.report(answered: 1400, silent: 1401), expected: 1500).reason
        #expect(reason.contains("1401"))
        #expect(reason.contains("1400 bytes get through"))
    }

    /// A search the timeout cut short gives the range it knows and never an exact-looking size.
    @Test func aCutShortSearchSaysSo() {
        var hole = Self.report(answered: 1385, silent: 1442)
        hole.cutShort = true
        hole.smallestFailing = 1442
        let verdict = MTUProbe.verdict(hole, expected: 1500)
        #expect(verdict.fault == .mtuBlackHole)
        #expect(verdict.reason.contains("the path MTU is 1385…1441"), "\(verdict.reason)")
        // check's line (the cause) gives the same range, from the typed report.
        let result = ProbeResult.failure(.mtu, "w2", .mtuBlackHole, phase: "pmtu", verdict.reason,
                                         observed: .mtu(MTUFacts(address: Self.node.address, expected: 1500, report: hole)))
        #expect(result.cause.hasPrefix("path MTU to w2 is 1385…1441, expected 1500: black hole"), "\(result.cause)")
        #expect(result.cause.hasSuffix("(the search was cut short by the timeout: raise probes.mtu.timeout)"), "\(result.cause)")
        #expect(result.facts["search"] == "cut short by the timeout (1442 bytes fail)")
        hole.smallestFailing = 1386
        #expect(hole.undecided(expected: 1500) == nil, "ended on the exact size")
        var undecided = Self.report(answered: 1038)
        undecided.cutShort = true
        let timedOut = MTUProbe.verdict(undecided, expected: 1500)
        #expect(timedOut.fault == .timeout)
        #expect(timedOut.reason.contains("probes.mtu.timeout"))
    }

    static func tcp(_ outcome: TCPConnectResult.Outcome) -> TCPConnectResult {
        TCPConnectResult(outcome: outcome, latency: .milliseconds(1), errorNumber: 0, message: outcome.rawValue)
    }

    static func ping(_ received: Int, of sent: Int, rtt: Duration = .microseconds(300)) -> NodeFacts.Echo {
        .measured(PingResult(sent: sent, received: received, roundTrips: Array(repeating: rtt, count: received), socketKind: .raw))
    }

    static let node = NodeTarget(name: "k8s-1", address: IPAddress("198.18.0.11")!, role: .controlplane)

    static func facts(_ tcp: [TCPConnectResult], _ echo: NodeFacts.Echo) -> NodeFacts {
        NodeFacts(address: node.address, role: node.role, ports: zip([50000, 10250], tcp).map { PortOutcome(port: $0, $1) }, echo: echo)
    }

    @Test(arguments: [
        ([tcp(.connected), tcp(.connected)], ping(3, of: 3), nil as ProbeFault?),
        ([tcp(.timeout), tcp(.timeout)], ping(0, of: 3), .timeout),
        ([tcp(.unreachable), tcp(.timeout)], ping(0, of: 3), .unreachable),
        ([tcp(.refused), tcp(.refused)], ping(0, of: 3), .refused),
        ([tcp(.connected), tcp(.refused)], ping(3, of: 3), .refused),
        // 2 of 3 lost is above maxLoss (20 %); 1 of 30 is below it, so the node is healthy.
        ([tcp(.connected), tcp(.connected)], ping(1, of: 3), .packetLoss),
        ([tcp(.connected), tcp(.connected)], ping(29, of: 30), nil),
        ([tcp(.connected), tcp(.connected)], ping(0, of: 30), .packetLoss),
        ([tcp(.connected), tcp(.connected)], ping(30, of: 30, rtt: .milliseconds(800)), .highLatency),
        // The link comes before a port that timed out on it.
        ([tcp(.connected), tcp(.timeout)], ping(18, of: 30), .packetLoss),
        ([tcp(.connected), tcp(.connected)], .unavailable("no socket"), .icmpUnavailable),
    ])
    func nodeVerdicts(tcp: [TCPConnectResult], echo: NodeFacts.Echo, fault: ProbeFault?) {
        #expect(NodesProbe.verdict(node: Self.node, facts: Self.facts(tcp, echo)).fault == fault)
    }

    @Test func theStringViewIsMadeFromTheTypedFactsInTheDocumentedShape() {
        let facts = Self.facts([Self.tcp(.connected), Self.tcp(.timeout)], Self.ping(2, of: 3, rtt: .milliseconds(2)))
        let result = ProbeResult(kind: .nodes, target: "k8s-1", status: .ok, reason: "r", observed: .node(facts))
        #expect(result.facts["tcp/50000"] == "connected 1.0ms")
        #expect(result.facts["tcp/10250"] == "timeout 1.0ms")
        #expect(result.facts["icmp"] == "2/3 replies, median 2.0ms")
        #expect(result.facts["loss"] == "33%")
        #expect(result.facts["rtt"] == "min 2.0ms, median 2.0ms, p90 2.0ms, max 2.0ms")
        #expect(result.facts["role"] == "controlplane")
    }

    @Test func theKindTableCoversEveryKind() {
        for kind in ProbeKind.allCases {
            #expect(ProbeKind.table[kind] != nil, "\(kind) has no row in the table of kinds")
        }
    }
}
