import Glibc

/// An IPv4 or IPv6 address, parsed by the C library's `inet_pton`, so only real addresses pass.
/// The static checks serve callers that only need to know whether text is an address.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nil when `text` is neither.
    public init?(_ text: String) {
        // inet_pton sees a C string: a NUL would end the text early and pass what precedes it.
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    /// An address from 4 (IPv4) or 16 (IPv6) network-order bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text (`inet_ntop`): `10.0.60.1`, `fd00::1`.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func isIPv4(_ text: String) -> Bool { IPAddress(text)?.isIPv4 == true }

    public static func isIPv6(_ text: String) -> Bool { IPAddress(text).map { !$0.isIPv4 } == true }

    public static func isValid(_ text: String) -> Bool { IPAddress(text) != nil }
}
