import Foundation
import TestSupport
import Testing

/// `netagent plan` as a person runs it: the built binary, its flags, its output and exit code.
@Suite(.enabled(if: Netagent.binary != nil || Repository.isCI, "the netagent binary is not built beside the tests"))
struct PlanCommandTests {
    func netagent(_ arguments: [String]) throws -> Netagent.Outcome {
        try Netagent.run(try #require(Netagent.binary, "netagent is not built beside the tests"), arguments)
    }

    @Test func jsonForAFixtureFolderWithFilters() throws {
        let folder = try Fixtures.folder().appendingPathComponent("onedr0p__home-ops")
        let run = try netagent([
            "plan", "--manifests", folder.path, "--output", "json", "--explain", "--gateway-name", "envoy-external",
            "--domain-filter", "turbo.ac",
            "--manifest-namespace", folder.appendingPathComponent("kubernetes__apps__flux-system__flux-instance__app__httproute.yaml").path + "=flux-system",
            "--manifest-namespace", folder.appendingPathComponent("kubernetes__apps__network__envoy-gateway__app__envoy.yaml").path + "=network",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let desired = try #require(object["desired"] as? [[String: Any]])
        // EXPECTED.md: the route's CNAME, and the tunnel's own name from the `crd` DNSEndpoint.
        #expect(desired.map { $0["name"] as? String } == ["external.turbo.ac", "flux-webhook.turbo.ac"])
        #expect(desired.map { $0["type"] as? String } == ["CNAME", "CNAME"])
        #expect(desired.map { $0["targets"] as? [String] } == [["11111111-2222-3333-4444-555555555555.cfargotunnel.com"], ["external.turbo.ac"]])
        #expect(desired.map { $0["resource"] as? String } == ["crd/default/cloudflare-tunnel", "httproute/flux-system/github-webhook"])
        let explanations = try #require(object["explanations"] as? [[String: String]])
        #expect(explanations.map { $0["resource"] } == ["httproute/network/https-redirect"])
        #expect(run.stderr.contains(" info netagent.plan: read 5 files, "), "\(run.stderr)")
    }

    @Test func badInputIsReportedAndTheRestStillPlans() throws {
        let folder = try Repository.temporaryFolder("plan")
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: default}
            spec:
              listeners: [{name: http, protocol: HTTP, port: 80}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: web
              annotations: {external-dns.alpha.kubernetes.io/ttl: "often"}
            spec: {hostnames: [web.example.com, "bad_host.example.com"], parentRefs: [{name: gw}]}
            """
        try good.write(to: folder.appendingPathComponent("good.yaml"), atomically: true, encoding: .utf8)
        try "kind: HTTPRoute\nmetadata: {name: [broken\n".write(to: folder.appendingPathComponent("broken.yml"), atomically: true, encoding: .utf8)
        let run = try netagent(["plan", "--manifests", folder.path, "--gateway-address", "default/gw=192.0.2.1"])
        // The records are printed and the exit code says that errors were reported.
        #expect(run.status == 1)
        #expect(run.stdout.split(separator: "\n").dropFirst().first?.hasPrefix("web.example.com  A     -    192.0.2.1") == true, "\(run.stdout)")
        let errors = run.stderr.split(separator: "\n").map(String.init)
        let broken = folder.appendingPathComponent("broken.yml").path
        #expect(errors.contains { $0.contains(" error netagent.plan: \(broken):3: malformed YAML") && $0.hasSuffix("file=\(broken) line=3") }, "\(errors)")
        #expect(errors.contains { $0.contains(" warning netagent.plan: ") && $0.contains("invalid hostname 'bad_host.example.com'")
            && $0.hasSuffix("resource=httproute/default/web") })
        #expect(errors.contains { $0.contains("\"often\"") && $0.contains("default TTL is kept") })
    }

    @Test(arguments: [
        (["plan"], "--manifests"),
        (["plan", "--manifests", ".", "--gateway-address", "gw=1.2.3.4"], "NS/NAME=ADDR"),
        (["plan", "--manifests", ".", "--label-filter", "a in b"], "--label-filter"),
        (["plan", "--manifests", ".", "--source", "gateway-sctproute"], "gateway-httproute"),
        (["plan", "--manifests", ".", "--output", "yaml"], "yaml"),
        (["plan", "--manifests", ".", "--output", "markdown"], "--against"),
        (["plan", "--manifests", ".", "--against", ".", "--against-git", "HEAD"], "not both"),
        (["plan", "--against", "."], "--manifests"),
        (["plan", "--manifests", ".", "--cluster", "a/b"], "--cluster"),
    ])
    func badFlagsAreRefusedBeforeAnythingIsRead(arguments: [String], fragment: String) throws {
        let run = try netagent(arguments)
        #expect(run.status == 2)
        #expect(run.stderr.contains(fragment), "\(run.stderr)")
    }
}
