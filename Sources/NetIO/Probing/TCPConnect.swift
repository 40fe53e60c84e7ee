import Glibc

/// The outcome of one TCP connect attempt.
public struct TCPConnectResult: Sendable, Hashable, CustomStringConvertible {
    /// What happened, told apart the way a person troubleshooting needs it.
    public enum Outcome: String, Sendable, Hashable {
        /// The three-way handshake completed.
        case connected
        /// A RST came back: the host is up, nothing listens on the port.
        case refused
        /// No answer before the deadline (a filtered port, a dead host, a stale ARP entry).
        case timeout
        /// The network said no route or no host (ICMP unreachable, or ARP went unanswered).
        case unreachable
        /// Anything else (a socket could not be made); `message` says what.
        case failed
    }

    public var outcome: Outcome
    /// From the SYN leaving to the outcome.
    public var latency: Duration
    /// The errno behind a failure, 0 when connected or timed out.
    public var errorNumber: Int32
    public var message: String

    public var description: String { "\(outcome.rawValue) after \(latency): \(message)" }
}

/// TCP connect probes: a non-blocking connect, poll for writability until the deadline,
/// then SO_ERROR. The socket is closed at once (no data is sent).
public enum TCPProbe {
    /// Connects to `address`:`port`, waiting at most `timeout`. Never throws: every failure is
    /// an outcome. Runs on its own thread, so the caller's task only awaits.
    public static func connect(to address: IPAddress, port: Int, timeout: Duration) async -> TCPConnectResult {
        await Blocking.run("netagent-tcp") { connectBlocking(to: address, port: port, timeout: timeout) }
    }

    static func connectBlocking(to address: IPAddress, port: Int, timeout: Duration) -> TCPConnectResult {
        let start = ContinuousClock.now
        let deadline = start + timeout
        func result(_ outcome: TCPConnectResult.Outcome, _ code: Int32, _ message: String) -> TCPConnectResult {
            TCPConnectResult(outcome: outcome, latency: .now - start, errorNumber: code, message: message)
        }
        let fd = socket(address.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return result(.failed, errno, "socket: \(errnoText(errno))") }
        defer { close(fd) }
        let started = withSocketAddress(address, port: port) { Glibc.connect(fd, $0, $1) }
        if started == 0 { return result(.connected, 0, "connected") }
        let code = errno
        guard code == EINPROGRESS else { return classify(code, result) }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while true {
            let ready = poll(&entry, 1, pollMilliseconds(until: deadline))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return result(.timeout, 0, "no answer within \(timeout)") }
            break
        }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) == 0 else {
            return result(.failed, errno, "getsockopt(SO_ERROR): \(errnoText(errno))")
        }
        if soError == 0 { return result(.connected, 0, "connected") }
        return classify(soError, result)
    }

    private static func classify(
        _ code: Int32, _ result: (TCPConnectResult.Outcome, Int32, String) -> TCPConnectResult
    ) -> TCPConnectResult {
        switch code {
        case ECONNREFUSED: result(.refused, code, "connection refused: nothing listens on the port")
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN: result(.unreachable, code, errnoText(code).lowercased())
        case ETIMEDOUT: result(.timeout, code, errnoText(code).lowercased())
        default: result(.failed, code, errnoText(code))
        }
    }
}
