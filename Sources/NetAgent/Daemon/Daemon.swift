import Foundation
public import Logging
import Kube
import NetIO
public import Prometheus
import Probes
import ServiceLifecycle

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
        let sources = try RouteSources(config: config)
        let elector = try makeElector()
        let leadership = elector?.leadership ?? .unconditional()
        let targets = DNSTarget.all(config: config, secrets: secrets, state: store, ledgers: ledgers())
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
        let records = config.scheduledRecordsProbe(resolver: resolver) { await sources.isReady() ? await sources.objects() : nil }
        let scheduler = ProbeScheduler(probes: config.scheduledProbes(resolver: resolver, tunnelStatus: config.tunnelStatusSource(secrets: secrets)) + (records.map { [$0] } ?? []), history: page.history, clock: clock,
                                       onResults: { results in
                                           alerts?.record(results)
                                           AgentMetrics.record(results)
                                           page.record(results)
                                       })

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        func add(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
            services.append(.init(service: ClosureService(body), serviceName: name))
        }
        // A service that returns ends the group: add only those that have something to run.
        // The elector comes first, so it stops last: after the reconcilers' last apply.
        if let elector {
            add("leader election") { await Self.lead(elector, triggers: triggers) }
        } else {
            AgentMetrics.recordLeader(true)
        }
        if sources.cluster != nil {
            add("sources") {
                await cancelWhenGracefulShutdown {
                    await Self.watch(sources, status: status, clock: clock) { for trigger in triggers { trigger.poke() } }
                }
            }
        }
        for reconciler in reconcilers { add("reconcile \(reconciler.target.instance)") { await reconciler.run() } }
        if !scheduler.probes.isEmpty {
            add("probes") { await cancelWhenGracefulShutdown { await scheduler.run() } }
        }
        if let alerts {
            // Every replica evaluates; only the leader mails (a follower's mails are the leader's to send).
            add("alerts") {
                await alerts.run(clock: clock, every: .seconds(5), mailing: { leadership.isLeader })
            }
        }
        services.append(.init(
            service: StatusServer.service(listen: config.server.listen, status: status, metrics: metrics, page: page,
                                          settings: config.server, token: secrets.statusToken?.value, logger: logger,
                                          onListening: onListening),
            serviceName: "http"))

        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.notice("netagent run: \(targets.count) target(s)\(dryRun ? ", dry run" : ""), \(config.probes.enabledKinds.count) probe kind(s), listening on \(config.server.listen)")
        try await group.run()
        // A last step hands what the reconcilers' final cycles raised to the outbox and the relay.
        if let alerts {
            let mailing = elector == nil || leadership.heldAtRelease
            do { _ = try await alerts.step(now: Date(), mailing: mailing) } catch { logger.error("alert flush failed: \(error)") }
        }
        logger.notice("netagent run: stopped")
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
