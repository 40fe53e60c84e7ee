public import NetIO

/// Why a configuration value could not be parsed; the reader adds file, path and line.
public struct ConfigValueError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A network in CIDR notation such as `10.0.60.0/24`; host bits must be zero.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address (host bits zero).
    public let network: IPAddress
    /// Prefix length: 0…32 for IPv4, 0…128 for IPv6.
    public let prefixLength: Int

    /// Parses `ADDRESS/PREFIX`; throws on a missing or out-of-range prefix or set host bits.
    public init(_ text: String) throws(ConfigValueError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw ConfigValueError("'\(text)' is not a CIDR (expected ADDRESS/PREFIX)") }
        guard let address = IPAddress(String(parts[0])) else {
            throw ConfigValueError("'\(text)' is not a CIDR: '\(parts[0])' is not an IP address")
        }
        let maxPrefix = address.bytes.count * 8
        guard let prefix = Int(parts[1]), (0...maxPrefix).contains(prefix) else {
            throw ConfigValueError("'\(text)' is not a CIDR: prefix must be 0…\(maxPrefix)")
        }
        let masked = CIDR.mask(address.bytes, prefix)
        guard masked == address.bytes else {
            let suggestion = IPAddress(bytes: masked).map { "\($0)/\(prefix)" } ?? "\(prefix)"
            throw ConfigValueError("'\(text)' has host bits set; the network is \(suggestion)")
        }
        network = address
        prefixLength = prefix
    }

    /// Whether `address` lies inside this network (always false across address families).
    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && CIDR.mask(address.bytes, prefixLength) == network.bytes
    }

    public var description: String { "\(network)/\(prefixLength)" }

    private static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(prefix - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(UInt8(0xff) >> bits)
        }
    }
}

/// An address and port to listen on: `0.0.0.0:9099` or `[::]:9099`.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public let host: IPAddress
    public let port: Int

    /// Parses `IPV4:PORT` or `[IPV6]:PORT`; throws on a missing port or host that is not an IP.
    public init(_ text: String) throws(ConfigValueError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ConfigValueError("'\(text)' is not ADDRESS:PORT")
        }
        var hostText = String(text[..<colon])
        if hostText.hasPrefix("[") && hostText.hasSuffix("]") {
            hostText = String(hostText.dropFirst().dropLast())
        } else if hostText.contains(":") {
            throw ConfigValueError("'\(text)': write an IPv6 address in brackets, [ADDRESS]:PORT")
        }
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ConfigValueError("'\(text)' needs a port 1…65535")
        }
        guard let host = IPAddress(hostText) else {
            throw ConfigValueError("'\(text)': '\(hostText)' is not an IP address")
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)" }
}

/// Durations as written in the configuration: `500ms`, `30s`, `5m`, `4h`, `1h30m`.
public enum ConfigDuration {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Parses whole numbers with units h, m, s, ms, largest first, each at most once.
    public static func parse(_ text: String) throws(ConfigValueError) -> Duration {
        let bad = { (why: String) in ConfigValueError("malformed duration '\(text)': \(why) (write e.g. 500ms, 30s, 5m, 1h30m)") }
        guard !text.isEmpty else { throw bad("empty") }
        var rest = Substring(text)
        var total: Int64 = 0
        var lastRank = -1
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty else { throw bad("expected a number at '\(rest)'") }
            guard digits.count <= 9, let value = Int64(digits) else { throw bad("number too large") }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            guard !unitText.isEmpty else { throw bad("'\(digits)' has no unit") }
            guard let rank = units.firstIndex(where: { $0.suffix == unitText }) else {
                throw bad("unknown unit '\(unitText)'")
            }
            guard rank > lastRank else { throw bad("units must go from largest to smallest, each once") }
            lastRank = rank
            total += value * units[rank].milliseconds
            rest = rest.dropFirst(unitText.count)
        }
        return .milliseconds(total)
    }

    /// Formats a duration back into the shortest form `parse` accepts (`1h30m`, `500ms`, `0s`).
    public static func format(_ duration: Duration) -> String {
        var remaining = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        guard remaining > 0 else { return "0s" }
        var text = ""
        for unit in units where remaining >= unit.milliseconds {
            text += "\(remaining / unit.milliseconds)\(unit.suffix)"
            remaining %= unit.milliseconds
        }
        return text
    }
}

/// Where a secret comes from: a file (`*File`) or an environment variable (`*Env`).
/// Validation never reads it; ``NetAgentConfig/resolveSecrets(environment:)`` does.
public enum SecretSource: Hashable, Sendable, CustomStringConvertible {
    /// An absolute path to a file holding the secret (trailing newlines are dropped).
    case file(String)
    /// The name of an environment variable holding the secret.
    case env(String)

    public var description: String {
        switch self {
        case .file(let path): "file \(path)"
        case .env(let name): "environment variable \(name)"
        }
    }
}
