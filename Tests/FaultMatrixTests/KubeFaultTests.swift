import Foundation
import Lab
import Testing
import TestSupport

/// The Kubernetes API misbehaving under a running agent, then recovering.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct KubeFaultTests {
    @Test("k8s-watch-dropped") func watchDropped() async throws {
        try await Scenario(
            id: "k8s-watch-dropped", area: "Kubernetes", fault: "every watch connection breaks mid-stream, then routes change",
            assertions: "the informers watch again and see the add and the delete; both providers converged; foreign intact; mails exact"
        ).run {
            try await FaultLab.with { lab in
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                let watches = await lab.kube.requests().filter { $0.query["watch"] != nil }.count
                await lab.kube.faults.dropWatches()
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.deleteRoute("grafana")
                try await lab.waitUntilConverged("after the watches dropped")
                var rewatches = 0
                try await eventually("each of the 4 informers watches again") {
                    rewatches = await lab.kube.requests().filter { $0.query["watch"] != nil }.count - watches
                    return rewatches >= 4
                }
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "\(rewatches) watches opened again; \(mail.summary)"
            }
        }
    }

    @Test("k8s-410-expired") func resourceVersionsExpired() async throws {
        try await Scenario(
            id: "k8s-410-expired", area: "Kubernetes", fault: "the history is compacted: open watches end with ERROR 410 Expired, then routes change",
            assertions: "the informers relist; both providers converged with the changes; foreign intact; mails exact"
        ).run {
            try await FaultLab.with { lab in
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                let isList = { (request: SimulatedRequest) in request.method == "GET" && request.query["limit"] != nil && request.query["watch"] == nil }
                let lists = await lab.kube.requests().filter(isList).count
                await lab.kube.faults.expireResourceVersions()
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.deleteRoute("wiki")
                try await lab.waitUntilConverged("after 410")
                var relists = 0
                try await eventually("each of the 4 informers lists again") {
                    relists = await lab.kube.requests().filter(isList).count - lists
                    return relists >= 4
                }
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "\(relists) relists; \(mail.summary)"
            }
        }
    }

    @Test("k8s-api-down") func apiDown() async throws {
        try await Scenario(
            id: "k8s-api-down", area: "Kubernetes", fault: "the API server goes away (connection refused) for 8 s of resyncs every 2 s, then returns",
            assertions: "no record deleted while it is down; after it returns a new route is applied; converged; foreign intact; mails exact"
        ).run {
            var setup = FaultLab.Setup()
            setup.resync = "2s"
            return try await FaultLab.with(setup) { lab in
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                await lab.kubeServer.stop()
                // Resyncs run against the cache the informers kept: nothing may be deleted.
                for _ in 0..<8 {
                    try await Task.sleep(for: .seconds(1))
                    let problems = await lab.differences()
                    #expect(problems.isEmpty, "while the API is down: \(problems)")
                }
                try await lab.kubeServer.start()
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.waitUntilConverged("after the API returned")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                return "kept the records while down, watched again once it was back; \(mail.summary)"
            }
        }
    }

    @Test("k8s-crd-missing") func gatewayAPINotServed() async throws {
        try await Scenario(
            id: "k8s-crd-missing", area: "Kubernetes", fault: "the Gateway API group stops being served (CRDs removed, 404) mid-run, resyncs every 2 s; the agent restarts while it is missing",
            assertions: "no record deleted, before or after the restart; a warning names the group; delete-guard fired once, resolved once; converged after the CRDs return; mails exact"
        ).run {
            var setup = FaultLab.Setup()
            setup.resync = "2s"
            return try await FaultLab.with(setup) { lab in
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                await lab.kube.faults.hideGroup("gateway.networking.k8s.io")
                try await eventually("the agent says the group is not served") {
                    lab.agentOutput.contains("does not serve")
                }
                for _ in 0..<6 {
                    try await Task.sleep(for: .seconds(1))
                    let problems = await lab.differences()
                    #expect(problems.isEmpty, "while the CRDs are missing: \(problems)")
                }
                // A restart while they are missing: the agent has nothing cached, reads no route
                // at all, and must still delete nothing (the guard holds an empty desired state).
                #expect(try await lab.stopAgent() == 0)
                try lab.startAgent()
                try await lab.waitForMail("FIRING", key: "delete-guard")
                let problems = await lab.differences()
                #expect(problems.isEmpty, "after a restart without the CRDs: \(problems)")
                await lab.kube.faults.showGroup("gateway.networking.k8s.io")
                try await lab.addRoute("blog", hosts: ["blog.home.test"])
                try await lab.waitUntilConverged("after the CRDs returned")
                try await lab.waitForMail("RESOLVED", key: "delete-guard")
                try await lab.stopAgent()
                let mail = try await lab.mailLedger()
                #expect(mail.invariantFailures.isEmpty, "\(mail.invariantFailures)")
                #expect(mail.episodes.filter { $0.key.hasPrefix("delete-guard") }.allSatisfy { $0.value.fired == 1 }, "\(mail.summary)")
                return "kept the cache while the group was missing; after a restart without it the guard withheld every delete; \(mail.summary)"
            }
        }
    }

    @Test("k8s-crd-missing-once") func gatewayAPINotServedOnce() async throws {
        try await Scenario(
            id: "k8s-crd-missing-once", area: "Kubernetes", fault: "`run --once` against a cluster without the Gateway API CRDs, after a converged run",
            assertions: "exit 1; the output names gateway.networking.k8s.io as not served; no record deleted"
        ).run {
            try await FaultLab.with { lab in
                try lab.startAgent()
                try await lab.waitUntilConverged("first run")
                try await lab.stopAgent()
                await lab.kube.setGroup("gateway.networking.k8s.io", .missing)
                let binary = try #require(Netagent.binary)
                let once = try await Netagent.run(binary, ["run", "--config", lab.configPath, "--once"], environment: FaultLab.environment)
                #expect(once.status == 1, "\(once.stdout)\(once.stderr)")
                #expect((once.stdout + once.stderr).contains("not served"), "\(once.stdout)\(once.stderr)")
                let problems = await lab.differences()
                #expect(problems.isEmpty, "\(problems)")
                return "exit \(once.status), nothing written"
            }
        }
    }
}
