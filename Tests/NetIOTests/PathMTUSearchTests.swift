@testable import NetIO
import Testing

/// The path-MTU search over a simulated path: it ends on the exact largest size that passes,
/// in a few rounds, and a deadline that cuts it short gives a range, never a wrong size.
struct PathMTUSearchTests {
    /// A path that answers up to `mtu` bytes; above, silence (a black hole) or a router's
    /// "too big"; `cutAfter` rounds end with the deadline (their sizes undecided).
    struct SimulatedPath {
        var mtu: Int
        var tooBig = false
        var cutAfter: Int? = nil
        var lostOnce: Set<Int> = []
        var rounds = 0
        var probed: [[Int]] = []

        mutating func round(_ sizes: [Int]) -> PathMTUProbe.RoundOutcome {
            rounds += 1
            probed.append(sizes)
            if let cutAfter, rounds > cutAfter { return .init(outcomes: [:], cutShort: true) }
            var outcomes: [Int: EchoOutcome] = [:]
            for size in sizes {
                if size <= mtu {
                    // A loss in one round (both sends of it) reads as silence there.
                    outcomes[size] = lostOnce.remove(size) != nil ? .timeout : .reply(.milliseconds(1))
                } else {
                    outcomes[size] = tooBig ? .tooBig(mtu: mtu, from: "198.18.0.1") : .timeout
                }
            }
            return .init(outcomes: outcomes, cutShort: false)
        }
    }

    static func search(_ path: inout SimulatedPath, ceiling: Int = 1500) -> PathMTUReport {
        PathMTUProbe.search(routeMTU: 1500, ceiling: ceiling, kind: .raw) { path.round($0) }
    }

    @Test(arguments: [1400, 1450, 1280, 577, 1499])
    func aBlackHoleEndsOnTheExactSize(mtu: Int) {
        var path = SimulatedPath(mtu: mtu)
        let report = Self.search(&path)
        #expect(report.largestAnswered == mtu)
        #expect(report.smallestSilent == mtu + 1)
        #expect(report.isBlackHole)
        #expect(!report.cutShort)
        // 576…1500 in rounds of 16 sizes: the floor and at most four rounds.
        #expect(path.rounds <= 5, "\(path.probed)")
    }

    @Test func aHealthyPathTakesOneRoundAfterTheFloor() {
        var path = SimulatedPath(mtu: 1500)
        let report = Self.search(&path)
        #expect(report.largestAnswered == 1500)
        #expect(report.smallestSilent == nil)
        #expect(path.rounds == 2)
    }

    @Test func aRoutersTooBigIsProbedNextAndNamed() {
        var path = SimulatedPath(mtu: 1400, tooBig: true)
        let report = Self.search(&path)
        #expect(report.largestAnswered == 1400)
        #expect(report.reportedMTU == 1400)
        #expect(report.reportedBy == "198.18.0.1")
        #expect(!report.isBlackHole)
        #expect(path.probed[2].contains(1400), "the reported MTU is probed in the next round: \(path.probed)")
    }

    /// The deadline after two rounds: what is known is a range, and the search says it stopped.
    @Test func aDeadlineGivesARangeNotAGuess() {
        var path = SimulatedPath(mtu: 1400, cutAfter: 2)
        let report = Self.search(&path)
        #expect(report.cutShort)
        let answered = try! #require(report.largestAnswered)
        let failing = try! #require(report.smallestFailing)
        #expect(answered <= 1400 && failing > 1400, "\(answered)…\(failing)")
        #expect(failing - answered > 1)
    }

    /// A size lost in one round while a larger one of the same round answers: the answer wins.
    @Test func aLostEchoBelowAnAnswerIsNotTheMTU() {
        var path = SimulatedPath(mtu: 1400, lostOnce: [1327])
        let report = Self.search(&path)
        #expect(report.largestAnswered == 1400)
        #expect(report.smallestSilent == 1401)
    }

    @Test func theTargetDoesNotAnswer() {
        var path = SimulatedPath(mtu: 0)
        let report = Self.search(&path)
        #expect(report.largestAnswered == nil)
        #expect(!report.reachable)
    }
}
