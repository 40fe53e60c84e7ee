import Foundation
import TestSupport
import Testing

/// `netagent plan` on a GitOps tree: `--var`, `--vars-file` and `--default-namespace`.
@Suite(.enabled(if: Netagent.binary != nil || Repository.isCI, "the netagent binary is not built beside the tests"))
struct PlanGitOpsCommandTests {
    func netagent(_ arguments: [String]) throws -> Netagent.Outcome {
        try Netagent.run(try #require(Netagent.binary, "netagent is not built beside the tests"), arguments)
    }

    @Test func variablesFromFlagsAndFiles() throws {
        let tree = try KustomizeAndFluxTests.tree(host: "${APP}.${SECRET_DOMAIN}")
        try tree.write("vars.env", "# from cluster-secrets\nSECRET_DOMAIN=example.org\n")
        let run = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--vars-file", tree.path("vars.env"), "--var", "APP=media"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("media.example.org  A"), "\(run.stdout)")
        let missing = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--var", "APP=media"])
        #expect(missing.status == 1)
        let route = tree.path("kubernetes/apps/media/app/httproute.yaml")
        #expect(missing.stderr.contains("\(route):6: variable ${SECRET_DOMAIN} has no value"), "\(missing.stderr)")
        #expect(!missing.stdout.contains("${"), "\(missing.stdout)")
        let bad = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--var", "APP"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--var 'APP' is not NAME=VALUE"), "\(bad.stderr)")
    }

    /// From the entry point of a Flux repository (`kubernetes/flux/cluster`), with the
    /// repository root given: every record of the chain, the Secret's variable from --var.
    @Test func fluxEntryPointWithRepoRoot() throws {
        let run = try netagent(["plan", "--manifests", FluxChainTests.entry, "--repo-root", FluxChainTests.repo,
                                "--var", "CLOUDFLARE_TUNNEL_ID=11111111-2222-3333-4444-555555555555", "--output", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        for host in ["jellyfin", "plex", "watch", "grafana", "tunnel"] {
            #expect(run.stdout.contains("\"\(host).example.org\""), "\(host): \(run.stdout)")
        }
        let bad = try netagent(["plan", "--manifests", FluxChainTests.entry, "--repo-root", FluxChainTests.repo + "/missing"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--repo-root \(FluxChainTests.repo)/missing is not a folder"), "\(bad.stderr)")
    }

    @Test func defaultNamespace() throws {
        let tree = try TemporaryTree()
        try tree.write("gateway.yaml", KustomizeAndFluxTests.gateway)
        try tree.write("route.yaml", KustomizeAndFluxTests.route(host: "a.example.org"))
        let run = try netagent(["plan", "--manifests", tree.root.path, "--default-namespace", "network", "--output", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"httproute/network/app\""), "\(run.stdout)")
    }
}
