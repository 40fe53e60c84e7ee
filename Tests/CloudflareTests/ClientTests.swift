import Cloudflare
import DNSCore
import Lab
import TestSupport
import Testing

/// Tokens, rate limits, retries, zone isolation and tunnels against the simulator.
struct ClientTests {
    @Test func a429StormIsWaitedOutAsRetryAfterSays() async throws {
        try await Rig.with { rig in
            await rig.simulator.throttle(next: 3, retryAfter: 7)
            let (_, report) = try await rig.reconcile([try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])])
            #expect(report.isComplete)
            #expect(await rig.stored("app.example.test", "A").count == 1)
            #expect(await rig.client.counts.throttled == 3)
            #expect(rig.clock.sleeps == [.seconds(7), .seconds(7), .seconds(7)])
            #expect(await rig.requests().filter { $0.status == 429 }.count == 3)
        }
    }

    @Test func aRateLimitThatOutlastsTheRetriesIsReportedNotHidden() async throws {
        try await Rig.with(policy: CloudflareRetryPolicy(attempts: 3)) { rig in
            await rig.simulator.throttle(next: 10, retryAfter: 1)
            let error = await #expect(throws: CloudflareError.self) { try await rig.client.zones(named: "example.test") }
            #expect(error?.kind == .rateLimited)
            #expect(error?.code == 971)
            #expect(await rig.requests().count == 3)
        }
    }

    @Test func serverErrorsAreRetriedWithBackoffAndOther4xxAreNot() async throws {
        try await Rig.with { rig in
            await rig.simulator.fail(next: 2, status: 502)
            let zones = try await rig.client.zones(named: "example.test")
            #expect(zones.map(\.name) == ["example.test"])
            #expect(rig.clock.sleeps == [.seconds(1.5), .seconds(3)])  // 2 s and 4 s, jitter 0.75
            let before = await rig.requests().count
            let error = await #expect(throws: CloudflareError.self) { try await rig.client.zone(id: "nonsense") }
            #expect(error?.kind == .refused || error?.kind == .zoneNotFound)
            #expect(error?.code == 7003)
            #expect(await rig.requests().count == before + 1)
        }
    }

    @Test func aWriteThatTimedOutIsNotSentAgainButListedOnTheNextCycle() async throws {
        // A timeout well above a loaded machine's normal answer (seconds under a parallel build):
        // only the stalled request may time out, or the counts below would see a second one.
        try await Rig.with(timeout: .seconds(5)) { rig in
            await rig.simulator.faults.stall(for: .seconds(8), writesOnly: true)
            let desired = [try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])]
            let (_, first) = try await rig.reconcile(desired)
            // The batch may have been applied: repeating it would fail whole on what it wrote.
            #expect(!first.isComplete)
            try await eventually("the held batch landed", timeout: .seconds(30)) {
                await rig.requests().contains(where: \.isBatch)
            }
            let (_, second) = try await rig.reconcile(desired)
            #expect(second.isComplete)
            #expect(await rig.requests().filter(\.isBatch).map(\.status) == [200])
            #expect(await rig.stored("app.example.test", "A").count == 1)
        }
    }

    @Test func aReadThatTimedOutIsSentAgain() async throws {
        try await Rig.with(timeout: .seconds(5)) { rig in  // as above: only the stalled read times out
            await rig.simulator.faults.stall(for: .seconds(8))
            let zones = try await rig.client.zones(named: "example.test")
            #expect(zones.map(\.name) == ["example.test"])
            #expect(await rig.client.counts.retries == 1)
        }
    }

    @Test("a peer that answers every page with the first one ends the listing with an error, not a loop",
          .timeLimit(.minutes(1)))
    func aListingThatDoesNotPageEnds() async throws {
        let records = [HostileCloudflare.record("r1", "a.home.test", "A", "198.18.0.1"),
                       HostileCloudflare.record("r2", "b.home.test", "A", "198.18.0.2")].joined(separator: ",")
        // Two records a page, a million pages claimed, the same page whatever `page` asks for.
        let body = #"{"success":true,"errors":[],"messages":[],"result":[\#(records)],"#
            + #""result_info":{"page":1,"per_page":2,"count":2,"total_count":2000000,"total_pages":1000000}}"#
        let server = try await ScriptedHTTPPeer(HostileCloudflare.rules(records: body))
        defer { server.stop() }
        let client = CloudflareClient(baseURL: server.url, token: "lab-token", policy: CloudflareRetryPolicy(attempts: 1))
        let error = await #expect(throws: CloudflareError.self) { try await client.listing(zoneID: HostileCloudflare.zoneID, perPage: 2) }
        #expect(error?.kind == .invalidResponse)
        #expect(error?.description.contains("page 2 holds only records already listed") == true, "\(String(describing: error))")
    }

    @Test func theClientKeepsUnderItsBudgetByWaiting() async throws {
        try await Rig.with(policy: CloudflareRetryPolicy(budget: 3, window: .seconds(300))) { rig in
            for _ in 0..<5 { _ = try await rig.client.zones(named: "example.test") }
            #expect(await rig.requests().count == 5)
            #expect(await rig.requests().allSatisfy { $0.status == 200 })
            // Three at t=0; the fourth waits until the first three leave the window; the fifth fits.
            #expect(rig.clock.sleeps == [.seconds(300)])
            #expect(await rig.client.counts.waited == .seconds(300))
        }
    }

    @Test func anInvalidTokenIsToldInPlainWords() async throws {
        try await Rig.with(token: "not-the-token") { rig in
            let error = await #expect(throws: CloudflareError.self) { try await rig.provider.preflight() }
            #expect(error?.kind == .invalidToken)
            #expect(error?.code == 9109)
            #expect(error?.description.contains("not valid") == true)
            #expect(error?.description.contains("not-the-token") == false)
        }
    }

    @Test func aMissingPermissionNamesThePermissionAndTheZone() async throws {
        let options = CloudflareSimulator.Options(tokens: [.init("read-only", permissions: [.zoneRead, .dnsRead])])
        try await Rig.with(options, token: "read-only") { rig in
            let error = await #expect(throws: CloudflareError.self) { try await rig.provider.preflight() }
            #expect(error?.kind == .missingPermission)
            #expect(error?.code == 10000)
            #expect(error?.description.contains("token valid but lacks DNS:Edit on zone example.test") == true)
        }
    }

    @Test func zonesByIDServeZoneScopedTokens() async throws {
        let zone = SimulatedZone(name: "example.test")
        let options = CloudflareSimulator.Options(
            tokens: [.init("scoped", permissions: [.zoneRead, .dnsEdit], zones: ["example.test"])], zones: [zone])
        try await Rig.with(options, token: "scoped", provider: { $0.zones = []; $0.zoneIDs = [zone.id] }) { rig in
            try await rig.provider.preflight()
            #expect(await rig.provider.resolvedZones().map(\.name.text) == ["example.test"])
            _ = try await rig.reconcile([try Rig.endpoint("app.example.test", .a, ["198.18.0.10"])])
            #expect(await rig.stored("app.example.test", "A").count == 1)
        }
    }

    @Test func aZoneThatCannotBeReadDoesNotBlockAnother() async throws {
        let good = SimulatedZone(name: "good.test"), bad = SimulatedZone(name: "bad.test")
        let options = CloudflareSimulator.Options(
            tokens: [.init("half", permissions: [.zoneRead, .dnsEdit], zones: ["good.test"])], zones: [good, bad])
        try await Rig.with(options, token: "half", provider: { $0.zones = [good, bad].compactMap { try? DNSName($0.name) } }) { rig in
            let (_, report) = try await rig.reconcile([
                try Rig.endpoint("app.good.test", .a, ["198.18.0.10"]),
                try Rig.endpoint("app.bad.test", .a, ["198.18.0.11"]),
            ])
            #expect(await rig.simulator.records(zoneID: good.id).count == 2)
            #expect(await rig.simulator.records(zoneID: bad.id).isEmpty)
            let refused = report.failures.filter { $0.key.name.text.hasSuffix("bad.test") }
            #expect(!refused.isEmpty)
            #expect(refused.allSatisfy { $0.message.contains("bad.test") })
            #expect(await rig.provider.readFailures.count == 1)
        }
    }

    @Test func tunnelStatusCountsLiveConnections() async throws {
        let id = "11111111-2222-3333-4444-555555555555"
        var options = CloudflareSimulator.Options()
        options.tunnels = [.init(id: id, status: "degraded", connectors: [
            .init(connections: [.init(colo: "fra08"), .init(colo: "ams01", pendingReconnect: true)]),
            .init(connections: [.init(colo: "fra10")]),
        ])]
        try await Rig.with(options) { rig in
            let tunnels = CloudflareTunnelClient(client: rig.client, accountID: options.accountID)
            let state = try await tunnels.state(ofTunnel: id)
            #expect(state.tunnel.status == "degraded")
            #expect(state.activeConnections == 2)
            let missing = await #expect(throws: CloudflareError.self) { try await tunnels.state(ofTunnel: "00000000-0000-0000-0000-000000000000") }
            #expect(missing?.code == 7003)
        }
        let noTunnelRead = CloudflareSimulator.Options(tokens: [.init("dns-only", permissions: [.zoneRead, .dnsEdit])])
        try await Rig.with(noTunnelRead, token: "dns-only") { rig in
            let tunnels = CloudflareTunnelClient(client: rig.client, accountID: noTunnelRead.accountID)
            let error = await #expect(throws: CloudflareError.self) { try await tunnels.state(ofTunnel: id) }
            #expect(error?.description.contains("Cloudflare Tunnel:Read") == true)
        }
    }
}

/// Writes that meet a changed zone or an outage.
struct ApplyFaultTests {
    @Test func aRecordDeletedByHandSinceTheListingCountsAsDeleted() async throws {
        try await Rig.with { rig in
            let steady = try ["one", "two", "three"].map { try Rig.endpoint("\($0).example.test", .a, ["198.18.0.1"]) }
            _ = try await rig.reconcile(steady + [try Rig.endpoint("gone.example.test", .a, ["198.18.0.9"])])
            let plan = try await PlanningRun().plan(desired: steady, registry: rig.registry)
            #expect(plan.changes.deletes.map(\.name.text) == ["gone.example.test"])
            for record in await rig.stored("gone.example.test", "A") { await rig.simulator.remove(recordID: record.id, zoneID: rig.zoneID) }
            let report = try await rig.registry.apply(plan.changes)
            #expect(report.isComplete, "\(report.failures)")
            #expect(report.deleted == 2)
            #expect(await rig.stored("a-gone.example.test", "TXT").isEmpty)
        }
    }

    @Test func aZoneWhoseWritesKeepFailingDoesNotStopTheNext() async throws {
        let first = SimulatedZone(name: "first.test"), second = SimulatedZone(name: "second.test")
        var options = CloudflareSimulator.Options(zones: [first, second])
        options.batchLimit = 200
        try await Rig.with(options, policy: CloudflareRetryPolicy(attempts: 3)) { rig in
            let desired = [try Rig.endpoint("app.first.test", .a, ["198.18.0.1"]), try Rig.endpoint("app.second.test", .a, ["198.18.0.2"])]
            let plan = try await PlanningRun().plan(desired: desired, registry: rig.registry)
            await rig.simulator.fail(next: 3, status: 503)  // every attempt at the first zone's batch
            let report = try await rig.registry.apply(plan.changes)
            #expect(report.failures.map(\.key.name.text).sorted() == ["a-app.first.test", "app.first.test"])
            #expect(report.failures.allSatisfy { $0.message.contains("first.test") && $0.message.contains("HTTP 503") })
            #expect(await rig.lines(zone: 1) == [
                "a-app.second.test TXT \"heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/default/app\"",
                "app.second.test A 198.18.0.2",
            ])
            #expect(await rig.lines(zone: 0).isEmpty)
        }
    }
}

/// A 403 code 10000 means a bad token or a missing permission: the client asks the token
/// verify and says which (issue 18).
struct TokenVerifyAfterAuthenticationErrorTests {
    static let zone = SimulatedZone(name: "example.test")

    @Test func aRevokedTokenIsToldInvalidByTheVerify() async throws {
        try await Rig.with(.init(zones: [Self.zone])) { rig in
            await rig.simulator.faults.revokeToken("lab-token", answering: .authenticationError)
            let error = await #expect(throws: CloudflareError.self) { _ = try await rig.provider.records() }
            #expect(error?.kind == .invalidToken)
            #expect(error?.code == 10000)
            #expect(error?.tokenVerify == .invalid("1000 Invalid API Token"))
            #expect(error?.description.contains("token invalid or revoked") == true)
            #expect(await rig.simulator.requests().contains { $0.path.hasSuffix("/user/tokens/verify") && $0.status == 401 })
        }
    }

    @Test func aValidTokenWithoutZoneReadIsToldLackingThePermission() async throws {
        let options = CloudflareSimulator.Options(tokens: [CloudflareSimulator.Token("lab-token", permissions: [.tunnelRead])], zones: [Self.zone])
        try await Rig.with(options) { rig in
            let error = await #expect(throws: CloudflareError.self) { _ = try await rig.provider.records() }
            #expect(error?.kind == .missingPermission)
            #expect(error?.tokenVerify == .active)
            #expect(error?.description.contains("token valid but lacks Zone:Read") == true, "\(String(describing: error))")
        }
    }

    @Test func anAccountOwnedTokenIsVerifiedOnItsAccountsPath() async throws {
        let options = CloudflareSimulator.Options(
            tokens: [CloudflareSimulator.Token("lab-token", permissions: [.tunnelRead], accountOwned: true)], zones: [Self.zone])
        try await options.simulatorRunning { url, simulator in
            let client = CloudflareClient(baseURL: url, token: "lab-token", accountID: options.accountID)
            let error = await #expect(throws: CloudflareError.self) { _ = try await client.zones(named: "example.test") }
            #expect(error?.kind == .missingPermission)
            #expect(error?.tokenVerify == .active)
            let verifies = await simulator.requests().filter { $0.path.hasSuffix("tokens/verify") }.map(\.status)
            #expect(verifies == [401, 200])
            // Without the account the user path's "no" stands.
            let alone = CloudflareClient(baseURL: url, token: "lab-token")
            let unknown = await #expect(throws: CloudflareError.self) { _ = try await alone.zones(named: "example.test") }
            #expect(unknown?.kind == .invalidToken)
        }
    }
}

extension CloudflareSimulator.Options {
    /// Runs `body` with a simulator of these options listening.
    func simulatorRunning(_ body: (String, CloudflareSimulator) async throws -> Void) async throws {
        let simulator = CloudflareSimulator(self)
        try await simulator.withRunning { url in try await body(url, simulator) }
    }
}
