public import DNSCore

/// The external-dns annotations netagent reads, without their prefix.
public enum AnnotationName: String, CaseIterable, Sendable {
    case hostname, target, ttl, controller
    case gatewayHostnameSource = "gateway-hostname-source"
    case cloudflareProxied = "cloudflare-proxied"
    case cloudflareTags = "cloudflare-tags"
    case cloudflareRecordComment = "cloudflare-record-comment"
    case cloudflareRegionKey = "cloudflare-region-key"
    case cloudflareCustomHostname = "cloudflare-custom-hostname"

    /// The names that become `ProviderSpecific` properties.
    static let providerSpecific: [AnnotationName] = [
        .cloudflareProxied, .cloudflareTags, .cloudflareRecordComment, .cloudflareRegionKey, .cloudflareCustomHostname,
    ]
}

/// Reads external-dns annotations under one or more prefixes. The first prefix that carries a
/// given annotation wins, so with the default order the GA prefix (`external-dns.kubernetes.io/`,
/// external-dns ≥ 0.22) beats the alpha one that most existing manifests use.
public struct AnnotationReader: Sendable {
    public static let gaPrefix = "external-dns.kubernetes.io/"
    public static let alphaPrefix = "external-dns.alpha.kubernetes.io/"
    /// The value of `controller` that means "external-dns may manage this object".
    public static let controllerValue = "dns-controller"

    public let prefixes: [String]
    private let keys: [AnnotationName: [String]]

    public init(prefixes: [String] = [gaPrefix, alphaPrefix]) {
        self.prefixes = prefixes
        var keys: [AnnotationName: [String]] = [:]
        for name in AnnotationName.allCases { keys[name] = prefixes.map { $0 + name.rawValue } }
        self.keys = keys
    }

    /// The annotation's value and the full key it was found under, if any prefix carries it.
    public func lookup(_ name: AnnotationName, in annotations: [String: String]) -> (key: String, value: String)? {
        if annotations.isEmpty { return nil }
        for key in keys[name] ?? [] {
            if let value = annotations[key] { return (key, value) }
        }
        return nil
    }

    public func value(_ name: AnnotationName, in annotations: [String: String]) -> String? {
        lookup(name, in: annotations)?.value
    }

    /// The `controller` value when it opts the object out (present and not `dns-controller`).
    public func controllerOptOut(_ annotations: [String: String]) -> String? {
        guard let value = value(.controller, in: annotations), value != Self.controllerValue else { return nil }
        return value
    }

    /// The `hostname` annotation split as external-dns splits it: every space removed, then
    /// split on commas. Empty items are kept: external-dns treats them as "inherit the
    /// listener's hostname". nil when the annotation is absent.
    public func hostnames(_ annotations: [String: String]) -> [String]? {
        value(.hostname, in: annotations).map(Self.splitList)
    }

    /// The Gateway's `target` override: split like `hostname`, trailing dots trimmed, empty
    /// items dropped (external-dns would publish an empty target).
    public func targets(_ annotations: [String: String]) -> [String] {
        guard let raw = value(.target, in: annotations) else { return [] }
        return Self.splitList(raw).map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }

    static func splitList(_ raw: String) -> [String] {
        raw.filter { $0 != " " }.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// The `ttl` annotation in seconds: nil when absent; an error (and so the default TTL, as
    /// in external-dns) when it is not an integer or Go duration within 1…2³¹−1 seconds.
    public func ttl(_ annotations: [String: String]) -> Result<Int?, AnnotationProblem> {
        guard let (key, raw) = lookup(.ttl, in: annotations) else { return .success(nil) }
        guard let seconds = GoDuration.seconds(raw) ?? Int64(raw) else {
            return .failure(AnnotationProblem(key: key, value: raw, reason: "not an integer number of seconds nor a duration such as 10m"))
        }
        guard seconds >= 1, seconds <= Int64(Int32.max) else {
            return .failure(AnnotationProblem(key: key, value: raw, reason: "must be between 1 and \(Int32.max) seconds"))
        }
        return .success(Int(seconds))
    }

    /// The provider-specific annotations as typed values, and a problem for each value that
    /// could not be read (that property is then left unset).
    public func providerSpecific(_ annotations: [String: String]) -> (ProviderSpecific, [AnnotationProblem]) {
        var result = ProviderSpecific()
        var problems: [AnnotationProblem] = []
        if annotations.isEmpty { return (result, problems) }
        if let (key, raw) = lookup(.cloudflareProxied, in: annotations) {
            if let flag = Self.parseGoBool(raw) {
                result.cloudflareProxied = flag
            } else {
                problems.append(AnnotationProblem(key: key, value: raw, reason: "not a boolean"))
            }
        }
        if let (key, raw) = lookup(.cloudflareTags, in: annotations) {
            let tags = raw.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            let bad = tags.filter { !Self.isCloudflareTag($0) }
            if bad.isEmpty {
                result.cloudflareTags = tags.sorted()
            } else {
                // Cloudflare refuses such a record, and with it the whole batch it came in.
                problems.append(AnnotationProblem(key: key, value: raw, reason: "not a Cloudflare tag (name:value, the name of "
                                                  + "letters, digits, - and _): " + bad.map { "\"\($0)\"" }.joined(separator: ", ")))
            }
        }
        if let (key, raw) = lookup(.cloudflareRecordComment, in: annotations) {
            if raw.contains(where: { $0 == "\n" || $0 == "\r" }) {
                problems.append(AnnotationProblem(key: key, value: raw, reason: "a Cloudflare comment cannot hold a line break"))
            } else {
                result.cloudflareRecordComment = raw
            }
        }
        result.cloudflareRegionKey = value(.cloudflareRegionKey, in: annotations)
        result.cloudflareCustomHostname = value(.cloudflareCustomHostname, in: annotations)
        return (result, problems)
    }

    /// A tag Cloudflare accepts: `name:value`, the name of ASCII letters, digits, `-` and `_`,
    /// the value without line breaks (cloudflare-docs dns/manage-dns-records/reference/record-attributes).
    static func isCloudflareTag(_ tag: String) -> Bool {
        guard let colon = tag.firstIndex(of: ":") else { return false }
        let name = tag[..<colon]
        return !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
            && !tag[colon...].contains(where: { $0 == "\n" || $0 == "\r" })
    }

    /// Go's `strconv.ParseBool`.
    static func parseGoBool(_ raw: String) -> Bool? {
        switch raw {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }
}

/// An annotation whose value could not be used.
public struct AnnotationProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var reason: String
    public var description: String { "annotation \(key)=\"\(value)\": \(reason)" }
}

extension Substring {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}

/// Go's `time.ParseDuration`, reduced to whole seconds (fractions truncated toward zero).
enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1e-9), ("us", 1e-6), ("\u{00B5}s", 1e-6), ("\u{03BC}s", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
    ]

    static func seconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number.hasPrefix(".") ? "0" + number : String(number)) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        let seconds = (sign * total).rounded(.towardZero)
        guard seconds.magnitude < 9.2e18 else { return nil }
        return Int64(seconds)
    }
}
