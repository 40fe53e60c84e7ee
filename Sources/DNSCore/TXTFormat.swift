/// external-dns's ownership TXT value: `"heritage=external-dns,external-dns/owner=ID,..."`,
/// keys sorted, wrapped in double quotes, exactly as external-dns writes it, so records it
/// owns are recognised as ours when the owner id is the same.
public enum TXTLabels {
    public static let heritage = "external-dns"
    static let keyPrefix = "external-dns/"

    /// The TXT value for `labels` (owner and resource; absent ones are left out).
    public static func serialize(_ labels: EndpointLabels) -> String {
        var pairs: [(String, String)] = []
        if let owner = labels.owner { pairs.append(("owner", owner)) }
        if let resource = labels.resource { pairs.append(("resource", resource)) }
        let tokens = ["heritage=\(heritage)"] + pairs.sorted { $0.0 < $1.0 }.map { "\(keyPrefix)\($0.0)=\($0.1)" }
        return "\"" + tokens.joined(separator: ",") + "\""
    }

    /// The labels in an ownership TXT value, or `nil` when the value is not one (no heritage,
    /// or another heritage): such a TXT record is an ordinary record, never touched.
    public static func parse(_ value: String) -> EndpointLabels? {
        var text = Substring(value)
        while text.first == "\"" { text = text.dropFirst() }
        while text.last == "\"" { text = text.dropLast() }
        var labels = EndpointLabels()
        var sawHeritage = false
        for token in text.split(separator: ",") {
            guard let equals = token.firstIndex(of: "=") else { continue }
            let key = token[..<equals], value = String(token[token.index(after: equals)...])
            if key == "heritage" {
                guard value == heritage else { return nil }
                sawHeritage = true
            } else if key == "\(keyPrefix)owner" {
                labels.owner = value
            } else if key == "\(keyPrefix)resource" {
                labels.resource = value
            }
        }
        return sawHeritage ? labels : nil
    }
}

/// Names ownership TXT records as external-dns does (`registry/mapper`): the lower-case type
/// and `-` before the first label (`a-foo.example.com`), inside an optional prefix or suffix
/// that may place the type itself with `%{record_type}`, and an optional replacement for a
/// leading `*`. Reads back the typed names and the old untyped ones.
public struct TXTNameMapper: Hashable, Sendable {
    public static let typeTemplate = "%{record_type}"
    /// The types external-dns writes in typed names, in the order it tries them.
    static let knownTypes = ["a", "aaaa", "cname", "ns", "mx", "srv", "naptr"]

    public let prefix: String
    public let suffix: String
    public let wildcardReplacement: String

    /// Throws when both a prefix and a suffix are given (external-dns refuses that too).
    public init(prefix: String = "", suffix: String = "", wildcardReplacement: String = "") throws(TXTConfigError) {
        guard prefix.isEmpty || suffix.isEmpty else {
            throw TXTConfigError(reason: "txt-prefix '\(prefix)' and txt-suffix '\(suffix)' are mutually exclusive")
        }
        self.prefix = prefix.lowercased()
        self.suffix = suffix.lowercased()
        self.wildcardReplacement = wildcardReplacement.lowercased()
    }

    private var typeInAffix: Bool {
        prefix.contains(Self.typeTemplate) || suffix.contains(Self.typeTemplate)
    }

    /// The ownership TXT name of the record `name`/`type` (not validated as a DNS name).
    public func txtName(for name: DNSName, type: RecordType) -> String {
        let typeText = type.rawValue.lowercased()
        var (first, rest) = Self.splitFirstLabel(name.text)
        if !wildcardReplacement.isEmpty, first == "*" { first = wildcardReplacement }
        if !typeInAffix { first = typeText + "-" + first }
        let affixed = prefix.replacing(Self.typeTemplate, with: typeText) + first
            + suffix.replacing(Self.typeTemplate, with: typeText)
        return rest.map { affixed + "." + $0 } ?? affixed
    }

    /// The key under which a record's ownership is looked up: its name with a leading `*`
    /// replaced, as the TXT name was made.
    public func lookupName(for name: DNSName) -> String {
        let (first, rest) = Self.splitFirstLabel(name.text)
        guard !wildcardReplacement.isEmpty, first == "*" else { return name.text }
        return rest.map { wildcardReplacement + "." + $0 } ?? wildcardReplacement
    }

    /// The record a TXT name speaks for: its lookup name and lower-case type, with type `""`
    /// for the old untyped format; `nil` when the name does not carry the affix.
    public func endpointName(forTXT txtName: String) -> (name: String, type: String)? {
        let lower = txtName.lowercased()
        if suffix.isEmpty { return dropAffix(lower) }
        let dots = suffix.filter { $0 == "." }.count
        let parts = lower.split(separator: ".", maxSplits: 1 + dots, omittingEmptySubsequences: false)
        guard parts.count >= 1 + dots else { return nil }
        let withSuffix = parts[0...dots].joined(separator: ".")
        guard let found = dropAffix(withSuffix) else { return nil }
        guard parts.count > 1 + dots else { return found }
        return (found.name + "." + parts[1 + dots], found.type)
    }

    private func dropAffix(_ name: String) -> (name: String, type: String)? {
        var prefix = self.prefix, suffix = self.suffix
        if typeInAffix {
            for type in Self.knownTypes {
                let typedPrefix = prefix.replacing(Self.typeTemplate, with: type)
                let typedSuffix = suffix.replacing(Self.typeTemplate, with: type)
                if suffix.isEmpty, name.hasPrefix(typedPrefix) { return (String(name.dropFirst(typedPrefix.count)), type) }
                if !suffix.isEmpty, name.hasSuffix(typedSuffix) { return (String(name.dropLast(typedSuffix.count)), type) }
            }
            prefix = prefix.replacing(Self.typeTemplate, with: "")
            suffix = suffix.replacing(Self.typeTemplate, with: "")
        }
        if suffix.isEmpty, name.hasPrefix(prefix) { return Self.typeAtDefaultPosition(String(name.dropFirst(prefix.count))) }
        if !suffix.isEmpty, name.hasSuffix(suffix) { return Self.typeAtDefaultPosition(String(name.dropLast(suffix.count))) }
        return nil
    }

    private static func typeAtDefaultPosition(_ name: String) -> (name: String, type: String) {
        let head = name.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard knownTypes.contains(String(head)) else { return (name, "") }
        return (String(name.dropFirst(head.count + 1)), String(head))
    }

    private static func splitFirstLabel(_ text: String) -> (String, String?) {
        guard let dot = text.firstIndex(of: ".") else { return (text, nil) }
        return (String(text[..<dot]), String(text[text.index(after: dot)...]))
    }
}

/// A TXT registry setting that cannot work, with the reason.
public struct TXTConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "TXT registry: \(reason)" }
}
