/// The part of a Kubernetes object's `metadata` that the route source reads.
public struct ObjectMeta: Hashable, Sendable {
    public var name: String
    /// The object's namespace; empty for cluster-scoped objects (Namespace).
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(name: String, namespace: String = "", labels: [String: String] = [:],
                annotations: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// Identifies one object for messages and labels: `httproute/media/jellyfin`, `gateway/network/envoy`.
public struct ResourceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The kind as Kubernetes spells it (`HTTPRoute`, `Gateway`, `Namespace`).
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// external-dns's resource label: lower-case kind, namespace and name joined by `/`.
    public var description: String {
        namespace.isEmpty ? "\(kind.lowercased())/\(name)" : "\(kind.lowercased())/\(namespace)/\(name)"
    }

    public static func < (lhs: ResourceID, rhs: ResourceID) -> Bool {
        (lhs.kind, lhs.namespace, lhs.name) < (rhs.kind, rhs.namespace, rhs.name)
    }
}

/// A core `Namespace`: only its labels matter (listener `allowedRoutes` selectors).
public struct Namespace: Hashable, Sendable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) {
        self.metadata = metadata
    }

    /// The label Kubernetes puts on every namespace (since 1.21), carrying its name.
    public static let nameLabel = "kubernetes.io/metadata.name"
}

/// A `metav1.Condition` as found in route status.
public struct Condition: Hashable, Sendable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String
    public var message: String

    public init(type: String, status: String, reason: String = "", message: String = "") {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, all of which must hold.
public struct LabelSelector: Hashable, Sendable {
    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// One `key operator values` term of a selector.
    public struct Requirement: Hashable, Sendable {
        public enum Operator: Hashable, Sendable {
            case `in`, notIn, exists, doesNotExist
        }

        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        /// Whether `labels` satisfy this term (Kubernetes semantics: `notin` holds when the key is absent).
        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }
    }

    /// Why Kubernetes would refuse this selector (`In`/`NotIn` without values, `Exists` with
    /// values), or nil when it is valid. An invalid selector matches nothing.
    public var problem: String? {
        for term in matchExpressions {
            let needsValues = term.op == .in || term.op == .notIn
            if needsValues && term.values.isEmpty {
                return "operator on key '\(term.key)' needs at least one value"
            }
            if !needsValues && !term.values.isEmpty {
                return "operator on key '\(term.key)' takes no values"
            }
        }
        return nil
    }

    /// Whether `labels` satisfy every term. An empty selector matches everything.
    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value { return false }
        return matchExpressions.allSatisfy { $0.matches(labels) }
    }
}
