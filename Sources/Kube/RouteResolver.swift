import DNSCore

/// Resolves one route against the known Gateways: which hosts it gets and which targets, then
/// its endpoints. One value per route; `notes` and `warnings` say what it could not use.
struct RouteResolver {
    let route: Route
    let source: RouteSource
    let gateways: GatewayIndex
    let namespaceLabels: [String: [String: String]]
    private(set) var notes: RouteNotes
    private(set) var warnings: [SourceWarning] = []

    private let resource: String
    private var options: RouteSourceOptions { source.options }
    /// Result host → targets, in the order parents and listeners were met.
    private var hostTargets: [String: [String]] = [:]
    /// Result host → the Gateways that gave it targets (for provider-specific defaults).
    private var hostGateways: [String: [GatewayKey]] = [:]
    /// Result host → the candidate hosts it came from (explanations only).
    private var hostOrigins: [String: Set<String>] = [:]
    private var matchedCandidates: Set<String> = []
    /// Candidate hosts that ended in at least one endpoint (explanations only).
    private var produced: Set<String> = []
    private var hadInvalidHost = false
    private var admittingListeners = 0

    init(route: Route, source: RouteSource, gateways: GatewayIndex, namespaceLabels: [String: [String: String]]) {
        self.route = route
        self.source = source
        self.gateways = gateways
        self.namespaceLabels = namespaceLabels
        notes = RouteNotes(enabled: source.options.explain)
        resource = route.id.description
    }

    /// The route's endpoints, before merging with other routes.
    mutating func resolve() -> [Endpoint] {
        let meta = route.metadata
        let reader = options.annotations
        if let refusal = options.objectFilterRefusal(meta) {
            notes.add(refusal)
            return []
        }
        if let value = reader.controllerOptOut(meta.annotations) {
            notes.add("opted out by the controller annotation (\"\(value)\" is not \"\(AnnotationReader.controllerValue)\")")
            return []
        }
        if let (key, _) = reader.lookup(.target, in: meta.annotations) {
            warn("annotation \(key) has no effect on a route; external-dns reads targets only from Gateways")
        }
        let candidates = candidateHosts()
        guard !route.parentRefs.isEmpty else {
            notes.add("no spec.parentRefs")
            return []
        }
        guard let status = route.status, !status.parents.isEmpty else {
            notes.add("no status.parents: no gateway controller has reported on this route")
            return []
        }
        for parent in status.parents { resolve(parent: parent, candidates: candidates) }
        let endpoints = buildEndpoints()
        explainMissing(candidates: candidates, endpoints: endpoints)
        return endpoints
    }

    // MARK: Hosts

    /// §1.2: spec hostnames, then per `gateway-hostname-source` the empty host ("inherit the
    /// listener's") and the `hostname` annotation; canonical and without duplicates.
    private mutating func candidateHosts() -> [String] {
        let reader = options.annotations
        let annotations = route.metadata.annotations
        let annotationHosts = options.ignoreHostnameAnnotation ? [] : (reader.hostnames(annotations) ?? [])
        var raw = route.hostnames
        // external-dns's gatewayRouteResolver.hosts: the template's names follow the spec's,
        // when there are none or when combining.
        if let template = options.fqdnTemplate, route.hostnames.isEmpty || options.combineFQDNAndAnnotation {
            do throws(TemplateError) {
                raw += try template.hosts(kind: route.kind.rawValue, metadata: route.metadata)
            } catch {
                warn("select.fqdnTemplate: \(error); the template gives this route no names")
                notes.add("fqdnTemplate: \(error)")
            }
        }
        let mode = reader.lookup(.gatewayHostnameSource, in: annotations)
        switch mode?.value.lowercased() {
        case "annotation-only"?:
            raw = annotationHosts
        case "defined-hosts-only"?:
            break
        default:
            if let (key, value) = mode {
                warn("annotation \(key)=\"\(value)\" is neither annotation-only nor defined-hosts-only; ignored")
            }
            if route.hostnames.isEmpty { raw.append("") }
            raw += annotationHosts
        }
        var result: [String] = []
        for host in raw {
            switch HostMatching.canonical(host) {
            case .success(let canonical):
                if !result.contains(canonical) { result.append(canonical) }
            case .failure(let problem):
                warn("\(problem); that name is skipped")
                notes.add(problem.description)
                hadInvalidHost = true
            }
        }
        if result.isEmpty { notes.add("names no hostname to publish") }
        if !route.kind.hasHostnames && annotationHosts.isEmpty {
            notes.add("a \(route.kind.rawValue) has no spec.hostnames: only the hostname annotation (or a listener's hostname) names it")
        }
        return result
    }

    // MARK: Parents and listeners

    /// §1.3: one `status.parents` entry.
    private mutating func resolve(parent: RouteParentStatus, candidates: [String]) {
        let ref = parent.parentRef
        let routeNamespace = route.metadata.namespace
        let (group, kind, namespace) = ref.resolved(in: routeNamespace)
        let label = "\(namespace)/\(ref.name)"
        guard route.parentRefs.contains(where: { $0.sameParent(as: ref, routeNamespace: routeNamespace) }) else {
            notes.add("status parent \(kind) \(label) is not in spec.parentRefs (stale status)")
            return
        }
        guard group == gatewayAPIGroup, kind == "Gateway" || kind == "ListenerSet" else {
            notes.add("parent \(group)/\(kind) \(label) is neither a Gateway nor a ListenerSet")
            return
        }
        let key = GatewayKey(namespace: namespace, name: ref.name)
        let found: GatewayEntry?
        if kind == "ListenerSet" {
            guard options.gatewayListenerSets else {
                notes.add("parent ListenerSet \(label): ListenerSets are read only with select.gatewayListenerSets (external-dns's --gateway-listener-sets)")
                return
            }
            found = gateways.listenerSets[key]
            if found == nil { notes.add("ListenerSet \(label) not found") }
        } else {
            found = gateways.entries[key]
            if found == nil { notes.add(gateways.absence(of: key)) }
        }
        guard let gateway = found else { return }
        if let wanted = options.gatewayName, wanted != gateway.gatewayName {
            notes.add("gateway \(label) does not match --gateway-name \(wanted)")
            return
        }
        guard parent.isAccepted else {
            let detail = parent.accepted.map { c in
                "Accepted=\(c.status)" + (c.reason.isEmpty ? "" : " \(c.reason)") + (c.message.isEmpty ? "" : ": \(c.message)")
            } ?? "no Accepted condition"
            notes.add("\(kind == "Gateway" ? "gateway" : kind) \(label) has not accepted the route (\(detail))")
            return
        }
        if let detached = gateway.detached {
            notes.add("ListenerSet \(label) is not attached: \(detached)")
            return
        }
        if let section = ref.section {
            guard let index = gateway.listenerIndex[section] else {
                notes.add("gateway \(label) has no listener named \(section)")
                return
            }
            match(listener: index, of: gateway, port: ref.port, candidates: candidates)
        } else {
            for index in gateway.gateway.listeners.indices {
                match(listener: index, of: gateway, port: ref.port, candidates: candidates)
            }
        }
    }

    /// §1.4: one listener of an accepted parent.
    private mutating func match(listener index: Int, of gateway: GatewayEntry, port: Int?, candidates: [String]) {
        let listener = gateway.gateway.listeners[index]
        let name = "listener \(gateway.label)/\(listener.name)"
        if let refusal = gateway.sectionRefusals[listener.name] {
            notes.add("\(name): \(refusal)")
            return
        }
        if let refusal = ListenerAdmission.refusal(of: route, by: listener, port: port, gatewayNamespace: gateway.key.namespace,
                                                   namespaceLabels: namespaceLabels) {
            notes.add("\(name): \(refusal)")
            return
        }
        admittingListeners += 1
        guard case .success(let listenerHost) = gateway.listenerHosts[index] else {
            notes.add("\(name): its hostname is invalid")
            return
        }
        for candidate in candidates {
            if listenerHost.isEmpty && candidate.isEmpty { continue }
            guard let host = HostMatching.intersection(listener: listenerHost, route: candidate) else { continue }
            hostTargets[host, default: []] += gateway.targets
            if !(hostGateways[host]?.contains(gateway.key) ?? false) { hostGateways[host, default: []].append(gateway.key) }
            if notes.enabled {
                matchedCandidates.insert(candidate)
                hostOrigins[host, default: []].insert(candidate)
            }
        }
    }

    private mutating func warn(_ message: String) {
        warnings.append(SourceWarning(resource: resource, message: message))
    }
}

extension RouteResolver {
    /// §1.5: endpoints for every matched host, one per record type among its targets.
    fileprivate mutating func buildEndpoints() -> [Endpoint] {
        guard !hostTargets.isEmpty else { return [] }
        let reader = options.annotations
        let annotations = route.metadata.annotations
        var ttl: Int?
        switch reader.ttl(annotations) {
        case .success(let value): ttl = value
        case .failure(let problem): warn("\(problem); the default TTL is kept")
        }
        let (routeSpecific, problems) = reader.providerSpecific(annotations)
        for problem in problems { warn(problem.description) }
        var endpoints: [Endpoint] = []
        for host in hostTargets.keys.sorted() {
            let targets = Array(Set(hostTargets[host] ?? [])).sorted()
            let origins = hostGateways[host] ?? []
            guard !targets.isEmpty else {
                notes.add("hostname \(host): gateway \(origins.map { "\($0.namespace)/\($0.name)" }.joined(separator: ", ")) has no addresses (status.addresses is empty and there is no target annotation)")
                continue
            }
            let name: DNSName
            do {
                name = try DNSName(host)
            } catch {
                warn("\(error); that name is skipped")
                notes.add(error.description)
                continue
            }
            guard source.domainFilter.matches(name) else {
                notes.add("hostname \(host) is outside the domain filter")
                continue
            }
            var specific = routeSpecific
            for key in origins {
                if let defaults = gateways.entries[key]?.providerDefaults { specific = specific.filling(from: defaults) }
            }
            var byType: [RecordType: [String]] = [:]
            for target in targets {
                // Validated at the edge: a value DNS cannot hold is named here and never planned.
                if let problem = TargetSyntax.problem(target) {
                    let origin = origins.map { "gateway \($0.namespace)/\($0.name)" }.joined(separator: ", ")
                    warn("hostname \(host): target refused: \(problem) (from \(origin)); not published")
                    notes.add("hostname \(host): target refused: \(problem)")
                    continue
                }
                // external-dns's SuitableType: IPv4 → A, IPv6 → AAAA, anything else → CNAME.
                let type: RecordType = IPText.isIPv4(target) ? .a : IPText.isIP(target) ? .aaaa : .cname
                byType[type, default: []].append(target)
            }
            if let cnames = byType[.cname], cnames.count > 1 {
                // external-dns would publish one CNAME with several values, which DNS does not allow.
                warn("hostname \(host): a CNAME has one target, the gateways give \(cnames.count) (\(cnames.joined(separator: ", "))); the CNAME is not published")
                notes.add("hostname \(host): several CNAME targets (\(cnames.joined(separator: ", "))); not published")
                byType[.cname] = nil
            }
            for type in [RecordType.a, .aaaa, .cname] {
                guard let values = byType[type] else { continue }
                endpoints.append(Endpoint(name: name, type: type, targets: values, ttl: ttl, providerSpecific: specific,
                                          labels: EndpointLabels(resource: resource)))
            }
            if notes.enabled { produced.formUnion(hostOrigins[host] ?? []) }
        }
        return endpoints
    }

    /// For `--explain`: one line per named host that got no record and had no specific reason
    /// yet; and no lines at all when every named host got its records.
    fileprivate mutating func explainMissing(candidates: [String], endpoints: [Endpoint]) {
        guard notes.enabled else { return }
        let unproduced = candidates.filter { !produced.contains($0) }
        if !endpoints.isEmpty && unproduced.isEmpty && !hadInvalidHost {
            notes.removeAll()
            return
        }
        if admittingListeners > 0 {
            for host in unproduced where !matchedCandidates.contains(host) {
                notes.add(host.isEmpty
                    ? "names no hostname, and no admitting listener has a hostname to inherit"
                    : "no listener admits hostname \(host)")
            }
        }
        if notes.lines.isEmpty { notes.add("produced no records") }
    }
}
