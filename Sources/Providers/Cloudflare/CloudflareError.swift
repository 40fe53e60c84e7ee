public import NetIO

/// What netagent asked Cloudflare for; errors name it, and it tells which permission a 403 is missing.
public enum CloudflareOperation: String, Hashable, Sendable {
    case verifyToken = "verify the token"
    case listZones = "find the zone"
    case listRecords = "list DNS records"
    case writeRecords = "change DNS records"
    case readTunnel = "read the tunnel"

    /// The token permission the operation needs (API-FACTS §B.1).
    public var permission: String {
        switch self {
        case .verifyToken: "a valid, active API token"
        case .listZones: "Zone:Read"
        case .listRecords: "DNS:Read (or DNS:Edit)"
        case .writeRecords: "DNS:Edit"
        case .readTunnel: "Cloudflare Tunnel:Read"
        }
    }
}

/// A Cloudflare call that failed, with the context a person needs: the operation, the zone
/// (or account), the HTTP status and Cloudflare's codes and messages, and what to change.
/// Never holds the token.
public struct CloudflareError: Error, Hashable, Sendable, CustomStringConvertible, CarriesTransportError {
    public enum Kind: String, Hashable, Sendable {
        /// The API could not be reached, or kept timing out (after retries).
        case unreachable
        /// The token is not valid (9109, 6003/6111, or verify says it is not active).
        case invalidToken
        /// The token is valid but lacks the permission the operation needs (10000, 9109 on a scope).
        case missingPermission
        /// 429 after every retry.
        case rateLimited
        /// 5xx after every retry.
        case serverError
        /// A configured zone does not exist or the token cannot see it.
        case zoneNotFound
        /// Cloudflare refused the request itself (another 4xx: a bad record, a conflict); not retried.
        case refused
        /// The reply could not be read.
        case invalidResponse
    }

    public var kind: Kind
    public var operation: CloudflareOperation
    /// The zone name (or id, or `account …`) concerned, when there is one.
    public var scope: String?
    /// 0 when no HTTP reply arrived.
    public var status: Int
    /// Cloudflare's `errors` (code and message), first first.
    public var errors: [CloudflareAPIMessage]
    /// Words of netagent's own when Cloudflare gave none (a transport error, a bad reply).
    public var detail: String?
    /// The transport failure when the API could not be reached (`unreachable`).
    public var transport: NetIOError?
    /// What the token verify said after a 403 code 10000, which means a bad token or a missing
    /// permission (API-FACTS §B.7): nil when no verify was made.
    public var tokenVerify: TokenVerify?

    /// The answer of `GET /user/tokens/verify` (or `/accounts/{id}/tokens/verify`).
    public enum TokenVerify: Hashable, Sendable {
        /// The token is valid and active: the 403 is a missing permission.
        case active
        /// The token is not valid (unknown, revoked, disabled or expired), in Cloudflare's words.
        case invalid(String)
    }

    public init(kind: Kind, operation: CloudflareOperation, scope: String? = nil, status: Int = 0,
                errors: [CloudflareAPIMessage] = [], detail: String? = nil, transport: NetIOError? = nil) {
        self.transport = transport
        self.kind = kind
        self.operation = operation
        self.scope = scope
        self.status = status
        self.errors = errors
        self.detail = detail
    }

    /// The first Cloudflare error code, if any.
    public var code: Int? { errors.first?.code }

    /// This error, said of `scope` (a zone name, `account ID`).
    public func scoped(_ scope: String) -> CloudflareError {
        var copy = self
        copy.scope = scope
        return copy
    }

    /// Cloudflare's own words: `code message; code message`.
    public var cloudflareMessage: String {
        errors.isEmpty ? (detail ?? "no error detail") : errors.map(\.description).joined(separator: "; ")
    }

    public var description: String {
        var text = "Cloudflare"
        if let scope { text += " \(scope)" }
        text += ": \(operation.rawValue): "
        if status > 0 { text += "HTTP \(status) " }
        text += cloudflareMessage
        if let detail, !errors.isEmpty { text += " (\(detail))" }
        if let advice { text += " — \(advice)" }
        return text
    }

    /// What a person should change, in plain words.
    public var advice: String? {
        let target = scope.map { " on \($0)" } ?? ""
        switch kind {
        case .invalidToken:
            if case .invalid(let words)? = tokenVerify { return "token invalid or revoked (token verify: \(words)): check apiTokenFile/apiTokenEnv" }
            return "the API token is not valid (revoked, expired or mistyped): check apiTokenFile/apiTokenEnv"
        case .missingPermission:
            if tokenVerify == .active { return "token valid but lacks \(operation.permission)\(target)" }
            return "the token lacks the \(operation.permission) permission\(target)"
        case .zoneNotFound:
            return "no such zone visible to the token; for a zone-scoped token name the zone by id (zoneIDs), since it cannot list zones"
        case .rateLimited: return "Cloudflare allows 1,200 requests per 5 minutes per token; netagent retries on the next cycle"
        default: return nil
        }
    }

    /// Whether a later attempt may succeed without anyone changing anything.
    public var isTransient: Bool { [.unreachable, .rateLimited, .serverError].contains(kind) }
}
