import Foundation
import NetIO

/// A DNS record as the simulated API stores it.
public struct SimulatedDNSRecord: Hashable, Sendable {
    public var id: String
    public var name: String
    public var type: String
    public var content: String
    public var ttl: Int
    public var proxied: Bool
    public var comment: String?
    public var tags: [String]
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
        ["id": id, "zone_id": zone.id, "zone_name": zone.name, "name": name, "type": type, "content": content,
         "proxiable": Self.proxiable.contains(type), "proxied": proxied, "ttl": ttl, "comment": comment.map { $0 as Any } ?? NSNull(),
         "tags": tags, "meta": [String: Any](), "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z"]
    }

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
}

/// The records of one zone and the rules Cloudflare enforces on them (API-FACTS §B.4, §B.7).
struct ZoneRecords: Sendable {
    let zone: SimulatedZone
    let commentLimit: Int
    private(set) var byID: [String: SimulatedDNSRecord] = [:]
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
        nextSequence += 1
        record.sequence = nextSequence
        byID[record.id] = record
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
        }
        try Self.assign(fields, to: &record, requireAll: replace)
        try check(record)
        byID[id] = record
        writes.append(SimulatedWrite(action: replace ? "put" : "patch", type: record.type, name: record.name))
        return record
    }

    mutating func delete(_ id: String) throws(SimFailure) -> SimulatedDNSRecord {
        let record = try record(id)
        byID[id] = nil
        writes.append(SimulatedWrite(action: "delete", type: record.type, name: record.name))
        return record
    }

    /// Adds a record as someone in the dashboard would, without the checks.
    mutating func insert(_ record: SimulatedDNSRecord) {
        var record = record
        nextSequence += 1
        record.sequence = nextSequence
        byID[record.id] = record
    }

    private static func assign(_ fields: [String: Any], to record: inout SimulatedDNSRecord, requireAll: Bool) throws(SimFailure) {
        if let name = fields["name"] as? String { record.name = name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased() }
        if let type = fields["type"] as? String { record.type = type.uppercased() }
        if let content = fields["content"] as? String { record.content = content }
        if let ttl = fields["ttl"] as? Int { record.ttl = ttl }
        if let proxied = fields["proxied"] as? Bool { record.proxied = proxied }
        if fields.keys.contains("comment") { record.comment = fields["comment"] as? String }
        if let tags = fields["tags"] as? [String] { record.tags = tags }
        if requireAll, record.name.isEmpty || record.type.isEmpty || record.content.isEmpty {
            throw SimFailure(status: 400, code: 9000, message: "DNS name, type and content are required")
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
        let others = byID.values.filter { $0.name == record.name && $0.id != record.id }
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
        for item in deletes { result["deletes"]?.append(try copy.delete(id(item)).json(zone: zone)) }
        for item in patches { result["patches"]?.append(try copy.update(id(item), item, replace: false).json(zone: zone)) }
        for item in puts { result["puts"]?.append(try copy.update(id(item), item, replace: true).json(zone: zone)) }
        for item in posts { result["posts"]?.append(try copy.create(item).json(zone: zone)) }
        self = copy
        return result
    }
}
