/// Where something was read: a file and, when known, a 1-based line.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?

    public init(file: String, line: Int? = nil) {
        self.file = file
        self.line = line
    }

    public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// A problem with the input files: malformed YAML, an object that cannot be decoded, one
/// above the size bound, an unreadable path. The rest of the input still loads.
public struct ManifestDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    /// A note rather than a problem: something passed over on purpose, such as a
    /// kustomization's remote resource, which cannot be read offline.
    public var isNote: Bool

    public init(location: SourceLocation, message: String, isNote: Bool = false) {
        self.location = location
        self.message = message
        self.isNote = isNote
    }

    public var description: String { "\(location): \(message)" }
}

/// An object in the manifests that generates other objects which were not expanded: a Helm
/// chart other than app-template, an OCI or remote source, a remote kustomize base, a
/// generator not read. Listed so that a plan never shows a fraction of the records silently.
public struct UnexpandedSource: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// The kind of the object not expanded (`HelmRelease`, `Application`, `Kustomization`, ...).
    public var kind: String
    /// `namespace/name`, or the name alone when the object has no namespace.
    public var name: String
    /// Why it was not expanded, naming what it points at ("Helm chart grafana 8.5.1 is not
    /// app-template", "remote resource https://...").
    public var reason: String
    /// How many objects it stands for, when that is known (an ApplicationSet's Applications).
    public var hiddenCount: Int?

    public init(location: SourceLocation, kind: String, name: String, reason: String, hiddenCount: Int? = nil) {
        self.location = location
        self.kind = kind
        self.name = name
        self.reason = reason
        self.hiddenCount = hiddenCount
    }

    public var description: String { "\(location): \(kind) \(name) not expanded: \(reason)" }
}

/// `--gateway-address NS/NAME=ADDR`: an address to report for a Gateway that has no status.
public struct GatewayAddressOverride: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var value: String

    public init(namespace: String, name: String, value: String) {
        self.namespace = namespace
        self.name = name
        self.value = value
    }

    /// Parses `NS/NAME=ADDR`; nil when a part is missing.
    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "="), let slash = text[..<equals].firstIndex(of: "/") else { return nil }
        let namespace = String(text[..<slash])
        let name = String(text[text.index(after: slash)..<equals])
        let value = String(text[text.index(after: equals)...])
        guard !namespace.isEmpty, !name.isEmpty, !value.isEmpty, !name.contains("/") else { return nil }
        self.init(namespace: namespace, name: name, value: value)
    }

    public var description: String { "\(namespace)/\(name)=\(value)" }
}

/// `--manifest-namespace PATH=NS`: the namespace of objects without `metadata.namespace` read
/// from files at or below PATH (GitOps tools set it from a kustomization or a Flux
/// Kustomization's `targetNamespace`, which the manifests themselves do not carry).
public struct PathNamespace: Hashable, Sendable {
    public var path: String
    public var namespace: String

    public init(path: String, namespace: String) {
        self.path = path
        self.namespace = namespace
    }

    /// Parses `PATH=NS`; nil when a part is missing.
    public init?(parsing text: String) {
        guard let equals = text.lastIndex(of: "=") else { return nil }
        let path = String(text[..<equals])
        let namespace = String(text[text.index(after: equals)...])
        guard !path.isEmpty, !namespace.isEmpty else { return nil }
        self.init(path: path, namespace: namespace)
    }
}

/// How manifests are read.
public struct ManifestOptions: Sendable {
    /// The namespace of namespaced objects without one, unless `pathNamespaces` says otherwise.
    public var defaultNamespace = "default"
    /// `--var`/`--vars-file`: values for Flux `postBuild` variables (those `substituteFrom`
    /// would read from Secrets and ConfigMaps, which are not in Git). When any is given,
    /// every file is substituted, not only those below a Flux Kustomization with `postBuild`.
    public var variables: [String: String] = [:]
    /// `--repo-root`: the repository's root, which Flux Kustomizations' `spec.path` is relative
    /// to. When nil, the first folder at or above the first manifests path that holds `.git`.
    public var repoRoot: String?
    /// Per-path namespaces; the longest matching path wins.
    public var pathNamespaces: [PathNamespace] = []
    /// Addresses for Gateways without status; they replace `spec.addresses` in the inference.
    public var gatewayAddresses: [GatewayAddressOverride] = []
    /// A document above this size is refused (Kubernetes refuses objects above 1.5 MiB).
    public var maxObjectBytes = 1_572_864
    /// A `List` document (`kubectl get -o yaml`) may be this large.
    public var maxListBytes = 256 << 20
    /// A file above this size is refused unread.
    public var maxFileBytes = 512 << 20
    /// How much Flux `${VAR}` substitution may add to a file; past it the file is refused
    /// while substituting (each object is then checked against `maxObjectBytes` as well).
    public var maxSubstitutionGrowthBytes = 16 << 20
    /// Whether objects without status get the status a gateway controller would report.
    public var inferStatus = true

    public init() {}
}

/// The objects read from manifests, ready for `RouteSource`.
public struct ManifestSet: Sendable {
    public var gateways: [Gateway] = []
    public var routes: [Route] = []
    public var namespaces: [Namespace] = []
    /// external-dns DNSEndpoints (the `crd` source).
    public var dnsEndpoints: [DNSEndpoint] = []
    public var listenerSets: [ListenerSet] = []
    public var diagnostics: [ManifestDiagnostic] = []
    /// Where each Gateway, route and Namespace was defined.
    public var origins: [ResourceID: SourceLocation] = [:]
    /// How many documents of each kind were passed over.
    public var skippedKinds: [String: Int] = [:]
    /// What generates objects that were not expanded: a plan of these manifests may lack
    /// the records those objects stand for, and says so.
    public var unexpanded: [UnexpandedSource] = []
    public var fileCount = 0
    public var documentCount = 0

    public init() {}

    /// Whether a diagnostic is a problem rather than a note: `plan` then exits 1.
    public var hasErrors: Bool { diagnostics.contains { !$0.isNote } }
}
