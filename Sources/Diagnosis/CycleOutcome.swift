public import Alerts
public import DNSCore
public import NetIO
import Cloudflare
import Pihole

/// What one reconcile cycle of a target did, for the alert engine and `--once`.
public struct CycleOutcome: Sendable {
    public var instance: String
    /// The plan, or why the target could not be read, planned or written.
    public var result: Result<Plan, PlanFailure>
    /// What the apply did; nil in a dry run, with nothing to change, when the cycle failed,
    /// and when this replica was not the leader.
    public var report: ApplyReport?
    /// Planned but not applied: another replica leads (leader election). Not a failure.
    public var notLeader = false
    /// The records the target's owner holds after the cycle, by type (bookkeeping TXT records
    /// not counted); nil when the cycle failed.
    public var owned: [RecordType: Int]?
    /// What the target's read set aside, each named (a record that could not be read).
    public var warnings: [String] = []

    public init(instance: String, result: Result<Plan, PlanFailure>, report: ApplyReport? = nil, notLeader: Bool = false,
                owned: [RecordType: Int]? = nil) {
        self.instance = instance
        self.result = result
        self.report = report
        self.notLeader = notLeader
        self.owned = owned
    }

    public var error: String? {
        if case .failure(let failure) = result { return failure.message }
        return nil
    }
    public var ok: Bool { error == nil && (report?.isComplete ?? true) }

    /// The outcome with its error, failure and warning texts through the redactor: the one place a
    /// reconcile's words pass before the log, metrics, /readyz, /status, the alerts and mail.
    public var redacted: CycleOutcome {
        var copy = self
        copy.warnings = warnings.map(Redaction.text)
        if case .failure(let failure) = result { copy.result = .failure(failure.redacted) }
        if var report {
            report.failures = report.failures.map { ApplyFailure(operation: $0.operation, key: $0.key, message: Redaction.text($0.message)) }
            copy.report = report
        }
        return copy
    }

    /// The cycle as the alert engine takes it.
    public var alert: AlertSignals.ReconcileOutcome {
        switch result {
        case .success(let plan): AlertSignals.ReconcileOutcome(provider: instance, plan: plan, report: report)
        case .failure(let failure): AlertSignals.ReconcileOutcome(provider: instance, error: failure.message)
        }
    }
}

/// Why a target could not be planned (its API unreachable, a refused login, …): the words, and
/// the typed error behind them (`NetIOError`, `CloudflareError`, `PiholeError`) that causes
/// are read from.
public struct PlanFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The error the words were made from, when there was one.
    public var error: (any Error)?

    public init(message: String, error: (any Error)? = nil) {
        self.message = message
        self.error = error
    }

    /// A failure from a typed error, its words after `prefix` (`apply: `).
    public init(_ error: any Error, prefix: String = "") {
        self.init(message: prefix + "\(error)", error: error)
    }

    public var description: String { message }

    /// The same failure with its words through the redactor (the typed error is never printed).
    public var redacted: PlanFailure { PlanFailure(message: Redaction.text(message), error: error) }

    /// The transport failure behind it: the API could not be reached at all.
    public var transport: NetIOError? { (error as? any CarriesTransportError)?.transport }

    /// What is wrong with a Cloudflare token, once a verify has told it.
    public enum TokenProblem: Sendable, Hashable {
        /// The verify refused the token, in its words.
        case invalid(String)
        /// The token is active but lacks `permission` on `scope`.
        case lacks(permission: String, scope: String)
    }

    /// The token's problem, when a Cloudflare 403 was followed by a token verify.
    public var token: TokenProblem? {
        guard let cloudflare = error as? CloudflareError else { return nil }
        switch (cloudflare.kind, cloudflare.tokenVerify) {
        case (.invalidToken, .invalid(let words)?):
            return .invalid(words)
        case (.invalidToken, _):
            return .invalid(cloudflare.cloudflareMessage)
        case (.missingPermission, .active?):
            return .lacks(permission: cloudflare.operation.permission, scope: cloudflare.scope ?? "the account")
        default:
            return nil
        }
    }

    /// Whether the provider's error carries its own advice (`— check the password …`).
    public var hasAdvice: Bool {
        (error as? CloudflareError)?.advice != nil || (error as? PiholeError)?.advice != nil
    }
}
