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
        // Rows are names. Grouping threads each record onto its row through index chains in
        // flat arrays, so a row costs no allocation and 100k records stay cache-friendly.
        var table = RowTable(capacity: desired.count + current.count)
        var rows: [Row] = []
        rows.reserveCapacity(max(desired.count, current.count))
        var nextCurrent = Chains(count: current.count)
        var nextCandidate = Chains(count: desired.count)
        func row(of name: DNSName) -> Int {
            let probe = table.probe(hash: RowTable.hash(name)) { r in
                let heads = rows[r]
                return heads.current >= 0 ? current[heads.current].name == name : desired[heads.candidate].name == name
            }
            switch probe {
            case .found(let row): return row
            case .vacant(let slot):
                table.fill(slot, row: rows.count)
                rows.append(Row())
                return rows.count - 1
            }
        }
        let admits = filters.admission()
        var desiredCount = 0
        var ownedCount = 0
        // Index loops read the fields they need in place: iterating the records themselves
        // would copy each one (reference counting on memory this pass never needs).
        for index in current.indices where admits(current[index].type, current[index].name) {
            if current[index].labels.owner == ownerID { ownedCount += 1 }
            let r = row(of: current[index].name)
            nextCurrent[index] = rows[r].current
            rows[r].current = index
        }
        for index in desired.indices where admits(desired[index].type, desired[index].name) {
            desiredCount += 1
            let r = row(of: desired[index].name)
            nextCandidate[index] = rows[r].candidate
            rows[r].candidate = index
        }

        var outcome = RowOutcome()
        var rowCurrent: [Endpoint] = [], rowCandidates: [Endpoint] = []
        for row in rows {
            // Most names hold one record and want one of the same type: plan those in place,
            // without copying records (copies cost reference counting on cold memory).
            if planSimple(row, nextCurrent: nextCurrent, nextCandidate: nextCandidate,
                          current: current, desired: desired, ownerID: ownerID, into: &outcome) { continue }
            rowCurrent.removeAll(keepingCapacity: true)
            rowCandidates.removeAll(keepingCapacity: true)
            var index = row.current
            while index >= 0 { rowCurrent.append(current[index]); index = nextCurrent[index] }
            index = row.candidate
            while index >= 0 { rowCandidates.append(desired[index]); index = nextCandidate[index] }
            plan(current: rowCurrent, candidates: rowCandidates, ownerID: ownerID, into: &outcome)
        }

        let computed = Plan.Changes(
            creates: outcome.creates.sortedByKey(\.key),
            updates: outcome.updates.sortedByKey(\.key),
            deletes: outcome.deletes.sortedByKey(\.key))
        var changes = policy.filter(computed)
        let conflicts = outcome.conflicts.sorted(by: conflictOrder)

        let reason = deleteGuard.check(
            deletes: changes.deletes.count, owned: ownedCount, desiredIsEmpty: desiredCount == 0)
        guard let reason else { return Plan(changes: changes, conflicts: conflicts, owned: ownedCount) }
        let withheld = changes.deletes
        changes.deletes = []
        return Plan(changes: changes, conflicts: conflicts, guardReason: reason, withheldDeletes: withheld, owned: ownedCount)
    }

    /// Whether `current` must change to match `desired`: targets differ (already normalised:
    /// order- and case-insensitive, IPv6 canonical), `desired` sets a TTL that differs, or the
    /// provider-specific options differ.
    public static func needsUpdate(current: borrowing Endpoint, desired: borrowing Endpoint) -> Bool {
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
        if x.providerSpecific != y.providerSpecific {
            // Any field, present or future: their text orders them the same on every run.
            return String(describing: x.providerSpecific) < String(describing: y.providerSpecific)
        }
        return (x.labels.resource ?? "") < (y.labels.resource ?? "")
    }

    // MARK: - One name

    /// The heads of a row's chains of record indices (-1: none), 32-bit to halve the
    /// memory the planner walks.
    private struct Row {
        private var currentHead: Int32 = -1
        private var candidateHead: Int32 = -1
        var current: Int {
            get { Int(currentHead) }
            set { currentHead = Int32(truncatingIfNeeded: newValue) }
        }
        var candidate: Int {
            get { Int(candidateHead) }
            set { candidateHead = Int32(truncatingIfNeeded: newValue) }
        }
    }

    /// For each record index, the next record index of the same row (-1: last).
    private struct Chains {
        private var next: [Int32]
        init(count: Int) { next = [Int32](repeating: -1, count: count) }
        subscript(index: Int) -> Int {
            get { Int(next[index]) }
            set { next[index] = Int32(truncatingIfNeeded: newValue) }
        }
    }

    private static let recordTypes = RecordType.allCases

    private struct RowOutcome {
        var creates: [Endpoint] = []
        var updates: [Plan.Update] = []
        var deletes: [Endpoint] = []
        var conflicts: [Plan.Conflict] = []
    }

    /// Plans a row of at most one current record and at most one candidate of the same type
    /// (the same rules as the general path, which the tables check); false for any other row.
    private static func planSimple(
        _ row: Row, nextCurrent: Chains, nextCandidate: Chains, current: [Endpoint], desired: [Endpoint],
        ownerID: String, into outcome: inout RowOutcome
    ) -> Bool {
        if row.current >= 0, nextCurrent[row.current] >= 0 { return false }
        if row.candidate >= 0, nextCandidate[row.candidate] >= 0 { return false }
        switch (row.current >= 0, row.candidate >= 0) {
        case (true, false):
            if current[row.current].labels.owner == ownerID { outcome.deletes.append(current[row.current]) }
        case (false, true):
            var pick = desired[row.candidate]
            pick.labels.owner = ownerID
            outcome.creates.append(pick)
        case (true, true):
            guard current[row.current].type == desired[row.candidate].type else { return false }
            guard needsUpdate(current: current[row.current], desired: desired[row.candidate]) else { return true }
            let old = current[row.current]
            var pick = desired[row.candidate]
            if old.labels.owner == ownerID {
                pick.labels.owner = ownerID
                outcome.updates.append(Plan.Update(old: old, new: pick))
            } else {
                outcome.conflicts.append(Plan.Conflict(
                    key: pick.key, winner: old, loser: pick, reason: .foreignRecord(owner: old.labels.owner)))
            }
        case (false, false):
            break
        }
        return true
    }

    private static func plan(current rowCurrent: [Endpoint], candidates rowCandidates: [Endpoint], ownerID: String, into outcome: inout RowOutcome) {
        var candidates = rowCandidates
        dropCNAMEsBesideAddresses(&candidates, conflicts: &outcome.conflicts)
        // The foreign record named as a conflict's winner: the first by type, so the report
        // does not depend on the order the provider listed its records in.
        var foreign: Endpoint?
        for record in rowCurrent where record.labels.owner != ownerID && (foreign.map { record.type < $0.type } ?? true) {
            foreign = record
        }

        for type in recordTypes {
            let current = rowCurrent.first { $0.type == type }
            let claims = candidates.count == 1
                ? (candidates[0].type == type ? candidates : [])
                : candidates.filter { $0.type == type }
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
