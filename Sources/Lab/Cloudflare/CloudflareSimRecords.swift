import Foundation
import NetIO

/// A DNS record as the simulated API stores it. The fields are those of the official Python
/// SDK's `RecordResponse` models (cloudflare 4.3.1 `types/dns/record_response.py`: `id`,
/// `created_on`, `modified_on`, `meta`, `proxiable`, `comment_modified_on`, `tags_modified_on`,
/// and from `types/dns/cname_record.py` and its siblings `comment`, `content`, `proxied`,
/// `settings`, `tags`, `ttl`), so the SDK validates every record this simulator writes.
public struct SimulatedDNSRecord: Hashable, Sendable {
    public var id: String
    public var name: String
    public var type: String
    public var content: String
    public var ttl: Int
    public var proxied: Bool
    public var comment: String?
    public var tags: [String]
    /// `settings`: `ipv4_only`, `ipv6_only`, and for CNAME `flatten_cname` (`types/dns/*_record.py` `Settings`).
    public var settings: [String: Bool] = [:]
    /// Timestamps, kept as the text the API writes (formatted once, not on every list).
    var createdOn = SimulatedDNSRecord.timestamp(Date())
    var modifiedOn = SimulatedDNSRecord.timestamp(Date())
    /// When the comment / the tags last changed; absent until then (Optional in the SDK's models).
    var commentModifiedOn: String?
    var tagsModifiedOn: String?
    var sequence: Int

    public init(id: String = SimulatedDNSRecord.newID(), name: String, type: String, content: String, ttl: Int = 1,
                proxied: Bool = false, comment: String? = nil, tags: [String] = []) {
        self.id = id
        self.name = name.lowercased()
        self.type = type.uppercased()
        self.content = content
        self.ttl = ttl
        self.proxied = proxied
        self.comment = comment
        self.tags = tags
        sequence = 0
    }

    /// A 32-hex-digit id, as Cloudflare's.
    public static func newID() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    func json(zone: SimulatedZone) -> [String: Any] {
        var object: [String: Any] = [
            "id": id, "zone_id": zone.id, "zone_name": zone.name, "name": name, "type": type, "content": content,
            "proxiable": Self.proxiable.contains(type), "proxied": proxied, "ttl": ttl,
            "comment": comment.map { $0 as Any } ?? NSNull(), "tags": tags, "settings": settings,
            "meta": [String: Any](), "created_on": createdOn, "modified_on": modifiedOn,
        ]
        if let commentModifiedOn { object["comment_modified_on"] = commentModifiedOn }
        if let tagsModifiedOn { object["tags_modified_on"] = tagsModifiedOn }
        return object
    }

    /// RFC 3339 with microseconds, as the API's examples write them (`2014-01-01T05:20:00.12345Z`).
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Only A, AAAA and CNAME records can be proxied (developers.cloudflare.com/dns/proxy-status).
    static let proxiable: Set<String> = ["A", "AAAA", "CNAME"]
}

/// A zone of the simulated account.
public struct SimulatedZone: Hashable, Sendable {
    public var id: String
    public var name: String

    public init(id: String = SimulatedDNSRecord.newID(), name: String) {
        self.id = id
        self.name = name.lowercased()
    }
}

/// One record write a zone accepted: `post`, `patch`, `put` or `delete`, with the record's type and name.
public struct SimulatedWrite: Hashable, Sendable, CustomStringConvertible {
    public var action: String
    public var type: String
    public var name: String

    public var description: String { "\(action) \(type) \(name)" }
}

/// A refusal in the API's words: HTTP status, Cloudflare code and message.
struct SimFailure: Error, Sendable {
    let status: Int
    let code: Int
    let message: String
    /// `source.pointer` (the SDK's `ResponseInfo.source`, `types/shared/response_info.py`): set on a
    /// batch item's refusal to the JSON pointer of that item in the request (`/posts/1`). The SDK
    /// models the field, but what Cloudflare writes in it for a batch is not documented: the
    /// pointer's form is the simulator's, and netagent must not depend on it.
    var pointer: String? = nil
}

/// The records of one zone and the rules Cloudflare enforces on them (API-FACTS §B.4, §B.7).
struct ZoneRecords: Sendable {
    let zone: SimulatedZone
    let commentLimit: Int
    private(set) var byID: [String: SimulatedDNSRecord] = [:]
    /// The ids of the records of each name, so that checking a write against the records of its
    /// name does not read the whole zone (a 3,500-record batch into a 20,000-record zone took
    /// longer than a client's 30 s timeout that way).
    private var idsByName: [String: Set<String>] = [:]
    /// The writes accepted (a refused batch leaves none: it works on a copy).
    private(set) var writes: [SimulatedWrite] = []
    private var nextSequence = 0

    init(zone: SimulatedZone, commentLimit: Int = 100) {
        self.zone = zone
        self.commentLimit = commentLimit
    }

    /// Every record in creation order.
    var ordered: [SimulatedDNSRecord] { byID.values.sorted { $0.sequence < $1.sequence } }

    func record(_ id: String) throws(SimFailure) -> SimulatedDNSRecord {
        guard Self.isID(id) else {
            throw SimFailure(status: 404, code: 7003,
                             message: "Could not route to /zones/\(zone.id)/dns_records/\(id), perhaps your object identifier is invalid?")
        }
        guard let record = byID[id] else { throw SimFailure(status: 404, code: 81044, message: "Record does not exist.") }
        return record
    }

    mutating func create(_ fields: [String: Any]) throws(SimFailure) -> SimulatedDNSRecord {
        var record = SimulatedDNSRecord(name: "", type: "", content: "")
        try Self.assign(fields, to: &record, requireAll: true)
        try check(record)
        let now = SimulatedDNSRecord.timestamp(Date())
        record.createdOn = now
        record.modifiedOn = now
        if record.comment != nil { record.commentModifiedOn = now }
        if !record.tags.isEmpty { record.tagsModifiedOn = now }
        nextSequence += 1
        record.sequence = nextSequence
        store(record)
        writes.append(SimulatedWrite(action: "post", type: record.type, name: record.name))
        return record
    }

    /// PATCH (`replace: false`, fields not sent stay) or PUT (`replace: true`, they reset).
    mutating func update(_ id: String, _ fields: [String: Any], replace: Bool) throws(SimFailure) -> SimulatedDNSRecord {
        let old = try record(id)
        var record = old
        if replace {
            record = SimulatedDNSRecord(id: id, name: "", type: "", content: "")
            record.sequence = old.sequence
            record.createdOn = old.createdOn
            record.commentModifiedOn = old.commentModifiedOn
            record.tagsModifiedOn = old.tagsModifiedOn
        }
        try Self.assign(fields, to: &record, requireAll: replace)
        try check(record)
        let now = SimulatedDNSRecord.timestamp(Date())
        record.modifiedOn = now
        if record.comment != old.comment { record.commentModifiedOn = now }
        if record.tags != old.tags { record.tagsModifiedOn = now }
        store(record)
        writes.append(SimulatedWrite(action: replace ? "put" : "patch", type: record.type, name: record.name))
        return record
    }

    mutating func delete(_ id: String) throws(SimFailure) -> SimulatedDNSRecord {
        let record = try record(id)
        byID[id] = nil
        idsByName[record.name]?.remove(id)
        writes.append(SimulatedWrite(action: "delete", type: record.type, name: record.name))
        return record
    }

    /// Adds a record as someone in the dashboard would, without the checks.
    mutating func insert(_ record: SimulatedDNSRecord) {
        var record = record
        nextSequence += 1
        record.sequence = nextSequence
        store(record)
    }

    /// Puts `record` in place of any record of its id, in both indexes.
    private mutating func store(_ record: SimulatedDNSRecord) {
        if let old = byID[record.id] { idsByName[old.name]?.remove(record.id) }
        byID[record.id] = record
        idsByName[record.name, default: []].insert(record.id)
    }

    private static func assign(_ fields: [String: Any], to record: inout SimulatedDNSRecord, requireAll: Bool) throws(SimFailure) {
        if let name = fields["name"] as? String { record.name = Self.canonicalName(name) }
        if let type = fields["type"] as? String { record.type = type.uppercased() }
        if let content = fields["content"] as? String { record.content = content }
        if let ttl = fields["ttl"] as? Int { record.ttl = ttl }
        if let proxied = fields["proxied"] as? Bool { record.proxied = proxied }
        if fields.keys.contains("comment") { record.comment = fields["comment"] as? String }
        if let tags = fields["tags"] as? [String] { record.tags = tags }
        if let settings = fields["settings"] as? [String: Any] {
            for (key, value) in settings { if let flag = value as? Bool { record.settings[key] = flag } }
        }
        if requireAll, record.name.isEmpty || record.type.isEmpty || record.content.isEmpty {
            throw SimFailure(status: 400, code: 9000, message: "DNS name, type and content are required")
        }
        try checkTags(record.tags)
        normalise(&record)
    }

    /// Names are stored lower-case and without the root's dot: DNS names are case-insensitive
    /// and the API answers in the zone's lower-case form (API-FACTS §B.4: `name` is the full FQDN).
    static func canonicalName(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }

    /// What the API stores in place of what was sent:
    /// - a proxied record's TTL is 1, "automatic", whatever was sent ("Proxied records use TTL
    ///   Auto", developers.cloudflare.com/dns/manage-dns-records/reference/dns-record-types; issue 16);
    /// - a CNAME's target is stored as a name, without the trailing dot (issue 16). Whether the
    ///   API also lower-cases the target is not documented: the simulator keeps its case;
    /// - an AAAA address in its canonical text form (RFC 5952, as `inet_ntop` writes it) (issue 16).
    static func normalise(_ record: inout SimulatedDNSRecord) {
        if record.proxied { record.ttl = 1 }
        if record.type == "CNAME", record.content.hasSuffix("."), record.content.count > 1 { record.content.removeLast() }
        if record.type == "AAAA", let address = IPAddress(record.content), !address.isIPv4 { record.content = address.description }
    }

    /// Tags are `name:value` pairs; the name holds only letters, digits, `-` and `_`; the value
    /// follows the comment's rules, no line breaks (cloudflare-docs
    /// `dns/manage-dns-records/reference/record-attributes.mdx`). The API's error code for a bad
    /// tag is not documented: 9000-range codes are the API's validation codes, 1004 "DNS
    /// Validation Error" is the simulator's choice, as for the other refusals it invents.
    static func checkTags(_ tags: [String]) throws(SimFailure) {
        for tag in tags {
            guard let colon = tag.firstIndex(of: ":") else {
                throw SimFailure(status: 400, code: 1004, message: "DNS Validation Error: tag \"\(tag)\" is not of the form name:value")
            }
            let name = tag[..<colon], value = tag[tag.index(after: colon)...]
            let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
            guard !name.isEmpty, allowed else {
                throw SimFailure(status: 400, code: 1004, message: "DNS Validation Error: tag name \"\(name)\" may hold only letters, digits, - and _")
            }
            guard !value.contains("\n"), !value.contains("\r") else {
                throw SimFailure(status: 400, code: 1004, message: "DNS Validation Error: a tag value cannot hold a line break")
            }
        }
    }

    /// Cloudflare's rules for a record about to be stored (`record` replaces any record of its id).
    /// Codes not listed in API-FACTS §B.7 (1004, 9004, 9021) are chosen by the simulator.
    private func check(_ record: SimulatedDNSRecord) throws(SimFailure) {
        guard record.name == zone.name || record.name.hasSuffix("." + zone.name) else {
            throw SimFailure(status: 400, code: 1004, message: "DNS Validation Error: \(record.name) is not in zone \(zone.name)")
        }
        switch record.type {
        case "A" where !IPAddress.isIPv4(record.content), "AAAA" where !IPAddress.isIPv6(record.content):
            throw SimFailure(status: 400, code: 9005, message: "Content for \(record.type) record is invalid.")
        case "CNAME" where record.content.lowercased() == record.name:
            throw SimFailure(status: 400, code: 9007, message: "Content for CNAME record is invalid.")
        default: break
        }
        guard record.ttl == 1 || (60...86400).contains(record.ttl) else {
            throw SimFailure(status: 400, code: 9021, message: "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        }
        if record.proxied && !SimulatedDNSRecord.proxiable.contains(record.type) {
            throw SimFailure(status: 400, code: 9004, message: "This record type cannot be proxied.")
        }
        if let comment = record.comment, comment.contains("\n") || comment.contains("\r") {
            throw SimFailure(status: 400, code: 1004, message: "DNS Validation Error: a comment cannot hold a line break")
        }
        if let comment = record.comment, comment.count > commentLimit {
            throw SimFailure(status: 400, code: 9313, message: "DNS record comment exceeds the maximum length of \(commentLimit) characters.")
        }
        let others = (idsByName[record.name] ?? []).compactMap { $0 == record.id ? nil : byID[$0] }
        if others.contains(where: { $0.type == record.type && $0.content.lowercased() == record.content.lowercased() }) {
            throw SimFailure(status: 400, code: 81057, message: "Record already exists.")
        }
        let addressOrAlias: Set<String> = ["A", "AAAA", "CNAME"]
        if record.type == "CNAME", others.contains(where: { addressOrAlias.contains($0.type) }) {
            throw SimFailure(status: 400, code: 81053, message: "An A, AAAA, or CNAME record with that host already exists.")
        }
        if record.type == "A" || record.type == "AAAA", others.contains(where: { $0.type == "CNAME" }) {
            throw SimFailure(status: 400, code: 81054, message: "A CNAME record with that host already exists.")
        }
    }

    static func isID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

extension ZoneRecords {
    /// The record names a batch body touches: those it creates or replaces, and those of the
    /// records it deletes or patches.
    func names(in body: [String: Any]) -> [String] {
        var names: [String] = []
        for key in ["deletes", "patches", "puts", "posts"] {
            for item in (body[key] as? [[String: Any]]) ?? [] {
                if let name = item["name"] as? String { names.append(name.lowercased()) }
                if let id = item["id"] as? String, let record = byID[id] { names.append(record.name) }
            }
        }
        return names
    }

    /// The batch endpoint: deletes, patches, puts, posts in that order, each list in the order
    /// given, as one transaction: on the first refusal nothing is kept (API-FACTS §B.5).
    mutating func batch(_ body: [String: Any], limit: Int) throws(SimFailure) -> [String: Any] {
        let list = { (key: String) in (body[key] as? [[String: Any]]) ?? [] }
        let deletes = list("deletes"), patches = list("patches"), puts = list("puts"), posts = list("posts")
        let total = deletes.count + patches.count + puts.count + posts.count
        guard total <= limit else {
            throw SimFailure(status: 400, code: 1004, message: "DNS Validation Error: a batch may hold at most \(limit) records, got \(total)")
        }
        var copy = self
        func id(_ item: [String: Any]) -> String { item["id"] as? String ?? "" }
        var result: [String: [[String: Any]]] = ["deletes": [], "patches": [], "puts": [], "posts": []]
        func each(_ key: String, _ items: [[String: Any]], _ apply: ([String: Any]) throws(SimFailure) -> SimulatedDNSRecord) throws(SimFailure) {
            for (index, item) in items.enumerated() {
                do { result[key]?.append(try apply(item).json(zone: zone)) } catch {
                    var failure = error
                    failure.pointer = "/\(key)/\(index)"
                    throw failure
                }
            }
        }
        try each("deletes", deletes) { item throws(SimFailure) in try copy.delete(id(item)) }
        try each("patches", patches) { item throws(SimFailure) in try copy.update(id(item), item, replace: false) }
        try each("puts", puts) { item throws(SimFailure) in try copy.update(id(item), item, replace: true) }
        try each("posts", posts) { item throws(SimFailure) in try copy.create(item) }
        self = copy
        return result
    }
}
