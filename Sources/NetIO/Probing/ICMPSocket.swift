import Glibc

/// Which kind of ICMP socket a probe used.
public enum ICMPSocketKind: String, Sendable, Hashable {
    /// `socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`, allowed by `net.ipv4.ping_group_range`.
    case unprivileged
    /// `SOCK_RAW`, which needs CAP_NET_RAW.
    case raw
}

/// Neither ICMP socket could be opened; `message` says which permission is missing.
public struct ICMPUnavailableError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// What came back for one echo request.
enum EchoOutcome: Sendable, Hashable {
    case reply(Duration)
    /// "Fragmentation needed" from a router, or a local EMSGSIZE: packets above `mtu` do not fit.
    case tooBig(mtu: Int, from: String)
    /// An ICMP error other than too-big, or a local error (ARP failed: EHOSTUNREACH).
    case unreachable(String)
    case timeout
}

/// A connected IPv4 ICMP echo socket with the error queue on (IP_RECVERR): the unprivileged
/// kind when `ping_group_range` allows it, else a raw socket. Used by one thread at a time.
///
/// `@unchecked Sendable` is not claimed: it lives on the thread of one `Blocking.run`.
final class ICMPSocket {
    let fd: Int32
    let kind: ICMPSocketKind
    let identifier: UInt16
    private let target: IPAddress

    // Linux values (bits/in.h, linux/errqueue.h) not all imported by Glibc.
    static let ipMTUDiscover: Int32 = 10, ipRecvErr: Int32 = 11, ipMTU: Int32 = 14, pmtuProbe: Int32 = 3
    static let originLocal: UInt8 = 1, originICMP: UInt8 = 2

    /// - Parameter probeMTU: set IP_PMTUDISC_PROBE (the DF bit on every packet, the kernel's
    ///   cached path MTU ignored) instead of the default.
    init(to target: IPAddress, probeMTU: Bool) throws(ICMPUnavailableError) {
        guard target.isIPv4 else { throw ICMPUnavailableError(message: "ICMP probes support IPv4 targets only (\(target))") }
        let flags = Int32(SOCK_CLOEXEC.rawValue)
        var fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | flags, Int32(IPPROTO_ICMP))
        var kind = ICMPSocketKind.unprivileged
        if fd < 0 {
            let dgramError = errno
            fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | flags, Int32(IPPROTO_ICMP))
            kind = .raw
            if fd < 0 {
                let rawError = errno
                throw ICMPUnavailableError(message:
                    "no ICMP socket: the unprivileged one was refused (\(errnoText(dgramError)); "
                    + "net.ipv4.ping_group_range must include this process's group) and the raw one too "
                    + "(\(errnoText(rawError)); it needs CAP_NET_RAW)")
            }
        }
        self.fd = fd
        self.kind = kind
        self.target = target
        identifier = UInt16(truncatingIfNeeded: getpid() ^ Int32(truncatingIfNeeded: fd << 8)) | 1
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_IP), Self.ipRecvErr, &on, socklen_t(MemoryLayout<Int32>.size))
        if probeMTU {
            var mode = Self.pmtuProbe
            _ = setsockopt(fd, Int32(IPPROTO_IP), Self.ipMTUDiscover, &mode, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = withSocketAddress(target, port: 0) { Glibc.connect(fd, $0, $1) }
    }

    deinit { close(fd) }

    /// The kernel's path MTU for the connected route (the outgoing interface's MTU at first).
    var routeMTU: Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, Int32(IPPROTO_IP), Self.ipMTU, &value, &length) == 0 else { return 0 }
        return Int(value)
    }

    /// Sends an echo request whose IP packet is `packetSize` bytes (20 IP + 8 ICMP + payload).
    /// Returns nil when sent, or the outcome decided locally (too big for the interface).
    /// Queued errors are left for `nextEvent`, which names the echo each is about: several
    /// echoes can be in flight.
    func sendEcho(sequence: UInt16, packetSize: Int) -> EchoOutcome? {
        var packet = [UInt8](repeating: 0, count: max(8, packetSize - 20))
        packet[0] = 8
        packet[4] = UInt8(identifier >> 8)
        packet[5] = UInt8(identifier & 0xff)
        packet[6] = UInt8(sequence >> 8)
        packet[7] = UInt8(sequence & 0xff)
        for index in 8..<packet.count { packet[index] = UInt8(truncatingIfNeeded: index) }
        let sum = Self.checksum(packet)
        packet[2] = UInt8(sum >> 8)
        packet[3] = UInt8(sum & 0xff)
        let sent = packet.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if sent >= 0 { return nil }
        let code = errno
        // A local failure also queues an error entry: drop it so the next probe does not read it.
        drainErrorQueue()
        if code == EMSGSIZE { return .tooBig(mtu: routeMTU, from: "this host") }
        return .unreachable("send: \(errnoText(code))")
    }

    /// What arrived on the socket: an echo reply (its sequence number and arrival time) or an
    /// error-queue entry (about the echo with that sequence number, nil when the kernel returned
    /// too little of the packet to tell).
    enum Event {
        case reply(sequence: UInt16, at: ContinuousClock.Instant)
        case error(sequence: UInt16?, EchoOutcome)
    }

    /// The next reply or error for any echo this socket sent; nil once `deadline` has passed.
    func nextEvent(until deadline: ContinuousClock.Instant) -> Event? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            entry.revents = 0
            let ready = poll(&entry, 1, pollMilliseconds(until: deadline))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return nil }
            if entry.revents & Int16(POLLERR) != 0, let error = readErrorQueue() { return error }
            if entry.revents & Int16(POLLIN) != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count > 0, let sequence = replySequence(buffer[0..<count]) { return .reply(sequence: sequence, at: .now) }
            }
        }
    }

    /// Throws away queued errors (a local send failure queues one that names no echo).
    private func drainErrorQueue() {
        var scratch = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<64 {
            let count = scratch.withUnsafeMutableBytes { bytes in
                recv(fd, bytes.baseAddress, bytes.count, Int32(MSG_ERRQUEUE) | Int32(MSG_DONTWAIT))
            }
            if count < 0 { return }
        }
    }

    /// The sequence number of an echo reply to this socket; nil for any other packet.
    private func replySequence(_ bytes: ArraySlice<UInt8>) -> UInt16? {
        var icmp = bytes
        if kind == .raw {
            guard let first = bytes.first else { return nil }
            icmp = bytes.dropFirst(Int(first & 0x0f) * 4)
        }
        guard icmp.count >= 8 else { return nil }
        let start = icmp.startIndex
        let id = UInt16(icmp[start + 4]) << 8 | UInt16(icmp[start + 5])
        let seq = UInt16(icmp[start + 6]) << 8 | UInt16(icmp[start + 7])
        // The kernel sets and checks the identifier of an unprivileged socket itself.
        guard icmp[start] == 0, kind == .unprivileged || id == identifier else { return nil }
        return seq
    }

    /// Reads one entry of the error queue (IP_RECVERR) with the sequence number of the echo it is
    /// about; nil when the queue held nothing this socket understands.
    private func readErrorQueue() -> Event? {
        var data = [UInt8](repeating: 0, count: 2048)
        var control = [UInt8](repeating: 0, count: 512)
        let (count, controlLength): (Int, Int) = data.withUnsafeMutableBytes { dataBytes in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    let count = recvmsg(fd, &message, Int32(MSG_ERRQUEUE) | Int32(MSG_DONTWAIT))
                    return (count, Int(message.msg_controllen))
                }
            }
        }
        guard count >= 0 else { return nil }
        // The returned payload is the packet we sent: check its sequence number when present.
        var icmp = data[0..<count]
        if kind == .raw, let first = icmp.first, first >> 4 == 4 { icmp = icmp.dropFirst(Int(first & 0x0f) * 4) }
        let sequence = icmp.count >= 8 ? UInt16(icmp[icmp.startIndex + 6]) << 8 | UInt16(icmp[icmp.startIndex + 7]) : nil
        return Self.parseExtendedError(control[0..<controlLength]).map { .error(sequence: sequence, $0) }
    }

    /// Walks the control messages (cmsghdr: size_t len, int level, int type, data aligned to 8)
    /// to the `sock_extended_err` and its offender address.
    static func parseExtendedError(_ control: ArraySlice<UInt8>) -> EchoOutcome? {
        let bytes = Array(control)
        var offset = 0
        let header = MemoryLayout<Int>.size + 8
        while offset + header <= bytes.count {
            let length = Int(readLE(bytes, offset, MemoryLayout<Int>.size))
            let level = Int32(readLE(bytes, offset + MemoryLayout<Int>.size, 4))
            let type = Int32(readLE(bytes, offset + MemoryLayout<Int>.size + 4, 4))
            guard length >= header, offset + length <= bytes.count else { return nil }
            if level == Int32(IPPROTO_IP) && type == ipRecvErr && length >= header + 16 {
                let base = offset + header
                let errorNumber = Int32(readLE(bytes, base, 4))
                let origin = bytes[base + 4], icmpType = bytes[base + 5], icmpCode = bytes[base + 6]
                let info = Int(readLE(bytes, base + 8, 4))
                var from = "this host"
                if length >= header + 16 + 8, bytes[base + 16] == UInt8(AF_INET & 0xff) {
                    from = IPAddress(bytes: Array(bytes[(base + 20)..<(base + 24)]))?.description ?? from
                }
                if errorNumber == EMSGSIZE { return .tooBig(mtu: info, from: from) }
                if origin == originICMP {
                    if icmpType == 3 && icmpCode == 4 { return .tooBig(mtu: info, from: from) }
                    return .unreachable("ICMP type \(icmpType) code \(icmpCode) from \(from): \(errnoText(errorNumber).lowercased())")
                }
                return .unreachable("\(errnoText(errorNumber).lowercased()) (reported by \(from))")
            }
            offset += (length + 7) & ~7
        }
        return nil
    }

    private static func readLE(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
