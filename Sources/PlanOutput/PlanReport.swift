public import DNSCore
import Foundation
public import Kube

/// What `netagent plan` prints: the desired records, what was not expanded (so that a plan
/// never shows a fraction of the records silently) and, with `--explain`, why routes produced
/// fewer records than they name.
public struct PlanReport: Sendable {
    public var desired: [Endpoint]
    public var explanations: [Explanation]
    public var unexpanded: [UnexpandedSource]

    public init(desired: [Endpoint], explanations: [Explanation], unexpanded: [UnexpandedSource] = []) {
        self.desired = desired.sorted(by: EndpointMerger.precedes)
        self.explanations = explanations
        self.unexpanded = unexpanded
    }

    /// One JSON object, keys sorted, one record per line: `{"desired": [{"name", "providerSpecific",
    /// "resource", "targets", "ttl", "type"}], "explanations": [{"reason", "resource"}], "unexpanded":
    /// [{"file", "hiddenCount", "kind", "line", "name", "reason"}]}`, then `more` (keys after
    /// "unexpanded", e.g. `plan --config`'s "providers").
    public func json(more: [(key: String, elements: [any Encodable])] = []) -> String {
        JSONLines.object([("desired", desired.map(Record.init)), ("explanations", explanations.map(ExplanationRecord.init)),
                          ("unexpanded", unexpanded.map(UnexpandedRecord.init))] + more)
    }

    /// A fixed-width table of the records, then what was not expanded and the explanations, if any.
    public func table() -> String {
        let header = ["NAME", "TYPE", "TTL", "TARGETS", "RESOURCE", "PROVIDER-SPECIFIC"]
        let rows = desired.map { endpoint in
            [endpoint.name.text, endpoint.type.rawValue, endpoint.ttl.map(String.init) ?? "-",
             endpoint.targets.joined(separator: ","), endpoint.labels.resource ?? "-",
             Self.providerFields(endpoint.providerSpecific).joined(separator: " ")]
                .map(TerminalText.escaped)
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        var out = line(header)
        for row in rows { out += line(row) }
        if rows.isEmpty { out += "(no records)\n" }
        out += Self.unexpandedSection(unexpanded)
        if !explanations.isEmpty {
            out += "\nWhy routes produced fewer records than they name:\n"
            for explanation in explanations {
                out += "  \(TerminalText.escaped("\(explanation.resource)")): \(TerminalText.escaped(explanation.reason))\n"
            }
        }
        return out
    }

    /// The objects not expanded, one per line with file, line and how many objects each hides
    /// (when known); empty when there are none.
    public static func unexpandedSection(_ unexpanded: [UnexpandedSource]) -> String {
        guard !unexpanded.isEmpty else { return "" }
        var out = "\nNot expanded (the records these stand for are missing from this plan):\n"
        for source in unexpanded {
            out += "  " + TerminalText.escaped(Self.line(source)) + "\n"
        }
        return out
    }

    /// `FILE:LINE: KIND NAME (hides N objects): REASON`, the one-line form of every output.
    public static func line(_ source: UnexpandedSource) -> String {
        let hidden = source.hiddenCount.map { " (hides \($0) object\($0 == 1 ? "" : "s"))" } ?? ""
        return "\(source.location): \(source.kind) \(source.name)\(hidden): \(source.reason)"
    }

    /// The set provider-specific properties as `name=value`, the value as in JSON, in a fixed order.
    static func providerFields(_ specific: ProviderSpecific) -> [String] {
        var fields: [String] = []
        if let proxied = specific.cloudflareProxied { fields.append("cloudflareProxied=\(proxied)") }
        if let tags = specific.cloudflareTags { fields.append("cloudflareTags=[" + tags.map(JSONLines.text).joined(separator: ", ") + "]") }
        if let comment = specific.cloudflareRecordComment { fields.append("cloudflareRecordComment=" + JSONLines.text(comment)) }
        if let region = specific.cloudflareRegionKey { fields.append("cloudflareRegionKey=" + JSONLines.text(region)) }
        if let custom = specific.cloudflareCustomHostname { fields.append("cloudflareCustomHostname=" + JSONLines.text(custom)) }
        return fields
    }

    /// A record as `plan --output json` shows it: `ttl` and `resource` are null when unset,
    /// `providerSpecific` holds only the set properties.
    public struct Record: Encodable {
        var endpoint: Endpoint

        public init(_ endpoint: Endpoint) { self.endpoint = endpoint }

        public func encode(to encoder: any Encoder) throws {
            try JSONFields([("name", endpoint.name.text), ("type", endpoint.type.rawValue), ("targets", endpoint.targets),
                            ("ttl", endpoint.ttl), ("resource", endpoint.labels.resource),
                            ("providerSpecific", endpoint.providerSpecific)]).encode(to: encoder)
        }
    }

    /// An object not expanded as `plan --output json` shows it: `line` and `hiddenCount` are
    /// null when unknown.
    public struct UnexpandedRecord: Encodable {
        var source: UnexpandedSource

        public init(_ source: UnexpandedSource) { self.source = source }

        public func encode(to encoder: any Encoder) throws {
            try JSONFields([("file", source.location.file), ("line", source.location.line), ("kind", source.kind),
                            ("name", source.name), ("reason", source.reason), ("hiddenCount", source.hiddenCount)]).encode(to: encoder)
        }
    }

    struct ExplanationRecord: Encodable {
        var resource: String
        var reason: String

        init(_ explanation: Explanation) {
            resource = explanation.resource
            reason = explanation.reason
        }
    }
}

/// A JSON object with a fixed set of members, each present: an optional without a value is
/// `null` (a synthesised `Encodable` would leave the member out, and `plan`'s JSON keeps its shape).
struct JSONFields: Encodable {
    var fields: [(key: String, value: any Encodable)]

    init(_ fields: [(key: String, value: any Encodable)]) { self.fields = fields }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in fields { try container.encode(value, forKey: Key(stringValue: key)) }
    }
}

/// The JSON that `plan` prints, from `JSONEncoder` (keys sorted, slashes unescaped): one object
/// whose arrays hold one element per line, so that a record can be found with grep and a diff
/// of two plans shows the records that changed.
public enum JSONLines {
    /// `{"KEY": [ELEMENT, …], …}` with each element on a line of its own; `sections` in key order.
    public static func object(_ sections: [(key: String, elements: [any Encodable])]) -> String {
        let encoder = makeEncoder()
        let members = sections.map { key, elements in
            let items = elements.map { "    " + encode($0, with: encoder) }
            return "  \(encode(key, with: encoder)): " + (items.isEmpty ? "[]" : "[\n" + items.joined(separator: ",\n") + "\n  ]")
        }
        return "{\n" + members.joined(separator: ",\n") + "\n}\n"
    }

    /// `value` as compact JSON.
    public static func text(_ value: some Encodable) -> String {
        encode(value, with: makeEncoder())
    }

    private static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The values `plan` prints (strings, integers, booleans, and arrays and objects of them)
    /// always encode: a failure is a programming error, not bad input.
    private static func encode(_ value: some Encodable, with encoder: JSONEncoder) -> String {
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            preconditionFailure("\(type(of: value)) does not encode as JSON: \(error)")
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
