public import Config
public import DNSCore
import Foundation
public import Kube

/// The Gateway API objects and DNSEndpoints netagent reads, from manifests on disk and the
/// cluster's API.
public struct SourceObjects: Sendable {
    public var gateways: [Gateway] = []
    public var routes: [Route] = []
    public var namespaces: [Namespace] = []
    public var dnsEndpoints: [DNSEndpoint] = []
    public var listenerSets: [ListenerSet] = []
    /// What could not be read, in words (file and line, kind and reason).
    public var problems: [String] = []
    /// Optional kinds not served (no DNSEndpoint CRD), in words: said once, not a failure.
    public var notes: [String] = []
    /// The cluster kinds never listed: the records they give must not be deleted for their absence.
    public var unread: Set<KubeResource> = []
    /// What the manifests generate that was not expanded (`ManifestSet.unexpanded`).
    public var unexpanded: [UnexpandedSource] = []

    public init() {}

    /// Adds what `manifests` hold; malformed documents become problems, the rest still counts.
    public mutating func add(_ manifests: ManifestSet) {
        gateways += manifests.gateways
        routes += manifests.routes
        namespaces += manifests.namespaces
        dnsEndpoints += manifests.dnsEndpoints
        listenerSets += manifests.listenerSets
        problems += manifests.diagnostics.map { "\($0)" }
        unexpanded += manifests.unexpanded
    }

    /// Adds a cluster snapshot.
    public mutating func add(_ snapshot: ClusterSnapshot) {
        gateways += snapshot.gateways
        routes += snapshot.routes
        namespaces += snapshot.namespaces
        dnsEndpoints += snapshot.dnsEndpoints
        listenerSets += snapshot.listenerSets
        problems += snapshot.problems
        notes += snapshot.notes
        unread.formUnion(snapshot.unread)
    }

    /// `plan` with the deletes withheld of records that unread kinds gave (a DNSEndpoint CRD
    /// not served is never read as "no DNSEndpoints").
    public func guarding(_ plan: Plan) -> Plan {
        let prefixes = unread.reduce(into: Set<String>()) { $0.formUnion($1.recordResourcePrefixes) }
        return plan.withholdingDeletes(ofResources: prefixes, kinds: unread.map(\.description).sorted())
    }

    /// The records `select` picks, computed as external-dns computes them: the gateway
    /// sources' and the `crd` source's.
    public func desired(select: SelectFilters, annotationPrefixes: [String], explain: Bool = false) throws(ConfigValueError) -> RouteSourceResult {
        var options = try RouteSourceOptions(select: select, annotationPrefixes: annotationPrefixes)
        options.explain = explain
        return RouteSource(options: options).endpoints(gateways: gateways, routes: routes, namespaces: namespaces,
                                                       dnsEndpoints: dnsEndpoints, listenerSets: listenerSets)
    }
}

extension SourceObjects {
    /// The records `provider` is asked for: what its `select` takes from the sources, and the
    /// records its configuration names itself (the tunnel's public names).
    public func desired(for provider: ProviderConfig, annotationPrefixes: [String], explain: Bool = false) throws(ConfigValueError) -> RouteSourceResult {
        var result = try desired(select: provider.select, annotationPrefixes: annotationPrefixes, explain: explain)
        result.endpoints += provider.configuredRecords
        return result
    }
}

extension RouteSourceOptions {
    /// A provider's `select:` filters as RouteSource options. Throws for a label selector that
    /// does not parse, naming the filter.
    public init(select: SelectFilters, annotationPrefixes: [String]) throws(ConfigValueError) {
        self.init()
        gatewayName = select.gatewayName
        gatewayNamespace = select.gatewayNamespace
        gatewayLabelFilter = try Self.selector(select.gatewayLabelFilter, "gatewayLabelFilter")
        labelFilter = try Self.selector(select.labelFilter, "labelFilter")
        annotationFilter = try Self.selector(select.annotationFilter, "annotationFilter")
        ignoreHostnameAnnotation = select.ignoreHostnameAnnotation
        domainFilters = select.domainFilters
        excludeDomains = select.excludeDomains
        if let text = select.fqdnTemplate {
            do throws(TemplateError) { fqdnTemplate = try FQDNTemplate(parsing: text) } catch {
                throw ConfigValueError("select.fqdnTemplate: \(error)")
            }
        }
        combineFQDNAndAnnotation = select.combineFQDNAndAnnotation
        gatewayListenerSets = select.gatewayListenerSets
        if !annotationPrefixes.isEmpty { annotations = AnnotationReader(prefixes: annotationPrefixes) }
    }

    private static func selector(_ text: String?, _ key: String) throws(ConfigValueError) -> LabelSelector {
        guard let text else { return LabelSelector() }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            throw ConfigValueError("select.\(key): \(error)")
        }
    }
}
