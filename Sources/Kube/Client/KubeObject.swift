public import Foundation

/// One Kubernetes object of any kind: the metadata the client needs, plus the whole object as
/// JSON for the typed decoders (`decode(_:)`).
public struct KubeObject: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    /// Empty for cluster-scoped objects.
    public var namespace: String
    public var uid: String
    /// Opaque; compare for equality only.
    public var resourceVersion: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// The object as the API server sent it (less what an informer's transform dropped), as
    /// compact JSON text with sorted keys. Kept as text, not as a `JSONValue` tree: an informer
    /// holds every object of its kind for as long as the agent runs, and a tree costs a
    /// dictionary per JSON object and a heap string per longer value — several times the text.
    public private(set) var json: Data

    /// The object as a JSON value, read from `json` on each use (a whole number written as
    /// `1.0` reads back as an integer).
    public var raw: JSONValue {
        get {
            // `json` is only ever what `JSONValue.jsonData()` wrote, which always reads back.
            (try? JSONDecoder().decode(JSONValue.self, from: json)) ?? .null
        }
        set { json = Self.text(newValue) }
    }

    /// `value` as JSON text. Encoding a `JSONValue` fails only for a non-finite number, which
    /// JSON cannot carry and so no server sends; such a value is kept as `null`.
    static func text(_ value: JSONValue) -> Data {
        (try? value.jsonData()) ?? Data("null".utf8)
    }

    /// The cache key: `namespace/name`, or `name` for cluster-scoped objects.
    public var key: String { namespace.isEmpty ? name : namespace + "/" + name }

    /// Reads the metadata out of `raw`. `defaultKind`/`defaultAPIVersion` fill in what list
    /// items may omit (the list's kind without `List`).
    public init(raw: JSONValue, defaultKind: String = "", defaultAPIVersion: String = "") {
        let metadata = raw["metadata"] ?? .object([:])
        json = Self.text(raw)
        apiVersion = raw["apiVersion"]?.stringValue ?? defaultAPIVersion
        kind = raw["kind"]?.stringValue ?? defaultKind
        name = metadata["name"]?.stringValue ?? ""
        namespace = metadata["namespace"]?.stringValue ?? ""
        uid = metadata["uid"]?.stringValue ?? ""
        resourceVersion = metadata["resourceVersion"]?.stringValue ?? ""
        labels = (metadata["labels"] ?? .null).stringMap
        annotations = (metadata["annotations"] ?? .null).stringMap
    }

    /// Decodes the object into a typed value (a Gateway, an HTTPRoute, …).
    /// Throws the decoder's error when the JSON does not fit `type`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: json)
    }
}

/// A Kubernetes `Status` object, as errors and ERROR watch events carry it.
public struct KubeStatus: Sendable, Hashable {
    public var code: Int
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    /// Reads a Status object; nil when `value` is not one.
    public init?(_ value: JSONValue) {
        guard value["kind"]?.stringValue == "Status" else { return nil }
        code = value["code"]?.intValue ?? 0
        reason = value["reason"]?.stringValue ?? ""
        message = value["message"]?.stringValue ?? ""
    }

    /// 410 Gone / reason Expired or Gone: the resource version or continue token is too old.
    public var isExpired: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
}

/// A collection the client can list and watch: group, version, plural resource name.
public struct KubeResource: Sendable, Hashable, CustomStringConvertible {
    /// Empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// The plural name in the URL (`httproutes`).
    public var resource: String
    /// The object kind (`HTTPRoute`), used when list items omit it.
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, resource: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : group + "/" + version }

    /// The collection path, across all namespaces or in one.
    public func path(namespace: String? = nil) -> String {
        let base = group.isEmpty ? "/api/" + version : "/apis/" + group + "/" + version
        if let namespace, namespaced { return base + "/namespaces/" + namespace + "/" + resource }
        return base + "/" + resource
    }

    public var description: String { group.isEmpty ? resource : resource + "." + group }

    public static let gatewayGroup = "gateway.networking.k8s.io"
    public static let gateways = KubeResource(
        group: gatewayGroup, version: "v1", resource: "gateways", kind: "Gateway", namespaced: true)
    public static let httpRoutes = KubeResource(
        group: gatewayGroup, version: "v1", resource: "httproutes", kind: "HTTPRoute", namespaced: true)
    public static let grpcRoutes = KubeResource(
        group: gatewayGroup, version: "v1", resource: "grpcroutes", kind: "GRPCRoute", namespaced: true)
    /// TLSRoute, TCPRoute and UDPRoute in `v1`, which external-dns v0.23 reads first
    /// (`gateway_tlsroute.go`, `gateway_tcproute.go`, `gateway_udproute.go`) and Gateway API
    /// v1.6.1's standard channel serves (API-FACTS §D.1). A cluster that serves only v1alpha2
    /// shows them as not served.
    public static let tlsRoutes = KubeResource(
        group: gatewayGroup, version: "v1", resource: "tlsroutes", kind: "TLSRoute", namespaced: true)
    public static let tcpRoutes = KubeResource(
        group: gatewayGroup, version: "v1", resource: "tcproutes", kind: "TCPRoute", namespaced: true)
    public static let udpRoutes = KubeResource(
        group: gatewayGroup, version: "v1", resource: "udproutes", kind: "UDPRoute", namespaced: true)
    /// ListenerSet (v1 in Gateway API v1.6, as external-dns v0.23 reads it).
    public static let listenerSets = KubeResource(
        group: gatewayGroup, version: "v1", resource: "listenersets", kind: "ListenerSet", namespaced: true)
    /// external-dns's DNSEndpoint CRD (`externaldns.k8s.io/v1alpha1`), the `crd` source.
    public static let dnsEndpoints = KubeResource(
        group: "externaldns.k8s.io", version: "v1alpha1", resource: "dnsendpoints", kind: "DNSEndpoint", namespaced: true)
    public static let namespaces = KubeResource(
        group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false)
    public static let configMaps = KubeResource(
        group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let leases = KubeResource(
        group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true)
}
