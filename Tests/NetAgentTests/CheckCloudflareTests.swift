import Config
import DNSCore
import Foundation
import Kube
import Lab
import NetAgent
import TestSupport
import Testing

/// `netagent check` against the Cloudflare simulator: records the routes ask for and the zone
/// lacks are named as pending changes (exit 1) without a single write; after a reconcile the
/// zone is in sync (exit 0).
struct CheckCloudflareTests {
    @Test func pendingChangesThenInSync() async throws {
        let folder = try Repository.temporaryFolder("check-cloudflare")
        try CloudflarePlanTests.manifests.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(["NETAGENT_TEST_CF_TOKEN": "lab-token"]) { $1 }
        let home = SimulatedZone(name: "home.test"), other = SimulatedZone(name: "other.test")
        let simulator = CloudflareSimulator(CloudflareSimulator.Options(zones: [home, other]))
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        try await simulator.withRunning { url in
            let file = folder.appendingPathComponent("netagent.yaml")
            try CloudflarePlanTests.config(folder: folder, url: url).write(to: file, atomically: true, encoding: .utf8)
            let check = { () async throws -> (Int32, [[String: Any]]) in
                let run = try await Netagent.run(binary, ["check", "--config", file.path, "--output", "json"], environment: environment)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
                #expect(JSONShape.problems(object, schema: try JSONShape.schema("docs/check.schema.json")).isEmpty)
                return (run.status, (object["checks"] as? [[String: Any]]) ?? [])
            }

            let (pendingStatus, pending) = try await check()
            #expect(pendingStatus == 1)
            let zone = try #require(pending.first { $0["target"] as? String == "cloudflare zone home.test" })
            #expect(zone["reason"] as? String
                == "1 change pending: missing jellyfin.home.test CNAME \(CloudflarePlanTests.tunnel).cfargotunnel.com — the next reconcile (`netagent run`) makes them",
                "\(zone)")
            #expect(await simulator.requests().allSatisfy { !$0.isWrite }, "check only reads")

            let config = try NetAgentConfig.load(file: file.path)
            let secrets = try config.resolveSecrets(environment: environment)
            var objects = SourceObjects()
            objects.add(ManifestLoader.load(paths: config.sources.manifests))
            for target in DNSTarget.all(config: config, secrets: secrets, state: nil) {
                let desired = try objects.desired(select: target.config.select, annotationPrefixes: config.sources.annotationPrefixes)
                _ = try await target.planning.reconcile(desired: desired.endpoints, registry: target.registry)
            }

            let (syncStatus, synced) = try await check()
            #expect(syncStatus == 0, "\(synced)")
            #expect(synced.compactMap { $0["reason"] as? String } == ["in sync (2 desired records)", "in sync (2 desired records)"], "the provider's desired records, over both zones")
        }
    }

    /// Issue 18: a revoked token answered 403 code 10000 (a bad token *or* a missing permission):
    /// `check` follows it with the token verify, names the token as the first failing line, and the
    /// other zone's line follows from it. A token that is valid but lacks Zone:Read says so.
    @Test func aRevokedTokenIsTheRootAndAMissingPermissionIsNamed() async throws {
        let folder = try Repository.temporaryFolder("check-cloudflare-token")
        try CloudflarePlanTests.manifests.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let home = SimulatedZone(name: "home.test"), other = SimulatedZone(name: "other.test")
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let tokens = [CloudflareSimulator.Token("lab-token"), CloudflareSimulator.Token("dns-only", permissions: [.dnsEdit, .tunnelRead])]
        let simulator = CloudflareSimulator(CloudflareSimulator.Options(tokens: tokens, zones: [home, other]))
        try await simulator.withRunning { url in
            let file = folder.appendingPathComponent("netagent.yaml")
            try CloudflarePlanTests.config(folder: folder, url: url).write(to: file, atomically: true, encoding: .utf8)
            func check(token: String) async throws -> (status: Int32, checks: [[String: Any]], table: String) {
                let environment = ProcessInfo.processInfo.environment.merging(["NETAGENT_TEST_CF_TOKEN": token]) { $1 }
                let run = try await Netagent.run(binary, ["check", "--config", file.path, "--output", "json"], environment: environment)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
                #expect(JSONShape.problems(object, schema: try JSONShape.schema("docs/check.schema.json")).isEmpty)
                let table = try await Netagent.run(binary, ["check", "--config", file.path], environment: environment)
                return (run.status, (object["checks"] as? [[String: Any]]) ?? [], table.stdout)
            }

            await simulator.faults.revokeToken("lab-token", answering: .authenticationError)
            let revoked = try await check(token: "lab-token")
            #expect(revoked.status == 1)
            let failing = revoked.checks.filter { $0["ok"] as? Bool == false }
            let root = try #require(failing.first)
            #expect((root["reason"] as? String ?? "").contains("token invalid or revoked (1000 Invalid API Token)"), "\(failing)")
            #expect(root["followsFrom"] == nil)
            #expect(failing.dropFirst().allSatisfy { ($0["followsFrom"] as? [String: String])?["target"] == root["target"] as? String },
                    "\(failing)")
            let firstFail = revoked.table.split(separator: "\n").first { $0.contains("FAIL") } ?? ""
            #expect(firstFail.contains("token invalid or revoked"), "\(revoked.table)")
            #expect(await simulator.requests().contains { $0.path == "/user/tokens/verify" && $0.status == 401 })

            let lacking = try await check(token: "dns-only")
            #expect(lacking.status == 1)
            let line = try #require(lacking.checks.first { $0["ok"] as? Bool == false })
            #expect((line["reason"] as? String ?? "").contains("token valid but lacks Zone:Read on zone home.test"), "\(lacking.checks)")
        }
    }
}
