import Foundation
import Lab
import Testing
import TestSupport

/// Cloudflare's API misbehaving under a running agent, then recovering.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct CloudflareFaultTests {
    @Test("cf-429-storm") func rateLimitStorm() async throws {
        try await Scenario(
            id: "cf-429-storm", area: "Cloudflare", fault: "8 × 429 (code 971, Retry-After: 1) on the agent's first requests",
            assertions: "converged; every Retry-After waited out before the next request; foreign records intact; mails exact"
        ).run {
            try await FaultLab.with { lab in
                let cloudflare = try #require(lab.cloudflare)
                await cloudflare.faults.respond(status: 429, times: 8, retryAfter: 1)
                try lab.startAgent()
                try await lab.waitUntilConverged("after the 429 storm")
                let requests = await cloudflare.requests()
                #expect(requests.filter { $0.status == 429 }.count == 8)
                // Each 429 said Retry-After: 1; the client asked nothing sooner.
                let gaps = zip(requests, requests.dropFirst()).filter { $0.0.status == 429 }.map { $0.1.at - $0.0.at }
                #expect(gaps.count == 8 && gaps.allSatisfy { $0 >= .milliseconds(950) }, "\(gaps)")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "waited out each Retry-After, \(requests.count) requests in all; \(mail.summary)"
            }
        }
    }

    @Test("cf-5xx") func serverErrors() async throws {
        try await Scenario(
            id: "cf-5xx", area: "Cloudflare", fault: "3 × 502 then 2 × 503 mid-run, on the cycle after a route is added",
            assertions: "converged with the new route; no record written twice; foreign intact; mails exact"
        ).run {
            try await FaultLab.with { lab in
                let cloudflare = try #require(lab.cloudflare)
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                await cloudflare.faults.respond(status: 502, times: 3)
                await cloudflare.faults.respond(status: 503, times: 2)
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.waitUntilConverged("after the 5xx")
                let failed = await cloudflare.requests().filter { $0.status >= 500 }.count
                #expect(failed == 5)
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "retried with back-off through \(failed) 5xx; \(mail.summary)"
            }
        }
    }

    @Test("cf-timeout") func stalledWrite() async throws {
        try await Scenario(
            id: "cf-timeout", area: "Cloudflare",
            fault: "the batch write stalls 35 s (past the client's 30 s timeout), then lands anyway",
            assertions: "converged; the batch sent again on the next cycle does not duplicate records (one A per name); foreign intact; mails exact"
        ).run {
            try await FaultLab.with { lab in
                let cloudflare = try #require(lab.cloudflare)
                await cloudflare.faults.stall(for: .seconds(35), writesOnly: true)
                try lab.startAgent()
                try await eventually("the write is held", timeout: .seconds(30)) { await cloudflare.faults.stallsStarted() == 1 }
                try await lab.waitUntilConverged("after the stalled write", timeout: .seconds(120))
                // The held batch is answered (logged) only when it lands, after the client gave up
                // (a write that timed out is not repeated at once) and the next cycle, listing the zone
                // and planning again, wrote the records: it must not leave a second copy of any.
                try await eventually("the held batch landed", timeout: .seconds(60)) {
                    await cloudflare.requests().filter(\.isBatch).count >= 2
                }
                let problems = await lab.differences()
                #expect(problems.isEmpty, "once the held write landed: \(problems)")
                let batches = await cloudflare.requests().filter(\.isBatch).map(\.status)
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "timed out after 30 s, written again on the next cycle; batches answered \(batches.map(String.init).joined(separator: ", ")) (the held one last); \(mail.summary)"
            }
        }
    }

    @Test("cf-chunk") func failingChunk() async throws {
        try await Scenario(
            id: "cf-chunk", area: "Cloudflare", fault: "every batch touching wiki.home.test is refused (400, code 1004) until cleared",
            assertions: "the rest of the chunk applied at once; dns-apply alert for wiki fired once, resolved once; converged; foreign intact"
        ).run {
            try await FaultLab.with { lab in
                let cloudflare = try #require(lab.cloudflare)
                await cloudflare.faults.failChunk(containing: "wiki.home.test")
                try lab.startAgent()
                try await eventually("grafana applied beside the refused record") {
                    await cloudflare.records(zoneID: lab.zoneID).contains { $0.name == "grafana.home.test" && $0.type == "A" }
                }
                try await lab.waitForMail("FIRING", key: "dns-apply")
                #expect(await !cloudflare.records(zoneID: lab.zoneID).contains { $0.name == "wiki.home.test" && $0.type == "A" })
                await cloudflare.faults.clear()
                try await lab.waitUntilConverged("after the refusals end")
                try await lab.waitForMail("RESOLVED", key: "dns-apply")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                let wiki = mail.episodes.filter { $0.key.hasPrefix("dns-apply") && $0.key.contains("wiki.home.test") }
                #expect(!wiki.isEmpty && wiki.allSatisfy { $0.value.fired == 1 && $0.value.resolved == 1 }, "\(mail.summary)")
                return "bisected, applied the rest, retried wiki after the fault; \(mail.summary)"
            }
        }
    }

    @Test("cf-token-revoked") func revokedToken() async throws {
        try await Scenario(
            id: "cf-token-revoked", area: "Cloudflare", fault: "the API token is revoked mid-run (403, code 9109) while a route is added",
            assertions: "no write while revoked; the error names 9109; provider-failing fired once, resolved once; converged after the token is back"
        ).run {
            try await FaultLab.with { lab in
                let cloudflare = try #require(lab.cloudflare)
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                let before = await cloudflare.requests().count
                await cloudflare.faults.revokeToken(FaultLab.token)
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.waitForMail("FIRING", key: "provider-failing cloudflare")
                let during = await cloudflare.requests().dropFirst(before)
                #expect(!during.isEmpty && during.allSatisfy { $0.status == 403 }, "\(during)")
                #expect(lab.agentOutput.contains("9109"), "the error names Cloudflare's code")
                await cloudflare.faults.restoreToken(FaultLab.token)
                try await lab.waitUntilConverged("after the token is back")
                try await lab.waitForMail("RESOLVED", key: "provider-failing cloudflare")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                #expect(mail.episodes(of: "provider-failing cloudflare").map(\.fired) == [1], "\(mail.summary)")
                return "\(during.count) requests refused 403, none written; back-off until the token returned; \(mail.summary)"
            }
        }
    }
}
