/// Where desired records come from (`sources:`).
public struct SourcesConfig: Hashable, Sendable {
    /// The Kubernetes API source; nil when `kubernetes` is absent.
    public var kubernetes: KubernetesSource?
    /// Files or folders of Gateway/HTTPRoute/GRPCRoute YAML (absolute paths).
    public var manifests: [String]
    /// Annotation prefixes read on routes and Gateways (default: both of external-dns's).
    public var annotationPrefixes: [String]

    public static let defaultAnnotationPrefixes = ["external-dns.alpha.kubernetes.io/", "external-dns.kubernetes.io/"]

    public init(kubernetes: KubernetesSource? = nil, manifests: [String] = [],
                annotationPrefixes: [String] = SourcesConfig.defaultAnnotationPrefixes) {
        self.kubernetes = kubernetes
        self.manifests = manifests
        self.annotationPrefixes = annotationPrefixes
    }

    /// How to reach the Kubernetes API: in-cluster when both are nil and running in a pod,
    /// else the kubeconfig.
    public struct KubernetesSource: Hashable, Sendable {
        /// Path of a kubeconfig; nil means `KUBECONFIG` or `~/.kube/config`.
        public var kubeconfig: String?
        /// Context to use; nil means the kubeconfig's current-context.
        public var context: String?

        public init(kubeconfig: String? = nil, context: String? = nil) {
            self.kubeconfig = kubeconfig
            self.context = context
        }
    }
}

/// How reconciling is paced and guarded (`reconcile:`).
public struct ReconcileConfig: Hashable, Sendable {
    /// Full resync period that also catches hand edits (default 5m).
    public var resync: Duration
    /// Wait after a watch event so bursts collapse into one run (default 500ms).
    public var debounce: Duration
    /// A run that would delete more than this share of owned records deletes nothing and alerts (default 0.5).
    public var maxDeleteFraction: Double
    /// Plan and log, never write (default false).
    public var dryRun: Bool
    /// The longest one target's reconcile may take in `run --once` before it is given up and
    /// reported (default 2m): a peer that accepts connections and never answers would otherwise
    /// hold the run through every timeout and retry of its client.
    public var onceTimeout: Duration

    public init(resync: Duration = .seconds(300), debounce: Duration = .milliseconds(500),
                maxDeleteFraction: Double = 0.5, dryRun: Bool = false, onceTimeout: Duration = .seconds(120)) {
        self.resync = resync
        self.debounce = debounce
        self.maxDeleteFraction = maxDeleteFraction
        self.dryRun = dryRun
        self.onceTimeout = onceTimeout
    }
}

/// Leader election through a `coordination.k8s.io/v1` Lease (`leaderElection:`); only the
/// leader writes DNS.
public struct LeaderElectionConfig: Hashable, Sendable {
    /// Off by default: a single replica writes.
    public var enabled: Bool
    /// Name of the Lease in the pod's namespace (default `netagent`).
    public var leaseName: String
    /// How long a lease is valid without renewal (default 15s).
    public var leaseDuration: Duration
    /// The leader stops writing when it could not renew for this long (default 10s).
    public var renewDeadline: Duration
    /// How often to try to acquire or renew (default 2s).
    public var retryPeriod: Duration

    public init(enabled: Bool = false, leaseName: String = "netagent", leaseDuration: Duration = .seconds(15),
                renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
        self.enabled = enabled
        self.leaseName = leaseName
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }
}

/// The SQLite state file (`state:`): alert outbox and the Pi-hole ledger when standalone.
public struct StateConfig: Hashable, Sendable {
    public static let defaultPath = "/var/lib/netagent/state.sqlite"
    /// Absolute path of the state file.
    public var path: String
    /// Where the Pi-hole ownership ledger lives (`state.ledger`); nil: chosen at start (`resolvedLedger`).
    public var ledger: LedgerBackend?

    /// `state.ledger`: the state file, or one ConfigMap per Pi-hole in the pod's namespace.
    public enum LedgerBackend: String, Hashable, Sendable, CaseIterable {
        case file
        case configmap
    }

    public init(path: String = StateConfig.defaultPath, ledger: LedgerBackend? = nil) {
        self.path = path
        self.ledger = ledger
    }

    /// The ledger to use: as written, else `configmap` when running in a pod
    /// (`KUBERNETES_SERVICE_HOST` set) with leader election on — replicas must share one
    /// ledger — else `file`.
    public func resolvedLedger(leaderElection: LeaderElectionConfig,
                               environment: [String: String]) -> LedgerBackend {
        if let ledger { return ledger }
        let inCluster = !(environment["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty
        return inCluster && leaderElection.enabled ? .configmap : .file
    }
}

/// The HTTP status server (`server:`): /metrics, /healthz, /readyz, /status. Its defences are
/// listed in docs/security.md.
public struct ServerConfig: Hashable, Sendable {
    /// Address and port to listen on (default `0.0.0.0:9099`: every address of the pod).
    public var listen: ListenAddress
    /// A bearer token required for `/status` and `/metrics` (`authTokenFile` / `authTokenEnv`);
    /// `/healthz` and `/readyz` stay open for the kubelet. nil: no token asked.
    public var authToken: SecretSource?
    /// Connections open at once, at most (default 64); lowered further to leave
    /// `reservedDescriptors` of the process's file-descriptor limit to the agent's own work.
    public var maxConnections: Int
    /// How long a connection may take to send a request's headers (default 10 s).
    public var headerTimeout: Duration
    /// How long a kept-alive connection may sit idle between requests (default 30 s).
    public var idleTimeout: Duration

    public static let defaultMaxConnections = 64
    public static let defaultHeaderTimeout = Duration.seconds(10)
    public static let defaultIdleTimeout = Duration.seconds(30)
    /// File descriptors the status server never takes: the providers' and the Kubernetes API's
    /// connections, the state file and its journal, the probes' sockets, the resolver's.
    public static let reservedDescriptors = 256

    public init(listen: ListenAddress, authToken: SecretSource? = nil, maxConnections: Int = Self.defaultMaxConnections,
                headerTimeout: Duration = Self.defaultHeaderTimeout, idleTimeout: Duration = Self.defaultIdleTimeout) {
        self.listen = listen
        self.authToken = authToken
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    /// `maxConnections`, or fewer when the descriptor limit `openFiles` leaves less than that
    /// after `reservedDescriptors`; at least 1.
    public func connectionCap(openFiles: Int) -> Int {
        max(1, min(maxConnections, openFiles - Self.reservedDescriptors))
    }
}

extension SourcesConfig {
    static func read(_ field: Field) -> SourcesConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        var kubernetes: KubernetesSource?
        if map.has("kubernetes") {
            kubernetes = KubernetesSource()
            if let kube = map.optional("kubernetes")?.mapping() {
                kubernetes = KubernetesSource(kubeconfig: kube.optional("kubeconfig")?.filePath(),
                                              context: kube.optional("context")?.string())
                kube.finish()
            }
        } else {
            _ = map.optional("kubernetes")
        }
        return SourcesConfig(
            kubernetes: kubernetes,
            manifests: map.optional("manifests")?.list { $0.filePath() } ?? [],
            annotationPrefixes: map.optional("annotationPrefixes")?.list { $0.string() } ?? defaultAnnotationPrefixes)
    }
}

extension ReconcileConfig {
    static func read(_ field: Field) -> ReconcileConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let defaults = ReconcileConfig()
        return ReconcileConfig(
            resync: map.optional("resync")?.duration(minimum: .seconds(1)) ?? defaults.resync,
            debounce: map.optional("debounce")?.duration(minimum: .zero) ?? defaults.debounce,
            maxDeleteFraction: map.optional("maxDeleteFraction")?.fraction() ?? defaults.maxDeleteFraction,
            dryRun: map.optional("dryRun")?.bool() ?? defaults.dryRun,
            onceTimeout: map.optional("onceTimeout")?.duration(minimum: .seconds(1)) ?? defaults.onceTimeout)
    }
}

extension LeaderElectionConfig {
    static func read(_ field: Field) -> LeaderElectionConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let defaults = LeaderElectionConfig()
        let config = LeaderElectionConfig(
            enabled: map.optional("enabled")?.bool() ?? defaults.enabled,
            leaseName: map.optional("leaseName")?.string() ?? defaults.leaseName,
            leaseDuration: map.optional("leaseDuration").flatMap(Self.wholeSeconds) ?? defaults.leaseDuration,
            renewDeadline: map.optional("renewDeadline")?.duration() ?? defaults.renewDeadline,
            retryPeriod: map.optional("retryPeriod")?.duration() ?? defaults.retryPeriod)
        if !(config.retryPeriod < config.renewDeadline && config.renewDeadline < config.leaseDuration) {
            map.fail("needs retryPeriod < renewDeadline < leaseDuration, so a leader stops writing before another can start")
        }
        return config
    }
}

extension LeaderElectionConfig {
    /// The Lease stores `leaseDurationSeconds`: a fraction would be cut off, and the others
    /// would then wait less than this replica's `renewDeadline` allows for.
    static func wholeSeconds(_ field: Field) -> Duration? {
        guard let value = field.duration(minimum: .seconds(1)) else { return nil }
        guard value.components.attoseconds == 0 else {
            field.fail("\(ConfigDuration.format(value)) is not a whole number of seconds (the Lease stores leaseDurationSeconds)")
            return nil
        }
        return value
    }
}

extension StateConfig {
    static func read(_ field: Field) -> StateConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        return StateConfig(path: map.optional("path")?.filePath() ?? defaultPath,
                           ledger: map.optional("ledger")?.choice(LedgerBackend.self))
    }
}

extension ServerConfig {
    static let defaultListen = "0.0.0.0:9099"

    static func read(_ field: Field?) -> ServerConfig? {
        let map = field?.mapping()
        defer { map?.finish() }
        let parse = { (text: String) throws(ConfigValueError) in try ListenAddress(text) }
        let listen: ListenAddress?
        if let field = map?.optional("listen") { listen = field.parsed(parse) } else { listen = try? parse(defaultListen) }
        let token = map?.secret("authToken", required: false)
        let maxConnections = map?.optional("maxConnections")?.int(in: 1...65536) ?? defaultMaxConnections
        let headerTimeout = map?.optional("headerTimeout")?.duration(minimum: .milliseconds(100)) ?? defaultHeaderTimeout
        let idleTimeout = map?.optional("idleTimeout")?.duration(minimum: .milliseconds(100)) ?? defaultIdleTimeout
        return listen.map { ServerConfig(listen: $0, authToken: token, maxConnections: maxConnections,
                                         headerTimeout: headerTimeout, idleTimeout: idleTimeout) }
    }
}
