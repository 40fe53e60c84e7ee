/// The record types netagent manages.
public enum RecordType: String, CaseIterable, Codable, Hashable, Comparable, Sendable {
    case a = "A"
    case aaaa = "AAAA"
    case cname = "CNAME"
    case txt = "TXT"

    public static func < (lhs: RecordType, rhs: RecordType) -> Bool {
        lhs.order < rhs.order
    }

    /// The position in `allCases`: A 0, AAAA 1, CNAME 2, TXT 3.
    var ordinal: Int { order }

    private var order: Int {
        switch self {
        case .a: 0
        case .aaaa: 1
        case .cname: 2
        case .txt: 3
        }
    }
}

/// Options that only one provider understands, typed rather than carried as strings.
/// Every field is optional: `nil` = the provider's default.
public struct ProviderSpecific: Hashable, Codable, Sendable {
    /// Cloudflare: whether traffic goes through Cloudflare's proxy.
    public var cloudflareProxied: Bool?
    /// Cloudflare: record tags, sorted so that comparisons are order-free (`init` sorts them;
    /// code that sets the property directly sets a sorted list).
    public var cloudflareTags: [String]?
    /// Cloudflare: the record's comment.
    public var cloudflareRecordComment: String?
    /// Cloudflare: the Regional Services region key.
    public var cloudflareRegionKey: String?
    /// Cloudflare for SaaS: the custom hostname that points at this record.
    public var cloudflareCustomHostname: String?

    public init(cloudflareProxied: Bool? = nil, cloudflareTags: [String]? = nil,
                cloudflareRecordComment: String? = nil, cloudflareRegionKey: String? = nil,
                cloudflareCustomHostname: String? = nil) {
        self.cloudflareProxied = cloudflareProxied
        self.cloudflareTags = cloudflareTags.map { $0.sorted() }
        self.cloudflareRecordComment = cloudflareRecordComment
        self.cloudflareRegionKey = cloudflareRegionKey
        self.cloudflareCustomHostname = cloudflareCustomHostname
    }

    public var isEmpty: Bool { self == ProviderSpecific() }
}

/// Where a record came from and who owns it; carried along, never compared by the planner.
public struct EndpointLabels: Hashable, Codable, Sendable {
    /// The ownership id of the registry that owns the record (external-dns's `txt-owner-id`).
    public var owner: String?
    /// The Kubernetes object that asked for it, as `httproute/NAMESPACE/NAME`.
    public var resource: String?

    public init(owner: String? = nil, resource: String? = nil) {
        self.owner = owner
        self.resource = resource
    }
}

/// One DNS record set: the value every stage passes along (source → planner → provider).
public struct Endpoint: Hashable, Codable, Sendable {
    public var name: DNSName
    public var type: RecordType
    /// The record's values: sorted, without duplicates. A/AAAA/CNAME targets are lower-case,
    /// CNAME targets carry no trailing dot, AAAA targets are in RFC 5952 form (`IPText`);
    /// TXT values are kept as written.
    public private(set) var targets: [String]
    /// Time to live in seconds; `nil` means the provider's default.
    public var ttl: Int?
    public var providerSpecific: ProviderSpecific
    public var labels: EndpointLabels

    public init(
        name: DNSName, type: RecordType, targets: some Sequence<String>, ttl: Int? = nil,
        providerSpecific: ProviderSpecific = ProviderSpecific(), labels: EndpointLabels = EndpointLabels()
    ) {
        self.name = name
        self.type = type
        self.targets = Self.normalise(targets, for: type)
        self.ttl = ttl
        self.providerSpecific = providerSpecific
        self.labels = labels
    }

    /// Replaces the targets, normalising them as `init` does.
    public mutating func setTargets(_ newTargets: some Sequence<String>) {
        targets = Self.normalise(newTargets, for: type)
    }

    /// A copy carrying `labels` instead of its own.
    public func withLabels(_ labels: EndpointLabels) -> Endpoint {
        var copy = self
        copy.labels = labels
        return copy
    }

    /// The key a provider stores one record set under.
    public var key: Key { Key(name: name, type: type) }

    public struct Key: Hashable, Comparable, Sendable, CustomStringConvertible {
        public let name: DNSName
        public let type: RecordType

        public init(name: DNSName, type: RecordType) {
            self.name = name
            self.type = type
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            lhs.name != rhs.name ? lhs.name < rhs.name : lhs.type < rhs.type
        }

        public var description: String { "\(name) \(type.rawValue)" }
    }

    static func normalise(_ targets: some Sequence<String>, for type: RecordType) -> [String] {
        let cleaned: [String] = targets.map { target in
            switch type {
            case .txt:
                return target
            case .cname:
                let lower = target.lowercased()
                return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
            case .a:
                return target.lowercased()
            case .aaaa:
                let lower = target.lowercased()
                return IPText.canonicalIPv6(lower) ?? lower
            }
        }
        return Array(Set(cleaned)).sorted()
    }
}
