import Glibc

/// The result of a series of echo requests to one address.
public struct PingResult: Sendable, Hashable {
    public var sent: Int
    public var received: Int
    /// Round-trip times of the replies, in order.
    public var roundTrips: [Duration]
    /// The socket kind that was used.
    public var socketKind: ICMPSocketKind
    /// The last error the network reported (an ICMP unreachable, a failed ARP), if any.
    public var lastError: String?

    /// Lost share, 0…1.
    public var loss: Double { sent == 0 ? 0 : Double(sent - received) / Double(sent) }

    /// The median round trip, nil without replies.
    public var medianRoundTrip: Duration? {
        let sorted = roundTrips.sorted()
        return sorted.isEmpty ? nil : sorted[sorted.count / 2]
    }
}

/// ICMP echo ("ping") over the unprivileged socket where `net.ipv4.ping_group_range`
/// allows it, otherwise a raw socket (CAP_NET_RAW). IPv4 only.
public enum ICMPProbe {
    /// Sends `count` echo requests `spacing` apart and waits for replies until `timeout` has
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
        let deadline = ContinuousClock.now + timeout
        var result = PingResult(sent: 0, received: 0, roundTrips: [], socketKind: socket.kind)
        let total = max(1, count)
        for index in 0..<total {
            let sequence = UInt16(truncatingIfNeeded: index + 1)
            let sentAt = ContinuousClock.now
            guard sentAt < deadline else { break }
            result.sent += 1
            if let local = socket.sendEcho(sequence: sequence, packetSize: 84) {
                result.lastError = "\(local)"
                continue
            }
            // Wait for this reply until the next send is due (the last one: until the deadline).
            let until = index == total - 1 ? deadline : min(deadline, sentAt + spacing)
            switch socket.await(sequence: sequence, sentAt: sentAt, until: until) {
            case .reply(let rtt):
                result.received += 1
                result.roundTrips.append(rtt)
            case .tooBig(let mtu, let from):
                result.lastError = "packet too big for MTU \(mtu) (reported by \(from))"
            case .unreachable(let text):
                result.lastError = text
            case .timeout:
                break
            }
            let next = sentAt + spacing
            if index < total - 1, next > .now, next < deadline { Sleep.until(next) }
        }
        return result
    }
}

private enum Sleep {
    static func until(_ instant: ContinuousClock.Instant) {
        let left = instant - .now
        guard left > .zero else { return }
        let (seconds, atto) = left.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(atto / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
