import DNSCore
import Testing

/// One row of the planner table: inputs, options and the plan summary the rules demand.
struct PlannerCase: Sendable, CustomTestStringConvertible {
    var title: String
    var desired: [Endpoint]
    var current: [Endpoint]
    var policy: Policy = .sync
    var filters = PlanFilters()
    var deleteGuard = DeleteGuard()
    /// Adds three owned, desired, unchanged records so one delete stays under the guard.
    var ballast = false
    var expected: [String]

    var testDescription: String { title }
}

private typealias F = Fx
private let ballastRecords = (1...3).map { F.have("b\($0).example.com", .a, "10.9.9.\($0)") }
private let ballastWanted = (1...3).map { F.want("b\($0).example.com", .a, "10.9.9.\($0)") }
private let exampleOnly = PlanFilters(domains: DomainFilter(include: ["example.com"]))

let plannerCases: [PlannerCase] = [
    // Creates, deletes, no-ops.
    PlannerCase(title: "nothing desired, nothing current", desired: [], current: [], expected: []),
    PlannerCase(title: "desired A without current is created",
                desired: [F.want("a.example.com", .a, "10.0.0.1")], current: [],
                expected: ["+ a.example.com A 10.0.0.1"]),
    PlannerCase(title: "equal owned record needs nothing",
                desired: [F.want("a.example.com", .a, "10.0.0.1")], current: [F.have("a.example.com", .a, "10.0.0.1")],
                expected: []),
    PlannerCase(title: "owned record no longer desired is deleted",
                desired: [], current: [F.have("gone.example.com", .a, "10.0.0.9")], ballast: true,
                expected: ["- gone.example.com A"]),
    // What counts as a difference.
    PlannerCase(title: "changed target updates",
                desired: [F.want("a.example.com", .a, "10.0.0.2")], current: [F.have("a.example.com", .a, "10.0.0.1")],
                expected: ["~ a.example.com A 10.0.0.1 -> 10.0.0.2"]),
    PlannerCase(title: "target order does not matter",
                desired: [F.want("a.example.com", .a, "10.0.0.2", "10.0.0.1")],
                current: [F.have("a.example.com", .a, "10.0.0.1", "10.0.0.2")], expected: []),
    PlannerCase(title: "CNAME target case and trailing dot do not matter",
                desired: [F.want("c.example.com", .cname, "LB.Example.NET.")],
                current: [F.have("c.example.com", .cname, "lb.example.net")], expected: []),
    PlannerCase(title: "IPv6 written differently is the same address",
                desired: [F.want("a.example.com", .aaaa, "2001:DB8:0:0::1")],
                current: [F.have("a.example.com", .aaaa, "2001:db8::1")], expected: []),
    PlannerCase(title: "a different IPv6 address updates",
                desired: [F.want("a.example.com", .aaaa, "2001:db8::2")],
                current: [F.have("a.example.com", .aaaa, "2001:db8::1")],
                expected: ["~ a.example.com AAAA 2001:db8::1 -> 2001:db8::2"]),
    PlannerCase(title: "an unset desired TTL never forces an update",
                desired: [F.want("a.example.com", .a, "10.0.0.1")],
                current: [F.have("a.example.com", .a, "10.0.0.1", ttl: 300)], expected: []),
    PlannerCase(title: "the same TTL needs nothing",
                desired: [F.want("a.example.com", .a, "10.0.0.1", ttl: 300)],
                current: [F.have("a.example.com", .a, "10.0.0.1", ttl: 300)], expected: []),
    PlannerCase(title: "a different set TTL updates",
                desired: [F.want("a.example.com", .a, "10.0.0.1", ttl: 600)],
                current: [F.have("a.example.com", .a, "10.0.0.1", ttl: 300)],
                expected: ["~ a.example.com A 10.0.0.1 ttl=300 -> 10.0.0.1 ttl=600"]),
    PlannerCase(title: "a TTL set where the provider default was used updates",
                desired: [F.want("a.example.com", .a, "10.0.0.1", ttl: 300)],
                current: [F.have("a.example.com", .a, "10.0.0.1")],
                expected: ["~ a.example.com A 10.0.0.1 -> 10.0.0.1 ttl=300"]),
    PlannerCase(title: "a changed proxied flag updates",
                desired: [F.want("a.example.com", .a, "10.0.0.1", proxied: true)],
                current: [F.have("a.example.com", .a, "10.0.0.1", proxied: false)],
                expected: ["~ a.example.com A 10.0.0.1 proxied=false -> 10.0.0.1 proxied=true"]),
    PlannerCase(title: "an added proxied flag updates",
                desired: [F.want("a.example.com", .a, "10.0.0.1", proxied: true)],
                current: [F.have("a.example.com", .a, "10.0.0.1")],
                expected: ["~ a.example.com A 10.0.0.1 -> 10.0.0.1 proxied=true"]),
    PlannerCase(title: "a removed proxied flag updates",
                desired: [F.want("a.example.com", .a, "10.0.0.1")],
                current: [F.have("a.example.com", .a, "10.0.0.1", proxied: true)],
                expected: ["~ a.example.com A 10.0.0.1 proxied=true -> 10.0.0.1"]),
    // Domain filters and managed types.
    PlannerCase(title: "desired outside the domain filter is ignored",
                desired: [F.want("x.other.net", .a, "10.0.0.1")], current: [], filters: exampleOnly, expected: []),
    PlannerCase(title: "an owned record outside the filter is never deleted",
                desired: [], current: [F.have("x.other.net", .a, "10.0.0.1")], filters: exampleOnly, ballast: true,
                expected: []),
    PlannerCase(title: "a leading-dot filter leaves the apex out",
                desired: [F.want("example.com", .a, "10.0.0.1"), F.want("www.example.com", .a, "10.0.0.2")], current: [],
                filters: PlanFilters(domains: DomainFilter(include: [".example.com"])),
                expected: ["+ www.example.com A 10.0.0.2"]),
    PlannerCase(title: "a plain filter takes the apex in",
                desired: [F.want("example.com", .a, "10.0.0.1")], current: [], filters: exampleOnly,
                expected: ["+ example.com A 10.0.0.1"]),
    PlannerCase(title: "a filter matches on label boundaries only",
                desired: [F.want("badexample.com", .a, "10.0.0.1")], current: [], filters: exampleOnly, expected: []),
    PlannerCase(title: "an excluded subdomain is ignored",
                desired: [F.want("x.internal.example.com", .a, "10.0.0.1"), F.want("y.example.com", .a, "10.0.0.2")],
                current: [],
                filters: PlanFilters(domains: DomainFilter(include: ["example.com"], exclude: ["internal.example.com"])),
                expected: ["+ y.example.com A 10.0.0.2"]),
    PlannerCase(title: "excludes alone subtract from everything",
                desired: [F.want("x.internal.example.com", .a, "10.0.0.1"), F.want("z.other.net", .a, "10.0.0.2")],
                current: [], filters: PlanFilters(domains: DomainFilter(exclude: ["Internal.Example.com."])),
                expected: ["+ z.other.net A 10.0.0.2"]),
    PlannerCase(title: "TXT is not managed by default",
                desired: [F.want("t.example.com", .txt, "hello")], current: [], expected: []),
    PlannerCase(title: "an excluded type is neither created nor deleted",
                desired: [F.want("v6.example.com", .aaaa, "2001:db8::6")],
                current: [F.have("a.example.com", .aaaa, "2001:db8::1")],
                filters: PlanFilters(excludedTypes: [.aaaa]), ballast: true, expected: []),
    PlannerCase(title: "managed types narrowed to A leave CNAMEs alone",
                desired: [F.want("c.example.com", .cname, "lb.example.net")], current: [],
                filters: PlanFilters(managedTypes: [.a]), expected: []),
    // CNAME versus A/AAAA.
    PlannerCase(title: "CNAME beside A: the A wins and the CNAME is reported",
                desired: [F.want("n.example.com", .a, "10.0.0.1", from: "httproute/web/a"),
                          F.want("n.example.com", .cname, "lb.example.net", from: "httproute/web/b")], current: [],
                expected: ["+ n.example.com A 10.0.0.1", "! n.example.com CNAME httproute/web/b lost to httproute/web/a cname"]),
    PlannerCase(title: "an owned CNAME goes when an A is desired on its name",
                desired: [F.want("n.example.com", .a, "10.0.0.1")],
                current: [F.have("n.example.com", .cname, "lb.example.net")], ballast: true,
                expected: ["+ n.example.com A 10.0.0.1", "- n.example.com CNAME"]),
    PlannerCase(title: "an A becomes a CNAME",
                desired: [F.want("n.example.com", .cname, "lb.example.net")],
                current: [F.have("n.example.com", .a, "10.0.0.1")], ballast: true,
                expected: ["+ n.example.com CNAME lb.example.net", "- n.example.com A"]),
    // Conflict resolution between sources.
    PlannerCase(title: "two resources: fewer targets wins",
                desired: [F.want("s.example.com", .a, "10.0.0.1", "10.0.0.2", from: "httproute/web/a"),
                          F.want("s.example.com", .a, "10.0.0.9", from: "httproute/web/b")], current: [],
                expected: ["+ s.example.com A 10.0.0.9", "! s.example.com A httproute/web/a lost to httproute/web/b preferred"]),
    PlannerCase(title: "two resources: lexical order decides equal counts",
                desired: [F.want("s.example.com", .a, "10.0.0.2", from: "httproute/web/a"),
                          F.want("s.example.com", .a, "10.0.0.1", from: "httproute/web/b")], current: [],
                expected: ["+ s.example.com A 10.0.0.1", "! s.example.com A httproute/web/a lost to httproute/web/b preferred"]),
    PlannerCase(title: "two CNAME claims: the lexically first target wins",
                desired: [F.want("c.example.com", .cname, "b.example.net", from: "httproute/web/a"),
                          F.want("c.example.com", .cname, "a.example.net", from: "httproute/web/b")], current: [],
                expected: ["+ c.example.com CNAME a.example.net", "! c.example.com CNAME httproute/web/a lost to httproute/web/b preferred"]),
    PlannerCase(title: "the resource holding the record keeps it",
                desired: [F.want("s.example.com", .a, "10.0.0.1", from: "httproute/web/a"),
                          F.want("s.example.com", .a, "10.0.0.5", from: "httproute/web/b")],
                current: [F.have("s.example.com", .a, "10.0.0.5", from: "httproute/web/b")],
                expected: ["! s.example.com A httproute/web/a lost to httproute/web/b keeps"]),
    PlannerCase(title: "when the holding resource is gone the preferred claim updates",
                desired: [F.want("s.example.com", .a, "10.0.0.2", from: "httproute/web/a"),
                          F.want("s.example.com", .a, "10.0.0.1", from: "httproute/web/b")],
                current: [F.have("s.example.com", .a, "10.0.0.5", from: "httproute/old/s")],
                expected: ["~ s.example.com A 10.0.0.5 -> 10.0.0.1", "! s.example.com A httproute/web/a lost to httproute/web/b preferred"]),
    PlannerCase(title: "identical claims are no conflict",
                desired: [F.want("s.example.com", .a, "10.0.0.1", from: "httproute/web/a"),
                          F.want("s.example.com", .a, "10.0.0.1", from: "httproute/web/b")], current: [],
                expected: ["+ s.example.com A 10.0.0.1"]),
    // Ownership.
    PlannerCase(title: "an unowned record is never deleted",
                desired: [], current: [F.have("h.example.com", .a, "10.0.0.1", owner: nil)], ballast: true, expected: []),
    PlannerCase(title: "another owner's record is never deleted",
                desired: [], current: [F.have("h.example.com", .a, "10.0.0.1", owner: F.them)], ballast: true, expected: []),
    PlannerCase(title: "another owner's record is not updated: conflict",
                desired: [F.want("h.example.com", .a, "10.0.0.2")],
                current: [F.have("h.example.com", .a, "10.0.0.1", owner: F.them)],
                expected: ["! h.example.com A httproute/web/h lost to owner:them foreign(them)"]),
    PlannerCase(title: "an unowned record is not updated: conflict",
                desired: [F.want("h.example.com", .a, "10.0.0.2")],
                current: [F.have("h.example.com", .a, "10.0.0.1", owner: nil)],
                expected: ["! h.example.com A httproute/web/h lost to unowned foreign(none)"]),
    PlannerCase(title: "no AAAA is added beside a foreign A",
                desired: [F.want("h.example.com", .a, "10.0.0.1"), F.want("h.example.com", .aaaa, "2001:db8::1")],
                current: [F.have("h.example.com", .a, "10.0.0.1", owner: F.them)],
                expected: ["! h.example.com AAAA httproute/web/h lost to owner:them foreign(them)"]),
    PlannerCase(title: "an AAAA is added beside our own A",
                desired: [F.want("h.example.com", .a, "10.0.0.1"), F.want("h.example.com", .aaaa, "2001:db8::1")],
                current: [F.have("h.example.com", .a, "10.0.0.1")],
                expected: ["+ h.example.com AAAA 2001:db8::1"]),
    PlannerCase(title: "a foreign record equal to the desired one needs nothing",
                desired: [F.want("h.example.com", .a, "10.0.0.1")],
                current: [F.have("h.example.com", .a, "10.0.0.1", owner: nil)], expected: []),
    PlannerCase(title: "our record beside a foreign one still updates",
                desired: [F.want("h.example.com", .a, "10.0.0.2")],
                current: [F.have("h.example.com", .a, "10.0.0.1"), F.have("h.example.com", .aaaa, "2001:db8::1", owner: nil)],
                expected: ["~ h.example.com A 10.0.0.1 -> 10.0.0.2"]),
    PlannerCase(title: "an A on a name holding a foreign CNAME is a conflict",
                desired: [F.want("h.example.com", .a, "10.0.0.1")],
                current: [F.have("h.example.com", .cname, "x.example.net", owner: nil)],
                expected: ["! h.example.com A httproute/web/h lost to unowned foreign(none)"]),
    // Policies.
    PlannerCase(title: "upsert-only keeps creates and updates, drops deletes",
                desired: [F.want("a.example.com", .a, "10.0.0.2"), F.want("new.example.com", .a, "10.0.0.3")],
                current: [F.have("a.example.com", .a, "10.0.0.1"), F.have("gone.example.com", .a, "10.0.0.4")],
                policy: .upsertOnly, ballast: true,
                expected: ["+ new.example.com A 10.0.0.3", "~ a.example.com A 10.0.0.1 -> 10.0.0.2"]),
    PlannerCase(title: "create-only keeps only creates",
                desired: [F.want("a.example.com", .a, "10.0.0.2"), F.want("new.example.com", .a, "10.0.0.3")],
                current: [F.have("a.example.com", .a, "10.0.0.1"), F.have("gone.example.com", .a, "10.0.0.4")],
                policy: .createOnly, ballast: true, expected: ["+ new.example.com A 10.0.0.3"]),
    PlannerCase(title: "sync creates, updates and deletes",
                desired: [F.want("a.example.com", .a, "10.0.0.2"), F.want("new.example.com", .a, "10.0.0.3")],
                current: [F.have("a.example.com", .a, "10.0.0.1"), F.have("gone.example.com", .a, "10.0.0.4")],
                ballast: true,
                expected: ["+ new.example.com A 10.0.0.3", "~ a.example.com A 10.0.0.1 -> 10.0.0.2", "- gone.example.com A"]),
    // The safety guard.
    PlannerCase(title: "guard: more than half of the owned records would go",
                desired: [F.want("x1.example.com", .a, "10.0.0.1")],
                current: (1...3).map { F.have("x\($0).example.com", .a, "10.0.0.\($0)") },
                expected: ["guard too-many withheld 2"]),
    PlannerCase(title: "guard: creates and updates still go ahead",
                desired: [F.want("x1.example.com", .a, "10.0.1.1"), F.want("new.example.com", .a, "10.0.0.9")],
                current: (1...3).map { F.have("x\($0).example.com", .a, "10.0.0.\($0)") },
                expected: ["+ new.example.com A 10.0.0.9", "~ x1.example.com A 10.0.0.1 -> 10.0.1.1", "guard too-many withheld 2"]),
    PlannerCase(title: "guard: no desired records while owned ones exist",
                desired: [], current: (1...2).map { F.have("x\($0).example.com", .a, "10.0.0.\($0)") },
                expected: ["guard desired-empty withheld 2"]),
    PlannerCase(title: "guard: exactly half may go",
                desired: (1...2).map { F.want("x\($0).example.com", .a, "10.0.0.\($0)") },
                current: (1...4).map { F.have("x\($0).example.com", .a, "10.0.0.\($0)") },
                expected: ["- x3.example.com A", "- x4.example.com A"]),
    PlannerCase(title: "guard: forceDeletes lifts it for the run",
                desired: [F.want("x1.example.com", .a, "10.0.0.1")],
                current: (1...3).map { F.have("x\($0).example.com", .a, "10.0.0.\($0)") },
                deleteGuard: DeleteGuard(forceDeletes: true),
                expected: ["- x2.example.com A", "- x3.example.com A"]),
    PlannerCase(title: "guard: only owned records count",
                desired: [F.want("x1.example.com", .a, "10.0.0.1")],
                current: (1...2).map { F.have("x\($0).example.com", .a, "10.0.0.\($0)") }
                    + (1...4).map { F.have("f\($0).example.com", .a, "10.0.2.\($0)", owner: nil) },
                expected: ["- x2.example.com A"]),
    PlannerCase(title: "guard: a lower maxDeleteFraction trips on one delete of four",
                desired: [], current: [F.have("gone.example.com", .a, "10.0.0.9")],
                deleteGuard: DeleteGuard(maxDeleteFraction: 0.2), ballast: true,
                expected: ["guard too-many withheld 1"]),
    PlannerCase(title: "guard: upsert-only has nothing to withhold",
                desired: [], current: [F.have("x1.example.com", .a, "10.0.0.1")], policy: .upsertOnly, expected: []),
    PlannerCase(title: "guard: no owned records, nothing to guard",
                desired: [], current: [F.have("f.example.com", .a, "10.0.0.1", owner: nil)], expected: []),
    // Names.
    PlannerCase(title: "a wildcard name is created",
                desired: [F.want("*.example.com", .a, "10.0.0.1")], current: [],
                expected: ["+ *.example.com A 10.0.0.1"]),
    PlannerCase(title: "a desired record listed twice is created once",
                desired: [F.want("a.example.com", .a, "10.0.0.1"), F.want("a.example.com", .a, "10.0.0.1")], current: [],
                expected: ["+ a.example.com A 10.0.0.1"]),
]

@Suite struct PlannerTableTests {
    @Test(arguments: plannerCases)
    func plan(_ row: PlannerCase) {
        let desired = row.desired + (row.ballast ? ballastWanted : [])
        let current = row.current + (row.ballast ? ballastRecords : [])
        let plan = Planner.plan(
            desired: desired, current: current, ownerID: Fx.me,
            policy: row.policy, filters: row.filters, deleteGuard: row.deleteGuard)
        #expect(Fx.summary(plan) == row.expected)
    }

    @Test func tableIsLargeEnough() {
        #expect(plannerCases.count >= 40)
    }

    @Test func createsCarryOurOwnerAndUpdatesKeepTheOldOwner() {
        let plan = Planner.plan(
            desired: [Fx.want("n.example.com", .a, "10.0.0.1"), Fx.want("u.example.com", .a, "10.0.0.2", from: "httproute/new/u")],
            current: [Fx.have("u.example.com", .a, "10.0.0.1", from: "httproute/old/u")], ownerID: Fx.me)
        #expect(plan.changes.creates.map(\.labels) == [EndpointLabels(owner: Fx.me, resource: "httproute/web/n")])
        #expect(plan.changes.updates.map(\.new.labels) == [EndpointLabels(owner: Fx.me, resource: "httproute/new/u")])
        #expect(plan.changes.updates.map(\.old.labels.resource) == ["httproute/old/u"])
    }

    @Test func guardWithheldDeletesAreListed() {
        let current = (1...3).map { Fx.have("x\($0).example.com", .a, "10.0.0.\($0)") }
        let plan = Planner.plan(desired: [], current: current, ownerID: Fx.me)
        #expect(plan.changes.deletes.isEmpty)
        #expect(plan.withheldDeletes.map(\.key) == current.map(\.key))
        #expect(plan.guardReason == .desiredEmpty(owned: 3))
        #expect(plan.guardReason?.description.contains("--force-deletes") == true)
    }
}
