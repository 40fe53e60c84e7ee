/// A permission netagent needs from the API server: verbs on one resource, in RBAC's words.
/// The deployment's rules (deploy/clusterrole.yaml, deploy/role.yaml) are tested against these
/// declarations, so a new reader or writer without its grant, or a grant nothing uses, fails.
public struct KubeAccess: Sendable, Hashable, CustomStringConvertible {
    /// RBAC verbs, as `KubeClient`'s calls map to them: `get` (one object), `list` and
    /// `listAll` (a collection), `watch`, `create` (POST), `replace` (`update`, PUT), `delete`.
    public enum Verb: String, Sendable, Hashable, CaseIterable, Comparable {
        case get, list, watch, create, update, patch, delete

        public static func < (a: Verb, b: Verb) -> Bool {
            (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
        }
    }

    public var resource: KubeResource
    /// A subresource (`status`), nil for the resource itself.
    public var subresource: String?
    public var verbs: Set<Verb>

    public init(resource: KubeResource, subresource: String? = nil, verbs: Set<Verb>) {
        self.resource = resource
        self.subresource = subresource
        self.verbs = verbs
    }

    /// The name an RBAC rule's `resources` uses: `dnsendpoints`, `dnsendpoints/status`.
    public var ruleResource: String { resource.resource + (subresource.map { "/" + $0 } ?? "") }

    public var description: String {
        let group = resource.group.isEmpty ? "" : "." + resource.group
        return "\(ruleResource)\(group): \(verbs.sorted().map(\.rawValue).joined(separator: ","))"
    }

    /// The verb RBAC checks for one request: the method, and for a GET whether it names one
    /// object or asks for a watch. Nil for a method the API server does not authorise as a verb.
    public static func verb(method: String, namesObject: Bool, isWatch: Bool) -> Verb? {
        switch method.uppercased() {
        case "GET", "HEAD": isWatch ? .watch : namesObject ? .get : .list
        case "POST": .create
        case "PUT": .update
        case "PATCH": .patch
        case "DELETE": .delete
        default: nil
        }
    }

    /// Cluster-wide (a ClusterRole): what the route source's informers and `listOnce` read,
    /// and the DNSEndpoints' `status.observedGeneration` written back.
    public static var clusterWide: [KubeAccess] { ClusterRoutes.access + [ObservedGenerationWriter.access] }

    /// The Lease that leader election takes and renews in the pod's namespace: read it, create
    /// it once, replace it with its resourceVersion (optimistic concurrency). Never deleted.
    public static let leaderElectionLease = KubeAccess(resource: .leases, verbs: [.get, .create, .update])
    /// The Pi-hole ownership ledger ConfigMap in the pod's namespace: read, create once, replace.
    public static let ledgerConfigMap = KubeAccess(resource: .configMaps, verbs: [.get, .create, .update])

    /// Writes in the pod's own namespace only (a Role).
    public static let ownNamespace: [KubeAccess] = [leaderElectionLease, ledgerConfigMap]
}

extension KubeAccess {
    /// What an `Informer` asks of the API server: full lists (relists after 410 included) and
    /// watches from the list's version. It never gets or writes single objects.
    public static let informerVerbs: Set<Verb> = [.list, .watch]
}

extension ClusterRoutes {
    /// The permissions `run` (one informer per kind in `resources`) and `listOnce` need.
    public static var access: [KubeAccess] { resources.map { KubeAccess(resource: $0, verbs: KubeAccess.informerVerbs) } }
}
