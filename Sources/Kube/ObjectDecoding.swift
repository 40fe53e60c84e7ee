import Yams

/// One Kubernetes object read from a document, or the reason it was passed over.
///
/// `indirect`: each object in a box of its own size. Without it the enum is as large as its
/// largest case (a Gateway), and the cluster informers' tables hold one per object, most of
/// them routes.
public indirect enum DecodedObject: Hashable, Sendable {
    case gateway(Gateway)
    case route(Route)
    case namespace(Namespace)
    /// A Gateway API ListenerSet (read behind `select.gatewayListenerSets`).
    case listenerSet(ListenerSet)
    /// external-dns's DNSEndpoint (the `crd` source).
    case dnsEndpoint(DNSEndpoint)
    /// A kind the route source has no use for (Deployment, EnvoyProxy, Istio's Gateway, …).
    case skipped(kind: String)
}

/// Reads Gateway API and core objects from composed YAML/JSON documents. JSON is read the
/// same way (it is YAML), so this also serves `kubectl get -o json` output.
enum ObjectDecoder {
    /// Decodes one document root into objects and the line each starts on. A `List` (or
    /// `<Kind>List`) yields each of its items; a list item that fails to decode is reported
    /// through `onError` and the others are kept.
    static func decode(_ root: Node, onError: (DecodeError) -> Void) -> [(DecodedObject, Int?)] {
        let field = Field(node: root, key: "(document)")
        do {
            guard case .mapping = root else { return field.isNull ? [] : [(.skipped(kind: ""), field.line)] }
            let apiVersion = try field.string("apiVersion") ?? ""
            let kind = try field.string("kind") ?? ""
            if kind.hasSuffix("List"), let items = try field.child("items") {
                let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
                var result: [(DecodedObject, Int?)] = []
                for item in try items.items() {
                    do {
                        let version = try item.string("apiVersion") ?? apiVersion
                        guard let kind = try item.string("kind") ?? itemKind else {
                            result.append((.skipped(kind: ""), item.line))
                            continue
                        }
                        result.append((try object(item, apiVersion: version, kind: kind), item.line))
                    } catch {
                        onError(error)
                    }
                }
                return result
            }
            return [(try object(field, apiVersion: apiVersion, kind: kind), field.line)]
        } catch {
            onError(error)
            return []
        }
    }

    static func object(_ field: Field, apiVersion: String, kind: String) throws(DecodeError) -> DecodedObject {
        do {
            return try knownObject(field, apiVersion: apiVersion, kind: kind)
        } catch {
            var named = error
            let name = (try? field.child("metadata")?.string("name")) ?? nil
            named.object = name.map { "\(kind) \($0)" } ?? kind
            throw named
        }
    }

    private static func knownObject(_ field: Field, apiVersion: String, kind: String) throws(DecodeError) -> DecodedObject {
        let group = apiVersion.split(separator: "/").dropLast().first.map(String.init) ?? ""
        switch (group, kind) {
        case (gatewayAPIGroup, "Gateway"):
            return .gateway(try gateway(field))
        case (gatewayAPIGroup, "ListenerSet"):
            return .listenerSet(try listenerSet(field))
        case (gatewayAPIGroup, _):
            guard let routeKind = RouteKind(rawValue: kind) else { return .skipped(kind: kind) }
            return .route(try route(field, kind: routeKind))
        case (dnsEndpointGroup, "DNSEndpoint"):
            return .dnsEndpoint(try dnsEndpoint(field))
        case ("", "Namespace") where apiVersion == "v1":
            return .namespace(Namespace(metadata: try metadata(field)))
        default:
            return .skipped(kind: kind)
        }
    }

    /// A DNSEndpoint: `metadata.generation`, `spec.endpoints[]` as external-dns's Endpoint JSON
    /// (`endpoint/endpoint.go`: dnsName, targets, recordType, setIdentifier, recordTTL, labels,
    /// providerSpecific), `status.observedGeneration`.
    static func dnsEndpoint(_ root: Field) throws(DecodeError) -> DNSEndpoint {
        var object = DNSEndpoint(metadata: try metadata(root))
        object.generation = try root.child("metadata")?.int("generation") ?? 0
        object.resourceVersion = try root.child("metadata")?.string("resourceVersion") ?? ""
        object.observedGeneration = try root.child("status")?.int("observedGeneration") ?? 0
        guard let spec = try root.child("spec") else { return object }
        for item in try spec.items("endpoints") {
            var entry = DNSEndpoint.Entry(dnsName: try item.required("dnsName").string(), recordType: try item.string("recordType") ?? "",
                                          targets: try item.strings("targets"))
            if let ttlField = try item.child("recordTTL") {
                let ttl = try ttlField.int()
                guard ttl >= 0, ttl <= Int(Int32.max) else { throw ttlField.fail("recordTTL must be between 0 and \(Int32.max)") }
                entry.ttl = ttl == 0 ? nil : ttl
            }
            entry.setIdentifier = try item.string("setIdentifier") ?? ""
            entry.labels = try item.child("labels")?.stringMap() ?? [:]
            for pair in try item.items("providerSpecific") {
                entry.providerSpecific.append(.init(name: try pair.required("name").string(), value: try pair.string("value") ?? ""))
            }
            object.endpoints.append(entry)
        }
        return object
    }

    static func metadata(_ root: Field) throws(DecodeError) -> ObjectMeta {
        let field = try root.required("metadata")
        var meta = ObjectMeta(name: "")
        try field.forEachEntry { key, value throws(DecodeError) in
            guard !value.isNull else { return }
            switch key {
            case "name": meta.name = try value.string()
            case "namespace": meta.namespace = try value.string()
            case "labels": meta.labels = try value.stringMap()
            case "annotations": meta.annotations = try value.stringMap()
            default: break
            }
        }
        guard !meta.name.isEmpty else { throw field.fail("metadata.name is missing or empty") }
        return meta
    }

    static func gateway(_ root: Field) throws(DecodeError) -> Gateway {
        let meta = try metadata(root)
        let spec = try root.child("spec")
        var listeners: [Listener] = []
        var specAddresses: [GatewayAddress] = []
        if let spec {
            for item in try spec.items("listeners") { listeners.append(try listener(item)) }
            for item in try spec.items("addresses") { specAddresses.append(try address(item)) }
        }
        var allowedListeners = AllowedListeners()
        if let namespaces = try spec?.child("allowedListeners")?.child("namespaces") {
            if let from = try namespaces.string("from") { allowedListeners.from = NamespacesFrom(from) }
            if let selector = try namespaces.child("selector") { allowedListeners.selector = try labelSelector(selector) }
        }
        var status: GatewayStatus?
        if let statusField = try root.child("status") {
            var addresses: [GatewayAddress] = []
            for item in try statusField.items("addresses") { addresses.append(try address(item)) }
            status = GatewayStatus(addresses: addresses)
        }
        var gateway = Gateway(metadata: meta, listeners: listeners, specAddresses: specAddresses, status: status)
        gateway.allowedListeners = allowedListeners
        return gateway
    }

    /// A ListenerSet: `spec.parentRef`, `spec.listeners[]` (a Gateway's listener fields),
    /// `status.conditions` and `status.listeners[].conditions`.
    static func listenerSet(_ root: Field) throws(DecodeError) -> ListenerSet {
        let meta = try metadata(root)
        let spec = try root.required("spec")
        let parent = try spec.required("parentRef")
        var set = ListenerSet(metadata: meta, parentName: try parent.required("name").string(), parentNamespace: try parent.string("namespace"))
        for item in try spec.items("listeners") { set.listeners.append(try listener(item)) }
        if let statusField = try root.child("status") {
            var status = ListenerSetStatus(conditions: try conditions(statusField))
            for entry in try statusField.items("listeners") {
                status.listeners[try entry.required("name").string()] = try conditions(entry)
            }
            set.status = status
        }
        return set
    }

    /// `conditions[]` of a status (a route parent's, a ListenerSet's or one of its listeners').
    private static func conditions(_ field: Field) throws(DecodeError) -> [Condition] {
        var result: [Condition] = []
        for condition in try field.items("conditions") {
            result.append(Condition(type: try condition.required("type").string(), status: try condition.required("status").string(),
                                    reason: try condition.string("reason") ?? "", message: try condition.string("message") ?? ""))
        }
        return result
    }

    private static func address(_ field: Field) throws(DecodeError) -> GatewayAddress {
        GatewayAddress(type: try field.string("type"), value: try field.required("value").string())
    }

    private static func listener(_ field: Field) throws(DecodeError) -> Listener {
        var allowed = AllowedRoutes()
        if let allowedField = try field.child("allowedRoutes") {
            if let namespaces = try allowedField.child("namespaces") {
                if let from = try namespaces.string("from") { allowed.from = NamespacesFrom(from) }
                if let selector = try namespaces.child("selector") { allowed.selector = try labelSelector(selector) }
            }
            for kind in try allowedField.items("kinds") {
                allowed.kinds.append(RouteGroupKind(group: try kind.string("group"), kind: try kind.required("kind").string()))
            }
        }
        return Listener(
            name: try field.required("name").string(),
            hostname: try field.string("hostname"),
            port: try field.required("port").int(),
            protocol: ProtocolType(try field.required("protocol").string()),
            allowedRoutes: allowed)
    }

    static func labelSelector(_ field: Field) throws(DecodeError) -> LabelSelector {
        var selector = LabelSelector(matchLabels: try field.child("matchLabels")?.stringMap() ?? [:])
        for item in try field.items("matchExpressions") {
            let opField = try item.required("operator")
            let op: LabelSelector.Requirement.Operator
            switch try opField.string() {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            case let other: throw opField.fail("unknown selector operator '\(other)'")
            }
            let values = try item.strings("values")
            selector.matchExpressions.append(.init(key: try item.required("key").string(), op: op, values: values))
        }
        return selector
    }

    static func route(_ root: Field, kind: RouteKind) throws(DecodeError) -> Route {
        let meta = try metadata(root)
        var hostnames: [String] = []
        var parentRefs: [ParentReference] = []
        if let spec = try root.child("spec") {
            if kind.hasHostnames { hostnames = try spec.strings("hostnames") }
            for item in try spec.items("parentRefs") { parentRefs.append(try parentReference(item)) }
        }
        var status: RouteStatus?
        if let statusField = try root.child("status") {
            var parents: [RouteParentStatus] = []
            for item in try statusField.items("parents") {
                parents.append(RouteParentStatus(
                    parentRef: try parentReference(try item.required("parentRef")),
                    controllerName: try item.string("controllerName") ?? "",
                    conditions: try conditions(item)))
            }
            status = RouteStatus(parents: parents)
        }
        return Route(kind: kind, metadata: meta, hostnames: hostnames, parentRefs: parentRefs, status: status)
    }

    private static func parentReference(_ field: Field) throws(DecodeError) -> ParentReference {
        var ref = ParentReference(name: "")
        var named = false
        try field.forEachEntry { key, value throws(DecodeError) in
            guard !value.isNull else { return }
            switch key {
            case "group": ref.group = try value.string()
            case "kind": ref.kind = try value.string()
            case "namespace": ref.namespace = try value.string()
            case "name": ref.name = try value.string(); named = true
            case "sectionName": ref.sectionName = try value.string()
            case "port": ref.port = try value.int()
            default: break
            }
        }
        guard named else { throw field.fail("missing required field 'name'") }
        return ref
    }
}
