import Foundation
import Glibc
import Synchronization

/// Free ports on 127.0.0.1, for simulators and tests that start servers.
public enum LoopbackPort {
    /// A port that was free a moment ago. It is chosen below the kernel's ephemeral range
    /// (`net.ipv4.ip_local_port_range`, 32768–60999 by default): a port from that range (what
    /// binding to port 0 gives) is also handed out as the source port of outgoing connections,
    /// so under many parallel connections it is often taken again before the server binds it.
    /// Ports are handed out in turn from a random place, so this process never gets the same
    /// port twice while a child it gave one to has yet to bind it (random picks did collide
    /// under a parallel test suite). Another process can still take the port in between;
    /// callers retry when the server fails to bind.
    public static func free(udp: Bool = false) throws(NetIOError) -> Int {
        if span > 64 {
            for _ in 0..<64 {
                let port = lowest + next.withLock { offset in
                    defer { offset &+= 1 }
                    return offset % span
                }
                if try boundPort(port, udp: udp) == port { return port }
            }
        }
        guard let port = try boundPort(0, udp: udp) else {
            throw NetIOError(kind: .setup, code: Int(EADDRINUSE), message: "no free port on 127.0.0.1")
        }
        return port
    }

    private static let lowest = 10_000
    /// How many ports lie between `lowest` and the ephemeral range, read once.
    private static let span = ephemeralRangeStart() - lowest
    /// The next port to try, as an offset from `lowest`; starts at a random place so that
    /// processes started together do not walk the same ports.
    private static let next = Mutex<Int>(Int.random(in: 0..<1_000_000))

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range`; 32768 when it cannot be read.
    public static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    }

    /// Binds a socket to 127.0.0.1:`port` (0: any), reads the port back and closes it; nil
    /// when the port is taken.
    private static func boundPort(_ port: Int, udp: Bool) throws(NetIOError) -> Int? {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetIOError(kind: .setup, code: Int(errno), message: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            if code == EADDRINUSE || code == EACCES { return nil }
            throw NetIOError(kind: .setup, code: Int(code), message: "bind: errno \(code)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
