import DNSCore
import Foundation
import Lab
@testable import Pihole
import Testing
import TestSupport

/// Issue 20, defect 4 on the Pi-hole side: a value DNS cannot hold is never written, and a
/// record written with one before targets were checked is read back, so it can be cleaned up.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholeBadValueTests {
    @Test func badValuesAreRefusedBeforeTheyAreWritten() throws {
        for target in ["evil..com", "1.2.3.4%eth0", "*.example.net"] {
            let cname = Endpoint(name: try DNSName("wiki.home.test"), type: .cname, targets: [target])
            #expect(throws: ApplyRefusal.self, "\(target)") { try PiholeRecordSet.line(for: cname, target: cname.targets[0]).get() }
        }
        let a = Endpoint(name: try DNSName("wiki.home.test"), type: .a, targets: ["1.2.3.4%eth0"])
        #expect(throws: ApplyRefusal.self) { try PiholeRecordSet.line(for: a, target: "1.2.3.4%eth0").get() }
    }

    @Test func aLineWithABadTargetIsReadSoItCanBeDeleted() throws {
        let set = PiholeRecordSet(hosts: [], cnames: ["wiki.home.test,evil..com", "mail.home.test,1.2.3.4%eth0"])
        #expect(set.endpoints.map { "\($0.name) \($0.targets)" } == [#"mail.home.test ["1.2.3.4%eth0"]"#, #"wiki.home.test ["evil..com"]"#])
    }

    @Test func theOwnerCleansUpARecordWrittenWithABadValue() async throws {
        var options = PiholeSimulator.Options(password: "pihole-lab-password")
        options.cnames = ["wiki.home.test,evil..com", "keep.home.test,evil..com"]
        let simulator = try PiholeSimulator(options)
        try await simulator.withRunning { url in
            let provider = PiholeProvider(client: PiholeClient(url: url, password: "pihole-lab-password", sleep: { _ in }))
            // An earlier run wrote wiki's CNAME (so owns it); keep.home.test is someone else's.
            let ledger = InMemoryLedger([LedgerEntry(key: Endpoint.Key(name: try DNSName("wiki.home.test"), type: .cname),
                                                     resource: "httproute/default/wiki")])
            let registry = LedgerRegistry(provider: provider, ledger: ledger, ownerID: "home")
            // The route is gone (or its target is now refused at the edge): nothing desired.
            let other = Endpoint(name: try DNSName("app.home.test"), type: .a, targets: ["198.18.0.10"],
                                 labels: EndpointLabels(resource: "httproute/default/app"))
            let (plan, report) = try await PlanningRun(policy: .sync, deleteGuard: DeleteGuard(forceDeletes: true)).reconcile(desired: [other], registry: registry)
            #expect(plan.changes.deletes.map(\.name.text) == ["wiki.home.test"], "\(plan.changes)")
            #expect(report.isComplete, "\(report)")
            #expect(await simulator.cnames() == ["keep.home.test,evil..com"])
            await provider.close()
        }
    }
}
