/// The route kinds netagent reads. Each maps to the protocol external-dns gives it.
public enum RouteKind: String, CaseIterable, Hashable, Sendable {
    case httpRoute = "HTTPRoute"
    case grpcRoute = "GRPCRoute"
    case tlsRoute = "TLSRoute"
    case tcpRoute = "TCPRoute"
    case udpRoute = "UDPRoute"

    /// external-dns (`source/gateway_*route.go`, each adapter's `Protocol()`): HTTPRoute → HTTP,
    /// GRPCRoute → HTTPS (both attach to HTTP and HTTPS listeners), TLSRoute → TLS, TCPRoute →
    /// TCP (also to TLS listeners), UDPRoute → UDP.
    public var `protocol`: ProtocolType {
        switch self {
        case .httpRoute: .http
        case .grpcRoute: .https
        case .tlsRoute: .tls
        case .tcpRoute: .tcp
        case .udpRoute: .udp
        }
    }

    /// Whether `spec.hostnames` is read: TCPRoute and UDPRoute have none, so external-dns's
    /// adapters return nil and only the `hostname` annotation (or the listener's) names them.
    public var hasHostnames: Bool { self != .tcpRoute && self != .udpRoute }

    /// The name external-dns gives the source of this kind (`--source gateway-httproute`).
    public var sourceName: String { "gateway-" + rawValue.lowercased() }
}

/// A Gateway API route (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute): the fields DNS depends on.
public struct Route: Hashable, Sendable {
    public var kind: RouteKind
    public var metadata: ObjectMeta
    /// `spec.hostnames`, as written.
    public var hostnames: [String]
    public var parentRefs: [ParentReference]
    /// `status`, nil when the object carries none (a manifest from Git).
    public var status: RouteStatus?

    public init(kind: RouteKind, metadata: ObjectMeta, hostnames: [String] = [],
                parentRefs: [ParentReference] = [], status: RouteStatus? = nil) {
        self.kind = kind
        self.metadata = metadata
        self.hostnames = hostnames
        self.parentRefs = parentRefs
        self.status = status
    }

    public var id: ResourceID { ResourceID(kind: kind.rawValue, namespace: metadata.namespace, name: metadata.name) }
}

/// A `parentRefs[]` entry (also the `parentRef` of a status entry). Optional fields are kept
/// as written; `resolved(in:)` applies the defaults.
public struct ParentReference: Hashable, Sendable {
    public var group: String?
    public var kind: String?
    public var namespace: String?
    public var name: String
    public var sectionName: String?
    public var port: Int?

    public init(group: String? = nil, kind: String? = nil, namespace: String? = nil, name: String,
                sectionName: String? = nil, port: Int? = nil) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.sectionName = sectionName
        self.port = port
    }

    /// Group, kind and namespace with the defaults filled in (empty counts as unset, as in
    /// external-dns): group `gateway.networking.k8s.io`, kind `Gateway`, namespace = the route's.
    public func resolved(in routeNamespace: String) -> (group: String, kind: String, namespace: String) {
        (Self.orDefault(group, gatewayAPIGroup), Self.orDefault(kind, "Gateway"), Self.orDefault(namespace, routeNamespace))
    }

    /// The section name, nil when absent or empty (= every listener).
    public var section: String? { (sectionName?.isEmpty ?? true) ? nil : sectionName }

    /// Whether `other` names the same parent object (group, kind, namespace, name after defaults).
    /// Section and port are not compared, matching external-dns's stale-status check.
    public func sameParent(as other: ParentReference, routeNamespace: String) -> Bool {
        name == other.name && resolved(in: routeNamespace) == other.resolved(in: routeNamespace)
    }

    private static func orDefault(_ value: String?, _ fallback: String) -> String {
        guard let value, !value.isEmpty else { return fallback }
        return value
    }
}

/// A route's `status`.
public struct RouteStatus: Hashable, Sendable {
    public var parents: [RouteParentStatus]

    public init(parents: [RouteParentStatus]) {
        self.parents = parents
    }
}

/// One `status.parents[]` entry: what one controller says about one parent.
public struct RouteParentStatus: Hashable, Sendable {
    public var parentRef: ParentReference
    public var controllerName: String
    public var conditions: [Condition]

    public init(parentRef: ParentReference, controllerName: String = "", conditions: [Condition] = []) {
        self.parentRef = parentRef
        self.controllerName = controllerName
        self.conditions = conditions
    }

    /// The first condition of type `Accepted`, as external-dns reads it.
    public var accepted: Condition? { conditions.first { $0.type == "Accepted" } }

    /// Whether that condition is `True`.
    public var isAccepted: Bool { accepted?.status == "True" }
}
