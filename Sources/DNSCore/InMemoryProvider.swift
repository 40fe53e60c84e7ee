/// A provider that keeps its records in memory and applies changes the way a real DNS service
/// does: it stores no labels, refuses to create what exists or to change what is missing, and
/// refuses a CNAME beside any other record of the same name. Used by tests and the lab.
public actor InMemoryProvider: DNSProvider {
    /// What the simulated service can store; `adjust` follows these rules.
    public struct Capabilities: Hashable, Sendable {
        /// Whether records carry a TTL (Pi-hole's do not).
        public var storesTTL: Bool
        /// Whether the Cloudflare `proxied` flag is kept.
        public var storesProxied: Bool

        public init(storesTTL: Bool = true, storesProxied: Bool = false) {
            self.storesTTL = storesTTL
            self.storesProxied = storesProxied
        }
    }

    public nonisolated let name: String
    public nonisolated let capabilities: Capabilities
    private var store: [Endpoint.Key: Endpoint] = [:]
    /// How many times `apply` was called: tests check that steady state writes nothing.
    public private(set) var applyCalls = 0

    public init(name: String = "memory", capabilities: Capabilities = Capabilities(), records: [Endpoint] = []) {
        self.name = name
        self.capabilities = capabilities
        for record in records {
            let stored = Self.stored(record, capabilities)
            store[stored.key] = stored
        }
    }

    public func records() -> [Endpoint] {
        store.values.sorted { $0.key < $1.key }
    }

    public func apply(_ changes: Plan.Changes) -> ApplyReport {
        applyCalls += 1
        var report = ApplyReport()
        for record in changes.deletes {
            guard store.removeValue(forKey: record.key) != nil else {
                report.failures.append(ApplyFailure(operation: .delete, key: record.key, message: "record does not exist"))
                continue
            }
            report.deleted += 1
        }
        for update in changes.updates {
            guard update.old.key == update.new.key, store[update.old.key] != nil else {
                report.failures.append(ApplyFailure(operation: .update, key: update.key, message: "record does not exist"))
                continue
            }
            store[update.new.key] = Self.stored(update.new, capabilities)
            report.updated += 1
        }
        for record in changes.creates {
            if let refusal = refusalToCreate(record) {
                report.failures.append(ApplyFailure(operation: .create, key: record.key, message: refusal))
                continue
            }
            store[record.key] = Self.stored(record, capabilities)
            report.created += 1
        }
        return report
    }

    public nonisolated func adjust(_ desired: [Endpoint]) -> [Endpoint] {
        desired.map { Self.stored($0, capabilities).withLabels($0.labels) }
    }

    private func refusalToCreate(_ record: Endpoint) -> String? {
        if store[record.key] != nil { return "record already exists" }
        let sameName = RecordType.allCases.filter { $0 != record.type && store[Endpoint.Key(name: record.name, type: $0)] != nil }
        if record.type == .cname, !sameName.isEmpty { return "a CNAME cannot share its name with other records" }
        if sameName.contains(.cname) { return "the name already holds a CNAME" }
        return nil
    }

    private static func stored(_ record: Endpoint, _ capabilities: Capabilities) -> Endpoint {
        var stored = record
        stored.labels = EndpointLabels()
        if !capabilities.storesTTL { stored.ttl = nil }
        if !capabilities.storesProxied { stored.providerSpecific = ProviderSpecific() }
        return stored
    }
}
