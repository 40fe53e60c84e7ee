import Foundation

/// The DNS record list's filters and order, as the official Python SDK sends them
/// (cloudflare 4.3.1 `types/dns/record_list_params.py`, query keys nested with dots,
/// `Querystring(nested_format="dots")` in `_client.py`) and API-FACTS §B.4 describes them:
/// `type`, `name`/`content`/`comment`.`exact|contains|startswith|endswith`, `comment.present|absent`,
/// `tag.exact|contains|startswith|endswith` (`<tag-name>:<tag-value>`), `tag.present|absent`
/// (a tag name), `tag_match`, `proxied`, `match`, `order`, `direction`. Every text filter is
/// case-insensitive (the SDK's docstrings). The legacy plain `name=` is an exact match.
struct RecordListFilter {
    /// One test per search requirement other than tags, combined by `match` (default `all`).
    private var requirements: [(SimulatedDNSRecord) -> Bool] = []
    /// The tag tests, combined by `tag_match` (default `all`) into one requirement.
    private var tagTests: [(SimulatedDNSRecord) -> Bool] = []
    private var matchAny = false
    private var tagMatchAny = false
    private var order: String?
    private var descending = false

    /// Reads the filters of `query`; a value the SDK's model does not allow is refused with the
    /// message the simulator gives it (the API's own code for it is not documented).
    init(_ query: [String: String]) throws(SimFailure) {
        func oneOf(_ key: String, _ allowed: Set<String>) throws(SimFailure) -> String? {
            guard let value = query[key] else { return nil }
            guard allowed.contains(value) else {
                throw SimFailure(status: 400, code: 9000, message: "Invalid value for \(key): \(value)")
            }
            return value
        }
        matchAny = try oneOf("match", ["any", "all"]) == "any"
        tagMatchAny = try oneOf("tag_match", ["any", "all"]) == "any"
        order = try oneOf("order", ["type", "name", "content", "ttl", "proxied"])
        descending = try oneOf("direction", ["asc", "desc"]) == "desc"
        // Which parameters `match` combines is documented only as "search requirements"; the
        // simulator counts every filter given, `type` and `proxied` included.
        if let type = query["type"]?.uppercased() { requirements.append { $0.type == type } }
        if let proxied = query["proxied"] { requirements.append { String($0.proxied) == proxied.lowercased() } }
        if let name = query["name"] { requirements.append { $0.name == ZoneRecords.canonicalName(name) } }
        for (field, value) in [("name", { (r: SimulatedDNSRecord) in r.name }), ("content", { $0.content }),
                               ("comment", { $0.comment ?? "" })] {
            for (operation, wanted) in Self.textOperations(query, prefix: field) {
                requirements.append { Self.matches(value($0), operation, wanted) }
            }
        }
        if query["comment.present"] != nil { requirements.append { !($0.comment ?? "").isEmpty } }
        if query["comment.absent"] != nil { requirements.append { ($0.comment ?? "").isEmpty } }
        for (operation, pair) in Self.textOperations(query, prefix: "tag") {
            let wanted = Self.tag(pair)
            tagTests.append { record in
                Self.tags(record).contains { $0.name == wanted.name && Self.matches($0.value, operation, wanted.value) }
            }
        }
        if let present = query["tag.present"]?.lowercased() { tagTests.append { Self.tags($0).contains { $0.name == present } } }
        if let absent = query["tag.absent"]?.lowercased() { tagTests.append { !Self.tags($0).contains { $0.name == absent } } }
    }

    /// The records that pass, in the order asked for (creation order when none is).
    func apply(_ records: [SimulatedDNSRecord]) -> [SimulatedDNSRecord] {
        var tests = requirements
        if !tagTests.isEmpty {
            let tagTests = tagTests, any = tagMatchAny
            tests.append { record in any ? tagTests.contains { $0(record) } : tagTests.allSatisfy { $0(record) } }
        }
        var kept = tests.isEmpty ? records : records.filter { record in
            matchAny ? tests.contains { $0(record) } : tests.allSatisfy { $0(record) }
        }
        if let order {
            func key(_ record: SimulatedDNSRecord) -> String {
                switch order {
                case "type": record.type
                case "content": record.content.lowercased()
                case "ttl": String(format: "%010d", record.ttl)
                case "proxied": record.proxied ? "1" : "0"
                default: record.name
                }
            }
            // Stable: records with equal keys keep their creation order.
            kept = kept.enumerated().sorted { a, b in
                let (ka, kb) = (key(a.element), key(b.element))
                if ka != kb { return descending ? ka > kb : ka < kb }
                return a.offset < b.offset
            }.map(\.element)
        }
        return kept
    }

    private static let operations = ["exact", "contains", "startswith", "endswith"]

    private static func textOperations(_ query: [String: String], prefix: String) -> [(String, String)] {
        operations.compactMap { operation in query[prefix + "." + operation].map { (operation, $0) } }
    }

    private static func matches(_ value: String, _ operation: String, _ wanted: String) -> Bool {
        let value = value.lowercased(), wanted = wanted.lowercased()
        switch operation {
        case "exact": return value == wanted
        case "contains": return value.contains(wanted)
        case "startswith": return value.hasPrefix(wanted)
        default: return value.hasSuffix(wanted)
        }
    }

    /// A record's tags as (lower-cased name, value): tag names are case-insensitive (record-attributes.mdx).
    private static func tags(_ record: SimulatedDNSRecord) -> [(name: String, value: String)] { record.tags.map(tag) }

    /// `name:value` (a filter's or a record's tag) as (lower-cased name, value).
    private static func tag(_ text: String) -> (name: String, value: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (parts[0].lowercased(), parts.count > 1 ? String(parts[1]) : "")
    }
}
