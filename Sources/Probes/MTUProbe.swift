import NetIO

/// mtu: path MTU to each node by don't-fragment probing, compared with the cluster MTU.
/// A clean smaller MTU (a router said "fragmentation needed") is told apart from a black
/// hole (packets above a size vanish, no "too big").
public struct MTUProbe: Probe {
    public let kind = ProbeKind.mtu
    public var nodes: [NodeTarget]
    /// The MTU the cluster should have end to end (`cluster.mtu`).
    public var expected: Int
    /// How long one probe packet waits for its reply.
    public var probeWait: Duration

    public init(nodes: [NodeTarget], expected: Int, probeWait: Duration = .milliseconds(200)) {
        self.nodes = nodes
        self.expected = expected
        self.probeWait = probeWait
    }

    public func run(timeout: Duration) async -> [ProbeResult] {
        await eachInParallel(nodes) { node in await check(node, timeout: timeout) }
    }

    func check(_ node: NodeTarget, timeout: Duration) async -> ProbeResult {
        let start = ContinuousClock.now
        let report: PathMTUReport
        do {
            report = try await PathMTUProbe.discover(node.address, ceiling: expected, probeWait: probeWait, deadline: start + timeout)
        } catch {
            return .failure(kind, node.name, .icmpUnavailable, phase: "pmtu", error.message)
        }
        let elapsed = ContinuousClock.now - start
        var facts = MTUFacts(address: node.address, expected: expected, report: report)
        let verdict = Self.verdict(report, expected: expected)
        if let offline = node.offline {
            facts.offline = offline
            return ProbeResult(kind: kind, target: node.name, status: .knownOffline, phase: "pmtu",
                               reason: "known offline (\(offline)); \(verdict.reason)", latency: elapsed, observed: .mtu(facts))
        }
        guard let fault = verdict.fault else {
            return ProbeResult(kind: kind, target: node.name, status: .ok, reason: verdict.reason, latency: elapsed, observed: .mtu(facts))
        }
        return .failure(kind, node.name, fault, phase: "pmtu", verdict.reason, latency: elapsed, observed: .mtu(facts))
    }

    /// The verdict on one report: reachable, black hole, smaller, or as expected.
    static func verdict(_ report: PathMTUReport, expected: Int) -> (fault: ProbeFault?, reason: String) {
        guard let mtu = report.largestAnswered else {
            return (.unreachable, "no echo reply even to a \(PathMTUProbe.floor)-byte packet")
        }
        // A search the timeout cut short knows a range, not the size: say so.
        let range = report.undecided(expected: expected).map { " (the search was cut short by the timeout: the path MTU is \($0.lowerBound)…\($0.upperBound))" } ?? ""
        if report.isBlackHole, let silent = report.smallestSilent {
            let note = mtu < expected ? "" : " (at the expected size)"
            return (.mtuBlackHole, "black hole: packets of \(silent) bytes and more vanish with no \"too big\"; "
                + "\(mtu) bytes get through\(note), expected \(expected)\(range)")
        }
        if mtu < expected, report.cutShort, report.smallestFailing == nil {
            return (.timeout, "path MTU search cut short by the timeout: \(mtu) bytes get through, larger sizes undecided; "
                + "expected \(expected) (raise probes.mtu.timeout)")
        }
        if mtu < expected {
            let by = report.reportedBy.map { " (\"fragmentation needed\" from \($0))" } ?? ""
            return (.mtuSmaller, "path MTU \(mtu) is below the expected \(expected)\(by)\(range)")
        }
        return (nil, "path MTU \(mtu) as expected")
    }
}
