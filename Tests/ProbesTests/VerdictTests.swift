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
        var undecided = Self.report(answered: 1038)
        undecided.cutShort = true
        let timedOut = MTUProbe.verdict(undecided, expected: 1500)
        #expect(timedOut.fault == .timeout)
        #expect(timedOut.reason.contains("probes.mtu.timeout"))
    }

    static func tcp(_ outcome: TCPConnectResult.Outcome) -> TCPConnectResult {
        TCPConnectResult(outcome: outcome, latency: .milliseconds(1), errorNumber: 0, message: outcome.rawValue)
    }

    static func ping(_ received: Int, of sent: Int) -> Result<PingResult, ICMPUnavailableError> {
        .success(PingResult(sent: sent, received: received, roundTrips: [], socketKind: .raw))
    }

    static let node = NodeTarget(name: "k8s-1", address: IPAddress("198.18.0.11")!, role: .controlplane)

    @Test(arguments: [
        ([tcp(.connected), tcp(.connected)], ping(3, of: 3), nil as ProbeFault?),
        ([tcp(.timeout), tcp(.timeout)], ping(0, of: 3), .timeout),
        ([tcp(.unreachable), tcp(.timeout)], ping(0, of: 3), .unreachable),
        ([tcp(.refused), tcp(.refused)], ping(0, of: 3), .refused),
        ([tcp(.connected), tcp(.refused)], ping(3, of: 3), .refused),
        ([tcp(.connected), tcp(.connected)], ping(1, of: 3), .packetLoss),
        ([tcp(.connected), tcp(.connected)], .failure(ICMPUnavailableError(message: "no socket")), .icmpUnavailable),
    ])
    func nodeVerdicts(tcp: [TCPConnectResult], ping: Result<PingResult, ICMPUnavailableError>, fault: ProbeFault?) {
        let ports = zip([50000, 10250], tcp).map { ($0, $1) }
        #expect(NodesProbe.verdict(node: Self.node, tcp: ports, ping: ping).fault == fault)
    }

    @Test func theKindTableCoversEveryKind() {
        for kind in ProbeKind.allCases {
            #expect(ProbeKind.table[kind] != nil, "\(kind) has no row in the table of kinds")
        }
    }
}
