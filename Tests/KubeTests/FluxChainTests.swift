import DNSCore
import Foundation
import TestSupport
import Testing
@testable import Kube

/// Flux chains from the entry point: Tests/Fixtures/gitops/flux-home-ops (its README.md
/// holds the expected records) and small trees for cycles and the repository root.
struct FluxChainTests {
    static let repo = Repository.fixture("gitops/flux-home-ops")
    static let entry = repo + "/kubernetes/flux/cluster"
    static let expected = [
        "grafana.example.org A 192.0.2.20", "jellyfin.example.org A 192.0.2.10",
        "plex.example.org A 192.0.2.10", "watch.example.org A 192.0.2.10",
    ]

    @Test func homeOpsFromTheEntryPoint() throws {
        let (result, set) = planTree([Self.entry], repoRoot: Self.repo)
        #expect(lines(result.endpoints) == Self.expected)
        #expect(result.endpoints.map(\.labels.resource) == [
            "httproute/observability/grafana", "httproute/media/jellyfin", "httproute/media/plex", "httproute/media/plex",
        ])
        #expect(set.gateways.map(\.id.description) == ["gateway/network/envoy-external", "gateway/network/envoy-internal"])
        // `name: _` of the shared Component, once per namespace folder, never "defined again".
        #expect(set.namespaces.map(\.metadata.name) == ["network", "media", "observability"])
        // The one problem: the tunnel's ID is in a Secret, whose values are never read.
        let tunnel = Self.repo + "/kubernetes/apps/network/cloudflare-tunnel/app/dnsendpoint.yaml"
        #expect(set.diagnostics.filter { !$0.isNote }.map(\.description) == [
            "\(tunnel):9: variable ${CLOUDFLARE_TUNNEL_ID} has no value, its value is in Secret cluster-secrets "
                + "(\(Self.repo)/kubernetes/flux/vars/cluster-secrets.sops.yaml:1), which is not read "
                + "(--var CLOUDFLARE_TUNNEL_ID=VALUE or --vars-file); its object is left out",
        ])
        #expect(set.dnsEndpoints.isEmpty)
        // Each Flux Kustomization counted once as a document passed over, whether the reader
        // parsed its file again or counted what the tree parsed.
        #expect(set.skippedKinds["Kustomization"] == 8 && set.skippedKinds["GitRepository"] == 1, "\(set.skippedKinds)")
        // A Flux Kustomization building from another source is named, not silently dropped.
        #expect(set.unexpanded.map(\.description) == [
            "\(Self.repo)/kubernetes/apps/observability/kube-prometheus/ks.yaml:12: Kustomization observability/kube-prometheus "
                + "not expanded: source GitRepository/observability/kube-prometheus is not this repository",
        ])
    }

    @Test func secretVariablesFromVar() throws {
        let id = "11111111-2222-3333-4444-555555555555"
        let (_, set) = planTree([Self.entry], variables: ["CLOUDFLARE_TUNNEL_ID": id], repoRoot: Self.repo)
        #expect(set.diagnostics.filter { !$0.isNote }.isEmpty, "\(set.diagnostics)")
        let endpoint = try #require(set.dnsEndpoints.first)
        #expect(endpoint.id.description == "dnsendpoint/network/cloudflare-tunnel")
        #expect(endpoint.endpoints.map { "\($0.dnsName) \($0.targets)" } == ["tunnel.example.org [\"\(id).cfargotunnel.com\"]"])
    }

    /// The whole `kubernetes` folder gives the same records: each file is read once, in the
    /// context of the Flux Kustomization that reaches it, and a Component's files (which say
    /// `${APP}`) are never read on their own.
    @Test func wholeTreeGivesTheSameRecords() throws {
        let (result, set) = planTree([Self.repo + "/kubernetes"], repoRoot: Self.repo)
        #expect(lines(result.endpoints) == Self.expected)
        #expect(!set.diagnostics.contains { $0.message.contains("${APP}") }, "\(set.diagnostics)")
        #expect(set.diagnostics.filter { !$0.isNote }.count == 1, "\(set.diagnostics.filter { !$0.isNote })")
    }

    /// A Flux Kustomization as a document of a multi-document file (its mapping on line 2).
    static func flux(_ name: String, path: String) -> String {
        "---\n" + KustomizeAndFluxTests.flux(name: name, path: path, namespace: nil)
    }

    /// `spec.path` is relative to the folder holding `.git`, found above the entry point.
    @Test func repositoryRootFoundAboveTheEntryPoint() throws {
        let tree = try TemporaryTree()
        try FileManager.default.createDirectory(atPath: tree.path(".git"), withIntermediateDirectories: true)
        try tree.write("clusters/home/apps.yaml", Self.flux("apps", path: "./apps"))
        // A folder of the same name beside the entry point is not the one Flux reads.
        try tree.write("clusters/home/apps/route.yaml", KustomizeAndFluxTests.route(host: "wrong.example.org"))
        try tree.write("apps/route.yaml", KustomizeAndFluxTests.route(host: "right.example.org"))
        let set = ManifestLoader.load(paths: [tree.path("clusters/home/apps.yaml")])
        #expect(set.routes.flatMap(\.hostnames) == ["right.example.org"])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
    }

    @Test func pathOutsideTheRepositoryIsRefused() throws {
        let tree = try TemporaryTree()
        try FileManager.default.createDirectory(atPath: tree.path("repo/.git"), withIntermediateDirectories: true)
        try tree.write("repo/ks.yaml", Self.flux("escape", path: "../outside"))
        try tree.write("outside/route.yaml", KustomizeAndFluxTests.route(host: "outside.example.org"))
        let set = ManifestLoader.load(paths: [tree.path("repo")])
        #expect(set.routes.isEmpty)
        #expect(set.diagnostics.map(\.message) == ["spec.path ../outside is not a folder of the repository at \(tree.root.standardizedFileURL.path)/repo; not followed"])
        #expect(set.unexpanded.map(\.reason) == ["spec.path ../outside is not in this repository"])
    }

    /// Chains of any depth; a chain that comes back to a Flux Kustomization is refused, naming
    /// the files; one that reaches its own file (Flux's bootstrap layout) is not a cycle.
    @Test func deepChainAndCycle() throws {
        let tree = try TemporaryTree()
        try FileManager.default.createDirectory(atPath: tree.path(".git"), withIntermediateDirectories: true)
        try tree.write("flux/ks.yaml", Self.flux("root", path: "./flux") + Self.flux("a", path: "./a"))
        try tree.write("a/ks.yaml", Self.flux("b", path: "./b"))
        try tree.write("b/ks.yaml", Self.flux("c", path: "./c"))
        try tree.write("c/ks.yaml", Self.flux("back", path: "./a"))
        try tree.write("c/route.yaml", KustomizeAndFluxTests.route(host: "deep.example.org"))
        let set = ManifestLoader.load(paths: [tree.path("flux")])
        #expect(set.routes.flatMap(\.hostnames) == ["deep.example.org"])
        let a = tree.path("a/ks.yaml")
        #expect(set.diagnostics.map(\.description) == [
            "\(a): Flux Kustomization cycle refused: \(a):2 b → \(tree.path("b/ks.yaml")):2 c → "
                + "\(tree.path("c/ks.yaml")):2 back → \(a):2 b; not followed again",
        ])
    }

    /// substituteFrom reads ConfigMaps in order (a later one wins), `substitute` wins over them.
    @Test func substituteFromOrder() throws {
        let tree = try TemporaryTree()
        try FileManager.default.createDirectory(atPath: tree.path(".git"), withIntermediateDirectories: true)
        try tree.write("vars/settings.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: first}
            data: {HOST: first, DOMAIN: example.org, ZONE: a}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: second}
            data: {HOST: second, ZONE: b}
            """)
        try tree.write("ks.yaml", """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: app, namespace: flux-system}
            spec:
              path: ./app
              postBuild:
                substitute: {ZONE: c}
                substituteFrom:
                  - {kind: ConfigMap, name: first}
                  - {kind: ConfigMap, name: second}
                  - {kind: ConfigMap, name: absent, optional: true}
            """)
        try tree.write("app/route.yaml", KustomizeAndFluxTests.route(host: "${HOST}.${ZONE}.${DOMAIN}"))
        let set = ManifestLoader.load(paths: [tree.path("ks.yaml")])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(set.routes.flatMap(\.hostnames) == ["second.c.example.org"])
    }
}
