public import DNSCore
public import Kube

/// What `netagent plan` prints: the desired records and, with `--explain`, why routes produced
/// fewer records than they name.
public struct PlanReport: Sendable {
    public var desired: [Endpoint]
    public var explanations: [Explanation]

    public init(desired: [Endpoint], explanations: [Explanation]) {
        self.desired = desired.sorted(by: EndpointMerger.precedes)
        self.explanations = explanations
    }

    /// One JSON object: `{"desired": [{"name", "type", "targets", "ttl", "resource",
    /// "providerSpecific"}], "explanations": [{"resource", "reason"}]}`, one record per line.
    public func json() -> String {
        var out = "{\n  \"desired\": ["
        for (i, endpoint) in desired.enumerated() {
            out += i == 0 ? "\n    " : ",\n    "
            out += "{\"name\": \(Self.quote(endpoint.name.text)), \"type\": \(Self.quote(endpoint.type.rawValue)), "
            out += "\"targets\": [\(endpoint.targets.map(Self.quote).joined(separator: ", "))], "
            out += "\"ttl\": \(endpoint.ttl.map(String.init) ?? "null"), "
            out += "\"resource\": \(endpoint.labels.resource.map(Self.quote) ?? "null"), "
            out += "\"providerSpecific\": {\(Self.providerFields(endpoint.providerSpecific).map { "\(Self.quote($0.0)): \($0.1)" }.joined(separator: ", "))}}"
        }
        out += desired.isEmpty ? "],\n  \"explanations\": [" : "\n  ],\n  \"explanations\": ["
        for (i, explanation) in explanations.enumerated() {
            out += i == 0 ? "\n    " : ",\n    "
            out += "{\"resource\": \(Self.quote(explanation.resource)), \"reason\": \(Self.quote(explanation.reason))}"
        }
        out += explanations.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return out
    }

    /// A fixed-width table of the records, then the explanations, if any.
    public func table() -> String {
        let header = ["NAME", "TYPE", "TTL", "TARGETS", "RESOURCE", "PROVIDER-SPECIFIC"]
        let rows = desired.map { endpoint in
            [endpoint.name.text, endpoint.type.rawValue, endpoint.ttl.map(String.init) ?? "-",
             endpoint.targets.joined(separator: ","), endpoint.labels.resource ?? "-",
             Self.providerFields(endpoint.providerSpecific).map { "\($0.0)=\($0.1)" }.joined(separator: " ")]
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
        if !explanations.isEmpty {
            out += "\nWhy routes produced fewer records than they name:\n"
            for explanation in explanations { out += "  \(explanation.resource): \(explanation.reason)\n" }
        }
        return out
    }

    /// The set provider-specific properties as (name, JSON value) pairs, in a fixed order.
    static func providerFields(_ specific: ProviderSpecific) -> [(String, String)] {
        var fields: [(String, String)] = []
        if let proxied = specific.cloudflareProxied { fields.append(("cloudflareProxied", proxied ? "true" : "false")) }
        if let tags = specific.cloudflareTags { fields.append(("cloudflareTags", "[" + tags.map(quote).joined(separator: ", ") + "]")) }
        if let comment = specific.cloudflareRecordComment { fields.append(("cloudflareRecordComment", quote(comment))) }
        if let region = specific.cloudflareRegionKey { fields.append(("cloudflareRegionKey", quote(region))) }
        if let custom = specific.cloudflareCustomHostname { fields.append(("cloudflareCustomHostname", quote(custom))) }
        return fields
    }

    /// `text` as a JSON string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
