/// Ownership kept in TXT records beside the records, in external-dns's exact format, so
/// netagent can take over an external-dns with the same owner id without recreating a record.
/// Reads typed (`a-foo`) and old untyped (`foo`) names; writes typed names only.
public actor TXTRegistry: Registry {
    public nonisolated let ownerID: String
    public nonisolated let mapper: TXTNameMapper
    public nonisolated let provider: any DNSProvider
    /// Ownership TXT records seen by the last `records` (and kept in step by `apply`), by name:
    /// their values and TTL, which is all of a TXT record as a provider reads it (no labels, no
    /// provider settings), not a whole `Endpoint` each — kept for as long as the agent runs, a
    /// table of those cost ~330 B a route in a heap profile of 2,000 routes (BENCHMARKS.md, issue 22).
    private var ownershipTXT: [DNSName: KeptTXT] = [:]

    private struct KeptTXT: Hashable, Sendable {
        var targets: [String]
        var ttl: Int?

        init(_ record: Endpoint) {
            targets = record.targets
            ttl = record.ttl
        }

        func endpoint(named name: DNSName) -> Endpoint { Endpoint(name: name, type: .txt, targets: targets, ttl: ttl) }
    }

    /// Throws when `ownerID` is empty: without one, every record would look owned.
    public init(provider: any DNSProvider, ownerID: String, mapper: TXTNameMapper) throws(TXTConfigError) {
        guard !ownerID.isEmpty else { throw TXTConfigError(reason: "the owner id must not be empty") }
        self.provider = provider
        self.ownerID = ownerID
        self.mapper = mapper
    }

    /// The provider's records with the owner and resource of their ownership TXT, which are
    /// hidden; a TXT record without external-dns heritage is returned as an ordinary record.
    public func records(desired: [Endpoint]) async throws -> [Endpoint] {
        let all = try await provider.records()
        var found: [DNSName: KeptTXT] = [:]
        var labelsByKey: [String: EndpointLabels] = [:]
        var records: [Endpoint] = []
        records.reserveCapacity(all.count)
        for record in all {
            guard record.type == .txt, let labels = record.targets.lazy.compactMap(TXTLabels.parse).first,
                  let owned = mapper.endpointName(forTXT: record.name.text) else {
                records.append(record)
                continue
            }
            labelsByKey[Self.lookupKey(owned.name, owned.type)] = labels
            found[record.name] = KeptTXT(record)
        }
        ownershipTXT = found
        for index in records.indices where records[index].type != .txt {
            let record = records[index]
            let name = mapper.lookupName(for: record.name)
            let typed = labelsByKey[Self.lookupKey(name, record.type.rawValue.lowercased())]
            // Old untyped names are honoured for every type but AAAA, as external-dns does.
            let legacy = record.type == .aaaa ? nil : labelsByKey[Self.lookupKey(name, "")]
            if let labels = typed ?? legacy { records[index].labels = labels }
        }
        return records
    }

    /// Applies the owned part of `changes` and the TXT records that go with it: one created
    /// per created record (unless present), regenerated on update, removed on delete (typed
    /// and old-format ones of this owner). A record whose TXT name is not a valid DNS name is
    /// not created and is reported as a failure, so nothing is ever written without an owner.
    public func apply(_ changes: Plan.Changes) async throws -> ApplyReport {
        let owned = changes.owned(by: ownerID)
        var batch = Plan.Changes()
        var refused: [ApplyFailure] = []
        for var record in owned.creates {
            if let refusal = provider.refusal(of: record) {
                refused.append(ApplyFailure(operation: .create, key: record.key, message: refusal))
                continue
            }
            record.labels.owner = ownerID
            let txt: Endpoint
            do { txt = try ownershipRecord(for: record) } catch {
                refused.append(ApplyFailure(operation: .create, key: record.key, message: error.description))
                continue
            }
            batch.creates.append(record)
            write(txt, into: &batch)
        }
        for update in owned.updates {
            if let refusal = provider.refusal(of: update.new) {
                refused.append(ApplyFailure(operation: .update, key: update.key, message: refusal))
                continue
            }
            guard let txt = try? ownershipRecord(for: update.new) else {
                refused.append(ApplyFailure(operation: .update, key: update.key, message: "no valid ownership TXT name"))
                continue
            }
            batch.updates.append(update)
            write(txt, into: &batch)
        }
        for record in owned.deletes {
            batch.deletes.append(record)
            for name in ownershipNames(of: record) {
                if let txt = ownershipTXT[name], isOwn(txt) {
                    batch.deletes.append(txt.endpoint(named: name))
                }
            }
        }
        var report = ApplyReport(failures: refused)
        guard !batch.isEmpty else { return report }
        let result = try await provider.apply(batch)
        remember(batch, failures: result.failures)
        report.merge(result)
        return report
    }

    /// The TXT record that marks `record` as this owner's.
    private func ownershipRecord(for record: Endpoint) throws(DNSNameError) -> Endpoint {
        let name = try DNSName(mapper.txtName(for: record.name, type: record.type))
        let labels = EndpointLabels(owner: ownerID, resource: record.labels.resource)
        return Endpoint(name: name, type: .txt, targets: [TXTLabels.serialize(labels)])
    }

    /// Adds `txt` to the batch as a create, or as an update when a different value is there.
    private func write(_ txt: Endpoint, into batch: inout Plan.Changes) {
        guard let existing = ownershipTXT[txt.name] else {
            batch.creates.append(txt)
            return
        }
        if existing.targets != txt.targets { batch.updates.append(Plan.Update(old: existing.endpoint(named: txt.name), new: txt)) }
    }

    /// This owner's ownership TXT records seen by the last `records` (and kept by `apply`).
    public func ownRecords() -> [Endpoint] {
        ownershipTXT.filter { isOwn($0.value) }.map { $0.value.endpoint(named: $0.key) }.sorted { $0.key < $1.key }
    }

    /// This owner's ownership TXT records that speak for `record` (typed and old untyped).
    public func ownRecords(for record: Endpoint) -> [Endpoint] {
        ownershipNames(of: record).compactMap { name in ownershipTXT[name].flatMap { isOwn($0) ? $0.endpoint(named: name) : nil } }
    }

    private func isOwn(_ txt: KeptTXT) -> Bool {
        txt.targets.lazy.compactMap(TXTLabels.parse).first?.owner == ownerID
    }

    /// The typed name and, except for AAAA, the old untyped name that may own `record`.
    private func ownershipNames(of record: Endpoint) -> [DNSName] {
        var names: [DNSName] = []
        if let typed = try? DNSName(mapper.txtName(for: record.name, type: record.type)) { names.append(typed) }
        if record.type != .aaaa, let legacy = try? DNSName(legacyTXTName(for: record.name)) { names.append(legacy) }
        return names
    }

    /// The old untyped TXT name: the affix without the type around the (replaced) first label.
    private func legacyTXTName(for name: DNSName) -> String {
        let bare = mapper.lookupName(for: name)
        let prefix = mapper.prefix.replacing(TXTNameMapper.typeTemplate, with: "")
        let suffix = mapper.suffix.replacing(TXTNameMapper.typeTemplate, with: "")
        guard let dot = bare.firstIndex(of: ".") else { return prefix + bare + suffix }
        return prefix + bare[..<dot] + suffix + bare[dot...]
    }

    /// Keeps the TXT cache in step with what the provider accepted.
    private func remember(_ batch: Plan.Changes, failures: [ApplyFailure]) {
        let failed = Set(failures.map(\.key))
        for txt in batch.deletes where txt.type == .txt && !failed.contains(txt.key) { ownershipTXT[txt.name] = nil }
        for update in batch.updates where update.new.type == .txt && !failed.contains(update.key) {
            ownershipTXT[update.new.name] = KeptTXT(update.new)
        }
        for txt in batch.creates where txt.type == .txt && !failed.contains(txt.key) { ownershipTXT[txt.name] = KeptTXT(txt) }
    }

    private static func lookupKey(_ name: String, _ type: String) -> String { type + " " + name }
}
