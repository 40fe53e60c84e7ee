/// Textual IP address helpers for the planner: recognising addresses and writing IPv6 in its
/// one canonical form (RFC 5952), so `2001:DB8:0::1` and `2001:db8::1` compare equal.
/// Pure string work; never fails, answers `nil`/`false` for text that is not an address.
public enum IPText {
    /// Whether `text` is a dotted-quad IPv4 address (four decimal octets, each 0–255).
    public static func isIPv4(_ text: some StringProtocol) -> Bool {
        ipv4Octets(text) != nil
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    public static func isIP(_ text: some StringProtocol) -> Bool {
        isIPv4(text) || ipv6Groups(text) != nil
    }

    /// The RFC 5952 form of an IPv6 address (lower-case hex, no leading zeros, the longest run
    /// of two or more zero groups written `::`), or `nil` when `text` is not IPv6.
    public static func canonicalIPv6(_ text: some StringProtocol) -> String? {
        guard let groups = ipv6Groups(text) else { return nil }
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var out = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                out += "::"
                index += bestLength
                continue
            }
            if !out.isEmpty, !out.hasSuffix(":") { out += ":" }
            out += String(groups[index], radix: 16)
            index += 1
        }
        return out
    }

    /// The special-purpose range `text` falls in when nobody on the Internet can reach an
    /// address there — private (RFC 1918), shared/CGNAT (RFC 6598), loopback, link-local,
    /// unique-local IPv6 (RFC 4193), unspecified — or nil for a public address or non-address.
    /// Names follow the IANA special-purpose address registries.
    public static func unreachableRange(_ text: some StringProtocol) -> String? {
        if let o = ipv4Octets(text) {
            switch (o[0], o[1]) {
            case (10, _): return "private (10.0.0.0/8)"
            case (172, 16...31): return "private (172.16.0.0/12)"
            case (192, 168): return "private (192.168.0.0/16)"
            case (100, 64...127): return "shared address space (100.64.0.0/10)"
            case (127, _): return "loopback (127.0.0.0/8)"
            case (169, 254): return "link-local (169.254.0.0/16)"
            case (0, _): return "\"this network\" (0.0.0.0/8)"
            default: return nil
            }
        }
        guard let g = ipv6Groups(text) else { return nil }
        if g.allSatisfy({ $0 == 0 }) { return "unspecified (::)" }
        if g[0..<7].allSatisfy({ $0 == 0 }) && g[7] == 1 { return "loopback (::1)" }
        if g[0] & 0xfe00 == 0xfc00 { return "unique local (fc00::/7)" }
        if g[0] & 0xffc0 == 0xfe80 { return "link-local (fe80::/10)" }
        if g[0..<5].allSatisfy({ $0 == 0 }) && g[5] == 0xffff {
            return unreachableRange("\(g[6] >> 8).\(g[6] & 0xff).\(g[7] >> 8).\(g[7] & 0xff)")
        }
        return nil
    }

    private static func ipv4Octets(_ text: some StringProtocol) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part) else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// Parses IPv6 text (with `::` and an optional trailing dotted quad) into eight groups.
    private static func ipv6Groups(_ text: some StringProtocol) -> [UInt16]? {
        guard text.contains(":") else { return nil }
        let string = String(text)
        func parse(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var groups: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowIPv4Tail, index == pieces.count - 1, piece.contains(".") {
                    guard let octets = ipv4Octets(piece) else { return nil }
                    groups.append(UInt16(octets[0]) << 8 | UInt16(octets[1]))
                    groups.append(UInt16(octets[2]) << 8 | UInt16(octets[3]))
                    continue
                }
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                groups.append(value)
            }
            return groups
        }
        guard let gap = string.firstRange(of: "::") else {
            guard let groups = parse(string, allowIPv4Tail: true), groups.count == 8 else { return nil }
            return groups
        }
        let tailText = String(string[gap.upperBound...])
        guard tailText.firstRange(of: "::") == nil,
              let head = parse(String(string[..<gap.lowerBound]), allowIPv4Tail: false),
              let tail = parse(tailText, allowIPv4Tail: true),
              head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
