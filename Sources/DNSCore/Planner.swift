/// external-dns's planner as a pure function: compares desired records with the provider's
/// current ones (labelled with their owner by a `Registry`) and decides the smallest set of
/// changes that touches only records `ownerID` owns. No I/O; never fails.
public enum Planner {
    /// Plans the changes that turn `current` into `desired` for the records this owner owns.
    ///
    /// Rules (EXTERNAL-DNS.md §2): both lists are first narrowed by `filters`; rows are names;
    /// per record type a missing current record is created, a current record without candidates
    /// is deleted, and a differing one (targets, a set TTL, provider-specific options) is
    /// updated. Competing candidates are resolved deterministically and the losers reported.
    /// Updates and deletes touch only owned records; a create on a name holding a record that
    /// is not owned is a conflict. `policy` then filters the changes and `deleteGuard` may
    /// withhold every delete.
    public static func plan(
        desired: [Endpoint], current: [Endpoint], ownerID: String,
        policy: Policy = .sync, filters: PlanFilters = PlanFilters(),
        deleteGuard: DeleteGuard = DeleteGuard()
    ) -> Plan {
        var rows: [DNSName: Row] = [:]
        rows.reserveCapacity(max(desired.count, current.count))
        var desiredCount = 0
        var ownedCount = 0
        for record in current where filters.admits(record) {
            if record.labels.owner == ownerID { ownedCount += 1 }
            rows[record.name, default: Row()].current.append(record)
        }
        for record in desired where filters.admits(record) {
            desiredCount += 1
            rows[record.name, default: Row()].candidates.append(record)
        }

        var outcome = RowOutcome()
        for row in rows.values {
            plan(row: row, ownerID: ownerID, into: &outcome)
        }

        let computed = Plan.Changes(
            creates: outcome.creates.sorted { $0.key < $1.key },
            updates: outcome.updates.sorted { $0.key < $1.key },
            deletes: outcome.deletes.sorted { $0.key < $1.key })
        var changes = policy.filter(computed)
        let conflicts = outcome.conflicts.sorted(by: conflictOrder)

        let reason = deleteGuard.check(
            deletes: changes.deletes.count, owned: ownedCount, desiredIsEmpty: desiredCount == 0)
        guard let reason else { return Plan(changes: changes, conflicts: conflicts) }
        let withheld = changes.deletes
        changes.deletes = []
        return Plan(changes: changes, conflicts: conflicts, guardReason: reason, withheldDeletes: withheld)
    }

    /// Whether `current` must change to match `desired`: targets differ (already normalised:
    /// order- and case-insensitive, IPv6 canonical), `desired` sets a TTL that differs, or the
    /// provider-specific options differ.
    public static func needsUpdate(current: Endpoint, desired: Endpoint) -> Bool {
        if current.targets != desired.targets { return true }
        if let ttl = desired.ttl, ttl != current.ttl { return true }
        return current.providerSpecific != desired.providerSpecific
    }

    /// external-dns's candidate order: fewer targets first, then target by target with IP
    /// addresses before names and lexical order; ties broken by TTL, options and resource so
    /// the pick never depends on input order.
    public static func precedes(_ x: Endpoint, _ y: Endpoint) -> Bool {
        if x.targets.count != y.targets.count { return x.targets.count < y.targets.count }
        for (a, b) in zip(x.targets, y.targets) where a != b {
            let aIsIP = IPText.isIP(a), bIsIP = IPText.isIP(b)
            if aIsIP != bIsIP { return aIsIP }
            return a < b
        }
        if x.ttl != y.ttl { return (x.ttl ?? -1) < (y.ttl ?? -1) }
        let xProxied = x.providerSpecific.cloudflareProxied.map { $0 ? 2 : 1 } ?? 0
        let yProxied = y.providerSpecific.cloudflareProxied.map { $0 ? 2 : 1 } ?? 0
        if xProxied != yProxied { return xProxied < yProxied }
        return (x.labels.resource ?? "") < (y.labels.resource ?? "")
    }

    // MARK: - One name

    private struct Row {
        var current: [Endpoint] = []
        var candidates: [Endpoint] = []
    }

    private struct RowOutcome {
        var creates: [Endpoint] = []
        var updates: [Plan.Update] = []
        var deletes: [Endpoint] = []
        var conflicts: [Plan.Conflict] = []
    }

    private static func plan(row: Row, ownerID: String, into outcome: inout RowOutcome) {
        var candidates = row.candidates
        dropCNAMEsBesideAddresses(&candidates, conflicts: &outcome.conflicts)
        // The foreign record named as a conflict's winner: the first by type, so the report
        // does not depend on the order the provider listed its records in.
        let foreign = row.current.filter { $0.labels.owner != ownerID }.min { $0.type < $1.type }

        for type in RecordType.allCases {
            let current = row.current.first { $0.type == type }
            let claims = candidates.filter { $0.type == type }
            switch (current, claims.isEmpty) {
            case (nil, true):
                continue
            case (let current?, true):
                if current.labels.owner == ownerID { outcome.deletes.append(current) }
            case (nil, false):
                var pick = resolve(claims, currentResource: nil, conflicts: &outcome.conflicts)
                if let foreign {
                    outcome.conflicts.append(Plan.Conflict(
                        key: pick.key, winner: foreign, loser: pick,
                        reason: .foreignRecord(owner: foreign.labels.owner)))
                } else {
                    pick.labels.owner = ownerID
                    outcome.creates.append(pick)
                }
            case (let current?, false):
                var pick = resolve(claims, currentResource: current.labels.resource, conflicts: &outcome.conflicts)
                guard needsUpdate(current: current, desired: pick) else { continue }
                if current.labels.owner == ownerID {
                    pick.labels.owner = current.labels.owner
                    outcome.updates.append(Plan.Update(old: current, new: pick))
                } else {
                    outcome.conflicts.append(Plan.Conflict(
                        key: pick.key, winner: current, loser: pick,
                        reason: .foreignRecord(owner: current.labels.owner)))
                }
            }
        }
    }

    /// external-dns drops CNAME candidates when the same name also has other candidates.
    private static func dropCNAMEsBesideAddresses(_ candidates: inout [Endpoint], conflicts: inout [Plan.Conflict]) {
        guard candidates.contains(where: { $0.type == .cname }),
              let winner = candidates.filter({ $0.type != .cname }).min(by: precedes) else { return }
        for loser in candidates where loser.type == .cname {
            conflicts.append(Plan.Conflict(key: loser.key, winner: winner, loser: loser, reason: .cnameBesideAddresses))
        }
        candidates.removeAll { $0.type == .cname }
    }

    /// Picks one of several candidates for one key; reports each differing loser.
    private static func resolve(
        _ claims: [Endpoint], currentResource: String?, conflicts: inout [Plan.Conflict]
    ) -> Endpoint {
        if claims.count == 1 { return claims[0] }
        let sorted = claims.sorted(by: precedes)
        var winner = sorted[0]
        var reason = ConflictReason.preferredTargets
        if let currentResource, let keeper = sorted.first(where: { $0.labels.resource == currentResource }) {
            winner = keeper
            reason = .currentResourceKeeps
        }
        for loser in sorted where loser != winner && !sameContent(loser, winner) {
            conflicts.append(Plan.Conflict(key: winner.key, winner: winner, loser: loser, reason: reason))
        }
        return winner
    }

    private static func sameContent(_ a: Endpoint, _ b: Endpoint) -> Bool {
        a.targets == b.targets && a.ttl == b.ttl && a.providerSpecific == b.providerSpecific
    }

    /// A total order on conflicts, so the report never depends on input order.
    private static func conflictOrder(_ a: Plan.Conflict, _ b: Plan.Conflict) -> Bool {
        if a.key != b.key { return a.key < b.key }
        if a.loser.type != b.loser.type { return a.loser.type < b.loser.type }
        if precedes(a.loser, b.loser) != precedes(b.loser, a.loser) { return precedes(a.loser, b.loser) }
        if a.reason != b.reason { return a.reason.description < b.reason.description }
        return precedes(a.winner, b.winner)
    }
}
