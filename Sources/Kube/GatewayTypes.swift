/// The Gateway API group every kind here belongs to.
public let gatewayAPIGroup = "gateway.networking.k8s.io"

/// A Gateway API `Gateway` (v1): listeners, requested addresses and, when a controller has
/// reported on it, the addresses it was given.
public struct Gateway: Hashable, Sendable {
    public var metadata: ObjectMeta
    public var listeners: [Listener]
    /// `spec.addresses`: what the owner asked for. external-dns never reads these; the manifests
    /// source uses them to infer `status.addresses` when there is no status.
    public var specAddresses: [GatewayAddress]
    /// `status`, nil when the object carries none (a manifest from Git).
    public var status: GatewayStatus?
    /// `spec.allowedListeners`: which ListenerSets may attach (none by default).
    public var allowedListeners = AllowedListeners()

    public init(metadata: ObjectMeta, listeners: [Listener], specAddresses: [GatewayAddress] = [],
                status: GatewayStatus? = nil) {
        self.metadata = metadata
        self.listeners = listeners
        self.specAddresses = specAddresses
        self.status = status
    }

    public var id: ResourceID { ResourceID(kind: "Gateway", namespace: metadata.namespace, name: metadata.name) }
}

/// A Gateway's `status`: only the addresses matter (external-dns strips the conditions).
public struct GatewayStatus: Hashable, Sendable {
    public var addresses: [GatewayAddress]

    public init(addresses: [GatewayAddress]) {
        self.addresses = addresses
    }
}

/// One entry of `spec.addresses` or `status.addresses`. The `type` (IPAddress, Hostname, …)
/// is kept for display; the record type is decided by the value's form.
public struct GatewayAddress: Hashable, Sendable {
    public var type: String?
    public var value: String

    public init(type: String? = nil, value: String) {
        self.type = type
        self.value = value
    }
}

/// One `spec.listeners[]` entry.
public struct Listener: Hashable, Sendable {
    public var name: String
    /// The listener hostname (may be a `*.` wildcard); nil or empty = any hostname.
    public var hostname: String?
    public var port: Int
    public var `protocol`: ProtocolType
    public var allowedRoutes: AllowedRoutes

    public init(name: String, hostname: String? = nil, port: Int, protocol: ProtocolType,
                allowedRoutes: AllowedRoutes = AllowedRoutes()) {
        self.name = name
        self.hostname = hostname
        self.port = port
        self.protocol = `protocol`
        self.allowedRoutes = allowedRoutes
    }
}

/// A listener or route protocol. Implementation-specific values are kept as written.
public enum ProtocolType: Hashable, Sendable, CustomStringConvertible {
    case http, https, tls, tcp, udp
    case other(String)

    public init(_ raw: String) {
        switch raw {
        case "HTTP": self = .http
        case "HTTPS": self = .https
        case "TLS": self = .tls
        case "TCP": self = .tcp
        case "UDP": self = .udp
        default: self = .other(raw)
        }
    }

    public var description: String {
        switch self {
        case .http: "HTTP"
        case .https: "HTTPS"
        case .tls: "TLS"
        case .tcp: "TCP"
        case .udp: "UDP"
        case .other(let raw): raw
        }
    }

    /// external-dns's `gwProtocolMatches`: HTTPS counts as HTTP on both sides, and a TCP route
    /// may attach to a TLS listener; otherwise the protocols must be equal.
    public func admits(route: ProtocolType) -> Bool {
        let listener = self == .https ? ProtocolType.http : self
        let route = route == .https ? ProtocolType.http : route
        if route == .tcp && listener == .tls { return true }
        return listener == route
    }
}

/// `allowedRoutes` of a listener. Missing fields take the Gateway API defaults.
public struct AllowedRoutes: Hashable, Sendable {
    /// `namespaces.from`; default `Same`.
    public var from: NamespacesFrom
    /// `namespaces.selector`, read when `from` is `Selector`.
    public var selector: LabelSelector?
    /// `kinds`; empty = whatever the protocol supports.
    public var kinds: [RouteGroupKind]

    public init(from: NamespacesFrom = .same, selector: LabelSelector? = nil, kinds: [RouteGroupKind] = []) {
        self.from = from
        self.selector = selector
        self.kinds = kinds
    }
}

/// `allowedRoutes.namespaces.from`. Unknown values admit nothing, as in external-dns.
public enum NamespacesFrom: Hashable, Sendable, CustomStringConvertible {
    case same, all, selector
    case other(String)

    public init(_ raw: String) {
        switch raw {
        case "Same": self = .same
        case "All": self = .all
        case "Selector": self = .selector
        default: self = .other(raw)
        }
    }

    public var description: String {
        switch self {
        case .same: "Same"
        case .all: "All"
        case .selector: "Selector"
        case .other(let raw): raw
        }
    }
}

/// A `group`/`kind` pair naming a route kind; the group defaults to the Gateway API group.
public struct RouteGroupKind: Hashable, Sendable {
    public var group: String
    public var kind: String

    public init(group: String? = nil, kind: String) {
        if let group, !group.isEmpty {
            self.group = group
        } else {
            self.group = gatewayAPIGroup
        }
        self.kind = kind
    }
}
