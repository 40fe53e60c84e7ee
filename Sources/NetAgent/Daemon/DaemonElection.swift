public import DNSCore
import Foundation
public import Kube
import Logging
import ServiceLifecycle

/// High availability: the Lease election and the shared Pi-hole ledger, for `netagent run`.
extension Daemon {
    /// The agent's own objects (Lease, ledger ConfigMaps) live in the cluster `sources.kubernetes`
    /// names, else in the pod's own (in-cluster), else in the default kubeconfig's.
    func ownCluster() throws -> (client: KubeClient, namespace: String) {
        let connection = try (config.sources.kubernetes ?? SourcesConfig.KubernetesSource()).connection()
        return (KubeClient(connection: connection), PodIdentity.namespace(connection: connection))
    }

    /// The elector when `leaderElection.enabled`; nil otherwise (this replica always leads).
    func makeElector(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LeaderElector? {
        let election = config.leaderElection
        guard election.enabled else { return nil }
        let (client, namespace) = try ownCluster()
        let settings = LeaderElectionSettings(
            leaseName: election.leaseName, namespace: namespace, identity: PodIdentity.identity(environment: environment),
            leaseDuration: election.leaseDuration, renewDeadline: election.renewDeadline, retryPeriod: election.retryPeriod)
        logger.notice("leader election: \(settings.identity) campaigns for the lease \(namespace)/\(election.leaseName)")
        return LeaderElector(client: client, settings: settings, logger: logger)
    }

    /// The Pi-hole ledgers per `state.ledger`: ConfigMaps in the pod's namespace, or nil for
    /// the state file's.
    func ledgers(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (@Sendable (_ scope: String) -> any OwnershipLedger)? {
        switch config.state.resolvedLedger(leaderElection: config.leaderElection, environment: environment) {
        case .file:
            if config.leaderElection.enabled {
                logger.warning("leader election is on but the Pi-hole ledger is the state file: a new leader does not know what the old one made (set state.ledger: configmap)")
            }
            return nil
        case .configmap:
            let (client, namespace) = try ownCluster()
            return { scope in ConfigMapLedger(client: client, namespace: namespace, scope: scope) }
        }
    }

    /// Runs `elector` until graceful shutdown (cancelled), keeping `netagent_leader` current
    /// and poking every reconciler when leadership is gained. Then gives the lease back —
    /// outside the cancelled scope, so the release request is sent.
    static func lead(_ elector: LeaderElector, triggers: [ReconcileTrigger]) async {
        await cancelWhenGracefulShutdown { await campaign(elector, triggers: triggers) }
        await elector.release()
        AgentMetrics.recordLeader(false)
    }

    private static func campaign(_ elector: LeaderElector, triggers: [ReconcileTrigger]) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await elector.run() }
            group.addTask {
                for await leading in elector.leadership.changes() {
                    AgentMetrics.recordLeader(leading)
                    if leading { for trigger in triggers { trigger.poke() } }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
