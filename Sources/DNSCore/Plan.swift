/// What one planning run decided: the changes to make, the claims it turned down and, when
/// the safety guard tripped, why it withheld deletes. Built by `Planner.plan`; pure data.
public struct Plan: Hashable, Sendable {
    /// The changes a provider is asked to make.
    public var changes: Changes
    /// Claims on a name that lost, each with its winner and the reason.
    public var conflicts: [Conflict]
    /// Set when the safety guard withheld deletes; the daemon turns it into an alert.
    public var guardReason: GuardReason?
    /// The deletes the guard held back (empty unless `guardReason` is set).
    public var withheldDeletes: [Endpoint]
    /// How many current records (inside the filters) the owner owned when this was planned.
    public var owned: Int

    public init(
        changes: Changes = Changes(), conflicts: [Conflict] = [],
        guardReason: GuardReason? = nil, withheldDeletes: [Endpoint] = [], owned: Int = 0
    ) {
        self.changes = changes
        self.conflicts = conflicts
        self.guardReason = guardReason
        self.withheldDeletes = withheldDeletes
        self.owned = owned
    }

    /// Whether there is anything to send to the provider.
    public var hasChanges: Bool { !changes.isEmpty }

    /// The creates, updates and deletes of a plan, each list sorted by record key.
    public struct Changes: Hashable, Sendable {
        public var creates: [Endpoint]
        public var updates: [Update]
        public var deletes: [Endpoint]

        public init(creates: [Endpoint] = [], updates: [Update] = [], deletes: [Endpoint] = []) {
            self.creates = creates
            self.updates = updates
            self.deletes = deletes
        }

        /// True when nothing would be created, changed or deleted.
        public var isEmpty: Bool { creates.isEmpty && updates.isEmpty && deletes.isEmpty }

        /// How many records the changes touch.
        public var count: Int { creates.count + updates.count + deletes.count }
    }

    /// One record set changed in place: the value as it is and as it should be.
    public struct Update: Hashable, Sendable {
        /// The record as the provider holds it, with its ownership labels.
        public var old: Endpoint
        /// The record as it should be; same key as `old`, owner label copied from it.
        public var new: Endpoint

        public init(old: Endpoint, new: Endpoint) {
            self.old = old
            self.new = new
        }

        public var key: Endpoint.Key { new.key }
    }

    /// A claim on `key` that lost to another: `winner` is what stays or gets written, `loser`
    /// the desired record that was dropped.
    public struct Conflict: Hashable, Sendable, CustomStringConvertible {
        public var key: Endpoint.Key
        /// The record that stays or gets written: a desired record, or a current one netagent
        /// does not own (its `labels.owner` says whose).
        public var winner: Endpoint
        /// The desired record that was dropped; `labels.resource` names who asked for it.
        public var loser: Endpoint
        public var reason: ConflictReason

        public init(key: Endpoint.Key, winner: Endpoint, loser: Endpoint, reason: ConflictReason) {
            self.key = key
            self.winner = winner
            self.loser = loser
            self.reason = reason
        }

        public var description: String {
            "\(key): \(Self.claimant(loser)) lost to \(Self.claimant(winner)): \(reason)"
        }

        static func claimant(_ endpoint: Endpoint) -> String {
            if let resource = endpoint.labels.resource { return resource }
            if let owner = endpoint.labels.owner { return "owner '\(owner)'" }
            return "record \(endpoint.targets.joined(separator: ","))"
        }
    }
}

/// Why a claim lost.
public enum ConflictReason: Hashable, Sendable, CustomStringConvertible {
    /// Several desired records of one type on one name; the winner's targets sort first
    /// (fewer targets, IP addresses before names, then lexical order).
    case preferredTargets
    /// The winner comes from the resource that already holds the current record.
    case currentResourceKeeps
    /// A CNAME was desired on a name that also has A/AAAA candidates; the addresses win.
    case cnameBesideAddresses
    /// The name holds a record netagent does not own (`owner` is its owner, if any).
    case foreignRecord(owner: String?)

    public var description: String {
        switch self {
        case .preferredTargets: "the winner's targets sort first (fewer, IPs before names, lexical)"
        case .currentResourceKeeps: "the winner's resource already holds the record"
        case .cnameBesideAddresses: "a CNAME cannot share a name with A/AAAA records; the addresses win"
        case .foreignRecord(let owner):
            owner.map { "the name holds a record owned by '\($0)'" } ?? "the name holds a record netagent does not own"
        }
    }
}

/// Why the safety guard withheld every delete of a plan.
public enum GuardReason: Hashable, Sendable, CustomStringConvertible {
    /// The desired set was empty while `owned` records exist: most likely a source failure.
    case desiredEmpty(owned: Int)
    /// `deletes` of `owned` records would go, more than `maxFraction` of them.
    case tooManyDeletes(deletes: Int, owned: Int, maxFraction: Double)
    /// A source kind could not be read (`kinds`, e.g. the DNSEndpoint CRD is not served): the
    /// records its objects gave are not desired only because nobody could read them.
    case sourceUnread(kinds: [String])

    public var description: String {
        switch self {
        case .desiredEmpty(let owned):
            "no desired records while \(owned) owned records exist; deletes withheld (use --force-deletes if intended)"
        case .tooManyDeletes(let deletes, let owned, let maxFraction):
            "\(deletes) of \(owned) owned records would be deleted, more than \(Int(maxFraction * 100))%; deletes withheld (use --force-deletes if intended)"
        case .sourceUnread(let kinds):
            "\(kinds.joined(separator: ", ")) could not be read; the deletes of the records they gave are withheld until they can"
        }
    }
}

extension Plan {
    /// This plan with the deletes of records whose resource label starts with one of
    /// `resourcePrefixes` (`crd/`, `httproute/`) moved to `withheldDeletes`: those kinds could
    /// not be read, so their records' absence from the desired set means nothing. `kinds`
    /// names them for the guard reason (kept when another guard already tripped).
    public func withholdingDeletes(ofResources resourcePrefixes: Set<String>, kinds: [String]) -> Plan {
        guard !resourcePrefixes.isEmpty else { return self }
        var copy = self
        var kept: [Endpoint] = []
        for record in changes.deletes {
            if let resource = record.labels.resource, resourcePrefixes.contains(where: { resource.hasPrefix($0) }) {
                copy.withheldDeletes.append(record)
            } else {
                kept.append(record)
            }
        }
        guard kept.count != changes.deletes.count else { return self }
        copy.changes.deletes = kept
        copy.guardReason = guardReason ?? .sourceUnread(kinds: kinds)
        return copy
    }
}
