import Foundation
import TestSupport
import Testing

/// `netagent plan` for a pull request and for a repository of several clusters: `--against`,
/// `--against-git`, `--output markdown`, `--cluster`, and the exit codes a CI job reads.
@Suite(.enabled(if: Netagent.binary != nil || Repository.isCI, "the netagent binary is not built beside the tests"))
struct PlanReviewCommandTests {
    func netagent(_ arguments: [String]) throws -> Netagent.Outcome {
        try Netagent.run(try #require(Netagent.binary, "netagent is not built beside the tests"), arguments)
    }

    static func route(_ name: String, host: String, ttl: String? = nil) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: \(name)
          namespace: media
        \(ttl.map { "  annotations: {external-dns.alpha.kubernetes.io/ttl: \"\($0)\"}\n" } ?? "")spec:
          hostnames: ["\(host)"]
          parentRefs: [{name: envoy-internal, namespace: network}]

        """
    }

    /// A repository with a Gateway and three routes: the base of the pull request below.
    static func base(_ tree: TemporaryTree) throws {
        try tree.write("kubernetes/apps/network/kustomization.yaml", TemporaryTree.kustomization(namespace: "network", resources: ["./gateway.yaml"]))
        try tree.write("kubernetes/apps/network/gateway.yaml", KustomizeAndFluxTests.gateway)
        try tree.write("kubernetes/apps/media/keep.yaml", route("keep", host: "keep.example.org"))
        try tree.write("kubernetes/apps/media/retune.yaml", route("retune", host: "retune.example.org", ttl: "300"))
        try tree.write("kubernetes/apps/media/old.yaml", route("old", host: "old.example.org"))
    }

    /// The pull request: one route added, one TTL changed, one route removed.
    static func change(_ tree: TemporaryTree) throws {
        try tree.write("kubernetes/apps/media/retune.yaml", route("retune", host: "retune.example.org", ttl: "60"))
        try FileManager.default.removeItem(atPath: tree.path("kubernetes/apps/media/old.yaml"))
        try tree.write("kubernetes/apps/media/new/route.yaml", route("new", host: "new.example.org"))
    }

    /// Runs git in `tree` (a test identity for commits); its standard output.
    @discardableResult
    static func git(_ arguments: [String], in tree: TemporaryTree) throws -> String {
        let run = try Netagent.run(URL(fileURLWithPath: "/usr/bin/git"), ["-C", tree.root.path, "-c", "user.name=t", "-c", "user.email=t@example.org"] + arguments)
        #expect(run.status == 0, "git \(arguments): \(run.stderr)")
        return run.stdout
    }

    @Test func againstACheckoutInEveryFormat() throws {
        let base = try TemporaryTree(), head = try TemporaryTree()
        try Self.base(base)
        try Self.base(head)
        try Self.change(head)
        let arguments = ["plan", "--manifests", head.path("kubernetes"), "--against", base.path("kubernetes")]

        let table = try netagent(arguments)
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines == [
            "records: 1 to create, 1 to update, 1 to delete",
            "ACTION NAME TYPE RECORD ROUTE FILE",
            "create new.example.org A 192.0.2.10 ttl=default httproute/media/new apps/media/new/route.yaml:1",
            "update retune.example.org A ttl=300 → ttl=60 httproute/media/retune apps/media/retune.yaml:1",
            "delete old.example.org A 192.0.2.10 ttl=default httproute/media/old apps/media/old.yaml:1",
        ], "\(table.stdout)")

        let json = try netagent(arguments + ["--output", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["changes", "unexpanded"])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.map { $0["action"] as? String } == ["create", "update", "delete"])
        #expect(changes.map { $0["name"] as? String } == ["new.example.org", "retune.example.org", "old.example.org"])
        let update = try #require(changes.dropFirst().first)
        #expect((update["new"] as? [String: Any])?["ttl"] as? Int == 60)
        #expect((update["old"] as? [String: Any])?["ttl"] as? Int == 300)
        #expect(update["file"] as? String == "apps/media/retune.yaml:1")
        #expect(changes.last?["new"] is NSNull)

        let markdown = try netagent(arguments + ["--output", "markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.hasPrefix("### netagent plan: DNS changes\n"), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("#### records: 1 to create, 1 to update, 1 to delete\n\n| Action | Name | Type | Record | Route | File |\n"))
        #expect(markdown.stdout.contains("| update | `retune.example.org` | A | ttl=300 → ttl=60 | `httproute/media/retune` | `apps/media/retune.yaml:1` |"),
                "\(markdown.stdout)")
        #expect(!markdown.stdout.contains("No DNS changes"))

        // The same tree on both sides: one line says so, and it still exits 0.
        let same = try netagent(["plan", "--manifests", head.path("kubernetes"), "--against", head.path("kubernetes"), "--output", "markdown"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("**No DNS changes.**"), "\(same.stdout)")
        #expect(!same.stdout.contains("| Action |"))
    }

    /// With --config: one target per provider, each with its own select; no provider is contacted
    /// (the Pi-hole URLs are a closed loopback port, the password variables are not set).
    @Test func againstWithAConfigurationHasATargetPerProvider() throws {
        let base = try TemporaryTree(), head = try TemporaryTree()
        try Self.base(base)
        try Self.base(head)
        try Self.change(head)
        try head.write("netagent.yaml", """
            cluster:
              name: home
              network: 198.18.0.0/24
              nodes:
                - { name: n1, address: 198.18.0.21 }
            providers:
              - name: inner
                type: pihole
                urls: [http://127.0.0.1:9, http://127.0.0.2:9]
                passwordEnv: NETAGENT_TEST_UNSET_PASSWORD
                select: { domainFilters: [new.example.org, old.example.org] }
                policy: sync
              - name: outer
                type: pihole
                urls: [http://127.0.0.1:9]
                passwordEnv: NETAGENT_TEST_UNSET_PASSWORD
                select: { domainFilters: [retune.example.org] }
                policy: sync
            state:
              path: \(head.path("state.sqlite"))
            """)
        let run = try netagent(["plan", "--manifests", head.path("kubernetes"), "--against", base.path("kubernetes"),
                                "--config", head.path("netagent.yaml"), "--output", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["target"]!) \($0["action"]!) \($0["name"]!)" } == [
            "inner (pihole) create new.example.org", "inner (pihole) delete old.example.org", "outer (pihole) update retune.example.org",
        ])
        #expect(!head.exists("state.sqlite"), "nothing is written")
    }

    @Test func againstAGitRevisionLeavesTheRepositoryAsItWas() throws {
        let tree = try TemporaryTree()
        try Self.base(tree)
        let git = { (arguments: [String]) throws -> String in try Self.git(arguments, in: tree) }
        _ = try git(["init", "-q", "-b", "main"])
        _ = try git(["add", "-A"])
        _ = try git(["commit", "-q", "-m", "base"])
        try Self.change(tree)
        let worktreesBefore = try git(["worktree", "list"])
        // The run's own TMPDIR: other tests unpack base trees at the same time in the shared one.
        let scratch = try TemporaryTree()
        let environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratch.root.path]) { $1 }

        // From a folder below the repository's root: the base is that folder at the revision.
        let run = try Netagent.run(try #require(Netagent.binary), ["plan", "--manifests", tree.path("kubernetes/apps"), "--against-git", "HEAD", "--output", "json"],
                                   environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["action"]!) \($0["name"]!) \($0["file"]!)" } == [
            "create new.example.org kubernetes/apps/media/new/route.yaml:1",
            "update retune.example.org kubernetes/apps/media/retune.yaml:1",
            "delete old.example.org kubernetes/apps/media/old.yaml:1",
        ])
        #expect(try git(["worktree", "list"]) == worktreesBefore)
        #expect(try git(["status", "--porcelain"]).contains("?? kubernetes/apps/media/new/"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root.path).isEmpty, "the base tree is removed")

        let unknown = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--against-git", "no-such-branch"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("--against-git no-such-branch: no such commit"), "\(unknown.stderr)")
        let option = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--against-git=--output=/tmp/x"])
        #expect(option.status == 1)
        #expect(option.stderr.contains("is not a revision"), "\(option.stderr)")
        let outside = try TemporaryTree()
        try outside.write("a.yaml", Self.route("a", host: "a.example.org"))
        let notInGit = try netagent(["plan", "--manifests", outside.root.path, "--against-git", "HEAD"])
        #expect(notInGit.status == 1)
        #expect(notInGit.stderr.contains("is not in a git repository"), "\(notInGit.stderr)")
    }

    /// An Argo CD repository whose pull request adds an app-template route: the base, unpacked
    /// by `git archive`, is read with the repository's remotes, so its Applications are
    /// expanded as the head's are and only the new route is a change.
    @Test func againstAGitRevisionOfAnArgoRepository() throws {
        let tree = try ArgoCDTreeTests.argoRepository()
        try FileManager.default.removeItem(atPath: tree.path(".git"))
        let git = { (arguments: [String]) throws in _ = try Self.git(arguments, in: tree) }
        try git(["init", "-q", "-b", "main"])
        try git(["remote", "add", "origin", "https://github.com/example/home-ops.git"])
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "base"])
        try tree.write("values/echo.yaml", """
            route:
              app:
                hostnames: ["{{ .Release.Name }}.example.com"]
                parentRefs: [{name: envoy-internal, namespace: network, sectionName: https}]
              admin:
                hostnames: ["admin.example.com"]
                parentRefs: [{name: envoy-internal, namespace: network}]

            """)
        let run = try netagent(["plan", "--manifests", tree.path("bootstrap"), "--against-git", "HEAD", "--output", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["action"]!) \($0["name"]!) \($0["resource"]!) \($0["file"]!)" } == [
            "create admin.example.com httproute/default/echo-admin argocd/echo.yaml:1",
        ])
        #expect((object["unexpanded"] as? [[String: Any]])?.map { $0["file"] as? String } == ["argocd/others.yaml", "argocd/others.yaml", "argocd/others.yaml"])
    }

    /// `--repo-root` names a folder of the head: the base's root is the same place in the base.
    @Test func againstACheckoutWithARepositoryRoot() throws {
        let base = try KustomizeAndFluxTests.tree(host: "app.example.org")
        let head = try KustomizeAndFluxTests.tree(host: "app2.example.org")
        let cluster = "kubernetes/apps"
        let run = try netagent(["plan", "--manifests", head.path(cluster), "--repo-root", head.root.path,
                                "--against", base.path(cluster), "--var", "A=b"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines == [
            "records: 1 to create, 0 to update, 1 to delete",
            "ACTION NAME TYPE RECORD ROUTE FILE",
            "create app2.example.org A 192.0.2.10 ttl=default httproute/media/app kubernetes/apps/media/app/httproute.yaml:1",
            "delete app.example.org A 192.0.2.10 ttl=default httproute/media/app kubernetes/apps/media/app/httproute.yaml:1",
        ], "\(run.stdout)")
    }

    /// tyriis/home-ops: `kubernetes/main` and `kubernetes/utility`, each with Gateway networking/envoy.
    @Test func twoClustersAreNotMergedAndOneIsChosen() throws {
        let tree = try TemporaryTree.fixture("tyriis__home-ops", layout: .flux, namespaceIndex: 3)
        let both = try netagent(["plan", "--manifests", tree.path("kubernetes")])
        #expect(both.status == 1)
        let main = tree.path("kubernetes/main/apps/networking/envoy-gateway/config/gateway.yaml")
        let utility = tree.path("kubernetes/utility/apps/networking/envoy-gateway/config/gateway.yaml")
        #expect(both.stderr.contains("\(utility):3: conflict: gateway/networking/envoy is defined in cluster main (\(main):3) and in cluster utility (\(utility):3); plan one cluster with --cluster NAME"),
                "\(both.stderr)")

        let one = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--cluster", "main", "--output", "json"])
        #expect(one.status == 0, "\(one.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        let desired = try #require(object["desired"] as? [[String: Any]])
        // EXPECTED.md, cluster main: three CNAMEs to lab-gateway (the annotation filters are per instance, not given here).
        #expect(desired.map { $0["name"] as? String } == ["argo-workflows.techtales.io", "blackbox-exporter.techtales.io", "podinfo.techtales.io"])
        #expect(Set(desired.compactMap { $0["targets"] as? [String] }.flatMap { $0 }) == ["lab-gateway.techtales.io"])

        let unknown = try netagent(["plan", "--manifests", tree.path("kubernetes"), "--cluster", "staging"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--cluster staging: no clusters/staging or kubernetes/staging folder at or below"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("clusters there: main ("), "\(unknown.stderr)")
        // A path inside a cluster is that cluster's and is read as given, never widened.
        let narrow = try netagent(["plan", "--manifests", tree.path("kubernetes/main/apps/default"), "--cluster", "main", "--explain"])
        #expect(narrow.status == 0, "\(narrow.stderr)")
        #expect(narrow.stderr.contains(": 0 Gateways, 1 routes,"), "\(narrow.stderr)")
        let other = try netagent(["plan", "--manifests", tree.path("kubernetes/main"), "--cluster", "utility"])
        #expect(other.status == 2)
        #expect(other.stderr.contains("clusters there: main (\(tree.path("kubernetes/main")))"), "\(other.stderr)")
    }

    /// One cluster's repository (onedr0p's layout) has no cluster folders: `kubernetes/apps` is not one.
    @Test func aDuplicateWithinOneTreeIsNotAConflict() throws {
        let tree = try TemporaryTree()
        try tree.write("kubernetes/apps/network/gateway.yaml", KustomizeAndFluxTests.gateway)
        try tree.write("kubernetes/components/gateway.yaml", KustomizeAndFluxTests.gateway)
        let run = try netagent(["plan", "--manifests", tree.path("kubernetes")])
        #expect(run.status == 1)
        #expect(run.stderr.contains("gateway/default/envoy-internal is defined again (first at \(tree.path("kubernetes/apps/network/gateway.yaml")):1)"),
                "\(run.stderr)")
        #expect(!run.stderr.contains("conflict"))
    }
}
