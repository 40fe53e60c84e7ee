/// One record netagent owns in a provider that cannot hold ownership TXT records.
public struct LedgerEntry: Hashable, Sendable {
    public var key: Endpoint.Key
    /// The resource that asked for the record, as `httproute/NAMESPACE/NAME`.
    public var resource: String?

    public init(key: Endpoint.Key, resource: String? = nil) {
        self.key = key
        self.resource = resource
    }
}

/// Where a `LedgerRegistry` keeps the keys it owns: the SQLite state file, a ConfigMap, or
/// memory. Both calls throw when the store cannot be read or written.
public protocol OwnershipLedger: Sendable {
    /// Every entry, in any order.
    func entries() async throws -> [LedgerEntry]
    /// Adds (or replaces) `adding` and removes `removing`, all at once.
    func record(adding: [LedgerEntry], removing: [Endpoint.Key]) async throws
}

/// A ledger in memory: for tests, and for a dry run that must not write the real one.
public actor InMemoryLedger: OwnershipLedger {
    private var store: [Endpoint.Key: LedgerEntry]

    public init(_ entries: [LedgerEntry] = []) {
        store = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
    }

    public func entries() -> [LedgerEntry] { Array(store.values) }

    public func record(adding: [LedgerEntry], removing: [Endpoint.Key]) {
        for key in removing { store[key] = nil }
        for entry in adding { store[entry.key] = entry }
    }
}

/// Ownership for providers without TXT records (Pi-hole): the owned keys live in a ledger.
/// An empty ledger (first run) adopts only current records equal to a desired record, so
/// records made by hand are never taken over; adoptions are written on the next `apply`, which
/// also forgets entries whose record is gone (deleted by hand: a later one is not ours).
public actor LedgerRegistry: Registry {
    public nonisolated let ownerID: String
    public nonisolated let provider: any DNSProvider
    private let ledger: any OwnershipLedger
    private var pendingAdoptions: [LedgerEntry] = []
    private var pendingForgets: [Endpoint.Key] = []

    public init(provider: any DNSProvider, ledger: any OwnershipLedger, ownerID: String) {
        self.provider = provider
        self.ledger = ledger
        self.ownerID = ownerID
    }

    public func records(desired: [Endpoint]) async throws -> [Endpoint] {
        var records = try await provider.records()
        let entries = try await ledger.entries()
        pendingAdoptions = []
        pendingForgets = []
        if entries.isEmpty {
            let wanted = Dictionary(desired.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            for index in records.indices {
                guard let match = wanted[records[index].key],
                      !Planner.needsUpdate(current: records[index], desired: match) else { continue }
                records[index].labels = EndpointLabels(owner: ownerID, resource: match.labels.resource)
                pendingAdoptions.append(LedgerEntry(key: match.key, resource: match.labels.resource))
            }
            return records
        }
        let owned = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        for index in records.indices {
            guard let entry = owned[records[index].key] else { continue }
            records[index].labels = EndpointLabels(owner: ownerID, resource: entry.resource)
        }
        let present = Set(records.map(\.key))
        pendingForgets = owned.keys.filter { !present.contains($0) }
        return records
    }

    /// Applies the owned part of `changes`, then records in the ledger what was adopted,
    /// created or updated and what was deleted; refused changes leave the ledger as it was.
    public func apply(_ changes: Plan.Changes) async throws -> ApplyReport {
        let owned = changes.owned(by: ownerID)
        var report = ApplyReport()
        if !owned.isEmpty { report = try await provider.apply(owned) }
        let failed = Set(report.failures.map(\.key))
        var adding = pendingAdoptions
        adding += owned.creates.filter { !failed.contains($0.key) }.map { LedgerEntry(key: $0.key, resource: $0.labels.resource) }
        adding += owned.updates.filter { !failed.contains($0.key) }.map { LedgerEntry(key: $0.key, resource: $0.new.labels.resource) }
        let created = Set(adding.map(\.key))
        let removing = owned.deletes.map(\.key).filter { !failed.contains($0) }
            + pendingForgets.filter { !created.contains($0) }
        if !adding.isEmpty || !removing.isEmpty {
            try await ledger.record(adding: adding, removing: removing)
        }
        pendingAdoptions = []
        pendingForgets = []
        return report
    }
}
