/// Which names netagent manages, as external-dns's `--domain-filter` / `--exclude-domains`:
/// `example.com` matches the name itself and every name below it, `.example.com` only names
/// below it; an empty include list matches everything; excludes are subtracted.
public struct DomainFilter: Hashable, Sendable {
    public let include: [String]
    public let exclude: [String]

    /// Entries are trimmed, lower-cased and lose a trailing dot; empty entries are ignored.
    public init(include: [String] = [], exclude: [String] = []) {
        self.include = Self.clean(include)
        self.exclude = Self.clean(exclude)
    }

    /// Whether `name` is managed under this filter.
    public func matches(_ name: DNSName) -> Bool {
        if exclude.contains(where: { Self.entry($0, matches: name.text) }) { return false }
        return include.isEmpty || include.contains(where: { Self.entry($0, matches: name.text) })
    }

    private static func entry(_ entry: String, matches name: String) -> Bool {
        if entry.hasPrefix(".") { return name.hasSuffix(entry) }
        return name == entry || name.hasSuffix("." + entry)
    }

    private static func clean(_ entries: [String]) -> [String] {
        entries.compactMap { raw in
            var entry = Substring(raw.lowercased())
            while entry.first == " " { entry = entry.dropFirst() }
            while entry.last == " " { entry = entry.dropLast() }
            if entry.hasSuffix(".") { entry = entry.dropLast() }
            return entry.isEmpty || entry == "." ? nil : String(entry)
        }
    }
}

/// What the planner looks at: names passing the domain filter whose type is managed.
/// Everything else, current or desired, is invisible to the plan (TXT by default).
public struct PlanFilters: Hashable, Sendable {
    public var domains: DomainFilter
    /// external-dns's `--managed-record-types`; default A, AAAA, CNAME.
    public var managedTypes: Set<RecordType>
    /// external-dns's `--exclude-record-types`, subtracted from `managedTypes`.
    public var excludedTypes: Set<RecordType>

    public init(
        domains: DomainFilter = DomainFilter(),
        managedTypes: Set<RecordType> = [.a, .aaaa, .cname],
        excludedTypes: Set<RecordType> = []
    ) {
        self.domains = domains
        self.managedTypes = managedTypes
        self.excludedTypes = excludedTypes
    }

    /// Whether the planner considers `endpoint` at all.
    public func admits(_ endpoint: Endpoint) -> Bool {
        managedTypes.contains(endpoint.type) && !excludedTypes.contains(endpoint.type)
            && domains.matches(endpoint.name)
    }

    /// `admits` as a closure that answers without hashing (the planner calls it per record).
    func admission() -> @Sendable (RecordType, DNSName) -> Bool {
        let admitted = RecordType.allCases.map { managedTypes.contains($0) && !excludedTypes.contains($0) }
        let domains = domains
        let everyName = domains.include.isEmpty && domains.exclude.isEmpty
        return { type, name in
            admitted[type.ordinal] && (everyName || domains.matches(name))
        }
    }
}

/// external-dns's `--policy`: a filter applied to a computed plan.
public enum Policy: String, CaseIterable, Hashable, Sendable {
    /// Create, update and delete.
    case sync
    /// Create and update; never delete.
    case upsertOnly = "upsert-only"
    /// Create only.
    case createOnly = "create-only"

    /// The part of `changes` this policy lets through.
    public func filter(_ changes: Plan.Changes) -> Plan.Changes {
        switch self {
        case .sync: changes
        case .upsertOnly: Plan.Changes(creates: changes.creates, updates: changes.updates)
        case .createOnly: Plan.Changes(creates: changes.creates)
        }
    }
}

/// The mass-delete guard: a plan that would delete more than `maxDeleteFraction` of the
/// owned records, or that has no desired records while owned ones exist, deletes nothing.
public struct DeleteGuard: Hashable, Sendable {
    /// Share of owned records one plan may delete; default 0.5.
    public var maxDeleteFraction: Double
    /// Lifts the guard for one run (`--force-deletes`).
    public var forceDeletes: Bool

    public init(maxDeleteFraction: Double = 0.5, forceDeletes: Bool = false) {
        self.maxDeleteFraction = maxDeleteFraction
        self.forceDeletes = forceDeletes
    }

    /// Why `deletes` must be withheld, or `nil` when they may go ahead.
    public func check(deletes: Int, owned: Int, desiredIsEmpty: Bool) -> GuardReason? {
        guard !forceDeletes, deletes > 0 else { return nil }
        if desiredIsEmpty, owned > 0 { return .desiredEmpty(owned: owned) }
        if Double(deletes) > maxDeleteFraction * Double(owned) {
            return .tooManyDeletes(deletes: deletes, owned: owned, maxFraction: maxDeleteFraction)
        }
        return nil
    }
}
