import Alerts
public import Config
import Diagnosis
import Foundation
import DNSCore
import Kube
public import Logging
import NetIO
import Probes
public import Prometheus
import ServiceLifecycle
import State

/// `netagent run`: the route sources, a reconciler per DNS target, the probe scheduler, the
/// alert service and the status server, as one `ServiceGroup`. SIGTERM and SIGINT shut it
/// down gracefully in reverse order: the server stops, then alerts and probes, then each
/// reconciler finishes the apply in flight and gives back its Pi-hole session, then the informers,
/// then (with `leaderElection`) the elector gives the lease back.
public struct Daemon: Sendable {
    public let config: NetAgentConfig
    public let secrets: ResolvedSecrets
    /// `--dry-run` or `reconcile.dryRun`: plan and log, never write.
    public let dryRun: Bool
    public let logger: Logger

    public init(config: NetAgentConfig, secrets: ResolvedSecrets, dryRun: Bool, logger: Logger) {
        self.config = config
        self.secrets = secrets
        self.dryRun = dryRun || config.reconcile.dryRun
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT. Throws when the state file, the cluster's connection or
    /// the listen address cannot be had at start.
    /// `metrics` is the registry `/metrics` serves (from `AgentMetrics.bootstrap`); nil serves none.
    public func run(metrics: PrometheusCollectorRegistry? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        Allocator.returnFreedMemoryPromptly()
        let store = try StateStore(path: config.state.path)
        let elector = try makeElector()
        let leadership = elector?.leadership ?? .unconditional()
        // DNSEndpoint statuses are written as the records are: by the leader, never in a dry run.
        let sources = try RouteSources(config: config, statusWrites: dryRun ? nil : leadership)
        // Pi-hole restarts its resolver on netagent's own write: the dns-records probe is told.
        let restarts = ResolverRestarts()
        let targets = DNSTarget.all(config: config, secrets: secrets, state: store, ledgers: ledgers(), restarts: restarts)
        let status = DaemonStatus(instances: targets.map(\.instance))
        let alerts = try await alertService(store: store)
        let resolver = Resolver()
        defer { resolver.shutdown() }

        let clock = ContinuousClock()
        let reconcilers = targets.map { target in
            TargetReconciler(
                target: target, sources: sources, annotationPrefixes: config.sources.annotationPrefixes, dryRun: dryRun,
                debounce: config.reconcile.debounce, resync: config.reconcile.resync, status: status, clock: clock,
                logger: logger, leadership: leadership,
                onCycle: { outcome in await alerts?.observe(outcome.alert, at: Date()) })
        }
        let triggers = reconcilers.map(\.trigger)
        let page = StatusPage(config: config, targets: targets, status: status, alerts: alerts)
        let scheduler = probeScheduler(resolver: resolver, restarts: restarts, sources: sources, page: page, alerts: alerts, clock: clock)
        if elector == nil { AgentMetrics.recordLeader(true) }

        // The services in start order; the group stops them in reverse. A service that returns
        // ends the group, so only those with something to run are listed. The elector comes
        // first, so it stops last: after the reconcilers' last apply.
        let services: [ServiceGroupConfiguration.ServiceConfiguration?] = [
            elector.map { Self.leaderElection($0, triggers: triggers) },
            sources.cluster == nil ? nil : Self.sourceWatch(sources, status: status, clock: clock, triggers: triggers),
        ] + reconcilers.map(Self.reconcile) + [
            scheduler.probes.isEmpty ? nil : Self.probes(scheduler),
            alerts.map { Self.alerting($0, clock: clock, leadership: leadership) },
            .init(service: StatusServer.service(listen: config.server.listen, status: status, metrics: metrics, page: page,
                                                settings: config.server, token: secrets.statusToken?.value, logger: logger,
                                                onListening: onListening),
                  serviceName: "http"),
        ]

        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.compactMap { $0 }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.notice("netagent run: \(targets.count) target(s)\(dryRun ? ", dry run" : ""), \(config.probes.enabledKinds.count) probe kind(s), listening on \(config.server.listen)")
        try await group.run()
        // A last step hands what the reconcilers' final cycles raised to the outbox and the relay.
        if let alerts {
            let mailing = elector == nil || leadership.heldAtRelease
            do { _ = try await alerts.step(now: Date(), mailing: mailing) } catch { logger.error("alert flush failed: \(error)") }
        }
        logger.notice("netagent run: stopped")
    }

    /// A service named `name` that runs `body`.
    static func service(_ name: String, _ body: @escaping @Sendable () async throws -> Void) -> ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: ClosureService(body), serviceName: name)
    }

    /// Holds or waits for the lease, poking every reconciler when leadership changes.
    static func leaderElection(_ elector: LeaderElector, triggers: [ReconcileTrigger]) -> ServiceGroupConfiguration.ServiceConfiguration {
        service("leader election") { await lead(elector, triggers: triggers) }
    }

    /// The cluster's informers; every change pokes every reconciler.
    static func sourceWatch(_ sources: RouteSources, status: DaemonStatus, clock: ContinuousClock,
                            triggers: [ReconcileTrigger]) -> ServiceGroupConfiguration.ServiceConfiguration {
        service("sources") {
            await cancelWhenGracefulShutdown {
                await watch(sources, status: status, clock: clock) { for trigger in triggers { trigger.poke() } }
            }
        }
    }

    /// One DNS target's reconcile loop.
    static func reconcile(_ reconciler: TargetReconciler<ContinuousClock>) -> ServiceGroupConfiguration.ServiceConfiguration {
        service("reconcile \(reconciler.target.instance)") { await reconciler.run() }
    }

    /// The probe scheduler.
    static func probes(_ scheduler: ProbeScheduler<ContinuousClock>) -> ServiceGroupConfiguration.ServiceConfiguration {
        service("probes") { await cancelWhenGracefulShutdown { await scheduler.run() } }
    }

    /// The alert service's steps. Every replica evaluates; only the leader mails (a follower's
    /// mails are the leader's to send).
    static func alerting(_ alerts: AlertService, clock: ContinuousClock, leadership: Leadership) -> ServiceGroupConfiguration.ServiceConfiguration {
        service("alerts") { await alerts.run(clock: clock, every: .seconds(5), mailing: { leadership.isLeader }) }
    }

    /// The probes `run` schedules (the configured kinds and the dns-records probe over the
    /// sources), their results going to the alerts, the metrics and the status page.
    func probeScheduler(resolver: Resolver, restarts: ResolverRestarts, sources: RouteSources, page: StatusPage,
                        alerts: AlertService?, clock: ContinuousClock) -> ProbeScheduler<ContinuousClock> {
        let records = config.scheduledRecordsProbe(resolver: resolver, restarts: restarts) { await sources.isReady() ? await sources.objects() : nil }
        let scheduled = config.scheduledProbes(resolver: resolver, tunnelStatus: config.tunnelStatusSource(secrets: secrets))
        return ProbeScheduler(probes: scheduled + (records.map { [$0] } ?? []), history: page.history, clock: clock,
                              onResults: { results in
                                  alerts?.record(results)
                                  AgentMetrics.record(results)
                                  page.record(results)
                              })
    }

    /// The sources' informers, with `onChange` called after every change and once when all have
    /// first listed (an empty cluster changes nothing, yet must be planned).
    static func watch(_ sources: RouteSources, status: DaemonStatus, clock: ContinuousClock,
                      onChange: @escaping @Sendable () -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await sources.run(onChange: { onChange() }) }
            group.addTask {
                while !(await sources.isReady()) {
                    do { try await clock.sleep(for: .milliseconds(100)) } catch { return }
                }
                status.setSourcesReady(true)
                onChange()
            }
        }
    }

    /// The alert service when `alerting:` is configured.
    func alertService(store: StateStore) async throws -> AlertService? {
        guard let alerting = config.alerting else { return nil }
        return try await AlertService(policy: AlertPolicy(config: alerting, cluster: config.cluster), store: store,
                                      mailer: AlertMailer(config: alerting.smtp, password: secrets.smtpPassword),
                                      retry: RetryPolicy(initial: alerting.retryDelay.seconds), logger: logger)
    }
}
