public import DNSCore

/// Cloudflare DNS as a `DNSProvider`: the zones named by `zones` or `zoneIDs`, records listed
/// with the largest page size, changes sent through the batch endpoint in chunks.
///
/// Zones are independent: a zone that cannot be read is left out of `records()` (listed in
/// `readFailures`) and its changes are refused by record in `apply`, so planning against a
/// partial listing can never add a record beside one that was not seen. `records()` throws
/// only when no zone could be read. A chunk Cloudflare refuses is bisected until the refused
/// records are found; the rest is applied and each refusal is reported with Cloudflare's code
/// and message.
public actor CloudflareProvider: DNSProvider {
    /// How records are written and read.
    public struct Options: Hashable, Sendable {
        /// Zones by name (needs Zone:Read to find them) and by id (for zone-scoped tokens).
        public var zones: [DNSName]
        public var zoneIDs: [String]
        /// `proxied` when the `cloudflare-proxied` annotation does not say (a CNAME to a
        /// tunnel defaults to proxied, as `cloudflared tunnel route dns` makes it).
        public var proxiedByDefault: Bool
        /// Record operations per batch: 200 on the Free plan, up to 3,500 on paid plans.
        public var batchChunkSize: Int
        /// Records per list page: the largest the API documents.
        public var pageSize: Int
        /// The comment and tags of every record netagent writes (for example the owner id) when
        /// the `cloudflare-record-comment` / `cloudflare-tags` annotations do not say.
        public var comment: String?
        public var tags: [String]

        public init(zones: [DNSName] = [], zoneIDs: [String] = [], proxiedByDefault: Bool = false,
                    batchChunkSize: Int = 200, pageSize: Int = 5000, comment: String? = nil, tags: [String] = []) {
            self.zones = zones
            self.zoneIDs = zoneIDs
            self.proxiedByDefault = proxiedByDefault
            self.batchChunkSize = min(max(1, batchChunkSize), 3500)
            self.pageSize = max(1, pageSize)
            self.comment = comment
            self.tags = tags.sorted()
        }
    }

    /// A zone netagent writes to.
    public struct Zone: Hashable, Sendable {
        public var id: String
        public var name: DNSName
    }

    public nonisolated let name: String
    public let client: CloudflareClient
    public nonisolated let options: Options
    private var zones: [Zone] = []
    /// Configured zones not yet found, by name or id, with why.
    private var unresolved: [String: CloudflareError] = [:]
    private var resolvedOnce = false
    /// Records by zone id and key (`ZoneRecords`), from the last listing, kept in step with
    /// writes: what an apply needs of each (`CurrentRecord`), not the records as listed.
    private var stored: [String: ZoneRecords] = [:]
    /// Zones (by name) whose last listing failed, with why.
    private var unreadable: [DNSName: CloudflareError] = [:]
    /// Why zones could not be found or read in the last `records()`.
    public private(set) var readFailures: [CloudflareError] = []
    /// Records the last listings could not read, by zone id: skipped, never written over.
    private var unreadableRecords: [String: [CloudflareUnreadableRecord]] = [:]
    /// The records the last `records()` (or a re-list before a write) could not read, with why.
    public var skippedRecords: [CloudflareUnreadableRecord] { unreadableRecords.keys.sorted().flatMap { unreadableRecords[$0] ?? [] } }

    public init(client: CloudflareClient, options: Options, name: String = "cloudflare") {
        self.client = client
        self.options = options
        self.name = name
    }

    /// Checks at start that the token is active, that every zone can be found, and that the
    /// token may write records in each (an empty batch); throws the first failure in plain
    /// words (which permission, on which zone).
    public func preflight() async throws(CloudflareError) {
        _ = try await client.verifyToken()
        await resolveZones()
        if let failure = unresolved.values.sorted(by: { "\($0)" < "\($1)" }).first { throw failure }
        for zone in zones {
            do { _ = try await client.batch(zoneID: zone.id, CloudflareBatch()) } catch where error.kind == .refused {
                // Refusing an empty batch as malformed still proves the token got past the permission check.
            } catch {
                throw error.scoped("zone \(zone.name)")
            }
        }
    }

    /// The zones found so far.
    public func resolvedZones() async -> [Zone] {
        await resolveZones()
        return zones
    }

    public func records() async throws -> [Endpoint] {
        await resolveZones()
        var endpoints: [Endpoint] = []
        var failures = Array(unresolved.values)
        unreadable = [:]
        for zone in zones {
            do {
                let index = try await list(zone)
                stored[zone.id] = index
                endpoints += index.groups.compactMap { Self.endpoint($0.key, $0.records) }
                // A record set that could not be read is still there: shown to the planner as present
                // with no value it can trust, so it is a foreign record (no create beside it, no
                // ownership claimed) or, if owned, a change `apply` refuses by name.
                endpoints += Self.placeholders(unreadableRecords[zone.id] ?? [], besides: index)
            } catch {
                let scoped = error.scoped("zone \(zone.name)")
                unreadable[zone.name] = scoped
                stored[zone.id] = nil
                failures.append(scoped)
            }
        }
        readFailures = failures
        if zones.isEmpty || unreadable.count == zones.count, let first = failures.first { throw first }
        return endpoints.sorted { $0.key < $1.key }
    }

    /// Also leaves out names in none of the zones, when every zone is named (zones given by id
    /// are known only once found; their stray names are refused in `apply`).
    public nonisolated func adjust(_ desired: [Endpoint]) -> [Endpoint] {
        let named = options.zoneIDs.isEmpty ? options.zones : []
        let held = named.isEmpty ? desired : desired.filter { endpoint in named.contains { endpoint.name.isSubdomain(of: $0) } }
        return held.map { endpoint in
            var adjusted = endpoint
            let given = endpoint.providerSpecific
            if endpoint.type == .txt {
                adjusted.providerSpecific = ProviderSpecific()
            } else {
                let tunnel = endpoint.type == .cname && endpoint.targets.contains(where: CloudflareTunnelClient.isTunnelTarget)
                // Regional Services and custom hostnames are not managed here: left unset, so they never differ.
                adjusted.providerSpecific = ProviderSpecific(
                    cloudflareProxied: given.cloudflareProxied ?? (tunnel || options.proxiedByDefault),
                    cloudflareTags: Self.nonEmpty(given.cloudflareTags ?? options.tags),
                    cloudflareRecordComment: Self.nonEmpty(given.cloudflareRecordComment ?? options.comment))
            }
            // Cloudflare stores TTL 1 (automatic) for proxied records whatever is sent.
            if adjusted.providerSpecific.cloudflareProxied == true || adjusted.ttl == 1 { adjusted.ttl = nil }
            return adjusted
        }
    }

    public func apply(_ changes: Plan.Changes) async throws -> ApplyReport {
        await resolveZones()
        var byZone: [String: Plan.Changes] = [:]
        var refused: [ApplyFailure] = []
        func route(_ key: Endpoint.Key, _ operation: ApplyFailure.Operation, _ add: (inout Plan.Changes) -> Void) {
            guard let zone = zone(for: key.name) else {
                refused.append(ApplyFailure(operation: operation, key: key, message: "\(key.name) is in none of the configured zones"))
                return
            }
            if let failure = unreadable[zone.name] {
                refused.append(ApplyFailure(operation: operation, key: key, message: "not changed: the zone could not be read: \(failure)"))
                return
            }
            if let skipped = Self.blocking(key, unreadableRecords[zone.id] ?? []) {
                refused.append(ApplyFailure(operation: operation, key: key, message: "not changed: the zone holds a \(skipped)"))
                return
            }
            add(&byZone[zone.id, default: Plan.Changes()])
        }
        for record in changes.deletes { route(record.key, .delete) { $0.deletes.append(record) } }
        for update in changes.updates { route(update.key, .update) { $0.updates.append(update) } }
        for record in changes.creates { route(record.key, .create) { $0.creates.append(record) } }
        var report = ApplyReport(failures: refused)
        for zone in zones {
            guard let zoneChanges = byZone[zone.id] else { continue }
            report.merge(await apply(zoneChanges, in: zone))
        }
        return report
    }

    /// Why `record` must not be written: proxied, yet pointing at an address nobody on the
    /// Internet can reach. Cloudflare accepts such a record and serves its own addresses for
    /// the name, but its proxy cannot connect to the origin (visitors get error 521/522).
    /// The current record, if any, stays as it is.
    public nonisolated func refusal(of record: Endpoint) -> String? {
        guard record.providerSpecific.cloudflareProxied == true, record.type == .a || record.type == .aaaa,
              let (target, range) = record.targets.lazy.compactMap({ t in IPText.unreachableRange(t).map { (t, $0) } }).first
        else { return nil }
        return "refused: a proxied record pointing at \(target), a \(range) address Cloudflare's proxy cannot reach; "
            + "set cloudflare-proxied: \"false\" on its source or publish a public address"
    }

    // MARK: - One zone

    private func apply(_ changes: Plan.Changes, in zone: Zone) async -> ApplyReport {
        let scope = "zone \(zone.name)"
        if stored[zone.id] == nil, !(changes.updates.isEmpty && changes.deletes.isEmpty) {
            do { stored[zone.id] = try await list(zone) } catch {
                return Self.report(changes, failing: error.scoped(scope).description)
            }
        }
        let style = RecordStyle(proxiedByDefault: options.proxiedByDefault, comment: options.comment, tags: options.tags)
        let translated = CloudflareTranslation.operations(for: changes, stored: stored[zone.id] ?? ZoneRecords(), style: style)
        var outcomes = translated.outcomes
        let chunks = CloudflareTranslation.chunks(translated.operations, size: options.batchChunkSize)
        for (index, chunk) in chunks.enumerated() {
            do {
                try await send(chunk, zone: zone, outcomes: &outcomes)
            } catch {
                // Not about one record (permission, rate limit, outage): this zone stops here.
                for operation in chunks[index...].joined() where outcomes[operation.change].failure == nil {
                    outcomes[operation.change].failure = error.scoped(scope).description
                }
                stored[zone.id] = nil
                break
            }
        }
        var report = ApplyReport()
        for outcome in outcomes {
            if let failure = outcome.failure {
                report.failures.append(ApplyFailure(operation: outcome.operation, key: outcome.key, message: failure))
                continue
            }
            switch outcome.operation {
            case .create: report.created += 1
            case .update: report.updated += 1
            case .delete: report.deleted += 1
            }
        }
        return report
    }

    /// Sends `operations` as one batch; when Cloudflare refuses it, halves it until each
    /// refused operation stands alone, and records its refusal on its change. Throws only
    /// what is not about a record (the caller stops the zone).
    private func send(_ operations: [RecordOperation], zone: Zone, outcomes: inout [ChangeOutcome]) async throws(CloudflareError) {
        guard !operations.isEmpty else { return }
        do {
            let result = try await client.batch(zoneID: zone.id, CloudflareTranslation.batch(operations))
            remember(result, operations, zone: zone)
        } catch where error.kind == .refused {
            guard operations.count > 1 else {
                let operation = operations[0]
                if Self.alreadyDone(operation, error) {
                    forget(operation, zone: zone)
                    return
                }
                outcomes[operation.change].failure = error.scoped("zone \(zone.name)").description
                return
            }
            let middle = operations.count / 2
            try await send(Array(operations[..<middle]), zone: zone, outcomes: &outcomes)
            try await send(Array(operations[middle...]), zone: zone, outcomes: &outcomes)
        }
    }

    /// A delete of a record already gone, or a create of one already there exactly: what was asked holds.
    private static func alreadyDone(_ operation: RecordOperation, _ error: CloudflareError) -> Bool {
        switch operation.action {
        case .delete: error.code == 81044 || error.code == 7003 || error.status == 404
        case .post: error.code == 81057
        case .patch: false
        }
    }

    private func remember(_ result: CloudflareBatchResult, _ operations: [RecordOperation], zone: Zone) {
        guard stored[zone.id] != nil else { return }
        // The values sent, by the key they were sent under: a record Cloudflare echoes with the same
        // name and the same value keeps the strings sent, which the desired records and the TXT
        // registry hold too, instead of a second copy of each until the next listing.
        var sent: [Endpoint.Key: [String]] = [:]
        var removed: [(key: Endpoint.Key, id: CloudflareRecordID)] = []
        for operation in operations {
            switch operation.action {
            case .delete(let id): removed.append((operation.key, CloudflareRecordID(id)))
            case .patch(let body), .post(let body): sent[operation.key, default: []].append(body.content)
            }
        }
        var added: [(key: Endpoint.Key, record: CurrentRecord)] = []
        for record in (result.patches ?? []) + (result.posts ?? []) {
            guard let echoed = Self.key(record) else { continue }
            let key = sent.index(forKey: echoed).map { sent.keys[$0] } ?? echoed
            var current = CurrentRecord(record)
            if let content = sent[key]?.first(where: { $0.utf8.elementsEqual(record.content.utf8) }) { current.content = content }
            added.append((key, current))
        }
        stored[zone.id]?.update(removing: removed, adding: added)
        if result.posts == nil, operations.contains(where: { if case .post = $0.action { true } else { false } }) {
            stored[zone.id] = nil  // ids of the created records unknown: list again before the next update
        }
    }

    private func forget(_ operation: RecordOperation, zone: Zone) {
        if case .delete(let id) = operation.action { stored[zone.id]?.update(removing: [(operation.key, CloudflareRecordID(id))], adding: []) }
        if case .post = operation.action { stored[zone.id] = nil }
    }

    private static func report(_ changes: Plan.Changes, failing message: String) -> ApplyReport {
        ApplyReport(failures: changes.deletes.map { ApplyFailure(operation: .delete, key: $0.key, message: message) }
            + changes.updates.map { ApplyFailure(operation: .update, key: $0.key, message: message) }
            + changes.creates.map { ApplyFailure(operation: .create, key: $0.key, message: message) })
    }

    // MARK: - Zones and records

    /// Lists `zone`, keeps the records it could not read, and indexes the rest.
    private func list(_ zone: Zone) async throws(CloudflareError) -> ZoneRecords {
        let listing = try await client.listing(zoneID: zone.id, perPage: options.pageSize)
        unreadableRecords[zone.id] = listing.unreadable.isEmpty ? nil : listing.unreadable
        return Self.index(listing.records)
    }

    /// The keys of unreadable records not otherwise listed, as endpoints with no target.
    package static func placeholders(_ skipped: [CloudflareUnreadableRecord], besides index: ZoneRecords) -> [Endpoint] {
        var keys: Set<Endpoint.Key> = []
        for record in skipped {
            guard let text = record.name, let name = try? DNSName(text),
                  let type = record.type.flatMap({ RecordType(rawValue: $0.uppercased()) }) else { continue }
            let key = Endpoint.Key(name: name, type: type)
            if index[key].isEmpty { keys.insert(key) }
        }
        return keys.sorted().map { Endpoint(name: $0.name, type: $0.type, targets: [String]()) }
    }

    /// The unreadable record that makes a change of `key` unsafe: one at the same name whose
    /// type is `key`'s, or unknown, or a CNAME (which excludes every other type at its name,
    /// and which any other type excludes); a record whose name is unknown blocks nothing, since
    /// it cannot be placed (Cloudflare itself refuses a CNAME beside another record).
    package static func blocking(_ key: Endpoint.Key, _ skipped: [CloudflareUnreadableRecord]) -> CloudflareUnreadableRecord? {
        skipped.first { record in
            guard let text = record.name, let name = try? DNSName(text), name == key.name else { return false }
            guard let type = record.type.flatMap({ RecordType(rawValue: $0.uppercased()) }) else {
                // An unknown type netagent manages none of (MX, SRV …) cannot clash with a managed key; a
                // missing or unreadable one might.
                return record.type == nil || !Self.unmanagedTypes.contains(record.type!.uppercased())
            }
            return type == key.type || type == .cname || key.type == .cname
        }
    }

    private static let unmanagedTypes: Set<String> = ["MX", "NS", "SRV", "CAA", "PTR", "SOA", "HTTPS", "SVCB", "CERT", "DNSKEY", "DS", "NAPTR", "SMIMEA", "SSHFP", "TLSA", "URI", "LOC"]

    private func resolveZones() async {
        if resolvedOnce && unresolved.isEmpty { return }
        resolvedOnce = true
        var found = zones
        var missing: [String: CloudflareError] = [:]
        for name in options.zones where !found.contains(where: { $0.name == name }) {
            do {
                guard let zone = try await client.zones(named: name.text).first(where: { $0.name.lowercased() == name.text }) else {
                    missing[name.text] = CloudflareError(kind: .zoneNotFound, operation: .listZones, scope: "zone \(name)")
                    continue
                }
                found.append(Zone(id: zone.id, name: name))
            } catch {
                missing[name.text] = error.scoped("zone \(name)")
            }
        }
        for id in options.zoneIDs where !found.contains(where: { $0.id == id }) {
            do {
                let zone = try await client.zone(id: id)
                found.append(Zone(id: zone.id, name: try DNSName(zone.name)))
            } catch let error as CloudflareError {
                missing[id] = error.scoped("zone id \(id)")
            } catch {
                missing[id] = CloudflareError(kind: .invalidResponse, operation: .listZones, scope: "zone id \(id)", detail: "\(error)")
            }
        }
        zones = found
        unresolved = missing
    }

    /// The zone holding `name`: the longest configured zone name it lies in.
    private func zone(for name: DNSName) -> Zone? {
        zones.filter { name.isSubdomain(of: $0.name) }.max { $0.name.text.count < $1.name.text.count }
    }

    /// Empty comments and tag lists read as absent, so writing "" to clear one reads back as nil.
    static func nonEmpty(_ text: String?) -> String? { text?.isEmpty == false ? text : nil }
    static func nonEmpty(_ tags: [String]?) -> [String]? { tags?.isEmpty == false ? tags?.sorted() : nil }

    package static func key(_ record: CloudflareRecord) -> Endpoint.Key? {
        guard let type = RecordType(rawValue: record.type.uppercased()), let name = try? DNSName(record.name) else { return nil }
        return Endpoint.Key(name: name, type: type)
    }

    /// Records grouped by name and type; types netagent does not manage (MX, NS, …) are left out.
    package static func index(_ records: [CloudflareRecord]) -> ZoneRecords {
        ZoneRecords(records.compactMap { record in
            guard let key = key(record) else { return nil }
            var current = CurrentRecord(record)
            // The planner compares normalised values (lower-case names, canonical IPv6).
            current.content = Endpoint(name: key.name, type: key.type, targets: [record.content]).targets.first ?? record.content
            return (key, current)
        })
    }

    /// One record set as an endpoint, read back the way `adjust` writes desired ones: TTL 1 is
    /// unset, TXT has no proxied flag. Values that disagree on the flag or TTL (edited by hand)
    /// read as no flag / TTL 0, so any desired value differs and the planner updates them all.
    package static func endpoint(_ key: Endpoint.Key, _ records: some Collection<CurrentRecord>) -> Endpoint? {
        guard let first = records.first else { return nil }
        var specific = ProviderSpecific()
        if key.type != .txt {
            let flags = Set(records.map { $0.proxied ?? false })
            specific = ProviderSpecific(
                cloudflareProxied: flags.count == 1 ? flags.first : nil,
                cloudflareTags: nonEmpty(first.tags), cloudflareRecordComment: nonEmpty(first.comment))
        }
        let ttls = Set(records.map(\.ttl))
        let ttl: Int? = ttls.count > 1 ? 0 : (first.ttl == 1 ? nil : first.ttl)
        return Endpoint(name: key.name, type: key.type, targets: records.map(\.content), ttl: ttl, providerSpecific: specific)
    }
}
