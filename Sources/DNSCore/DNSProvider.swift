/// A DNS service netagent writes to (Cloudflare, Pi-hole, the in-memory test provider): read
/// the records, apply changes, and adjust desired records to what the service stores.
/// Providers know nothing of ownership; a `Registry` wraps them for that.
public protocol DNSProvider: Sendable {
    /// A short name for logs and errors, such as `cloudflare` or `pihole`.
    var name: String { get }

    /// Every record the provider holds, without ownership labels.
    /// Throws when the service cannot be read; the caller then plans nothing.
    func records() async throws -> [Endpoint]

    /// Applies deletes, then updates, then creates. A change the service refuses is listed
    /// in the report's failures and the rest still go ahead; throws only when nothing could be
    /// attempted (for example, the service is unreachable).
    func apply(_ changes: Plan.Changes) async throws -> ApplyReport

    /// Rewrites desired records the way the provider would store them (Pi-hole has no TTL, a
    /// proxied Cloudflare record has TTL auto, ...) so that planning against what was written
    /// finds nothing left to do. Must be idempotent.
    func adjust(_ desired: [Endpoint]) -> [Endpoint]

    /// Why the provider refuses to write `record` (an adjusted create or update), or nil.
    /// Registries ask before writing anything for it, ownership records included; the
    /// refusal is reported as that change's failure and the current record stays.
    func refusal(of record: Endpoint) -> String?
}

extension DNSProvider {
    public func refusal(of record: Endpoint) -> String? { nil }
}

/// What an `apply` did: how many changes went through and which ones were refused.
/// Counts are of record sets the provider wrote, ownership TXT records included.
public struct ApplyReport: Hashable, Sendable {
    public var created: Int
    public var updated: Int
    public var deleted: Int
    /// The changes the provider refused, each with its reason; the rest went through.
    public var failures: [ApplyFailure]

    public init(created: Int = 0, updated: Int = 0, deleted: Int = 0, failures: [ApplyFailure] = []) {
        self.created = created
        self.updated = updated
        self.deleted = deleted
        self.failures = failures
    }

    /// Whether every change went through.
    public var isComplete: Bool { failures.isEmpty }

    /// Adds the counts and failures of `other` to this report.
    public mutating func merge(_ other: ApplyReport) {
        created += other.created
        updated += other.updated
        deleted += other.deleted
        failures += other.failures
    }
}

/// One change a provider refused, with the provider's own words.
public struct ApplyFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Operation: String, Hashable, Sendable {
        case create, update, delete
    }

    public var operation: Operation
    public var key: Endpoint.Key
    public var message: String

    public init(operation: Operation, key: Endpoint.Key, message: String) {
        self.operation = operation
        self.key = key
        self.message = message
    }

    public var description: String { "\(operation.rawValue) \(key): \(message)" }
}
