public import Config
import DNSCore
import Foundation
public import Kube

/// The Gateway API objects netagent reads, from manifests on disk and the cluster's API.
public struct SourceObjects: Sendable {
    public var gateways: [Gateway] = []
    public var routes: [Route] = []
    public var namespaces: [Namespace] = []
    /// What could not be read, in words (file and line, kind and reason).
    public var problems: [String] = []

    public init() {}

    /// Adds what `manifests` hold; malformed documents become problems, the rest still counts.
    public mutating func add(_ manifests: ManifestSet) {
        gateways += manifests.gateways
        routes += manifests.routes
        namespaces += manifests.namespaces
        problems += manifests.diagnostics.map { "\($0)" }
    }

    /// Adds a cluster snapshot.
    public mutating func add(_ snapshot: ClusterSnapshot) {
        gateways += snapshot.gateways
        routes += snapshot.routes
        namespaces += snapshot.namespaces
        problems += snapshot.problems
    }

    /// The records `select` picks, computed as external-dns computes them.
    public func desired(select: SelectFilters, annotationPrefixes: [String]) throws(ConfigValueError) -> RouteSourceResult {
        RouteSource(options: try RouteSourceOptions(select: select, annotationPrefixes: annotationPrefixes))
            .endpoints(gateways: gateways, routes: routes, namespaces: namespaces)
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
