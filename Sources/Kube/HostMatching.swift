import DNSCore

/// Gateway API hostname rules as external-dns applies them (`gwHost`, `gwMatchingHost`).
public enum HostMatching {
    /// The canonical form of a route or listener host, or why it is refused. The empty string
    /// is valid (it means "any host"). An IP literal, or anything that is not an RFC 1123
    /// name once a leading `*.` is removed, is invalid. Lower-casing is ASCII only.
    public static func canonical(_ host: String) -> Result<String, HostnameProblem> {
        if host.isEmpty { return .success("") }
        if IPText.isIP(host) { return .failure(.init(host: host, reason: "an IP address is not a hostname")) }
        let bare = host.hasPrefix("*.") ? host.dropFirst(2) : Substring(host)
        if let reason = rfc1123Problem(bare) { return .failure(.init(host: host, reason: reason)) }
        return .success(asciiLowercased(host))
    }

    /// The most specific host both sides accept, or nil when they do not overlap. Either side
    /// may be empty ("any"); a `*.suffix` wildcard matches names ending in `.suffix` at any
    /// depth but never `suffix` itself. Both arguments must already be canonical.
    public static func intersection(listener: String, route: String) -> String? {
        if listener.isEmpty { return route }
        if route.isEmpty || listener == route { return listener }
        var (wide, narrow) = (listener, route)
        // The shorter name (or the wildcard one, at equal length) must be the wildcard.
        if narrow.utf8.count < wide.utf8.count || (narrow.utf8.count == wide.utf8.count && narrow.hasPrefix("*.")) {
            swap(&wide, &narrow)
        }
        if wide.hasPrefix("*."), narrow.hasSuffix(wide.dropFirst()) { return narrow }
        return nil
    }

    /// Why `name` is not an RFC 1123 domain (labels of 1–63 letters, digits and inner hyphens,
    /// 255 octets in all), or nil when it is one.
    static func rfc1123Problem(_ name: Substring) -> String? {
        let bytes = name.utf8
        if bytes.isEmpty || bytes.count > 255 { return "not 1 to 255 characters long" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            let u = label.utf8
            guard let first = u.first, let last = u.last, u.count <= 63 else {
                return "label '\(label)' is not 1 to 63 characters long"
            }
            guard isAlphaNumeric(first), isAlphaNumeric(last) else {
                return "label '\(label)' must start and end with a letter or digit"
            }
            if u.contains(where: { !isAlphaNumeric($0) && $0 != UInt8(ascii: "-") }) {
                return "label '\(label)' holds a character other than letters, digits and '-'"
            }
        }
        return nil
    }

    private static func isAlphaNumeric(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)
    }

    static func asciiLowercased(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) else { return s }
        return String(decoding: s.utf8.map { ($0 >= 0x41 && $0 <= 0x5a) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// A hostname that was refused, and why.
public struct HostnameProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var reason: String
    public var description: String { "invalid hostname '\(host)': \(reason)" }
}
