import DNSCore
import Foundation
import Lab
import NetIO
import Pihole
import Testing
import TestSupport

/// The Pi-hole provider against the Lab simulator and the dnsmasq it feeds: what the provider
/// writes must resolve through netagent's own resolver.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholeProviderTests {
    static func endpoint(_ name: String, _ type: RecordType, _ targets: [String], resource: String = "httproute/default/app") throws -> Endpoint {
        Endpoint(name: try DNSName(name), type: type, targets: targets, labels: EndpointLabels(resource: resource))
    }

    /// A running simulator, a provider for it and a ledger registry around the provider.
    struct Rig {
        let simulator: PiholeSimulator
        let provider: PiholeProvider
        let registry: LedgerRegistry

        /// Runs `body` with a rig whose simulator runs for as long as `body` does.
        static func with(_ options: PiholeSimulator.Options = .init(), password: String? = "pihole-lab-password",
                         _ body: (Rig) async throws -> Void) async throws {
            let simulator = try PiholeSimulator(options)
            try await simulator.withRunning { url in
                let provider = PiholeProvider(client: PiholeClient(url: url, password: password, sleep: { _ in }))
                let registry = LedgerRegistry(provider: provider, ledger: InMemoryLedger(), ownerID: "home")
                try await body(Rig(simulator: simulator, provider: provider, registry: registry))
            }
        }

        func reconcile(_ desired: [Endpoint], policy: Policy = .sync) async throws -> (plan: Plan, report: ApplyReport) {
            try await PlanningRun(policy: policy).reconcile(desired: desired, registry: registry)
        }

        func resolve(_ name: String, _ type: DNSQueryType = .a) async throws -> DNSResponse {
            let resolver = Resolver(options: .init(timeout: .seconds(1)))
            defer { resolver.shutdown() }
            return try await resolver.query(name, type: type, server: try DNSServer(parsing: simulator.dnsAddress))
        }
    }

    @Test func recordsWrittenResolveFromDnsmasq() async throws {
try await Rig.with { rig in
            let desired = [
                try Self.endpoint("app.home.test", .a, ["198.18.0.10", "198.18.0.11"]),
                try Self.endpoint("v6.home.test", .aaaa, ["2001:db8::10"]),
                try Self.endpoint("www.home.test", .cname, ["app.home.test"]),
            ]
            let (_, report) = try await rig.reconcile(desired)
            #expect(report.created == 3)
            #expect(report.isComplete)
            #expect(Set(await rig.simulator.hosts()) == ["198.18.0.10 app.home.test", "198.18.0.11 app.home.test", "2001:db8::10 v6.home.test"])
            #expect(await rig.simulator.cnames() == ["www.home.test,app.home.test"])

            let www = try await rig.resolve("www.home.test")
            #expect(www.rcode == .noError)
            #expect(www.cnameChain == ["app.home.test"])
            #expect(Set(www.records.map(\.data)) == [.a("198.18.0.10"), .a("198.18.0.11")])
            #expect(try await rig.resolve("v6.home.test", .aaaa).records.map(\.data) == [.aaaa("2001:db8::10")])

            // Unchanged state plans nothing and calls nothing but the reads.
            let before = await rig.simulator.counters()
            let (plan, _) = try await rig.reconcile(desired)
            #expect(!plan.hasChanges)
            let after = await rig.simulator.counters()
            #expect(after.calls - before.calls == 2)
            #expect(after.logins == 1)
        }
    }

    @Test func updatesReplaceLinesAndDeletesRemoveThem() async throws {
try await Rig.with { rig in
            _ = try await rig.reconcile([
                try Self.endpoint("app.home.test", .a, ["198.18.0.10"]),
                try Self.endpoint("www.home.test", .cname, ["app.home.test"]),
                try Self.endpoint("old.home.test", .a, ["198.18.0.30"]),
            ])
            let (_, report) = try await rig.reconcile([
                try Self.endpoint("app.home.test", .a, ["198.18.0.20"]),
                try Self.endpoint("www.home.test", .cname, ["other.home.test"]),
                try Self.endpoint("other.home.test", .a, ["198.18.0.21"]),
            ])
            #expect(report.updated == 2)
            #expect(report.deleted == 1)
            #expect(report.created == 1)
            #expect(Set(await rig.simulator.hosts()) == ["198.18.0.20 app.home.test", "198.18.0.21 other.home.test"])
            #expect(await rig.simulator.cnames() == ["www.home.test,other.home.test"])
            #expect(try await rig.resolve("www.home.test").records.map(\.data) == [.a("198.18.0.21")])
            let old = try await rig.resolve("old.home.test")
            #expect(old.records.isEmpty, "a deleted record still resolves: \(old.answers)")
        }
    }

    @Test func aHandMadeRecordSurvivesSync() async throws {
try await Rig.with { rig in
            try await rig.simulator.addByHand(host: "198.18.0.99 printer.home.test")
            _ = try await rig.reconcile([try Self.endpoint("app.home.test", .a, ["198.18.0.10"])])
            let (plan, _) = try await rig.reconcile([try Self.endpoint("app.home.test", .a, ["198.18.0.11"])])
            #expect(plan.changes.deletes.isEmpty)
            #expect(await rig.simulator.hosts().contains("198.18.0.99 printer.home.test"))
            #expect(try await rig.resolve("printer.home.test").records.map(\.data) == [.a("198.18.0.99")])
        }
    }

    @Test func twoHundredCNAMEChangesCostOneRestart() async throws {
try await Rig.with { rig in
            var desired = [try Self.endpoint("app.home.test", .a, ["198.18.0.10"])]
            for i in 0..<200 { desired.append(try Self.endpoint("svc\(i).home.test", .cname, ["app.home.test"])) }
            let before = await rig.simulator.counters().restarts
            let (_, report) = try await rig.reconcile(desired)
            #expect(report.created == 201)
            #expect(await rig.simulator.counters().restarts - before == 1)
            #expect(try await rig.resolve("svc0.home.test").records.map(\.data) == [.a("198.18.0.10")])
            #expect(try await rig.resolve("svc199.home.test").records.map(\.data) == [.a("198.18.0.10")])
        }
    }

    @Test func recordsPiholeCannotHoldAreRefusedOneByOne() async throws {
try await Rig.with { rig in
            let (_, report) = try await rig.reconcile([
                try Self.endpoint("*.apps.home.test", .a, ["198.18.0.10"]),
                try Self.endpoint("multi.home.test", .cname, ["a.home.test", "b.home.test"]),
                try Self.endpoint("fine.home.test", .a, ["198.18.0.12"]),
            ])
            #expect(report.created == 1)
            #expect(report.failures.count == 2)
            #expect(report.failures.contains { $0.message.contains("wildcard") })
            #expect(report.failures.contains { $0.message.contains("one target") })
            #expect(await rig.simulator.hosts() == ["198.18.0.12 fine.home.test"])
        }
    }

    @Test func aCNAMELoopIsRefusedByNameBeforeAnyWrite() async throws {
try await Rig.with { rig in
            let (_, report) = try await rig.reconcile([
                try Self.endpoint("app.home.test", .a, ["198.18.0.10"]),
                try Self.endpoint("ping.home.test", .cname, ["pong.home.test"], resource: "httproute/default/ping"),
                try Self.endpoint("pong.home.test", .cname, ["ping.home.test"], resource: "httproute/default/pong"),
                try Self.endpoint("self.home.test", .cname, ["self.home.test"], resource: "httproute/default/self"),
                try Self.endpoint("www.home.test", .cname, ["app.home.test"], resource: "httproute/default/www"),
            ])
            #expect(report.created == 2, "\(report)")
            let messages = report.failures.map(\.message)
            #expect(report.failures.count == 3, "\(messages)")
            #expect(messages.contains { $0.contains("self.home.test points at itself") })
            #expect(messages.contains { $0.contains("ping.home.test -> pong.home.test -> ping.home.test") })
            // Nothing of the loop was sent: FTL's dnsmasq gate refused no write.
            let writes = await rig.simulator.writes()
            #expect(writes.allSatisfy { $0.status == 201 }, "\(writes)")
            #expect(!writes.contains { $0.value.contains("ping") || $0.value.contains("self") })
            #expect(await rig.simulator.cnames() == ["www.home.test,app.home.test"])
        }
    }

    @Test func aCNAMEToAnotherCNAMEOfTheRunIsAcceptedWhicheverComesFirst() async throws {
try await Rig.with { rig in
            // deep -> mid -> app, the CNAME pointing at the other one first: FTL's dnsmasq gate
            // sees `cname=deep…,mid…` before mid's line exists, and accepts it.
            let report = try await rig.provider.apply(Plan.Changes(creates: [
                try Self.endpoint("app.home.test", .a, ["198.18.0.10"]),
                try Self.endpoint("deep.home.test", .cname, ["mid.home.test"]),
                try Self.endpoint("mid.home.test", .cname, ["app.home.test"]),
            ]))
            #expect(report.created == 3, "\(report)")
            #expect(report.isComplete, "\(report)")
            let writes = await rig.simulator.writes()
            #expect(writes.allSatisfy { $0.status == 201 }, "\(writes)")
            // The order of the run's creates was kept: deep's line went first.
            #expect(writes.map(\.value).filter { $0.contains(",") } == ["deep.home.test,mid.home.test", "mid.home.test,app.home.test"])
            let deep = try await rig.resolve("deep.home.test")
            #expect(deep.cnameChain == ["mid.home.test", "app.home.test"], "\(deep)")
        }
    }

    @Test func aWriteFTLRefusesNamesTheRecordAndDnsmasqsHintWhileTheRestGoesThrough() async throws {
        var options = PiholeSimulator.Options()
        // A CNAME made by hand in the web interface, for a name netagent is then asked to serve.
        options.cnames = ["dup.home.test,elsewhere.home.test"]
try await Rig.with(options) { rig in
            let provider = rig.provider
            _ = try await provider.records()
            let before = await rig.simulator.counters()
            let report = try await provider.apply(Plan.Changes(creates: [
                try Self.endpoint("dup.home.test", .cname, ["app.home.test"]),
                try Self.endpoint("ok.home.test", .cname, ["app.home.test"]),
            ]))
            #expect(report.created == 1)
            let failure = try #require(report.failures.first)
            #expect(failure.key.name.text == "dup.home.test")
            #expect(failure.message.contains("Invalid configuration"), "\(failure.message)")
            #expect(failure.message.contains("duplicate CNAME"), "\(failure.message)")
            #expect(failure.message.contains("dup.home.test,app.home.test"), "\(failure.message)")
            #expect(Set(await rig.simulator.cnames()) == ["dup.home.test,elsewhere.home.test", "ok.home.test,app.home.test"])
            #expect(await rig.simulator.counters().since(before).restarts == 1)
        }
    }

    @Test func aRunWaitsForTheAPIAfterTheRestartBeforeItLogsOut() async throws {
try await Rig.with { rig in
            _ = try await rig.reconcile([try Self.endpoint("www.home.test", .cname, ["app.home.test"])])
            // The restart took the API away; the provider waited, so the logout reaches it.
            await rig.provider.close()
            #expect(await rig.simulator.counters().logouts == 1)
            #expect(await rig.simulator.activeSessions() == 0)
        }
    }

    @Test func aRefusedLastCNAMEWriteLeavesTheProbeNoRestartWindow() async throws {
        var options = PiholeSimulator.Options()
        // A CNAME made by hand: FTL refuses netagent's line for the same name, so nothing restarts.
        options.cnames = ["dup.home.test,elsewhere.home.test"]
        let simulator = try PiholeSimulator(options)
        try await simulator.withRunning { url in
            let restarts = ResolverRestarts()
            let provider = PiholeProvider(client: PiholeClient(url: url, password: "pihole-lab-password", sleep: { _ in }),
                                          restarts: restarts, restartKey: "pihole")
            _ = try await provider.records()
            let report = try await provider.apply(Plan.Changes(creates: [try Self.endpoint("dup.home.test", .cname, ["app.home.test"])]))
            #expect(report.failures.count == 1, "\(report)")
            #expect(await simulator.counters().restarts == 0)
            // No restart happened: the probe must not excuse a missing answer as "restarting".
            #expect(restarts.restartingUntil("pihole") == nil)
            await provider.close()
        }
    }

    @Test func aProxysAnswerWhileFTLIsAwayDoesNotEndTheWait() async throws {
        // A reverse proxy in front of the Pi-hole answers 502 while FTL restarts: that is not FTL
        // answering again (FTL answers GET /api/auth with 200 or 401, auth.yaml).
        let proxy = try HostileHTTPServer(.status(502))
        defer { proxy.stop() }
        let client = PiholeClient(url: proxy.url(), password: nil)
        let error = await #expect(throws: PiholeError.self) { try await client.waitUntilAnswering(within: .milliseconds(500)) }
        #expect(error?.message.contains("502") == true, "\(String(describing: error))")
    }

    @Test func waitingForTheAPIEndsWhenTheTaskIsCancelled() async throws {
        // Nothing listens on port 1: every poll fails at once, so only the sleeps pace the loop.
        let client = PiholeClient(url: "http://127.0.0.1:1", password: nil)
        let wait = Task { try await client.waitUntilAnswering(within: .seconds(3)) }
        wait.cancel()
        let result = await wait.result
        #expect(throws: PiholeError.self) { try result.get() }
        // A cancelled wait stops; it does not poll without pause until its limit.
        let counts = await client.counts
        #expect(counts.calls <= 1, "\(counts)")
    }

    @Test func theSessionExpiringMidRunLogsInOnceMore() async throws {
try await Rig.with { rig in
            _ = try await rig.reconcile([try Self.endpoint("a.home.test", .a, ["198.18.0.1"])])
            await rig.simulator.expireSessions()
            let (_, report) = try await rig.reconcile([try Self.endpoint("a.home.test", .a, ["198.18.0.2"])])
            #expect(report.updated == 1)
            #expect(await rig.simulator.counters().logins == 2)
        }
    }

    @Test func seatsExhaustedByOthersSaysWhatToChange() async throws {
try await Rig.with { rig in
            await rig.simulator.occupySeats(16)
            do {
                _ = try await rig.reconcile([try Self.endpoint("a.home.test", .a, ["198.18.0.1"])])
                Issue.record("logged in with every seat taken")
            } catch let error as PiholeError {
                #expect(error.kind == .seatsExceeded)
                #expect(error.description.contains("max_sessions"))
            }
        }
    }

    @Test func closeGivesTheSeatBack() async throws {
try await Rig.with { rig in
            _ = try await rig.reconcile([try Self.endpoint("a.home.test", .a, ["198.18.0.1"])])
            #expect(await rig.simulator.activeSessions() == 1)
            await rig.provider.close()
            #expect(await rig.simulator.activeSessions() == 0)
            #expect(await rig.simulator.counters().logouts == 1)
        }
    }

    @Test func anAppPasswordWithoutSudoIsExplained() async throws {
        var options = PiholeSimulator.Options()
        options.appPassword = "app-pass"
try await Rig.with(options, password: "app-pass") { rig in
            do {
                _ = try await rig.reconcile([try Self.endpoint("a.home.test", .a, ["198.18.0.1"])])
                Issue.record("an app password without app_sudo changed the configuration")
            } catch let error as PiholeError {
                #expect(error.kind == .readOnly)
                #expect(error.description.contains("app_sudo"))
            }
        }
    }

    @Test func aPiholeWithoutPasswordWorks() async throws {
try await Rig.with(PiholeSimulator.Options(password: nil), password: nil) { rig in
            let (_, report) = try await rig.reconcile([try Self.endpoint("a.home.test", .a, ["198.18.0.1"])])
            #expect(report.created == 1)
            #expect(try await rig.resolve("a.home.test").records.map(\.data) == [.a("198.18.0.1")])
        }
    }

    @Test func twoInstancesOneDownTheOtherIsReconciled() async throws {
        // The second instance ran once and is gone: its address refuses connections.
        let gone = try PiholeSimulator()
        let goneURL = try await gone.withRunning { $0 }
        try await Rig.with { rig in
            let downProvider = PiholeProvider(client: PiholeClient(url: goneURL, password: "pihole-lab-password", sleep: { _ in }))
            let down = LedgerRegistry(provider: downProvider, ledger: InMemoryLedger(), ownerID: "home")
            let desired = [try Self.endpoint("a.home.test", .a, ["198.18.0.1"])]
            async let first = Result(catching: { try await rig.reconcile(desired) })
            async let second = Result(catching: { try await PlanningRun().reconcile(desired: desired, registry: down) })
            let (upResult, downResult) = await (first, second)
            #expect((try? upResult.get())?.report.created == 1)
            #expect(try await rig.resolve("a.home.test").records.map(\.data) == [.a("198.18.0.1")])
            guard case .failure(let error as PiholeError) = downResult else {
                Issue.record("the stopped instance did not fail: \(downResult)")
                return
            }
            #expect(error.kind == .unreachable)
        }
    }

    @Test func wrongPasswordIsSaidPlainly() async throws {
try await Rig.with(.init(), password: "wrong") { rig in
            await #expect { try await rig.reconcile([]) } throws: { error in
                (error as? PiholeError)?.kind == .wrongPassword
            }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
