import DNSCore

/// The group and version of external-dns's DNSEndpoint CRD (`apis/v1alpha1/dnsendpoint.go`).
public let dnsEndpointGroup = "externaldns.k8s.io"

/// A `DNSEndpoint` (`externaldns.k8s.io/v1alpha1`): records written out by hand, read by
/// external-dns's `crd` source. The seed publishes the Cloudflare Tunnel's own name this way.
public struct DNSEndpoint: Hashable, Sendable {
    public var metadata: ObjectMeta
    /// `metadata.generation`; 0 when the object carries none (a manifest from Git).
    public var generation: Int
    /// `status.observedGeneration`; 0 when absent.
    public var observedGeneration: Int
    /// `metadata.resourceVersion`; empty for a manifest.
    public var resourceVersion = ""
    public var endpoints: [Entry]

    public init(metadata: ObjectMeta, generation: Int = 0, observedGeneration: Int = 0, endpoints: [Entry] = []) {
        self.metadata = metadata
        self.generation = generation
        self.observedGeneration = observedGeneration
        self.endpoints = endpoints
    }

    public var id: ResourceID { ResourceID(kind: "DNSEndpoint", namespace: metadata.namespace, name: metadata.name) }

    /// external-dns's resource label for every record of this object: `crd/NS/NAME`
    /// (`source/crd.go` sets it so).
    public var resourceLabel: String { "crd/\(metadata.namespace)/\(metadata.name)" }

    /// One `providerSpecific[]` pair.
    public struct Property: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One `spec.endpoints[]` entry, as written (external-dns's `endpoint.Endpoint` JSON).
    public struct Entry: Hashable, Sendable {
        public var dnsName: String
        public var recordType: String
        public var targets: [String]
        /// `recordTTL`; nil when absent or 0 (external-dns: 0 = not configured).
        public var ttl: Int?
        public var setIdentifier: String
        public var labels: [String: String]
        /// `providerSpecific[]` name/value pairs, in order.
        public var providerSpecific: [Property]

        public init(dnsName: String, recordType: String, targets: [String], ttl: Int? = nil, setIdentifier: String = "",
                    labels: [String: String] = [:], providerSpecific: [Property] = []) {
            self.dnsName = dnsName
            self.recordType = recordType
            self.targets = targets
            self.ttl = ttl
            self.setIdentifier = setIdentifier
            self.labels = labels
            self.providerSpecific = providerSpecific
        }
    }
}

/// external-dns's `crd` source (`source/crd.go`) over DNSEndpoints: `--namespace`,
/// `--label-filter` and `--annotation-filter` pick the objects; an A, AAAA or CNAME entry with
/// no targets, or any target with a trailing dot, is skipped with a warning; every record gets
/// the resource label `crd/NS/NAME`. netagent adds what the rest of its pipeline needs: the
/// domain filter (external-dns applies it in the plan), only the record types it manages, and
/// provider-specific properties read under every configured annotation prefix.
public struct DNSEndpointSource: Sendable {
    public let options: RouteSourceOptions
    let domainFilter: DomainFilter

    public init(options: RouteSourceOptions = RouteSourceOptions()) {
        self.options = options
        domainFilter = DomainFilter(include: options.domainFilters, exclude: options.excludeDomains)
    }

    /// The records `objects` ask for, in (namespace, name) order, plus explanations (when
    /// `options.explain`) and warnings.
    public func endpoints(_ objects: [DNSEndpoint]) -> RouteSourceResult {
        var result = RouteSourceResult(endpoints: [], explanations: [], warnings: [])
        for object in objects.sorted(by: { $0.id < $1.id }) {
            var notes = RouteNotes(enabled: options.explain)
            result.endpoints += endpoints(of: object, notes: &notes, warnings: &result.warnings)
            result.explanations += notes.lines.map { Explanation(resource: object.resourceLabel, reason: $0) }
        }
        return result
    }

    private func endpoints(of object: DNSEndpoint, notes: inout RouteNotes, warnings: inout [SourceWarning]) -> [Endpoint] {
        let meta = object.metadata
        let resource = object.resourceLabel
        if let refusal = options.objectFilterRefusal(meta) {
            notes.add(refusal)
            return []
        }
        var endpoints: [Endpoint] = []
        for (index, entry) in object.endpoints.enumerated() {
            let field = "spec.endpoints[\(index)] \(entry.dnsName)"
            func skip(_ reason: String, warn: Bool = true) {
                if warn { warnings.append(SourceWarning(resource: resource, message: "\(field): \(reason); skipped")) }
                notes.add("\(field): \(reason)")
            }
            guard let type = RecordType(rawValue: entry.recordType.uppercased()), type != .txt else {
                skip("record type \(entry.recordType.isEmpty ? "(none)" : entry.recordType) is not one netagent manages (A, AAAA, CNAME)")
                continue
            }
            guard !entry.targets.isEmpty else {
                skip("\(Self.article(type)) \(type.rawValue) record with no targets")
                continue
            }
            if let dotted = entry.targets.first(where: { $0.hasSuffix(".") }) {
                skip("target \"\(dotted)\" ends with a dot, which external-dns refuses as an illegal target format")
                continue
            }
            if !entry.setIdentifier.isEmpty {
                skip("setIdentifier \"\(entry.setIdentifier)\" is for weighted/geo routing, which neither Cloudflare nor Pi-hole has")
                continue
            }
            // The one check of values at the edge (DNSCore's TargetSyntax), as for Gateway targets.
            if let (bad, problem) = entry.targets.lazy.compactMap({ t in TargetSyntax.problem(t, for: type).map { (t, $0) } }).first {
                skip("target \"\(bad)\" is not valid for \(Self.article(type)) \(type.rawValue) record (\(problem))")
                continue
            }
            if type == .cname, entry.targets.count > 1 {
                skip("a CNAME has one target, not \(entry.targets.count)")
                continue
            }
            let name: DNSName
            do {
                name = try DNSName(entry.dnsName)
            } catch {
                skip("\(error)")
                continue
            }
            guard domainFilter.matches(name) else {
                skip("\(name) is outside the domain filter", warn: false)
                continue
            }
            var pairs: [String: String] = [:]
            for pair in entry.providerSpecific where pairs[pair.name] == nil { pairs[pair.name] = pair.value }
            let (specific, problems) = options.annotations.providerSpecific(pairs)
            for problem in problems {
                warnings.append(SourceWarning(resource: resource, message: "\(field): providerSpecific \(problem.description.dropFirst("annotation ".count))"))
            }
            endpoints.append(Endpoint(name: name, type: type, targets: entry.targets, ttl: entry.ttl, providerSpecific: specific,
                                      labels: EndpointLabels(resource: resource)))
        }
        return endpoints
    }

    /// "an A", "an AAAA", but "a CNAME".
    static func article(_ type: RecordType) -> String { type == .cname ? "a" : "an" }
}

extension RouteSource {
    /// The gateway sources' endpoints, then the `crd` source's with the same options
    /// (external-dns concatenates its sources' endpoints; the planner arbitrates between
    /// claims on one name).
    public func endpoints(gateways: [Gateway], routes: [Route], namespaces: [Namespace],
                          dnsEndpoints: [DNSEndpoint], listenerSets: [ListenerSet] = []) -> RouteSourceResult {
        var result = endpoints(gateways: gateways, routes: routes, namespaces: namespaces, listenerSets: listenerSets)
        guard options.readDNSEndpoints else { return result }
        let crd = DNSEndpointSource(options: options).endpoints(dnsEndpoints)
        result.endpoints += crd.endpoints
        result.explanations += crd.explanations
        result.warnings += crd.warnings
        return result
    }
}
