public import Foundation
import GRDB
public import Logging
import Metrics
public import Probes
import ServiceLifecycle
public import State
import Synchronization

/// Alerts by mail, end to end: observations in, the engine's decisions queued in the outbox
/// together with its state, the outbox delivered through the relay.
///
/// Wiring for the daemon: create one per state file, hand it every probe run
/// (`record(_:at:)` from `ProbeScheduler`'s synchronous `onResults`, or `observe(_:at:)`
/// from async code) and every reconcile outcome
/// (`observe(_:at:)`), and either call `step(now:)` every few seconds or run `run(clock:every:)`
/// as a service until cancelled.
public actor AlertService {
    public let outbox: AlertOutbox
    public private(set) var engine: AlertEngine
    public let mailer: AlertMailer
    public let retry: RetryPolicy
    /// Ports only control planes serve, for telling an API-server failure from a node's (`probes.nodes.controlPlanePorts`).
    public let controlPlanePorts: Set<Int>
    private let logger: Logger
    private var stepping = false
    /// Observations handed in from synchronous code (`record`), taken in by the next step.
    private let inbox = Mutex<[(scope: String, signals: [AlertSignal], at: Date)]>([])

    /// Opens the alert state in `store`: the engine continues where the last process left it,
    /// and mail still in the outbox is sent on the next `step`.
    /// - Throws: `StateStoreError` when the saved state cannot be read.
    public init(policy: AlertPolicy, store: StateStore, mailer: AlertMailer, retry: RetryPolicy = RetryPolicy(),
                controlPlanePorts: Set<Int> = [6443], logger: Logger = Logger(label: "netagent.alerts")) async throws(StateStoreError) {
        let path = store.path
        let snapshot = try await store.read("read alert state") { db in
            try Data.fetchOne(db, sql: "SELECT snapshot FROM alert_engine WHERE id = 1")
        }
        var state = AlertEngine.State()
        if let snapshot {
            do { state = try JSONDecoder().decode(AlertEngine.State.self, from: snapshot) } catch {
                throw StateStoreError(path: path, operation: "read alert state", detail: "unreadable snapshot: \(error)")
            }
        }
        outbox = AlertOutbox(store: store)
        engine = AlertEngine(policy: policy, state: state)
        self.mailer = mailer
        self.retry = retry
        self.controlPlanePorts = controlPlanePorts
        self.logger = logger
    }

    /// One probe run's results: each result speaks for its own kind and target.
    public func observe(_ results: [ProbeResult], at now: Date) {
        for result in results {
            engine.observe(scope: AlertSignals.scope(of: result), signals: AlertSignals.signals(for: result, controlPlanePorts: controlPlanePorts), at: now)
        }
    }

    /// A probe run's results from synchronous code, such as `ProbeScheduler`'s `onResults`:
    /// kept until the next `step`, which observes them in order before deciding.
    public nonisolated func record(_ results: [ProbeResult], at now: Date = Date()) {
        let observations = results.map { result in
            (scope: AlertSignals.scope(of: result),
             signals: AlertSignals.signals(for: result, controlPlanePorts: controlPlanePorts), at: now)
        }
        inbox.withLock { $0 += observations }
    }

    /// One provider's reconcile cycle.
    public func observe(_ outcome: AlertSignals.ReconcileOutcome, at now: Date) {
        engine.observe(scope: AlertSignals.scope(ofProvider: outcome.provider), signals: AlertSignals.signals(for: outcome), at: now)
    }

    /// Signals from elsewhere, under a scope of the caller's choosing.
    public func observe(scope: String, signals: [AlertSignal], at now: Date) {
        engine.observe(scope: scope, signals: signals, at: now)
    }

    /// What one step did.
    public struct StepReport: Sendable {
        /// Mails the engine decided on and queued in this step.
        public var queued: [AlertMessage] = []
        /// The delivery pass; nil when another step was still running.
        public var delivery: DeliveryReport?
    }

    /// Advances the engine to `now`, queues its mails with its new state in one transaction,
    /// then sends what is due. A relay failure is not an error here: the mail stays queued
    /// (and rejected mail is logged and kept). Throws only when the state file fails, in which
    /// case the engine's step is undone so the next step decides again.
    ///
    /// `mailing` false (a follower under leader election): the engine still advances and its
    /// state is saved, but its mails are left to the leader — neither queued nor sent — so two
    /// replicas never both mail one alert.
    public func step(now: Date, mailing: Bool = true) async throws(StateStoreError) -> StepReport {
        // One step at a time: the actor is re-entered at each await, and two steps deciding
        // from one engine state would queue the same mail twice.
        guard !stepping else { return StepReport() }
        stepping = true
        defer { stepping = false }
        // The engine advances synchronously, so observations arriving while the write below
        // is in flight land on the new state; on a failed write it goes back to `before`.
        for observation in inbox.withLock({ inbox in defer { inbox = [] }; return inbox }) {
            engine.observe(scope: observation.scope, signals: observation.signals, at: observation.at)
        }
        let before = engine
        var mails = engine.step(now: now)
        if !mailing, !mails.isEmpty {
            logger.debug("not the leader: \(mails.count) alert mail(s) left to the leader")
            mails = []
        }
        let policy = engine.policy
        let messages = mails.map { AlertMessage($0, policy: policy) }
        let snapshot: Data
        do { snapshot = try JSONEncoder().encode(engine.state) } catch {
            engine = before
            throw StateStoreError(path: outbox.store.path, operation: "save alert state", detail: "\(error)")
        }
        let queued = zip(messages, mails.map(\.group.rawValue)).map { ($0, group: $1) }
        do {
            try await outbox.store.write("queue alert mail") { db in
                try AlertOutbox.enqueue(queued, policy: policy, at: now, in: db)
                try AlertOutbox.prune(at: now, in: db)
                try db.execute(sql: "INSERT OR REPLACE INTO alert_engine (id, snapshot, updated_at) VALUES (1, ?, ?)",
                               arguments: [snapshot, now.timeIntervalSince1970])
            }
        } catch {
            engine = before
            throw error
        }
        for message in messages { logger.info("alert mail queued", metadata: ["subject": "\(message.subject)"]) }
        var report = StepReport(queued: messages)
        guard mailing else { return report }
        let delivery = try await outbox.deliverDue(now: now, mailer: mailer, retry: retry)
        for entry in delivery.rejected {
            logger.error("alert mail rejected by the relay; kept in the outbox, not retried", metadata: [
                "subject": "\(entry.subject)", "message-id": "\(entry.messageID)", "error": "\(entry.lastError ?? "")"])
        }
        for entry in delivery.deferred {
            logger.warning("alert mail deferred", metadata: [
                "subject": "\(entry.subject)", "attempts": "\(entry.attempts)", "error": "\(entry.lastError ?? "")"])
        }
        // Read once: the log line and the gauge tell the same count, from one query of the state file.
        let pending = try? await outbox.pendingCount()
        if let problem = delivery.relayProblem {
            // The local alert about the relay: mail cannot say that mail does not get through.
            logger.error("the SMTP relay refuses netagent (login or TLS): alert mail stays queued until it is fixed", metadata: [
                "error": "\(problem)", "pending": "\(pending ?? 0)"])
        }
        if !delivery.delivered.isEmpty || !delivery.rejected.isEmpty || delivery.relayProblem != nil {
            AlertMetrics.recordRelay(ok: delivery.relayProblem == nil)
        }
        report.delivery = delivery
        AlertMetrics.record(engine.state.alerts.values, outboxPending: pending)
        return report
    }

    /// Steps every `interval` of `clock` until the task is cancelled or a graceful shutdown
    /// begins, with `now` as the wall time; a state-file failure is logged and the next step
    /// tries again. `mailing` is asked at every step (leader election: only the leader mails).
    /// A shutdown ends only the wait between steps: a step cut short while the relay takes a
    /// mail would leave it pending after the relay's 250, and a later step would send it again.
    public func run<C: Clock>(clock: C, every interval: C.Duration, now: @Sendable () -> Date = { Date() },
                              mailing: @Sendable () -> Bool = { true }) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { _ = try await step(now: now(), mailing: mailing()) } catch {
                logger.error("alert step failed", metadata: ["error": "\(error)"])
            }
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { return }
        }
    }
}

/// The alert engine's metrics, through swift-metrics (a no-op until the daemon bootstraps it).
enum AlertMetrics {
    /// 1 when the SMTP relay last took or judged mail, 0 when it refused netagent itself
    /// (login, TLS): the local alert that mail about it cannot carry.
    static func recordRelay(ok: Bool) {
        Gauge(label: "netagent_alert_relay_ok").record(ok ? 1 : 0)
    }

    /// After an engine step: `netagent_alerts` per state, and the mail waiting in the outbox
    /// (`netagent_alert_outbox_pending`); docs/metrics.md.
    static func record(_ alerts: some Sequence<Alert>, outboxPending: Int?) {
        var counts: [Alert.State: Int] = [.pending: 0, .firing: 0, .resolved: 0]
        for alert in alerts where !AlertRule.conditions.contains(alert.key.rule) { counts[alert.state, default: 0] += 1 }
        for (state, count) in counts {
            Gauge(label: "netagent_alerts", dimensions: [("state", state.rawValue)]).record(count)
        }
        if let outboxPending { Gauge(label: "netagent_alert_outbox_pending").record(outboxPending) }
    }
}
