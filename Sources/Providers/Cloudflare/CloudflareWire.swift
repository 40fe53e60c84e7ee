import Foundation
import NetIO

/// One DNS record as the v4 API stores it (`dns_records` result items): one value per record,
/// so a record set of three A targets is three of these.
public struct CloudflareRecord: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var type: String
    public var content: String
    /// 1 means automatic.
    public var ttl: Int
    public var proxied: Bool?
    public var comment: String?
    public var tags: [String]?

    public init(id: String, name: String, type: String, content: String, ttl: Int, proxied: Bool? = nil,
                comment: String? = nil, tags: [String]? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.content = content
        self.ttl = ttl
        self.proxied = proxied
        self.comment = comment
        self.tags = tags
    }
}

/// The fields of a record sent in a create (`posts`) or a partial update (`patches`, with `id`).
public struct CloudflareRecordBody: Codable, Hashable, Sendable {
    public var id: String?
    public var name: String
    public var type: String
    public var content: String
    public var ttl: Int
    /// Left out for types that cannot be proxied (TXT).
    public var proxied: Bool?
    public var comment: String?
    public var tags: [String]?

    public init(id: String? = nil, name: String, type: String, content: String, ttl: Int, proxied: Bool?,
                comment: String? = nil, tags: [String]? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.content = content
        self.ttl = ttl
        self.proxied = proxied
        self.comment = comment
        self.tags = tags
    }
}

/// `POST /zones/{id}/dns_records/batch`: run by Cloudflare as deletes → patches → puts →
/// posts in one transaction (API-FACTS §B.5). netagent sends no puts: a patch changes only
/// what it names.
public struct CloudflareBatch: Codable, Hashable, Sendable {
    public struct Delete: Codable, Hashable, Sendable {
        public var id: String
        public init(id: String) { self.id = id }
    }

    public var deletes: [Delete]
    public var patches: [CloudflareRecordBody]
    public var posts: [CloudflareRecordBody]

    public init(deletes: [Delete] = [], patches: [CloudflareRecordBody] = [], posts: [CloudflareRecordBody] = []) {
        self.deletes = deletes
        self.patches = patches
        self.posts = posts
    }

    /// How many record operations the batch holds (what the plan's size limit counts).
    public var count: Int { deletes.count + patches.count + posts.count }
}

/// The batch endpoint's `result`: the records each list touched, in order.
public struct CloudflareBatchResult: Codable, Hashable, Sendable {
    public var deletes: [CloudflareRecord]?
    public var patches: [CloudflareRecord]?
    public var puts: [CloudflareRecord]?
    public var posts: [CloudflareRecord]?

    public init(deletes: [CloudflareRecord]? = nil, patches: [CloudflareRecord]? = nil, posts: [CloudflareRecord]? = nil) {
        self.deletes = deletes
        self.patches = patches
        self.posts = posts
    }
}

/// A zone (`GET /zones`, `GET /zones/{id}`).
public struct CloudflareZone: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var status: String?

    public init(id: String, name: String, status: String? = nil) {
        self.id = id
        self.name = name
        self.status = status
    }
}

/// `GET /user/tokens/verify`: whether the token is usable at all (`active`).
public struct CloudflareTokenStatus: Codable, Hashable, Sendable {
    public var id: String
    public var status: String
}

/// One entry of the envelope's `errors`/`messages`: Cloudflare's code and words.
public struct CloudflareAPIMessage: Codable, Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) \(message)" }
}

/// The v4 envelope around every reply (API-FACTS §B.2).
package struct CloudflareEnvelope<Result: Decodable>: Decodable {
    package struct ResultInfo: Decodable {
        var page: Int?
        var per_page: Int?
        var count: Int?
        var total_count: Int?
        var total_pages: Int?
    }

    package var success: Bool
    package var errors: [CloudflareAPIMessage]
    package var result: Result?
    package var result_info: ResultInfo?
}

extension CloudflareAPIMessage {
    /// The message with credentials a peer echoed removed.
    var redacted: CloudflareAPIMessage { CloudflareAPIMessage(code: code, message: Redaction.text(message)) }
}

/// A zone's records as listed: those read, and those set aside because they could not be.
public struct CloudflareListing: Hashable, Sendable {
    public var records: [CloudflareRecord] = []
    public var unreadable: [CloudflareUnreadableRecord] = []
    public init(records: [CloudflareRecord] = [], unreadable: [CloudflareUnreadableRecord] = []) {
        self.records = records
        self.unreadable = unreadable
    }
}

/// A listed record that could not be read (`content: null`, a number for a name, …): what
/// could be read of it, and why the rest could not. Its name and type, when known, hold a
/// record netagent cannot see the value of, so nothing may be written there (see cloudflare.md).
public struct CloudflareUnreadableRecord: Hashable, Sendable, CustomStringConvertible {
    public var id: String?
    public var name: String?
    public var type: String?
    public var reason: String

    public init(id: String? = nil, name: String? = nil, type: String? = nil, reason: String) {
        self.id = id
        self.name = name
        self.type = type
        self.reason = reason
    }

    public var description: String {
        let what = [name ?? "(no name)", type ?? "(no type)"].joined(separator: " ")
        return "record \(what)\(id.map { " id \($0)" } ?? "") could not be read (\(reason))"
    }
}

/// One item of a listing, read on its own so that one bad record does not fail the page.
package enum CloudflareListedRecord: Decodable {
    case read(CloudflareRecord)
    case unreadable(CloudflareUnreadableRecord)

    private struct Partial: Decodable {
        var id: String?
        var name: String?
        var type: String?
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try? container.decodeIfPresent(String.self, forKey: .id)
            name = try? container.decodeIfPresent(String.self, forKey: .name)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
        }
        enum CodingKeys: String, CodingKey { case id, name, type }
    }

    package init(from decoder: any Decoder) throws {
        do {
            self = .read(try CloudflareRecord(from: decoder))
        } catch {
            let partial = try? Partial(from: decoder)
            self = .unreadable(CloudflareUnreadableRecord(id: partial?.id, name: partial?.name, type: partial?.type,
                                                          reason: Self.reason(error)))
        }
    }

    /// The field and what was wrong with it, in a few words.
    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .valueNotFound(_, let context): "\(path(context)) is null"
        case .keyNotFound(let key, _): "no \(key.stringValue)"
        case .typeMismatch(_, let context): "\(path(context)) has the wrong type"
        case .dataCorrupted(let context): "\(path(context)) is malformed"
        default: "not a record"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        // The record's own field: the envelope's `result` and the item's index left out.
        context.codingPath.last { $0.intValue == nil && $0.stringValue != "result" }?.stringValue ?? "the record"
    }
}

/// The envelope read only for its errors (a failed reply's `result` is null or absent).
struct CloudflareErrorEnvelope: Decodable {
    var errors: [CloudflareAPIMessage]?
}
