/// A Gateway API `ListenerSet` (v1): listeners added to a parent Gateway from another object
/// (often another namespace). external-dns reads it behind `--gateway-listener-sets`
/// (`source/gateway.go`: `newListenerSetObject`, `listenerSetSections`,
/// `gatewayAllowsListenerSet`); netagent behind `select.gatewayListenerSets`.
public struct ListenerSet: Hashable, Sendable {
    public var metadata: ObjectMeta
    /// `spec.parentRef`: the Gateway (namespace defaults to the ListenerSet's).
    public var parentName: String
    public var parentNamespace: String?
    public var listeners: [Listener]
    /// `status`, nil when the object carries none (a manifest from Git).
    public var status: ListenerSetStatus?

    public init(metadata: ObjectMeta, parentName: String, parentNamespace: String? = nil, listeners: [Listener] = [],
                status: ListenerSetStatus? = nil) {
        self.metadata = metadata
        self.parentName = parentName
        self.parentNamespace = parentNamespace
        self.listeners = listeners
        self.status = status
    }

    public var id: ResourceID { ResourceID(kind: "ListenerSet", namespace: metadata.namespace, name: metadata.name) }

    /// The parent Gateway's key.
    var parentKey: GatewayKey {
        GatewayKey(namespace: (parentNamespace?.isEmpty ?? true) ? metadata.namespace : parentNamespace ?? "", name: parentName)
    }
}

/// A ListenerSet's `status`: its conditions and each listener entry's.
public struct ListenerSetStatus: Hashable, Sendable {
    public var conditions: [Condition]
    /// `status.listeners[]` by name: that entry's conditions.
    public var listeners: [String: [Condition]]

    public init(conditions: [Condition] = [], listeners: [String: [Condition]] = [:]) {
        self.conditions = conditions
        self.listeners = listeners
    }

    var isAccepted: Bool { conditions.first { $0.type == "Accepted" }?.status == "True" }
}

/// A Gateway's `spec.allowedListeners.namespaces`: which ListenerSets may attach. Absent = None.
public struct AllowedListeners: Hashable, Sendable {
    public var from: NamespacesFrom
    public var selector: LabelSelector?

    public init(from: NamespacesFrom = .other("None"), selector: LabelSelector? = nil) {
        self.from = from
        self.selector = selector
    }

    /// Why a ListenerSet in `namespace` may not attach to a Gateway in `gatewayNamespace`, or nil.
    func refusal(namespace: String, gatewayNamespace: String, namespaceLabels: [String: [String: String]]) -> String? {
        switch from {
        case .all: return nil
        case .same: return namespace == gatewayNamespace ? nil : "allowedListeners from: Same, and the ListenerSet is in \(namespace)"
        case .selector:
            guard let selector, selector.problem == nil else { return "allowedListeners from: Selector without a valid selector" }
            guard let labels = namespaceLabels[namespace] else { return "Namespace \(namespace) not found" }
            return selector.matches(labels) ? nil : "namespace \(namespace) does not match allowedListeners' selector"
        case .other(let raw):
            return raw == "None" ? "the Gateway allows no ListenerSets (allowedListeners from: None, the default)"
                : "unknown allowedListeners from: \(raw)"
        }
    }
}
