/// When the echoes of one `ICMPProbe.ping` leave: `count` requests `spacing` apart, all sent
/// within the first half of the timeout, so every echo has at least half the timeout to come
/// back and a round trip up to timeout/2 is measured on each one, never counted lost.
///
/// Clamping, when `count × spacing` exceeds half the timeout: the spacing shrinks to
/// (timeout/2)/count, the count is kept (loss needs samples); the spacing never goes below
/// `minimumSpacing`, and the echoes that would not fit at that spacing are not sent (`count` is
/// lowered). `count` is at most 65535 (the 16-bit sequence number must not wrap).
public struct EchoSchedule: Sendable, Hashable {
    /// Echo requests to send.
    public var count: Int
    /// The spacing used: the one asked for, or shorter when clamped.
    public var spacing: Duration
    /// What the caller asked for.
    public var requestedCount: Int
    public var requestedSpacing: Duration

    public static let minimumSpacing = Duration.milliseconds(1)
    public static let maximumCount = 65535

    public init(count: Int, spacing: Duration, timeout: Duration) {
        requestedCount = count
        requestedSpacing = spacing
        let window = max(timeout, .zero) / 2
        var count = min(max(1, count), Self.maximumCount)
        var spacing = max(spacing, .zero)
        if spacing * count > window {
            spacing = max(window / count, Self.minimumSpacing)
            // At the minimum spacing only the echoes that fit in the window go (one at least).
            count = min(count, max(1, Int(window / spacing)))
        }
        self.count = count
        self.spacing = spacing
    }

    /// Whether the schedule differs from the request, and how (nil when it does not).
    public var clamping: String? {
        guard count != requestedCount || spacing != requestedSpacing else { return nil }
        return "\(requestedCount) echoes \(requestedSpacing) apart do not fit in half the timeout: "
            + "sent \(count), \(spacing) apart"
    }
}

/// The result of a series of echo requests to one address.
///
/// A reply that arrives after its echo's spacing (when the next echo was already due) but
/// before the timeout is late, not lost: it counts in `received` and in `late`, and its round
/// trip is kept. Lost means no reply by the timeout.
public struct PingResult: Sendable, Hashable {
    public var sent: Int
    /// Replies received by the timeout, late ones included (each echo counted once).
    public var received: Int
    /// Round-trip times of every reply (late ones too), in the order they arrived.
    public var roundTrips: [Duration]
    /// The socket kind that was used.
    public var socketKind: ICMPSocketKind
    /// The last error the network reported (an ICMP unreachable, a failed ARP), if any.
    public var lastError: String?
    /// Replies that came after their spacing but before the timeout (a part of `received`).
    public var late: Int
    /// How the echoes were sent (count and spacing after clamping to the timeout).
    public var schedule: EchoSchedule?

    public init(sent: Int, received: Int, roundTrips: [Duration], socketKind: ICMPSocketKind,
                lastError: String? = nil, late: Int = 0, schedule: EchoSchedule? = nil) {
        self.sent = sent
        self.received = received
        self.roundTrips = roundTrips
        self.socketKind = socketKind
        self.lastError = lastError
        self.late = late
        self.schedule = schedule
    }

    /// Lost share, 0…1 (late replies are not lost).
    public var loss: Double { sent == 0 ? 0 : Double(sent - received) / Double(sent) }

    /// Lost share in percent, 0…100.
    public var lossPercent: Double { loss * 100 }

    public var minRoundTrip: Duration? { roundTrips.min() }

    public var maxRoundTrip: Duration? { roundTrips.max() }

    /// The median round trip (the upper one of an even count), nil without replies.
    public var medianRoundTrip: Duration? { roundTripPercentile(50) }

    /// The 90th percentile round trip, nil without replies.
    public var p90RoundTrip: Duration? { roundTripPercentile(90) }

    /// The `percent`th percentile of the round trips by the nearest-rank method on the sorted
    /// times, index ⌊n·p/100⌋ (clamped to the last): the median of 3 is the 2nd, p90 of 20 the
    /// 19th, p90 of 10 the largest. Nil without replies.
    public func roundTripPercentile(_ percent: Int) -> Duration? {
        let sorted = roundTrips.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, sorted.count * max(0, percent) / 100)]
    }
}

/// ICMP echo ("ping") over the unprivileged socket where `net.ipv4.ping_group_range`
/// allows it, otherwise a raw socket (CAP_NET_RAW). IPv4 only.
public enum ICMPProbe {
    /// Sends `count` echo requests `spacing` apart (clamped as `EchoSchedule` says so that each
    /// has half the timeout to answer) and collects replies until all are in or `timeout` has
    /// passed since the start. Throws only when no ICMP socket can be opened, naming what is
    /// missing (the sysctl range, or CAP_NET_RAW).
    public static func ping(
        _ address: IPAddress, count: Int = 3, spacing: Duration = .milliseconds(100), timeout: Duration
    ) async throws(ICMPUnavailableError) -> PingResult {
        let outcome = await Blocking.run("netagent-icmp") { () -> Result<PingResult, ICMPUnavailableError> in
            Result { () throws(ICMPUnavailableError) in try pingBlocking(address, count: count, spacing: spacing, timeout: timeout) }
        }
        return try outcome.get()
    }

    static func pingBlocking(_ address: IPAddress, count: Int, spacing: Duration, timeout: Duration) throws(ICMPUnavailableError) -> PingResult {
        let socket = try ICMPSocket(to: address, probeMTU: false)
        let schedule = EchoSchedule(count: count, spacing: spacing, timeout: timeout)
        let start = ContinuousClock.now
        let deadline = start + timeout
        var result = PingResult(sent: 0, received: 0, roundTrips: [], socketKind: socket.kind, schedule: schedule)
        // When each echo left, by sequence number - 1; nil once it is answered or failed locally.
        var pending: [ContinuousClock.Instant?] = []
        var open = 0
        while ContinuousClock.now < deadline {
            let nextSend = start + schedule.spacing * pending.count
            if pending.count < schedule.count, ContinuousClock.now >= nextSend {
                let sequence = UInt16(truncatingIfNeeded: pending.count + 1)
                let sentAt = ContinuousClock.now
                result.sent += 1
                if let local = socket.sendEcho(sequence: sequence, packetSize: 84) {
                    result.lastError = Self.describe(local)
                    pending.append(nil)
                } else {
                    pending.append(sentAt)
                    open += 1
                }
                continue
            }
            if pending.count == schedule.count && open == 0 { break }
            let wakeUp = pending.count < schedule.count ? min(nextSend, deadline) : deadline
            switch socket.nextEvent(until: wakeUp) {
            case .reply(let sequence, let at)?:
                let index = Int(sequence) - 1
                guard pending.indices.contains(index), let sentAt = pending[index] else { continue }   // a duplicate
                pending[index] = nil
                open -= 1
                let roundTrip = at - sentAt
                result.received += 1
                result.roundTrips.append(roundTrip)
                if roundTrip > schedule.spacing { result.late += 1 }
            case .error(let sequence, let outcome)?:
                // That echo will not be answered (it is lost); the error says why.
                result.lastError = Self.describe(outcome)
                if let index = sequence.map({ Int($0) - 1 }), pending.indices.contains(index), pending[index] != nil {
                    pending[index] = nil
                    open -= 1
                }
            case nil:
                continue
            }
        }
        return result
    }

    private static func describe(_ outcome: EchoOutcome) -> String {
        switch outcome {
        case .tooBig(let mtu, let from): "packet too big for MTU \(mtu) (reported by \(from))"
        case .unreachable(let text): text
        case .reply, .timeout: "\(outcome)"
        }
    }
}
