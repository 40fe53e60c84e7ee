/// Ownership around a provider: reads the provider's records and labels the ones this
/// instance owns, applies changes while keeping its ownership bookkeeping (TXT records, a
/// ledger) in step, and forwards `adjust`. Implementations: `TXTRegistry`, `LedgerRegistry`.
public protocol Registry: Sendable {
    /// external-dns's `--txt-owner-id`: the owner label this instance writes and obeys.
    var ownerID: String { get }

    /// The provider whose records this registry owns (its `name` labels logs and alerts).
    var provider: any DNSProvider { get }

    /// The provider's records, with `labels.owner`/`resource` set on the ones owned and the
    /// bookkeeping records themselves hidden. `desired` (already adjusted) lets a registry
    /// adopt exact matches. Throws when the provider or the bookkeeping cannot be read.
    func records(desired: [Endpoint]) async throws -> [Endpoint]

    /// Applies `changes` (only the owned part of updates and deletes) and records the new
    /// ownership; also persists adoptions from the last `records`, so call it on every run,
    /// even with empty changes. The provider is not called when there is nothing to send.
    func apply(_ changes: Plan.Changes) async throws -> ApplyReport

    /// The provider's `adjust` (the default).
    func adjust(_ desired: [Endpoint]) -> [Endpoint]
}

extension Registry {
    public func adjust(_ desired: [Endpoint]) -> [Endpoint] {
        provider.adjust(desired)
    }
}

/// The planning flow of one reconcile: adjust the desired records to the provider's rules,
/// read the current records through the registry, and plan. Separate from `apply` so that a
/// dry run (`netagent plan`) and the daemon share it.
public struct PlanningRun: Sendable {
    public var policy: Policy
    public var filters: PlanFilters
    public var deleteGuard: DeleteGuard

    public init(policy: Policy = .sync, filters: PlanFilters = PlanFilters(), deleteGuard: DeleteGuard = DeleteGuard()) {
        self.policy = policy
        self.filters = filters
        self.deleteGuard = deleteGuard
    }

    /// Plans against `registry`; throws what the registry's `records` throws.
    public func plan(desired: [Endpoint], registry: some Registry) async throws -> Plan {
        try await planReading(desired: desired, registry: registry).plan
    }

    /// Plans against `registry` and returns, with the plan, the records it read (owners labelled).
    public func planReading(desired: [Endpoint], registry: some Registry) async throws -> (plan: Plan, current: [Endpoint]) {
        let adjusted = registry.adjust(desired)
        let current = try await registry.records(desired: adjusted)
        let plan = Planner.plan(
            desired: adjusted, current: current, ownerID: registry.ownerID,
            policy: policy, filters: filters, deleteGuard: deleteGuard)
        return (plan, current)
    }

    /// Plans, then applies the plan's changes through `registry`.
    public func reconcile(desired: [Endpoint], registry: some Registry) async throws -> (plan: Plan, report: ApplyReport) {
        let plan = try await plan(desired: desired, registry: registry)
        let report = try await registry.apply(plan.changes)
        return (plan, report)
    }
}

extension Plan.Changes {
    /// The part of the changes a registry may pass on: every create, and only the updates
    /// and deletes of records `ownerID` owns (a second line of defence behind the planner).
    public func owned(by ownerID: String) -> Plan.Changes {
        Plan.Changes(
            creates: creates,
            updates: updates.filter { $0.old.labels.owner == ownerID },
            deletes: deletes.filter { $0.labels.owner == ownerID })
    }
}
