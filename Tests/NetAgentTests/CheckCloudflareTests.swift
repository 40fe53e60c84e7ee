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
}
