import DNSCore

/// Computes the desired DNS endpoints for Gateway API routes with external-dns's semantics
/// (EXTERNAL-DNS.md §1): `status.parents` cross-checked with `spec.parentRefs`, `Accepted=True`,
/// section and port, protocol, `allowedRoutes`, hostname intersection, targets from the
/// Gateway, A/AAAA/CNAME by target form, and merging of equal endpoints across routes.
///
/// It takes plain typed objects and does not care whether they came from files or from a
/// watch cache. It never fails: input it cannot use is reported as a warning or explanation.
public struct RouteSource: Sendable {
    public let options: RouteSourceOptions
    let domainFilter: DomainFilter

    public init(options: RouteSourceOptions = RouteSourceOptions()) {
        self.options = options
        domainFilter = DomainFilter(include: options.domainFilters, exclude: options.excludeDomains)
    }

    /// The desired endpoints for `routes`. Routes are taken in (kind, namespace, name) order, so
    /// where endpoints merge, the first route in that order gives the resource label.
    public func endpoints(gateways: [Gateway], routes: [Route], namespaces: [Namespace],
                          listenerSets: [ListenerSet] = []) -> RouteSourceResult {
        var warnings: [SourceWarning] = []
        var namespaceLabels: [String: [String: String]] = [:]
        for namespace in namespaces { namespaceLabels[namespace.metadata.name] = namespace.metadata.labels }
        var index = GatewayIndex(gateways, options: options, warnings: &warnings)
        if options.gatewayListenerSets { index.add(listenerSets, reader: options.annotations, namespaceLabels: namespaceLabels) }
        var endpoints: [Endpoint] = []
        var explanations: [Explanation] = []
        let ids = routes.map(\.id)
        for position in ids.indices.sorted(by: { ids[$0] < ids[$1] }) where options.routeKinds.contains(routes[position].kind) {
            let route = routes[position]
            var resolver = RouteResolver(route: route, source: self, gateways: index, namespaceLabels: namespaceLabels)
            endpoints += resolver.resolve()
            warnings += resolver.warnings
            if !resolver.notes.lines.isEmpty {
                let resource = ids[position].description
                explanations += resolver.notes.lines.map { Explanation(resource: resource, reason: $0) }
            }
        }
        let merged = EndpointMerger.merge(endpoints, warnings: &warnings)
        return RouteSourceResult(endpoints: merged, explanations: explanations, warnings: warnings)
    }
}

/// A Gateway's identity within the index.
struct GatewayKey: Hashable {
    let namespace: String
    let name: String
}

/// One known Gateway, with what every route attached to it needs precomputed.
struct GatewayEntry {
    let gateway: Gateway
    let key: GatewayKey
    let listenerIndex: [String: Int]
    /// Each listener's canonical hostname ("" = any), or why it is invalid.
    let listenerHosts: [Result<String, HostnameProblem>]
    /// The `target` annotation if set, else every `status.addresses[].value`.
    let targets: [String]
    let providerDefaults: ProviderSpecific
    /// The Gateway whose name `--gateway-name` compares: this one, or a ListenerSet's parent.
    var gatewayName: String { parentGateway?.name ?? key.name }
    /// For a ListenerSet: its parent Gateway.
    var parentGateway: GatewayKey?
    /// For a ListenerSet: why it is not attached to its Gateway, if it is not.
    var detached: String?
    /// For a ListenerSet: why a listener entry is not attached, by name.
    var sectionRefusals: [String: String] = [:]

    var label: String { "\(key.namespace)/\(key.name)" }
}

/// The Gateways that survive the Gateway filters, by namespace and name, and why the others
/// were left out.
struct GatewayIndex {
    private(set) var entries: [GatewayKey: GatewayEntry] = [:]
    /// ListenerSets (with `gatewayListenerSets`), as parents of their own.
    private(set) var listenerSets: [GatewayKey: GatewayEntry] = [:]
    private(set) var excluded: [GatewayKey: String] = [:]
    /// Gateway name → the namespaces that hold one, to help when a parentRef misses.
    private(set) var namespacesByName: [String: [String]] = [:]

    /// Why no Gateway is known under `key`.
    func absence(of key: GatewayKey) -> String {
        if let reason = excluded[key] { return reason }
        let elsewhere = (namespacesByName[key.name] ?? []).filter { $0 != key.namespace }
        let hint = elsewhere.isEmpty ? "" : "; did you mean \(elsewhere.map { "\($0)/\(key.name)" }.joined(separator: " or "))?"
        return "gateway \(key.namespace)/\(key.name) not found\(hint)"
    }

    init(_ gateways: [Gateway], options: RouteSourceOptions, warnings: inout [SourceWarning]) {
        let reader = options.annotations
        for gateway in gateways {
            let meta = gateway.metadata
            let key = GatewayKey(namespace: meta.namespace, name: meta.name)
            let resource = gateway.id.description
            namespacesByName[meta.name, default: []].append(meta.namespace)
            if let namespace = options.gatewayNamespace, namespace != meta.namespace {
                excluded[key] = "gateway \(key.namespace)/\(key.name) is outside --gateway-namespace \(namespace)"
                continue
            }
            if !options.gatewayLabelFilter.matches(meta.labels) {
                excluded[key] = "gateway \(key.namespace)/\(key.name) does not match --gateway-label-filter"
                continue
            }
            if let value = reader.controllerOptOut(meta.annotations) {
                excluded[key] = "gateway \(key.namespace)/\(key.name) is opted out by its controller annotation (\(value))"
                continue
            }
            for name in [AnnotationName.ttl, .hostname, .gatewayHostnameSource] {
                if let (annotation, _) = reader.lookup(name, in: meta.annotations) {
                    warnings.append(SourceWarning(resource: resource, message: "annotation \(annotation) has no effect on a Gateway; put it on the routes"))
                }
            }
            var defaults = ProviderSpecific()
            if options.gatewayProviderDefaults {
                let (parsed, problems) = reader.providerSpecific(meta.annotations)
                defaults = parsed
                warnings += problems.map { SourceWarning(resource: resource, message: $0.description) }
            }
            var listenerIndex: [String: Int] = [:]
            var hosts: [Result<String, HostnameProblem>] = []
            for (i, listener) in gateway.listeners.enumerated() {
                listenerIndex[listener.name] = i  // a repeated name: the last listener wins, as in external-dns
                let host = HostMatching.canonical(listener.hostname ?? "")
                if case .failure(let problem) = host {
                    warnings.append(SourceWarning(resource: resource, message: "listener \(listener.name): \(problem)"))
                }
                hosts.append(host)
            }
            let overrides = reader.targets(meta.annotations)
            let targets = overrides.isEmpty ? (gateway.status?.addresses ?? []).map(\.value).filter { !$0.isEmpty } : overrides
            entries[key] = GatewayEntry(gateway: gateway, key: key, listenerIndex: listenerIndex, listenerHosts: hosts,
                                        targets: targets, providerDefaults: defaults)
        }
    }
}

extension GatewayIndex {
    /// Adds `sets` as parents, as external-dns's `newListenerSetObject` and
    /// `listenerSetSections` do: attached when the parent Gateway is known (it survived the
    /// Gateway filters), allows ListenerSets from the set's namespace and the set is
    /// `Accepted`; each listener entry when its own status says `Accepted`. Targets: the set's
    /// `target` annotation, else the Gateway's, else the Gateway's `status.addresses`.
    mutating func add(_ sets: [ListenerSet], reader: AnnotationReader, namespaceLabels: [String: [String: String]]) {
        for set in sets {
            let key = GatewayKey(namespace: set.metadata.namespace, name: set.metadata.name)
            let parentKey = set.parentKey
            var detached: String?
            let parent = entries[parentKey]
            if let parent {
                if let refusal = parent.gateway.allowedListeners.refusal(namespace: key.namespace, gatewayNamespace: parentKey.namespace,
                                                                        namespaceLabels: namespaceLabels) {
                    detached = "parent Gateway \(parent.label) does not allow it: \(refusal)"
                } else if !(set.status?.isAccepted ?? false) {
                    detached = "ListenerSet \(key.namespace)/\(key.name) has not been accepted"
                }
            } else {
                detached = absence(of: parentKey).replacingFirst("gateway", with: "parent Gateway")
            }
            var sectionRefusals: [String: String] = [:]
            var hosts: [Result<String, HostnameProblem>] = []
            var listenerIndex: [String: Int] = [:]
            for (i, listener) in set.listeners.enumerated() {
                listenerIndex[listener.name] = i
                hosts.append(HostMatching.canonical(listener.hostname ?? ""))
                guard let conditions = set.status?.listeners[listener.name] else {
                    sectionRefusals[listener.name] = "ListenerSet \(key.namespace)/\(key.name) section \(listener.name) has no Accepted status"
                    continue
                }
                if conditions.first(where: { $0.type == "Accepted" })?.status != "True" {
                    sectionRefusals[listener.name] = "ListenerSet \(key.namespace)/\(key.name) section \(listener.name) has not been accepted"
                }
            }
            let own = reader.targets(set.metadata.annotations)
            let targets = !own.isEmpty ? own : parent?.targets ?? []
            var entry = GatewayEntry(gateway: Gateway(metadata: set.metadata, listeners: set.listeners), key: key,
                                     listenerIndex: listenerIndex, listenerHosts: hosts, targets: targets,
                                     providerDefaults: parent?.providerDefaults ?? ProviderSpecific())
            entry.parentGateway = parentKey
            entry.detached = detached
            entry.sectionRefusals = sectionRefusals
            listenerSets[key] = entry
        }
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}

extension ProviderSpecific {
    /// `self` with every unset property taken from `defaults`.
    func filling(from defaults: ProviderSpecific) -> ProviderSpecific {
        var result = self
        result.cloudflareProxied = cloudflareProxied ?? defaults.cloudflareProxied
        result.cloudflareTags = cloudflareTags ?? defaults.cloudflareTags
        result.cloudflareRecordComment = cloudflareRecordComment ?? defaults.cloudflareRecordComment
        result.cloudflareRegionKey = cloudflareRegionKey ?? defaults.cloudflareRegionKey
        result.cloudflareCustomHostname = cloudflareCustomHostname ?? defaults.cloudflareCustomHostname
        return result
    }
}
