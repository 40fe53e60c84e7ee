/// What path-MTU probing found on the way to one address (sizes are whole IP packets).
public struct PathMTUReport: Sendable, Hashable {
    /// The largest packet that got an echo reply; nil when even the smallest got none.
    public var largestAnswered: Int?
    /// The smallest size probed that went unanswered with no "too big" for it: above the
    /// largest answered size packets vanish silently (a black hole) when this is set.
    public var smallestSilent: Int?
    /// The MTU a router (or this host's interface) reported in a "fragmentation needed".
    public var reportedMTU: Int?
    /// Who reported `reportedMTU`: a router's address or "this host".
    public var reportedBy: String?
    /// The kernel's path MTU for the route when probing started (IP_MTU: the interface MTU, or a
    /// cached smaller one learnt from an earlier "too big").
    public var routeMTU: Int
    public var probesSent: Int
    public var socketKind: ICMPSocketKind
    /// Whether the target answered at all (a minimum-size echo).
    public var reachable: Bool { largestAnswered != nil }
    /// Silent drops above a size with no "too big" message.
    public var isBlackHole: Bool { smallestSilent != nil }
}

/// Path MTU discovery by don't-fragment probing: a connected ICMP echo socket with
/// IP_MTU_DISCOVER = IP_PMTUDISC_PROBE (every probe leaves, whatever the kernel cached) and
/// IP_RECVERR (a router's "fragmentation needed" arrives on the error queue with the next
/// hop's MTU), and a binary search over the packet size between 576 and the route MTU.
public enum PathMTUProbe {
    /// Probes `address` up to `ceiling` bytes (default: the route's MTU). Each probe waits
    /// `probeWait` for its reply and a silent one is sent twice; everything ends by `deadline`.
    /// Throws only when no ICMP socket can be opened.
    public static func discover(
        _ address: IPAddress, ceiling: Int? = nil, probeWait: Duration = .milliseconds(250),
        deadline: ContinuousClock.Instant
    ) async throws(ICMPUnavailableError) -> PathMTUReport {
        let outcome = await Blocking.run("netagent-pmtu") { () -> Result<PathMTUReport, ICMPUnavailableError> in
            Result { () throws(ICMPUnavailableError) in
                try discoverBlocking(address, ceiling: ceiling, probeWait: probeWait, deadline: deadline)
            }
        }
        return try outcome.get()
    }

    /// The smallest packet probed (the IPv4 minimum every host must accept).
    public static let floor = 576

    static func discoverBlocking(
        _ address: IPAddress, ceiling: Int?, probeWait: Duration, deadline: ContinuousClock.Instant
    ) throws(ICMPUnavailableError) -> PathMTUReport {
        let socket = try ICMPSocket(to: address, probeMTU: true)
        let routeMTU = socket.routeMTU
        var sequence: UInt16 = 0
        var sent = 0
        func probe(_ size: Int) -> EchoOutcome {
            for _ in 0..<2 {
                guard ContinuousClock.now < deadline else { return .timeout }
                sequence &+= 1
                sent += 1
                let sentAt = ContinuousClock.now
                if let local = socket.sendEcho(sequence: sequence, packetSize: size) { return local }
                let outcome = socket.await(sequence: sequence, sentAt: sentAt, until: min(deadline, sentAt + probeWait))
                if outcome != .timeout { return outcome }
            }
            return .timeout
        }
        var report = search(routeMTU: routeMTU, ceiling: ceiling, kind: socket.kind, probe: probe)
        report.probesSent = sent
        return report
    }

    private static func search(routeMTU: Int, ceiling: Int?, kind: ICMPSocketKind, probe: (Int) -> EchoOutcome) -> PathMTUReport {
        var report = PathMTUReport(routeMTU: routeMTU, probesSent: 0, socketKind: kind)
        // 1. Is the target there at all?
        guard case .reply = probe(floor) else { return report }
        report.largestAnswered = floor
        // 2. The top: the route MTU, lowered by each "too big".
        // The kernel's cached path MTU is not trusted as a ceiling: PROBE mode sends past it.
        var high = max(ceiling ?? routeMTU, floor)
        let low = floor
        for _ in 0..<4 {
            switch probe(high) {
            case .reply:
                report.largestAnswered = high
                return report
            case .tooBig(let mtu, let from):
                report.reportedMTU = mtu
                report.reportedBy = from
                guard mtu < high, mtu > low else { return bisect(&report, low: low, high: high, silent: false, probe: probe) }
                high = mtu
            case .unreachable:
                return bisect(&report, low: low, high: high, silent: false, probe: probe)
            case .timeout:
                return bisect(&report, low: low, high: high, silent: true, probe: probe)
            }
        }
        return bisect(&report, low: low, high: high, silent: false, probe: probe)
    }

    /// Binary search between `low` (answered) and `high` (not answered).
    /// `silent`: `high` itself went unanswered without a "too big".
    private static func bisect(
        _ report: inout PathMTUReport, low: Int, high: Int, silent: Bool, probe: (Int) -> EchoOutcome
    ) -> PathMTUReport {
        var low = low, high = high, silent = silent
        while high - low > 1 {
            let middle = (low + high) / 2
            switch probe(middle) {
            case .reply:
                low = middle
            case .tooBig(let mtu, let from):
                report.reportedMTU = mtu
                report.reportedBy = from
                high = middle
                silent = false
            case .unreachable:
                high = middle
                silent = false
            case .timeout:
                high = middle
                silent = true
            }
        }
        report.largestAnswered = low
        // Silence right above the answered size, with no "too big" for it: a black hole.
        report.smallestSilent = silent ? high : nil
        return report
    }
}
