import Foundation

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

/// The envelope read only for its errors (a failed reply's `result` is null or absent).
struct CloudflareErrorEnvelope: Decodable {
    var errors: [CloudflareAPIMessage]?
}
