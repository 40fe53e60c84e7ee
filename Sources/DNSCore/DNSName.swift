/// A validated DNS name: lower-case ASCII, no trailing dot, at most 253 octets, labels of
/// 1–63 octets made of letters, digits, `-` and `_` (no label starts or ends with `-`), and
/// `*` only as the whole first label. Parsing is the one place a bad name is refused.
public struct DNSName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The canonical text: lower-case, without the trailing dot.
    public let text: String

    /// Parses `raw`; throws `DNSNameError` naming the offending part.
    public init(_ raw: String) throws(DNSNameError) {
        var s = Substring(raw)
        if s.hasSuffix(".") { s = s.dropLast() }
        guard !s.isEmpty else { throw DNSNameError(name: raw, reason: "empty name") }
        let lower = s.lowercased()
        guard lower.utf8.count <= 253 else {
            throw DNSNameError(name: raw, reason: "longer than 253 octets")
        }
        let labels = lower.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if label == "*" {
                guard index == 0, labels.count > 1 else {
                    throw DNSNameError(name: raw, reason: "a wildcard is allowed only as the whole first label")
                }
                continue
            }
            try Self.check(label: label, in: raw)
        }
        text = lower
    }

    private static func check(label: Substring, in raw: String) throws(DNSNameError) {
        guard !label.isEmpty else { throw DNSNameError(name: raw, reason: "empty label") }
        guard label.utf8.count <= 63 else {
            throw DNSNameError(name: raw, reason: "label '\(label)' is longer than 63 octets")
        }
        for byte in label.utf8 {
            let ok = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2d || byte == 0x5f
            guard ok else {
                throw DNSNameError(name: raw, reason: "label '\(label)' holds a character not allowed in a DNS name")
            }
        }
        if label.utf8.first == 0x2d || label.utf8.last == 0x2d {
            throw DNSNameError(name: raw, reason: "label '\(label)' starts or ends with '-'")
        }
    }

    /// Whether the first label is `*`.
    public var isWildcard: Bool { text.hasPrefix("*.") }

    /// The labels, left to right.
    public var labels: [Substring] { text.split(separator: ".") }

    /// Whether `self` equals `domain` or lies below it (`a.example.com` is in `example.com`).
    public func isSubdomain(of domain: DNSName) -> Bool {
        text == domain.text || text.hasSuffix("." + domain.text)
    }

    public var description: String { text }

    public static func < (lhs: DNSName, rhs: DNSName) -> Bool { lhs.text < rhs.text }
}

/// Why a DNS name was refused.
public struct DNSNameError: Error, Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let reason: String
    public var description: String { "invalid DNS name '\(name)': \(reason)" }
}

extension DNSName: Codable {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
