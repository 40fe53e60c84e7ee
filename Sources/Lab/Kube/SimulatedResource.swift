public import Foundation

/// A collection the Kubernetes simulator serves.
public struct SimulatedResource: Sendable, Hashable {
    /// Empty for the core group.
    public var group: String
    public var version: String
    /// Plural name in URLs.
    public var plural: String
    public var kind: String
    public var namespaced: Bool
    /// A custom resource with the `status` subresource (`subresources: {status: {}}`), served as
    /// Kubernetes documents it ("Extend the Kubernetes API with CustomResourceDefinitions",
    /// Status subresource): PUT on `/status` changes only `status`; a write of the object itself
    /// keeps the stored `status`; `metadata.generation` starts at 1 and grows with every change
    /// to anything but `metadata` and `status`.
    public var statusSubresource: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool, statusSubresource: Bool = false) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.statusSubresource = statusSubresource
    }

    public var apiVersion: String { group.isEmpty ? version : group + "/" + version }
    /// Served by the apiserver itself (core and coordination.k8s.io here), not by a CRD.
    public var builtIn: Bool { group.isEmpty || group == "coordination.k8s.io" }
    /// The lower-case singular name discovery gives (`singularName`).
    var singular: String { kind.lowercased() }
    /// The verbs discovery lists for it: what the simulator serves.
    var verbs: [String] { ["create", "delete", "get", "list", "patch", "update", "watch"] }
    var id: String { apiVersion + "/" + plural }

    public static let namespaces = SimulatedResource(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let configMaps = SimulatedResource(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let leases = SimulatedResource(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    public static let gatewayClasses = SimulatedResource(group: gatewayGroup, version: "v1", plural: "gatewayclasses", kind: "GatewayClass", namespaced: false)
    public static let gateways = SimulatedResource(group: gatewayGroup, version: "v1", plural: "gateways", kind: "Gateway", namespaced: true)
    public static let httpRoutes = SimulatedResource(group: gatewayGroup, version: "v1", plural: "httproutes", kind: "HTTPRoute", namespaced: true)
    public static let grpcRoutes = SimulatedResource(group: gatewayGroup, version: "v1", plural: "grpcroutes", kind: "GRPCRoute", namespaced: true)
    public static let tlsRoutes = SimulatedResource(group: gatewayGroup, version: "v1", plural: "tlsroutes", kind: "TLSRoute", namespaced: true)
    public static let tcpRoutes = SimulatedResource(group: gatewayGroup, version: "v1", plural: "tcproutes", kind: "TCPRoute", namespaced: true)
    public static let udpRoutes = SimulatedResource(group: gatewayGroup, version: "v1", plural: "udproutes", kind: "UDPRoute", namespaced: true)
    public static let listenerSets = SimulatedResource(group: gatewayGroup, version: "v1", plural: "listenersets", kind: "ListenerSet", namespaced: true)
    public static let gatewayGroup = "gateway.networking.k8s.io"
    /// external-dns's CRD (`config/crd/standard/dnsendpoints.externaldns.k8s.io.yaml`:
    /// namespaced, v1alpha1, the status subresource).
    public static let dnsEndpoints = SimulatedResource(group: "externaldns.k8s.io", version: "v1alpha1", plural: "dnsendpoints",
                                                       kind: "DNSEndpoint", namespaced: true, statusSubresource: true)

    /// What a cluster with the Gateway API v1.6 standard channel (TLS/TCP/UDP routes in v1) and
    /// external-dns's CRD serves (the parts netagent reads). `faults.hideGroup` takes a group
    /// away (CRDs not installed).
    public static let defaults: [SimulatedResource] = [
        .namespaces, .configMaps, .leases, .gatewayClasses, .gateways, .httpRoutes, .grpcRoutes, .tlsRoutes, .tcpRoutes, .udpRoutes,
        .listenerSets, .dnsEndpoints,
    ]
}

/// One stored object as the simulator holds it.
public struct SimulatedObject: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var resourceVersion: String
    /// The object's JSON with kind, apiVersion and the server-set metadata.
    public var json: Data
}

/// What a simulated API group answers.
public enum GroupAvailability: Sendable, Hashable {
    case served
    /// 404 for the group and everything under it: its CRDs are not installed.
    case missing
    /// Discovery answers, but list and watch of its resources answer 403 (RBAC).
    case forbidden
}

/// How a watch from a compacted resource version is refused.
public enum ExpiredWatchStyle: Sendable, Hashable {
    /// 200, then one ERROR event carrying a 410 Expired Status, then the end (the apiserver's
    /// usual answer from its watch cache).
    case errorEvent
    /// An HTTP 410 with a Status body.
    case httpStatus
}

/// A request the simulator answered, for tests to check what the client sent.
public struct SimulatedRequest: Sendable, Hashable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var status: Int
    public var isWatch: Bool { query["watch"] == "1" || query["watch"] == "true" }
}

/// A simulator failure on a call from a test (create of an existing object, …).
public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The HTTP status and Status reason the simulator answers with for this failure.
    public var code: Int
    public var reason: String
    /// The Status `details` the apiserver adds: the object's name, group and kind (plural, or
    /// the Kind for 422), and for 422 Invalid one cause per field.
    var details: [String: String] = [:]
    var causes: [(field: String, message: String)] = []

    init(_ description: String, code: Int = 500, reason: String = "InternalError") {
        self.description = description
        self.code = code
        self.reason = reason
    }

    init(_ description: String, code: Int, reason: String, resource: SimulatedResource, name: String,
         causes: [(field: String, message: String)] = []) {
        self.init(description, code: code, reason: reason)
        details = ["name": name, "group": resource.group, "kind": code == 422 ? resource.kind : resource.plural]
        self.causes = causes
    }

    /// The Status body the apiserver writes for this failure.
    var statusBody: Data {
        var extra: [String: Any] = details
        if !causes.isEmpty {
            extra["causes"] = causes.map { ["reason": "FieldValueInvalid", "message": $0.message, "field": $0.field] }
        }
        return KubeWire.status(code: code, reason: reason, message: description, details: extra)
    }
}
