public import Config
public import DNSCore
import Diagnosis
import Foundation
import Kube
import Logging
import ServiceLifecycle
import State

/// High availability: the Lease election and the shared Pi-hole ledger, for `netagent run`.
extension Daemon {

    /// The elector when `leaderElection.enabled`; nil otherwise (this replica always leads).
    /// A dry run never campaigns: holding the lease without writing would keep the real writer out.
    func makeElector(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LeaderElector? {
        let election = config.leaderElection
        guard election.enabled else { return nil }
        guard !dryRun else {
            logger.notice("leader election: a dry run takes no part")
            return nil
        }
        let (client, namespace) = try config.ownCluster()
        let settings = LeaderElectionSettings(
            leaseName: election.leaseName, namespace: namespace, identity: PodIdentity.identity(environment: environment),
            leaseDuration: election.leaseDuration, renewDeadline: election.renewDeadline, retryPeriod: election.retryPeriod)
        logger.notice("leader election: \(settings.identity) campaigns for the lease \(namespace)/\(election.leaseName)")
        return LeaderElector(client: client, settings: settings, logger: logger)
    }

    /// The Pi-hole ledgers per `state.ledger`, warning when replicas would not share them.
    func ledgers(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (@Sendable (_ scope: String) -> any OwnershipLedger)? {
        let ledgers = config.sharedLedgers(environment: environment)
        if ledgers == nil, config.leaderElection.enabled {
            logger.warning("leader election is on but the Pi-hole ledger is the state file: a new leader does not know what the old one made (set state.ledger: configmap)")
        }
        return ledgers
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

extension NetAgentConfig {
    /// The agent's own objects (Lease, ledger ConfigMaps) live in the cluster `sources.kubernetes`
    /// names, else in the pod's own (in-cluster), else in the default kubeconfig's; in the pod's
    /// namespace (`PodIdentity.namespace`).
    func ownCluster() throws -> (client: KubeClient, namespace: String) {
        let connection = try (sources.kubernetes ?? SourcesConfig.KubernetesSource()).connection()
        return (KubeClient(connection: connection), PodIdentity.namespace(connection: connection))
    }

    /// The Pi-hole ledgers `state.ledger` selects: one ConfigMap per Pi-hole, or nil for the
    /// state file's. When the cluster's connection cannot be read, every ledger fails with why.
    public func sharedLedgers(environment: [String: String]) -> (@Sendable (_ scope: String) -> any OwnershipLedger)? {
        guard state.resolvedLedger(leaderElection: leaderElection, environment: environment) == .configmap else { return nil }
        do {
            let (client, namespace) = try ownCluster()
            return { scope in ConfigMapLedger(client: client, namespace: namespace, scope: scope) }
        } catch {
            let reason = "state.ledger is configmap but the cluster cannot be reached: \(error)"
            return { _ in UnavailableLedger(reason: reason) }
        }
    }
}

/// A ledger that cannot be had: every read and write fails with the reason.
struct UnavailableLedger: OwnershipLedger {
    let reason: String
    func entries() async throws -> [LedgerEntry] { throw PlanFailure(message: reason) }
    func record(adding: [LedgerEntry], removing: [Endpoint.Key]) async throws { throw PlanFailure(message: reason) }
}
