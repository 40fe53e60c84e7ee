import Synchronization

/// The Gateway API objects and DNSEndpoints of a live cluster, as `RouteSource` and
/// `DNSEndpointSource` take them: one informer per kind (Gateway, HTTPRoute, GRPCRoute,
/// Namespace, DNSEndpoint), each object decoded by the manifests' decoder as it arrives. Missing CRDs or RBAC leave a kind empty and are said in `problems` (or `notes`, for an optional kind whose CRD is not installed); they never stop
/// the rest.
public struct ClusterRoutes: Sendable {
    /// The kinds RouteSource reads, in the order `snapshot` reports them.
    public static let resources: [KubeResource] = [
        .gateways, .httpRoutes, .grpcRoutes, .namespaces, .dnsEndpoints, .tlsRoutes, .tcpRoutes, .udpRoutes, .listenerSets,
    ]

    public let informers: [Informer<RouteSourceEntry>]
    public let client: KubeClient

    public init(client: KubeClient, options: InformerOptions = InformerOptions(), clock: some Clock<Duration> = ContinuousClock()) {
        self.client = client
        let strings = SharedStrings()
        informers = Self.resources.map {
            Informer(client: client, resource: $0, options: options, clock: clock) { ClusterRoutes.cached($0, sharing: strings) }
        }
    }

    /// The fields `routeSourceObject()` decodes from a Gateway, an HTTPRoute or GRPCRoute, or
    /// a Namespace (ObjectDecoding.swift), plus the metadata the informer itself reads. What
    /// it drops — `managedFields`, `spec.rules`, `status.listeners`, the conditions' times,
    /// kubectl's copy of the last applied object — is most of an object's size, and the
    /// informers hold every object for as long as the agent runs. Labels and the other
    /// annotations stay whole: label filters, namespace selectors and `annotationFilter` may
    /// name any key.
    static let routeSourceShape: JSONShape = {
        let condition: JSONShape = .members(["type": .whole, "status": .whole, "reason": .whole, "message": .whole])
        return .members([
            "apiVersion": .whole,
            "kind": .whole,
            "metadata": .members([
                "name": .whole, "namespace": .whole, "uid": .whole, "resourceVersion": .whole, "generation": .whole,
                "labels": .whole,
                "annotations": .allBut(["kubectl.kubernetes.io/last-applied-configuration"]),
            ]),
            "spec": .members(["listeners": .whole, "addresses": .whole, "hostnames": .whole, "parentRefs": .whole,
                              "endpoints": .whole, "parentRef": .whole, "allowedListeners": .whole]),
            "status": .members([
                "addresses": .whole, "observedGeneration": .whole, "conditions": .items(condition),
                "listeners": .items(.members(["name": .whole, "conditions": .items(condition)])),
                "parents": .items(.members([
                    "parentRef": .whole, "controllerName": .whole, "conditions": .items(condition),
                ])),
            ]),
        ])
    }()

    /// `object` with only `routeSourceShape`'s fields: decodes to the same Gateway, route or
    /// Namespace as the whole object, from less text (the informers trim each object with it
    /// before they decode it).
    public static func routeSourceFields(_ object: KubeObject) -> KubeObject {
        KubeObject(raw: object.raw.keeping(routeSourceShape), defaultKind: object.kind, defaultAPIVersion: object.apiVersion)
    }

    /// What the informers keep of `object`: its `routeSourceFields`, decoded, a route's
    /// repeated strings taken from `strings`.
    static func cached(_ object: KubeObject, sharing strings: SharedStrings) -> RouteSourceEntry {
        RouteSourceEntry(routeSourceFields(object)).sharing(strings)
    }

    /// Lists and watches every kind until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for informer in informers { group.addTask { await informer.run() } }
        }
    }

    /// Calls `onChange` after every change to any cache (relists included) until the task is
    /// cancelled; the reconciler debounces these and then takes a `snapshot`.
    public func watchChanges(_ onChange: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for informer in informers {
                let changes = await informer.changes()
                group.addTask {
                    for await _ in changes { await onChange() }
                }
            }
        }
    }

    /// Whether every kind has been listed, or is known to be missing or forbidden (which the
    /// snapshot's problems say), so a first plan may be made.
    public func isReady() async -> Bool {
        for informer in informers {
            let synced = await informer.hasSynced
            let state = await informer.status.state
            if !synced && state != .missing && state != .forbidden { return false }
        }
        return true
    }

    /// The cached objects now. An object that does not decode is left out and named in `problems`.
    public func snapshot() async -> ClusterSnapshot {
        var snapshot = ClusterSnapshot()
        for informer in informers {
            let status = await informer.status
            if status.state == .missing && informer.resource.isOptional {
                snapshot.notes.append("\(informer.resource): \(status)")
            } else if status.state != .synced && status.state != .starting {
                snapshot.problems.append("\(informer.resource): \(status)")
            }
            if !(await informer.hasSynced) { snapshot.unread.insert(informer.resource) }
            for entry in await informer.objects() { snapshot.add(entry) }
        }
        return snapshot
    }

    /// One list of each kind, for a one-shot plan: no watch. A kind that cannot be listed
    /// (CRDs missing, RBAC) is empty and named in `problems`.
    public static func listOnce(client: KubeClient) async -> ClusterSnapshot {
        var snapshot = ClusterSnapshot()
        for resource in resources {
            do {
                for object in try await client.listAll(resource).items { snapshot.add(object) }
            } catch {
                let reason = error.isNotFound
                    ? "not served (are its CRDs installed?)"
                    : error.status == 403 ? "forbidden (does the RBAC allow list?)" : error.description
                if error.isNotFound && resource.isOptional {
                    snapshot.notes.append("\(resource): \(reason)")
                } else {
                    snapshot.problems.append("\(resource): \(reason)")
                }
                snapshot.unread.insert(resource)
            }
        }
        return snapshot
    }
}

/// Gateway API objects at one moment, ready for `RouteSource.endpoints`.
public struct ClusterSnapshot: Sendable {
    public var gateways: [Gateway] = []
    public var routes: [Route] = []
    public var namespaces: [Namespace] = []
    public var dnsEndpoints: [DNSEndpoint] = []
    public var listenerSets: [ListenerSet] = []
    /// Kinds that could not be read and objects that did not decode, in words.
    public var problems: [String] = []
    /// Optional kinds the cluster does not serve (external-dns's CRD not installed), in words:
    /// worth saying once, not a failure.
    public var notes: [String] = []
    /// The kinds never listed (CRDs missing, RBAC, the API down): their absence says nothing
    /// about which records they ask for, so the records they gave must not be deleted.
    public var unread: Set<KubeResource> = []

    /// No kind could be listed: the cluster gave nothing at all, so no plan may delete on its
    /// word. Objects that did not decode are problems of a cluster that was read, not this.
    public var readNothing: Bool { unread.isSuperset(of: ClusterRoutes.resources) }

    public init() {}

    mutating func add(_ object: KubeObject) { add(RouteSourceEntry(object)) }

    mutating func add(_ entry: RouteSourceEntry) {
        switch entry {
        case .decoded(.gateway(let gateway)): gateways.append(gateway)
        case .decoded(.route(let route)): routes.append(route)
        case .decoded(.namespace(let namespace)): namespaces.append(namespace)
        case .decoded(.dnsEndpoint(let object)): dnsEndpoints.append(object)
        case .decoded(.listenerSet(let object)): listenerSets.append(object)
        case .decoded(.skipped): break
        case .undecodable(let problem): problems.append(problem)
        }
    }
}

/// What the cluster's informers keep of one object: what `RouteSource` reads of it, decoded
/// once as it arrives — not its JSON text, which costs several times the decoded fields and
/// which every snapshot decoded again (BENCHMARKS.md, issue 22) — or why it does not decode.
public enum RouteSourceEntry: Hashable, Sendable {
    case decoded(DecodedObject)
    /// `Kind namespace/name: why`, for the snapshot's problems.
    case undecodable(String)

    public init(_ object: KubeObject) {
        do {
            self = .decoded(try object.routeSourceObject())
        } catch {
            self = .undecodable("\(object.kind) \(object.key): \(error)")
        }
    }
}

extension KubeResource {
    /// A kind many clusters do not serve and that is no failure to miss: DNSEndpoints (only
    /// where external-dns's CRD is installed), TLS/TCP/UDP routes (experimental channel before
    /// Gateway API v1.6).
    public var isOptional: Bool { [.dnsEndpoints, .tlsRoutes, .tcpRoutes, .udpRoutes, .listenerSets].contains(self) }

    /// The resource-label prefixes of the records this kind's objects give (`crd/` for
    /// DNSEndpoints). Without the Gateways or Namespaces no route's records are known.
    public var recordResourcePrefixes: Set<String> {
        switch self {
        case .dnsEndpoints: ["crd/"]
        case .gateways, .namespaces, .listenerSets: Set(RouteKind.allCases.map { $0.rawValue.lowercased() + "/" })
        default: RouteKind.allCases.first { $0.rawValue == kind }.map { [$0.rawValue.lowercased() + "/"] } ?? []
        }
    }
}

extension RouteSourceEntry {
    /// The same entry with a route's repeated strings (namespaces, parent references,
    /// controller names, conditions) taken from `strings`: 10,000 routes on one Gateway then
    /// hold one copy of `gateway.envoyproxy.io/gatewayclass-controller`, not 10,000. The
    /// other kinds are few (Gateways, Namespaces) or left as they are (DNSEndpoints).
    func sharing(_ strings: SharedStrings) -> RouteSourceEntry {
        guard case .decoded(.route(var route)) = self else { return self }
        route.metadata.namespace = strings(route.metadata.namespace)
        route.parentRefs = route.parentRefs.map { $0.sharing(strings) }
        if var status = route.status {
            status.parents = status.parents.map { entry in
                var parent = entry
                parent.parentRef = parent.parentRef.sharing(strings)
                parent.controllerName = strings(parent.controllerName)
                parent.conditions = parent.conditions.map { entry in
                    var condition = entry
                    condition.type = strings(condition.type)
                    condition.status = strings(condition.status)
                    condition.reason = strings(condition.reason)
                    condition.message = strings(condition.message)
                    return condition
                }
                return parent
            }
            route.status = status
        }
        return .decoded(.route(route))
    }
}

extension ParentReference {
    fileprivate func sharing(_ strings: SharedStrings) -> ParentReference {
        var shared = self
        shared.group = group.map { strings($0) }
        shared.kind = kind.map { strings($0) }
        shared.namespace = namespace.map { strings($0) }
        shared.name = strings(name)
        shared.sectionName = sectionName.map { strings($0) }
        return shared
    }
}

/// One copy of each string the cached objects repeat. A Swift string of more than 15 UTF-8
/// bytes is a heap allocation of its own, and a copy of it shares that allocation; shorter
/// ones live inline and are returned as they are. Keeps at most `limit` strings, so values
/// unique to one object (a condition message naming its route) cannot grow it without end;
/// once full it still shares what it holds. Strings over `maxLength` UTF-8 bytes are not kept
/// either, so the table's bytes are bounded too (`limit` × `maxLength`), not only its count:
/// a condition message may be 32,768 bytes (the Gateway API's `maxLength`).
final class SharedStrings: Sendable {
    private let table = Mutex<Set<String>>([])
    let limit: Int
    let maxLength: Int

    init(limit: Int = 4096, maxLength: Int = 256) {
        self.limit = limit
        self.maxLength = maxLength
    }

    func callAsFunction(_ string: String) -> String {
        let length = string.utf8.count
        guard length > 15, length <= maxLength else { return string }
        return table.withLock { table in
            if let index = table.firstIndex(of: string) { return table[index] }
            if table.count < limit { table.insert(string) }
            return string
        }
    }
}
