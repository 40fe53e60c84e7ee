public import Config
import Foundation
public import Kube
import Synchronization

extension SourcesConfig.KubernetesSource {
    /// The cluster this source names: the pod's own service account when neither a kubeconfig
    /// nor a context is set and the agent runs in a pod, else the kubeconfig. Throws what
    /// reading the kubeconfig or the service account throws.
    public func connection() throws -> ClusterConnection {
        if kubeconfig == nil, context == nil, let inCluster = try InClusterConfig.load() { return inCluster }
        return try KubeConfig.load(paths: KubeConfig.paths(explicit: kubeconfig), context: context)
    }
}

/// The route sources of `netagent run`: the manifests folders, read anew at every reconcile
/// so an edit is picked up at the next resync, and the cluster's API through informers.
public struct RouteSources: Sendable {
    public let manifests: [String]
    public let manifestOptions: ManifestOptions
    /// Nil when `sources.kubernetes` is not set.
    public let cluster: ClusterRoutes?
    /// Writes the cluster's DNSEndpoints' `status.observedGeneration` once they have been read,
    /// while `statusWrites` says this replica leads; nil (a dry run, or no cluster): never.
    let observed: ObservedGenerationWriter?
    let statusWrites: Leadership?
    /// The source problems already logged, so each is said once, not at every cycle.
    let said = SaidOnce()

    /// `statusWrites`: the leadership under which DNSEndpoint statuses are written (the
    /// reconcile's own); nil for a dry run, which writes nothing to the cluster either.
    public init(manifests: [String], manifestOptions: ManifestOptions = ManifestOptions(), cluster: ClusterRoutes?,
                statusWrites: Leadership? = .unconditional()) {
        self.manifests = manifests
        self.manifestOptions = manifestOptions
        self.cluster = cluster
        self.statusWrites = statusWrites
        observed = cluster.map { ObservedGenerationWriter(client: $0.client) }
    }

    /// The sources `config` names; throws when the cluster's connection cannot be read.
    public init(config: NetAgentConfig, informerOptions: InformerOptions = InformerOptions(),
                statusWrites: Leadership? = .unconditional()) throws {
        let cluster = try config.sources.kubernetes.map {
            ClusterRoutes(client: KubeClient(connection: try $0.connection()), options: informerOptions)
        }
        self.init(manifests: config.sources.manifests, cluster: cluster, statusWrites: statusWrites)
    }

    /// Whether a plan may be made: every informer has listed its kind (or found it missing).
    /// Planning against a cache that has not listed yet would delete every record.
    public func isReady() async -> Bool {
        await cluster?.isReady() ?? true
    }

    /// The objects of every source now; a manifest that does not parse is a problem, not an error.
    public func objects() async -> SourceObjects {
        var objects = SourceObjects()
        if !manifests.isEmpty { objects.add(ManifestLoader.load(paths: manifests, options: manifestOptions)) }
        if let cluster {
            let snapshot = await cluster.snapshot()
            objects.add(snapshot)
            if let observed, statusWrites?.isLeader == true { objects.problems += await observed.acknowledge(snapshot.dnsEndpoints) }
        }
        return objects
    }

    /// Lists and watches the cluster until cancelled, calling `onChange` after each change
    /// to any cache; returns at once when there is no cluster source.
    public func run(onChange: @escaping @Sendable () async -> Void) async {
        guard let cluster else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await cluster.run() }
            group.addTask { await cluster.watchChanges(onChange) }
        }
    }
}

extension SourceObjects {
    /// The configured sources read once, for `netagent plan` and `netagent run --once`: the
    /// manifests (`config`'s and `extraManifests`) and one list of each kind from the cluster.
    /// A source that cannot be read is a problem, not an error; `clusterUnreachable` says the
    /// cluster gave nothing at all, so no plan should delete on its word.
    public static func readOnce(config: NetAgentConfig, extraManifests: [String] = [],
                                options: ManifestOptions = ManifestOptions()) async -> (objects: SourceObjects, clusterUnreachable: Bool) {
        var objects = SourceObjects()
        let paths = config.sources.manifests + extraManifests
        if !paths.isEmpty { objects.add(ManifestLoader.load(paths: paths, options: options)) }
        guard let kubernetes = config.sources.kubernetes else { return (objects, false) }
        do {
            let snapshot = await ClusterRoutes.listOnce(client: KubeClient(connection: try kubernetes.connection()))
            objects.add(snapshot)
            return (objects, snapshot.readNothing)
        } catch {
            objects.problems.append("kubernetes: \(error)")
            return (objects, true)
        }
    }
}

/// The source problems said so far. Each reconciler reads the sources at every cycle; a
/// lasting problem (a CRD not installed) is logged once, not at every cycle by every
/// reconciler, and said again only after it went away and came back.
final class SaidOnce: Sendable {
    private let said = Mutex<Set<String>>([])

    /// The problems of `current` not said yet; forgets the ones that are gone.
    func fresh(_ current: [String]) -> [String] {
        said.withLock { said in
            let now = Set(current)
            let new = current.filter { !said.contains($0) }
            said = now
            return new
        }
    }
}

extension RouteSources {
    /// The problems and notes of `objects` that have not been said yet.
    public func unsaid(_ objects: SourceObjects) -> (problems: [String], notes: [String]) {
        let fresh = Set(said.fresh(objects.problems + objects.notes))
        return (objects.problems.filter(fresh.contains), objects.notes.filter(fresh.contains))
    }
}
