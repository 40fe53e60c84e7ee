import Foundation
import Lab
import NetIO
import Testing
import TestSupport

/// Pi-hole misbehaving under a running agent, then recovering.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholeFaultTests {
    @Test("ph-session-expiry") func sessionExpiry() async throws {
        try await Scenario(
            id: "ph-session-expiry", area: "Pi-hole", fault: "every API session ends mid-run, then a route is added",
            assertions: "one new login, no seat leaked (0 sessions after SIGTERM); converged; foreign lines intact; mails exact"
        ).run {
            try await FaultLab.with(FaultLab.Setup(cloudflare: false)) { lab in
                let pihole = lab.piholes[0]
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                let before = await pihole.counters()
                await pihole.faults.expireSessions()
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.waitUntilConverged("after the sessions expired")
                let delta = await pihole.counters().since(before)
                #expect(delta.logins == 1)
                try await lab.stopAgent()
                #expect(await pihole.activeSessions() == 0)
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "401, logged in again once (\(delta.calls) calls); \(mail.summary)"
            }
        }
    }

    @Test("ph-seats-exhausted") func seatsExhausted() async throws {
        try await Scenario(
            id: "ph-seats-exhausted", area: "Pi-hole", fault: "other clients hold all 16 API seats (429 api_seats_exceeded) until they log out",
            assertions: "Cloudflare converges meanwhile; provider-failing for the Pi-hole fired once, resolved once; converged; no seat leaked"
        ).run {
            try await FaultLab.with { lab in
                let pihole = lab.piholes[0]
                await pihole.faults.occupySeats(16)
                try lab.startAgent()
                try await lab.waitForMail("FIRING", key: "provider-failing pihole")
                let cloudflareProblems = await lab.differences().filter { $0.hasPrefix("cloudflare") }
                #expect(cloudflareProblems.isEmpty, "one target down holds up no other: \(cloudflareProblems)")
                await pihole.faults.freeSeats()
                try await lab.waitUntilConverged("after the seats were given back")
                try await lab.waitForMail("RESOLVED", key: "provider-failing pihole")
                try await lab.stopAgent()
                #expect(await pihole.activeSessions() == 0)
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                #expect(mail.episodes(of: "provider-failing pihole").map(\.fired) == [1], "\(mail.summary)")
                return "login refused 429, back-off until a seat was free; \(mail.summary)"
            }
        }
    }

    @Test("ph-resolver-restart") func resolverDown() async throws {
        try await Scenario(
            id: "ph-resolver-restart", area: "Pi-hole", fault: "dnsmasq is stopped mid-run and started again (the API keeps serving)",
            assertions: "dns-server alert fired once, resolved once; records resolve again from dnsmasq; converged; mails exact"
        ).run {
            try await FaultLab.with(FaultLab.Setup(cloudflare: false)) { lab in
                let pihole = lab.piholes[0]
                // The probe asks the Pi-hole's dnsmasq for a route's name every second.
                lab.setProbes("""
                      interval: 1s
                      timeout: 500ms
                      dns:
                        servers: [{ name: pihole, address: 127.0.0.1, port: \(pihole.dnsPort) }]
                        question: grafana.home.test
                    """)
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                await pihole.faults.stopResolver()
                try await lab.waitForMail("FIRING", key: "dns-server")
                try await pihole.faults.startResolver()
                try await lab.waitForMail("RESOLVED", key: "dns-server")
                let resolver = Resolver(options: .init(timeout: .seconds(1)))
                defer { resolver.shutdown() }
                let answer = try await resolver.query("grafana.home.test", type: .a, server: try DNSServer(parsing: pihole.dnsAddress))
                #expect(answer.records.map(\.data) == [.a(FaultLab.gatewayAddress)])
                // A restart as FTL does it, mid-run, while a route is added.
                try await pihole.faults.restartResolver()
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.waitUntilConverged("after the restarts")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                #expect(mail.episodes(of: "dns-server").map(\.fired) == [1], "\(mail.summary)")
                return "probe failed while dnsmasq was down, passed once it was back; \(mail.summary)"
            }
        }
    }

    @Test("ph-ha-one-down") func oneOfTwoDown() async throws {
        try await Scenario(
            id: "ph-ha-one-down", area: "Pi-hole", fault: "HA pair: the second Pi-hole is down (connection refused) at start, back later",
            assertions: "the first converges meanwhile; provider-failing for the second fired once, resolved once; both converged"
        ).run {
            try await FaultLab.with(FaultLab.Setup(piholes: 2, cloudflare: false)) { lab in
                await lab.piholeServers[1].stop()
                try lab.startAgent()
                try await lab.waitForMail("FIRING", key: "provider-failing pihole \(lab.piholeURLs[1])")
                let first = await lab.differences().filter { $0.hasPrefix("pihole 0") }
                #expect(first.isEmpty, "\(first)")
                try await lab.piholeServers[1].start()
                try await lab.waitUntilConverged("after the second came back")
                try await lab.waitForMail("RESOLVED", key: "provider-failing pihole \(lab.piholeURLs[1])")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                #expect(mail.episodes(of: "provider-failing pihole").map(\.fired) == [1], "\(mail.summary)")
                return "the live one converged at once, the other after it came back; \(mail.summary)"
            }
        }
    }
}
