import Foundation
import Kube
import NetAgent

/// The routes the lab's Kubernetes API serves: a manifests folder (`--fixture`) or the
/// built-in set modelled on the seed cluster's apps, read as `netagent plan --manifests`
/// reads them (kustomize, Flux, inferred status), then written into the simulator as JSON
/// objects with the status a gateway controller would have reported.
struct LabFixture {
    var manifests: ManifestSet
    /// Where the routes came from, for people.
    var origin: String

    /// Reads `folder`, or the built-in routes when nil. A Gateway that names no address gets
    /// one from `gatewayAddresses` in turn, so every route yields records.
    static func load(folder: String?, gatewayAddresses: [String]) throws -> LabFixture {
        var set: ManifestSet
        let origin: String
        if let folder {
            guard FileManager.default.fileExists(atPath: folder) else { throw LabError("--fixture \(folder): no such file or folder") }
            set = ManifestLoader.load(paths: [folder])
            origin = folder
        } else {
            set = ManifestLoader.load(text: builtIn, file: "built-in lab routes")
            origin = "built-in routes (the seed cluster's apps under home.test)"
        }
        var spare = gatewayAddresses.makeIterator()
        for index in set.gateways.indices where (set.gateways[index].status?.addresses ?? []).isEmpty {
            guard let address = spare.next() else { break }
            set.gateways[index].status = GatewayStatus(addresses: [GatewayAddress(type: "IPAddress", value: address)])
        }
        guard !set.gateways.isEmpty else { throw LabError("\(origin): no Gateway found, so no route can yield a record") }
        return LabFixture(manifests: set, origin: origin)
    }

    var objects: SourceObjects {
        var objects = SourceObjects()
        objects.add(manifests)
        return objects
    }

    /// The `select:` of each provider: Cloudflare takes the one Gateway named `*external*`,
    /// Pi-hole the one named `*internal*`, as the seed's two external-dns instances do; when
    /// there is not exactly one such Gateway, the provider takes every route.
    func gatewayName(containing word: String) -> String? {
        let names = Set(manifests.gateways.map(\.metadata.name).filter { $0.contains(word) })
        return names.count == 1 ? names.first : nil
    }

    // MARK: JSON as the API serves it

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func metadata(_ meta: ObjectMeta) -> [String: Any] {
        var out: [String: Any] = ["name": meta.name]
        if !meta.namespace.isEmpty { out["namespace"] = meta.namespace }
        if !meta.labels.isEmpty { out["labels"] = meta.labels }
        if !meta.annotations.isEmpty { out["annotations"] = meta.annotations }
        return out
    }

    static func namespaceJSON(_ namespace: Namespace) -> String {
        json(["apiVersion": "v1", "kind": "Namespace", "metadata": metadata(namespace.metadata)])
    }

    static func selector(_ selector: LabelSelector) -> [String: Any] {
        var out: [String: Any] = [:]
        if !selector.matchLabels.isEmpty { out["matchLabels"] = selector.matchLabels }
        let operators: [LabelSelector.Requirement.Operator: String] = [.in: "In", .notIn: "NotIn", .exists: "Exists", .doesNotExist: "DoesNotExist"]
        if !selector.matchExpressions.isEmpty {
            out["matchExpressions"] = selector.matchExpressions.map { term -> [String: Any] in
                var expression: [String: Any] = ["key": term.key, "operator": operators[term.op] ?? "In"]
                if !term.values.isEmpty { expression["values"] = term.values }
                return expression
            }
        }
        return out
    }

    static func gatewayJSON(_ gateway: Gateway) -> String {
        let listeners: [[String: Any]] = gateway.listeners.map { listener in
            var namespaces: [String: Any] = ["from": listener.allowedRoutes.from.description]
            if let labels = listener.allowedRoutes.selector { namespaces["selector"] = selector(labels) }
            var allowed: [String: Any] = ["namespaces": namespaces]
            if !listener.allowedRoutes.kinds.isEmpty {
                allowed["kinds"] = listener.allowedRoutes.kinds.map { ["group": $0.group, "kind": $0.kind] }
            }
            var out: [String: Any] = ["name": listener.name, "port": listener.port, "protocol": listener.protocol.description,
                                      "allowedRoutes": allowed]
            if let hostname = listener.hostname { out["hostname"] = hostname }
            return out
        }
        func addresses(_ list: [GatewayAddress]) -> [[String: String]] {
            list.map { address in address.type.map { ["type": $0, "value": address.value] } ?? ["value": address.value] }
        }
        var spec: [String: Any] = ["gatewayClassName": "lab", "listeners": listeners]
        if !gateway.specAddresses.isEmpty { spec["addresses"] = addresses(gateway.specAddresses) }
        var object: [String: Any] = ["apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                                     "metadata": metadata(gateway.metadata), "spec": spec]
        if let status = gateway.status { object["status"] = ["addresses": addresses(status.addresses)] }
        return json(object)
    }

    static func parentRef(_ ref: ParentReference) -> [String: Any] {
        var out: [String: Any] = ["name": ref.name]
        if let group = ref.group { out["group"] = group }
        if let kind = ref.kind { out["kind"] = kind }
        if let namespace = ref.namespace { out["namespace"] = namespace }
        if let section = ref.sectionName { out["sectionName"] = section }
        if let port = ref.port { out["port"] = port }
        return out
    }

    static func routeJSON(_ route: Route) -> String {
        var spec: [String: Any] = ["parentRefs": route.parentRefs.map(parentRef)]
        if !route.hostnames.isEmpty { spec["hostnames"] = route.hostnames }
        var object: [String: Any] = ["apiVersion": "gateway.networking.k8s.io/v1", "kind": route.kind.rawValue,
                                     "metadata": metadata(route.metadata), "spec": spec]
        if let status = route.status {
            object["status"] = ["parents": status.parents.map { parent -> [String: Any] in
                ["parentRef": parentRef(parent.parentRef), "controllerName": parent.controllerName,
                 "conditions": parent.conditions.map { ["type": $0.type, "status": $0.status, "reason": $0.reason, "message": $0.message] }]
            }]
        }
        return json(object)
    }

    /// The routes modelled on the seed cluster (seed/000_7514a84e81ccf73e.txt): its two Envoy
    /// Gateways in `network` and an HTTPRoute (ArgoCD's CLI also a GRPCRoute) for the apps of
    /// each namespace, with names under the test domain `home.test`.
    static let builtIn = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: { name: envoy-internal, namespace: network }
        spec:
          gatewayClassName: envoy
          addresses: [{ type: IPAddress, value: 198.18.60.50 }]
          listeners:
            - { name: https, port: 443, protocol: HTTPS, hostname: "*.home.test", allowedRoutes: { namespaces: { from: All } } }
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: { name: envoy-external, namespace: network }
        spec:
          gatewayClassName: envoy
          addresses: [{ type: IPAddress, value: 198.18.60.51 }]
          listeners:
            - { name: https, port: 443, protocol: HTTPS, hostname: "*.home.test", allowedRoutes: { namespaces: { from: All } } }
        \(route("argocd", "argocd", "argocd.home.test", gateway: "envoy-internal"))
        \(route("argocd-cli", "argocd", "argocd-cli.home.test", gateway: "envoy-internal", kind: "GRPCRoute"))
        \(route("atuin", "default", "atuin.home.test", gateway: "envoy-internal"))
        \(route("echo-server", "default", "echo.home.test", gateway: "envoy-external"))
        \(route("excalidraw", "default", "draw.home.test", gateway: "envoy-external"))
        \(route("littlelink", "default", "links.home.test", gateway: "envoy-external"))
        \(route("element", "comms", "chat.home.test", gateway: "envoy-external"))
        \(route("pihole", "network", "pihole.home.test", gateway: "envoy-internal"))
        \(route("rook-ceph-dashboard", "rook-ceph", "ceph.home.test", gateway: "envoy-internal"))
        \(route("hubble-ui", "kube-system", "hubble.home.test", gateway: "envoy-internal"))
        \(route("volsync", "volsync-system", "volsync.home.test", gateway: "envoy-internal"))
        \(route("infisical-status", "external-secrets", "secrets.home.test", gateway: "envoy-internal"))
        """

    static func route(_ name: String, _ namespace: String, _ host: String, gateway: String, kind: String = "HTTPRoute") -> String {
        """
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: \(kind)
        metadata: { name: \(name), namespace: \(namespace) }
        spec:
          parentRefs: [{ name: \(gateway), namespace: network }]
          hostnames: [\(host)]
        """
    }
}

/// A lab that cannot start or a fault that cannot be made, in words.
struct LabError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
