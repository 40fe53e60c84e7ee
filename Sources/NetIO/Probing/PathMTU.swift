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
    /// The deadline passed before the search could pin the MTU to one size: the path MTU is
    /// at least `largestAnswered` and below `smallestFailing`, nothing more is known. A probe the
    /// deadline cut off is never taken for a silent drop.
    public var cutShort: Bool = false
    /// The smallest size known not to get through (silent or "too big" or unreachable); nil
    /// when every size probed got through or none above `largestAnswered` was decided.
    public var smallestFailing: Int?
    /// Search rounds (each sends several sizes at once and waits once).
    public var rounds: Int = 0
    /// Whether the target answered at all (a minimum-size echo).
    public var reachable: Bool { largestAnswered != nil }
    /// Silent drops above a size with no "too big" message.
    public var isBlackHole: Bool { smallestSilent != nil }
}

/// Path MTU discovery by don't-fragment probing: a connected ICMP echo socket with
/// IP_MTU_DISCOVER = IP_PMTUDISC_PROBE (every probe leaves, whatever the kernel cached) and
/// IP_RECVERR (a router's "fragmentation needed" arrives on the error queue with the next
/// hop's MTU), and a search over the packet size between 576 and the ceiling that ends on the
/// exact largest size that gets an answer.
///
/// The search sends up to `sizesPerRound` sizes at once (spread evenly over the open range,
/// the ceiling and any MTU a router reported among them) and waits once per round, so a black
/// hole, where every too-big size costs a full wait, is found in three or four rounds instead
/// of ten sequential waits: 576…1500 narrows to ~58 sizes, then ~4, then one. A size that
/// went unanswered is sent once more before it counts as silent (a lost echo is not a black
/// hole); a reply that comes late, during a later wait, still counts for its size.
public enum PathMTUProbe {
    /// Probes `address` up to `ceiling` bytes (default: the route's MTU). Each round waits
    /// `probeWait` plus twice the slowest round trip seen (`RoundProber`); everything ends by
    /// `deadline`, and a search the deadline cuts short says so (`PathMTUReport.cutShort`)
    /// instead of guessing. Throws only when no ICMP socket can be opened.
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

    /// Sizes sent together in one round.
    public static let sizesPerRound = 16

    static func discoverBlocking(
        _ address: IPAddress, ceiling: Int?, probeWait: Duration, deadline: ContinuousClock.Instant
    ) throws(ICMPUnavailableError) -> PathMTUReport {
        let socket = try ICMPSocket(to: address, probeMTU: true)
        var prober = RoundProber(socket: socket, probeWait: probeWait, deadline: deadline)
        var report = search(routeMTU: socket.routeMTU, ceiling: ceiling, kind: socket.kind) { sizes in prober.round(sizes) }
        report.probesSent = prober.sent
        return report
    }

    /// What one round found for each size it sent, and whether the deadline ended it early.
    struct RoundOutcome {
        var outcomes: [Int: EchoOutcome]
        var cutShort: Bool
    }

    /// The search over sizes, given a way to probe a set of sizes in one round.
    static func search(routeMTU: Int, ceiling: Int?, kind: ICMPSocketKind, round: ([Int]) -> RoundOutcome) -> PathMTUReport {
        var report = PathMTUReport(routeMTU: routeMTU, probesSent: 0, socketKind: kind)
        // Is the target there at all?
        let first = round([floor])
        guard case .reply? = first.outcomes[floor] else {
            report.cutShort = first.cutShort
            return report
        }
        // The kernel's cached path MTU is not trusted as a ceiling: PROBE mode sends past it.
        let top = max(ceiling ?? routeMTU, floor)
        var low = floor                        // the largest size that got an answer
        var failures: [Int: EchoOutcome] = [:] // sizes that did not (an answer later wins)
        var hints: Set<Int> = []               // MTUs routers reported, probed in the next round
        var high: Int? { failures.keys.filter { $0 > low }.min() }
        while low < (high ?? top + 1) - 1 {
            let limit = high ?? top + 1
            let sizes = spread(low: low, high: limit, count: sizesPerRound).union(hints.filter { $0 > low && $0 < limit })
            hints = []
            let result = round(sizes.sorted())
            report.rounds += 1
            for (size, outcome) in result.outcomes.sorted(by: { $0.key < $1.key }) {
                // A router that names itself wins over this host's own EMSGSIZE (the kernel
                // also queues one once it has learnt the router's MTU).
                if case .tooBig(let mtu, let from) = outcome, report.reportedBy == nil || report.reportedBy == "this host" {
                    report.reportedMTU = mtu
                    report.reportedBy = from
                }
                if case .tooBig(let mtu, _) = outcome, mtu > floor, mtu < size { hints.insert(mtu) }
                if case .reply = outcome { low = max(low, size) } else { failures[size] = outcome }
            }
            if result.cutShort {
                report.cutShort = true
                break
            }
        }
        report.largestAnswered = low
        report.smallestFailing = high
        // Silence (twice) above the answered size, with no "too big" for it: a black hole.
        if let high, failures[high] == .timeout { report.smallestSilent = high }
        return report
    }

    /// Up to `count` sizes spread evenly over the open range (low, high), always with high − 1.
    static func spread(low: Int, high: Int, count: Int) -> Set<Int> {
        guard high - low > 1 else { return [] }
        if high - low - 1 <= count { return Set((low + 1)..<high) }
        var sizes: Set<Int> = [high - 1]
        for index in 1..<count { sizes.insert(low + (high - low) * index / count) }
        return sizes
    }
}

extension EchoOutcome {
    var isFailure: Bool {
        switch self {
        case .reply: false
        case .tooBig, .unreachable, .timeout: true
        }
    }
}

/// Sends the sizes of one round together on one socket and collects their outcomes; the sizes
/// still silent after the wait are sent once more. Replies are matched by sequence number,
/// so one that comes late, during the next wait, counts for its size.
///
/// The wait follows the link: `probeWait` plus twice the slowest round trip seen so far, so a
/// slow link (800 ms) is not taken for a black hole; before any reply (the first round, the
/// minimum size) it is at least a quarter of the time left.
struct RoundProber {
    let socket: ICMPSocket
    let probeWait: Duration
    let deadline: ContinuousClock.Instant
    private(set) var sent = 0
    private var sequence: UInt16 = 0
    private var sizeOf: [UInt16: Int] = [:]
    private var sentAt: [UInt16: ContinuousClock.Instant] = [:]
    private var slowest: Duration?

    private var wait: Duration {
        guard let slowest else { return max(probeWait, (deadline - .now) / 4) }
        return probeWait + slowest * 2
    }

    init(socket: ICMPSocket, probeWait: Duration, deadline: ContinuousClock.Instant) {
        self.socket = socket
        self.probeWait = probeWait
        self.deadline = deadline
    }

    mutating func round(_ sizes: [Int]) -> PathMTUProbe.RoundOutcome {
        var outcomes: [Int: EchoOutcome] = [:]
        for attempt in 0..<2 {
            let silent = sizes.filter { outcomes[$0] == nil || (attempt > 0 && outcomes[$0] == .timeout) }
            guard !silent.isEmpty else { break }
            guard ContinuousClock.now < deadline else { return .init(outcomes: outcomes.filter { $0.value != .timeout }, cutShort: true) }
            for size in silent {
                sequence &+= 1
                sent += 1
                sizeOf[sequence] = size
                sentAt[sequence] = .now
                if let local = socket.sendEcho(sequence: sequence, packetSize: size) { outcomes[size] = local }
            }
            let until = min(deadline, ContinuousClock.now + wait)
            while sizes.contains(where: { outcomes[$0] == nil || outcomes[$0] == .timeout }),
                  let event = socket.nextEvent(until: until) {
                switch event {
                case .reply(let replied, let at):
                    guard let size = sizeOf[replied], let sent = sentAt[replied] else { continue }
                    outcomes[size] = .reply(at - sent)
                    slowest = max(slowest ?? .zero, at - sent)
                case .error(let about, let outcome):
                    guard let size = about.flatMap({ sizeOf[$0] }) else { continue }
                    if case .reply? = outcomes[size] { continue }
                    outcomes[size] = outcome
                }
            }
            for size in sizes where outcomes[size] == nil { outcomes[size] = .timeout }
            if until == deadline, sizes.contains(where: { outcomes[$0] == .timeout }) {
                // The deadline, not the full wait, ended this attempt: silence proves nothing.
                return .init(outcomes: outcomes.filter { $0.value != .timeout }, cutShort: true)
            }
        }
        return .init(outcomes: outcomes, cutShort: false)
    }
}
