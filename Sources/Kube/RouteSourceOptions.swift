public import DNSCore

/// The filters and switches of the route source, named as external-dns names them.
public struct RouteSourceOptions: Sendable {
    /// `--gateway-name`: only parents whose Gateway has this name (any namespace).
    public var gatewayName: String?
    /// `--gateway-namespace`: only Gateways in this namespace are known.
    public var gatewayNamespace: String?
    /// `--gateway-label-filter`: only Gateways whose labels match are known.
    public var gatewayLabelFilter = LabelSelector()
    /// `--namespace`: only routes in this namespace.
    public var namespace: String?
    /// `--label-filter`: only routes whose labels match.
    public var labelFilter = LabelSelector()
    /// `--annotation-filter`: only routes whose annotations match (a label selector over annotations).
    public var annotationFilter = LabelSelector()
    /// `--ignore-hostname-annotation`: the `hostname` annotation adds no hosts.
    public var ignoreHostnameAnnotation = false
    /// `--fqdn-template`: names for a route with no spec hostnames (always, with
    /// `combineFQDNAndAnnotation`), added before the `hostname` annotation's.
    public var fqdnTemplate: FQDNTemplate?
    /// `--combine-fqdn-annotation`: the template's names are added to the route's own.
    public var combineFQDNAndAnnotation = false
    /// `--domain-filter`: only names equal to or below one of these (empty = all).
    public var domainFilters: [String] = []
    /// `--exclude-domains`: never names equal to or below one of these.
    public var excludeDomains: [String] = []
    /// Which route kinds are read (external-dns's `gateway-httproute`, `gateway-grpcroute` sources).
    public var routeKinds: Set<RouteKind> = Set(RouteKind.allCases)
    /// `--gateway-listener-sets`: routes may attach through ListenerSets (off by default).
    public var gatewayListenerSets = false
    /// Whether DNSEndpoints are read (external-dns's `crd` source).
    public var readDNSEndpoints = true
    /// The annotation prefixes, in order of precedence.
    public var annotations = AnnotationReader()
    /// netagent's improvement on external-dns: a provider-specific annotation on a Gateway
    /// (e.g. `cloudflare-proxied`) is the default for the routes attached to it; a route's own
    /// value wins. external-dns ignores such annotations silently.
    public var gatewayProviderDefaults = true
    /// Whether to collect explanations for routes that produce fewer records than they name.
    public var explain = false

    public init() {}
}

extension RouteSourceOptions {
    /// Why `--namespace`, `--label-filter` or `--annotation-filter` leave out an object (a
    /// route or a DNSEndpoint) with `meta`, or nil when they take it.
    func objectFilterRefusal(_ meta: ObjectMeta) -> String? {
        if let namespace, namespace != meta.namespace { return "outside --namespace \(namespace)" }
        if !labelFilter.matches(meta.labels) { return "labels do not match --label-filter" }
        if !annotationFilter.matches(meta.annotations) { return "annotations do not match --annotation-filter" }
        return nil
    }
}

/// What the route source produced from one set of objects.
public struct RouteSourceResult: Sendable {
    /// The desired endpoints, merged as external-dns merges them, sorted by name, type, targets.
    public var endpoints: [Endpoint]
    /// Filled only when `RouteSourceOptions.explain` is set.
    public var explanations: [Explanation]
    /// Input that was ignored or partly used, always reported.
    public var warnings: [SourceWarning]
}
