import DNSCore
import Testing

/// SplitMix64: a tiny seeded generator, so every property run is reproducible from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random zone and a random desired set over a small pool of names, so collisions (two
/// resources, CNAME beside A, foreign records, mass deletes) happen often.
struct World {
    var current: [Endpoint] = []
    /// Owner of each current record: `me`, `them` or nobody.
    var desired: [Endpoint] = []

    static let names = (0..<12).map { "h\($0).example.com" } + ["*.example.com", "x.other.net"]
    static let owners: [String?] = [Fx.me, Fx.them, nil]

    init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for name in Self.names {
            let owner = Self.owners.randomElement(using: &rng) ?? nil
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: break
            case 1: current.append(Self.record(name, .cname, owner: owner, &rng))
            case 2: current.append(Self.record(name, .a, owner: owner, &rng))
            case 3: current.append(Self.record(name, .aaaa, owner: owner, &rng))
            default:
                current.append(Self.record(name, .a, owner: owner, &rng))
                current.append(Self.record(name, .aaaa, owner: Self.owners.randomElement(using: &rng) ?? nil, &rng))
            }
        }
        // Sometimes (a fifth of the seeds) the source returns almost nothing: a mass delete.
        let share = Int.random(in: 0..<5, using: &rng) == 0 ? 8 : 80
        for name in Self.names where Int.random(in: 0..<100, using: &rng) < share {
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let type = [RecordType.a, .aaaa, .cname].randomElement(using: &rng) ?? .a
                var record = Self.record(name, type, owner: nil, &rng)
                record.labels.resource = "httproute/ns/r\(Int.random(in: 0..<3, using: &rng))"
                desired.append(record)
            }
        }
    }

    static func record(_ name: String, _ type: RecordType, owner: String?, _ rng: inout SplitMix64) -> Endpoint {
        let count = Int.random(in: 1...2, using: &rng)
        let targets: [String] = (0..<count).map { _ in
            let n = Int.random(in: 1...3, using: &rng)
            switch type {
            case .a: return "10.0.0.\(n)"
            case .aaaa: return "2001:db8::\(n)"
            default: return "lb\(n).example.net"
            }
        }
        let ttl = [nil, 300, 600].randomElement(using: &rng) ?? nil
        let proxied = [nil, true, false].randomElement(using: &rng) ?? nil
        return Fx.rec(name, type, type == .cname ? [targets[0]] : targets, ttl: ttl, proxied: proxied,
                      owner: owner, resource: owner.map { _ in "httproute/ns/r\(Int.random(in: 0..<3, using: &rng))" })
    }

    /// The zone as a provider holds it: records without labels, plus an ownership TXT for
    /// each owned one, written in external-dns's format.
    func providerRecords(mapper: TXTNameMapper) -> [Endpoint] {
        current.flatMap { record -> [Endpoint] in
            var bare = record
            bare.labels = EndpointLabels()
            guard record.labels.owner != nil else { return [bare] }
            let txt = Fx.rec(mapper.txtName(for: record.name, type: record.type), .txt, [TXTLabels.serialize(record.labels)])
            return [bare, txt]
        }
    }
}

@Suite struct PlannerPropertyTests {
    static let seeds: [UInt64] = Array(1...300)
    static let filters = PlanFilters(domains: DomainFilter(include: ["example.com"]))

    @Test func applyingAPlanThenPlanningAgainPlansNothing() async throws {
        let mapper = try TXTNameMapper(wildcardReplacement: "wild")
        var changed = 0
        for seed in Self.seeds {
            let world = World(seed: seed)
            var rng = SplitMix64(seed: seed ^ 0xABCD)
            let capabilities = InMemoryProvider.Capabilities(storesTTL: Bool.random(using: &rng), storesProxied: Bool.random(using: &rng))
            let provider = InMemoryProvider(capabilities: capabilities, records: world.providerRecords(mapper: mapper))
            let registry = try TXTRegistry(provider: provider, ownerID: Fx.me, mapper: mapper)
            let run = PlanningRun(filters: Self.filters, deleteGuard: DeleteGuard(forceDeletes: true))
            let (plan, report) = try await run.reconcile(desired: world.desired, registry: registry)
            changed += plan.changes.count
            #expect(report.isComplete, "seed \(seed): \(report.failures)")
            let again = try await run.plan(desired: world.desired, registry: registry)
            #expect(!again.hasChanges, "seed \(seed): \(Fx.summary(again))")
        }
        #expect(changed > 5 * Self.seeds.count, "the generator must produce real work")
    }

    @Test func noRecordWithoutOwnershipIsEverUpdatedOrDeleted() async throws {
        let mapper = try TXTNameMapper(wildcardReplacement: "wild")
        for seed in Self.seeds {
            let world = World(seed: seed)
            for policy in Policy.allCases {
                let plan = Planner.plan(desired: world.desired, current: world.current, ownerID: Fx.me, policy: policy,
                                        filters: Self.filters, deleteGuard: DeleteGuard(forceDeletes: true))
                #expect(plan.changes.updates.allSatisfy { $0.old.labels.owner == Fx.me }, "seed \(seed)")
                #expect(plan.changes.deletes.allSatisfy { $0.labels.owner == Fx.me }, "seed \(seed)")
            }
            // End to end: every record not ours is still there, unchanged, after a forced sync.
            let provider = InMemoryProvider(records: world.providerRecords(mapper: mapper))
            let registry = try TXTRegistry(provider: provider, ownerID: Fx.me, mapper: mapper)
            let before = Dictionary(uniqueKeysWithValues: await provider.records().map { ($0.key, $0) })
            _ = try await PlanningRun(deleteGuard: DeleteGuard(forceDeletes: true)).reconcile(desired: world.desired, registry: registry)
            let after = Dictionary(uniqueKeysWithValues: await provider.records().map { ($0.key, $0) })
            for record in world.current where record.labels.owner != Fx.me {
                let untouched = before[record.key] != nil && before[record.key] == after[record.key]
                #expect(untouched, "seed \(seed): \(record.key) was touched")
            }
        }
    }

    @Test func theGuardTripsOnEveryMassDelete() {
        var tripped = 0
        for seed in Self.seeds {
            let world = World(seed: seed)
            let fraction = [0.1, 0.5, 0.9][Int(seed % 3)]
            let forced = Planner.plan(desired: world.desired, current: world.current, ownerID: Fx.me, filters: Self.filters,
                                      deleteGuard: DeleteGuard(maxDeleteFraction: fraction, forceDeletes: true))
            let guarded = Planner.plan(desired: world.desired, current: world.current, ownerID: Fx.me, filters: Self.filters,
                                       deleteGuard: DeleteGuard(maxDeleteFraction: fraction))
            let owned = world.current.filter { $0.labels.owner == Fx.me && Self.filters.admits($0) }.count
            let desiredEmpty = !world.desired.contains { Self.filters.admits($0) }
            let mass = Double(forced.changes.deletes.count) > fraction * Double(owned) || desiredEmpty
            if mass, !forced.changes.deletes.isEmpty {
                tripped += 1
                #expect(guarded.changes.deletes.isEmpty, "seed \(seed)")
                #expect(guarded.guardReason != nil, "seed \(seed)")
                let withheldAll = guarded.withheldDeletes == forced.changes.deletes
                let keptTheRest = guarded.changes.creates == forced.changes.creates && guarded.changes.updates == forced.changes.updates
                #expect(withheldAll && keptTheRest, "seed \(seed)")
            } else {
                let same = guarded == forced
                #expect(same, "seed \(seed): \(Fx.summary(guarded)) vs \(Fx.summary(forced))")
            }
        }
        #expect(tripped > 20, "the generator must produce mass deletes")
    }

    @Test func thePlanDoesNotDependOnInputOrder() {
        for seed in Self.seeds {
            let world = World(seed: seed)
            var rng = SplitMix64(seed: seed &* 31)
            let plan = Planner.plan(desired: world.desired, current: world.current, ownerID: Fx.me)
            let shuffled = Planner.plan(desired: world.desired.shuffled(using: &rng), current: world.current.shuffled(using: &rng), ownerID: Fx.me)
            let same = plan == shuffled
            #expect(same, "seed \(seed): \(Fx.summary(plan)) vs \(Fx.summary(shuffled))")
        }
    }
}
