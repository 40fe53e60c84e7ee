import Foundation
import Glibc

/// Runs blocking socket work off Swift's cooperative pool: each call gets its own short-lived
/// thread, and every body is bounded by its own deadline (poll with a timeout), so a dead
/// target costs one thread for at most its deadline and never starves other tasks.
enum Blocking {
    static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = name
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }
}

/// Milliseconds left until `deadline`, at least 0, for poll(2).
func pollMilliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
    let left = deadline - .now
    guard left > .zero else { return 0 }
    let (seconds, atto) = left.components
    return Int32(clamping: seconds * 1000 + atto / 1_000_000_000_000_000 + 1)
}

/// Calls `body` with a `sockaddr` for `address`:`port` (IPv4 or IPv6).
func withSocketAddress<R>(_ address: IPAddress, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    if address.isIPv4 {
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        withUnsafeMutableBytes(of: &storage.sin_addr) { $0.copyBytes(from: address.bytes) }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
    var storage = sockaddr_in6()
    storage.sin6_family = sa_family_t(AF_INET6)
    storage.sin6_port = UInt16(truncatingIfNeeded: port).bigEndian
    withUnsafeMutableBytes(of: &storage.sin6_addr) { $0.copyBytes(from: address.bytes) }
    return withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
    }
}

/// The C library's text for an errno value.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
