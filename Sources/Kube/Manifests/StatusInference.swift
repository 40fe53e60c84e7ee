import DNSCore

/// Gives objects read from Git the status a gateway controller would report, so that the
/// route source (which, like external-dns, trusts only status) sees what the cluster would.
///
/// - A Namespace exists for every namespace an object lives in, labelled with
///   `kubernetes.io/metadata.name` as Kubernetes labels every namespace.
/// - A Gateway without status reports the `--gateway-address` values given for it, else its
///   `spec.addresses`.
/// - A route without status gets one `status.parents` entry per Gateway parentRef:
///   `Accepted=True` when the Gateway is in the set and a listener in scope (section, port)
///   admits the route by protocol, namespace and kind, and — when the route names hostnames —
///   one of them intersects the listener's hostname; otherwise `Accepted=False` with the reason.
///
/// - A ListenerSet without status is `Accepted` (it and each listener entry) when its parent
///   Gateway is in the set and its `allowedListeners` admit the set's namespace; otherwise not,
///   with the reason. A route's ListenerSet parent is inferred as a Gateway parent is.
///
/// Objects that carry status are left as they are.
enum StatusInference {
    static let controllerName = "netagent.local/inferred"

    static func apply(to set: inout ManifestSet, addresses: [GatewayAddressOverride]) {
        addNamespaces(to: &set)
        inferGatewayAddresses(in: &set, overrides: addresses)
        var namespaceLabels: [String: [String: String]] = [:]
        for namespace in set.namespaces { namespaceLabels[namespace.metadata.name] = namespace.metadata.labels }
        var gateways: [GatewayKey: Gateway] = [:]
        for gateway in set.gateways {
            gateways[GatewayKey(namespace: gateway.metadata.namespace, name: gateway.metadata.name)] = gateway
        }
        var listenerSets: [GatewayKey: Gateway] = [:]
        for index in set.listenerSets.indices {
            let listenerSet = set.listenerSets[index]
            if listenerSet.status == nil {
                let parent = gateways[listenerSet.parentKey]
                let refusal = parent.map {
                    $0.allowedListeners.refusal(namespace: listenerSet.metadata.namespace, gatewayNamespace: $0.metadata.namespace,
                                                namespaceLabels: namespaceLabels)
                } ?? "Gateway \(listenerSet.parentKey.namespace)/\(listenerSet.parentKey.name) is not in the manifests"
                let condition = refusal.map { Condition(type: "Accepted", status: "False", reason: "NotAllowed", message: $0) }
                    ?? Condition(type: "Accepted", status: "True", reason: "Accepted", message: "inferred from the manifests")
                var listeners: [String: [Condition]] = [:]
                for listener in listenerSet.listeners { listeners[listener.name] = [condition] }
                set.listenerSets[index].status = ListenerSetStatus(conditions: [condition], listeners: listeners)
            }
            listenerSets[GatewayKey(namespace: listenerSet.metadata.namespace, name: listenerSet.metadata.name)] =
                Gateway(metadata: listenerSet.metadata, listeners: listenerSet.listeners)
        }
        for index in set.routes.indices where set.routes[index].status == nil {
            let route = set.routes[index]
            var parents: [RouteParentStatus] = []
            for ref in route.parentRefs {
                let (group, kind, namespace) = ref.resolved(in: route.metadata.namespace)
                guard group == gatewayAPIGroup, kind == "Gateway" || kind == "ListenerSet" else { continue }
                let condition: Condition
                let key = GatewayKey(namespace: namespace, name: ref.name)
                if let gateway = kind == "Gateway" ? gateways[key] : listenerSets[key] {
                    condition = acceptance(of: route, by: gateway, ref: ref, namespaceLabels: namespaceLabels)
                } else {
                    condition = Condition(type: "Accepted", status: "False", reason: "NoMatchingParent",
                                          message: "\(kind) \(namespace)/\(ref.name) is not in the manifests")
                }
                parents.append(RouteParentStatus(parentRef: ref, controllerName: controllerName, conditions: [condition]))
            }
            set.routes[index].status = RouteStatus(parents: parents)
        }
    }

    private static func addNamespaces(to set: inout ManifestSet) {
        var known: Set<String> = []
        for index in set.namespaces.indices {
            let name = set.namespaces[index].metadata.name
            known.insert(name)
            if set.namespaces[index].metadata.labels[Namespace.nameLabel] == nil {
                set.namespaces[index].metadata.labels[Namespace.nameLabel] = name
            }
        }
        let used = set.gateways.map(\.metadata.namespace) + set.routes.map(\.metadata.namespace)
            + set.listenerSets.map(\.metadata.namespace)
        for name in Set(used).subtracting(known).sorted() where !name.isEmpty {
            set.namespaces.append(Namespace(metadata: ObjectMeta(name: name, labels: [Namespace.nameLabel: name])))
        }
    }

    private static func inferGatewayAddresses(in set: inout ManifestSet, overrides: [GatewayAddressOverride]) {
        var byGateway: [GatewayKey: [GatewayAddress]] = [:]
        for override in overrides {
            byGateway[GatewayKey(namespace: override.namespace, name: override.name), default: []]
                .append(GatewayAddress(type: IPText.isIP(override.value) ? "IPAddress" : "Hostname", value: override.value))
        }
        var used: Set<GatewayKey> = []
        for index in set.gateways.indices {
            let gateway = set.gateways[index]
            let key = GatewayKey(namespace: gateway.metadata.namespace, name: gateway.metadata.name)
            let given = byGateway[key]
            if given != nil { used.insert(key) }
            if gateway.status != nil {
                if given != nil {
                    let location = set.origins[gateway.id] ?? SourceLocation(file: "--gateway-address")
                    set.diagnostics.append(ManifestDiagnostic(location: location,
                        message: "--gateway-address for \(key.namespace)/\(key.name) ignored: the Gateway carries status"))
                }
                continue
            }
            set.gateways[index].status = GatewayStatus(addresses: given ?? gateway.specAddresses)
        }
        for override in overrides where !used.contains(GatewayKey(namespace: override.namespace, name: override.name)) {
            set.diagnostics.append(ManifestDiagnostic(location: SourceLocation(file: "--gateway-address"),
                message: "\(override): no Gateway \(override.namespace)/\(override.name) in the manifests"))
        }
    }

    /// The `Accepted` condition a controller would set for `route` on `gateway`.
    static func acceptance(of route: Route, by gateway: Gateway, ref: ParentReference,
                           namespaceLabels: [String: [String: String]]) -> Condition {
        var listeners = gateway.listeners
        if let section = ref.section {
            listeners = listeners.filter { $0.name == section }
            if listeners.isEmpty {
                return Condition(type: "Accepted", status: "False", reason: "NoMatchingParent",
                                 message: "no listener named \(section)")
            }
        }
        if let port = ref.port {
            listeners = listeners.filter { $0.port == port }
            if listeners.isEmpty {
                return Condition(type: "Accepted", status: "False", reason: "NoMatchingParent", message: "no listener on port \(port)")
            }
        }
        var refusals: [String] = []
        var admitting: [Listener] = []
        for listener in listeners {
            if let refusal = ListenerAdmission.refusal(of: route, by: listener, port: nil, gatewayNamespace: gateway.metadata.namespace,
                                                       namespaceLabels: namespaceLabels) {
                refusals.append("listener \(listener.name): \(refusal)")
            } else {
                admitting.append(listener)
            }
        }
        guard !admitting.isEmpty else {
            return Condition(type: "Accepted", status: "False", reason: "NotAllowedByListeners",
                             message: refusals.joined(separator: "; "))
        }
        let routeHosts = route.hostnames.compactMap { try? HostMatching.canonical($0).get() }
        if !route.hostnames.isEmpty {
            let intersects = admitting.contains { listener in
                guard let listenerHost = try? HostMatching.canonical(listener.hostname ?? "").get() else { return false }
                return routeHosts.contains { HostMatching.intersection(listener: listenerHost, route: $0) != nil }
            }
            if !intersects {
                let listenerHosts = admitting.map { $0.hostname ?? "*" }.joined(separator: ", ")
                return Condition(type: "Accepted", status: "False", reason: "NoMatchingListenerHostname",
                                 message: "\(route.hostnames.joined(separator: ", ")) matches no admitting listener's hostname (\(listenerHosts))")
            }
        }
        return Condition(type: "Accepted", status: "True", reason: "Accepted", message: "inferred from the manifests")
    }
}
