import DNSCore
import Foundation
import NetIO
import Testing
@testable import Kube

/// kustomizations, Flux Kustomizations and postBuild variables, on small trees.
struct KustomizeAndFluxTests {
    static let gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: envoy-internal
        spec:
          gatewayClassName: envoy
          addresses: [{type: IPAddress, value: 192.0.2.10}]
          listeners:
            - {name: https, protocol: HTTPS, port: 443, allowedRoutes: {namespaces: {from: All}}}

        """

    static func route(host: String, gateway: String = "envoy-internal", gatewayNamespace: String = "network") -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: app
        spec:
          hostnames: ["\(host)"]
          parentRefs:
            - {name: \(gateway), namespace: \(gatewayNamespace)}

        """
    }

    static func flux(name: String, path: String, namespace: String?, substitute: [String: String] = [:]) -> String {
        """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: \(name)
          namespace: flux-system
        spec:
          path: \(path)\(namespace.map { "\n  targetNamespace: \($0)" } ?? "")
          postBuild:
            substitute: {\(substitute.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", "))}
            substituteFrom:
              - {kind: Secret, name: cluster-secrets}

        """
    }

    /// network/envoy-internal through a kustomization, media/app through a Flux Kustomization.
    static func tree(host: String, substitute: [String: String] = [:]) throws -> TemporaryTree {
        let tree = try TemporaryTree()
        try tree.write("kubernetes/apps/network/kustomization.yaml", TemporaryTree.kustomization(namespace: "network", resources: ["./gateway.yaml"]))
        try tree.write("kubernetes/apps/network/gateway.yaml", gateway)
        try tree.write("kubernetes/apps/media/ks.yaml", flux(name: "app", path: "./kubernetes/apps/media/app", namespace: "media", substitute: substitute))
        try tree.write("kubernetes/apps/media/kustomization.yaml", TemporaryTree.kustomization(namespace: "media", resources: ["./ks.yaml"]))
        try tree.write("kubernetes/apps/media/app/kustomization.yaml", TemporaryTree.kustomization(namespace: nil, resources: ["./httproute.yaml"]))
        try tree.write("kubernetes/apps/media/app/httproute.yaml", route(host: host))
        return tree
    }

    @Test func postBuildSubstituteAndVar() throws {
        let tree = try Self.tree(host: "app.${SECRET_DOMAIN}", substitute: ["SECRET_DOMAIN": "example.org"])
        let (result, set) = planTree([tree.path("kubernetes")])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(lines(result.endpoints) == ["app.example.org A 192.0.2.10"])
        #expect(result.endpoints.map(\.labels.resource) == ["httproute/media/app"])
        // substitute wins over the values that stand for substituteFrom, as in Flux.
        let (again, _) = planTree([tree.path("kubernetes")], variables: ["SECRET_DOMAIN": "other.net"])
        #expect(lines(again.endpoints) == ["app.example.org A 192.0.2.10"])
    }

    @Test func varAndDefault() throws {
        let tree = try Self.tree(host: "${APP:=media}.${SECRET_DOMAIN}")
        let (result, set) = planTree([tree.path("kubernetes")], variables: ["SECRET_DOMAIN": "example.net"])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(lines(result.endpoints) == ["media.example.net A 192.0.2.10"])
    }

    /// Flux leaves alone an object that says `kustomize.toolkit.fluxcd.io/substitute: disabled`
    /// (a Grafana dashboard's own `${DS_PROMETHEUS}`); the others in the file are substituted.
    @Test func substitutionDisabledByAnnotation() throws {
        let tree = try Self.tree(host: "app.${SECRET_DOMAIN}", substitute: ["SECRET_DOMAIN": "example.org"])
        try tree.write("kubernetes/apps/media/app/httproute.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: dashboard
              annotations:
                kustomize.toolkit.fluxcd.io/substitute: disabled
            data: {panel: "${DS_PROMETHEUS}"}
            ---

            """ + Self.route(host: "app.${SECRET_DOMAIN}"))
        let (result, set) = planTree([tree.path("kubernetes")])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(lines(result.endpoints) == ["app.example.org A 192.0.2.10"])
    }

    @Test func unresolvedVariableIsReportedAndNeverInAName() throws {
        let tree = try Self.tree(host: "app.${SECRET_DOMAIN}")
        let (result, set) = planTree([tree.path("kubernetes")])
        #expect(result.endpoints.isEmpty)
        #expect(set.routes.isEmpty)
        #expect(set.diagnostics.map(\.location) == [SourceLocation(file: tree.path("kubernetes/apps/media/app/httproute.yaml"), line: 6)])
        #expect(set.diagnostics.first?.message.hasPrefix("variable ${SECRET_DOMAIN} has no value") == true)
    }

    @Test func cycleIsRefusedWithThePathOfFiles() throws {
        let tree = try TemporaryTree()
        try tree.write("a/kustomization.yaml", TemporaryTree.kustomization(namespace: "network", resources: ["./gateway.yaml", "../b"]))
        try tree.write("a/gateway.yaml", Self.gateway)
        try tree.write("b/kustomization.yaml", TemporaryTree.kustomization(namespace: nil, resources: ["../a"]))
        let set = ManifestLoader.load(paths: [tree.path("a")])
        #expect(set.gateways.map(\.id.description) == ["gateway/network/envoy-internal"])
        let a = URL(fileURLWithPath: tree.path("a/kustomization.yaml")).standardizedFileURL.path
        let b = URL(fileURLWithPath: tree.path("b/kustomization.yaml")).standardizedFileURL.path
        #expect(set.diagnostics.map(\.message) == ["kustomization cycle refused: \(a) → \(b) → \(a)"])
    }

    @Test func labelsAnnotationsAndRemoteResources() throws {
        let tree = try TemporaryTree()
        try tree.write("app/kustomization.yaml", """
            namespace: media
            commonLabels: {team: media}
            labels:
              - pairs: {tier: web}
            commonAnnotations: {external-dns.alpha.kubernetes.io/ttl: "120"}
            resources:
              - https://github.com/example/repo//deploy?ref=v1
              - ./route.yaml
              - ./missing.yaml
            """)
        try tree.write("app/route.yaml", Self.route(host: "app.example.org"))
        let set = ManifestLoader.load(paths: [tree.path("app")])
        let route = try #require(set.routes.first)
        #expect(route.metadata.namespace == "media")
        #expect(route.metadata.labels == ["team": "media", "tier": "web"])
        #expect(route.metadata.annotations["external-dns.alpha.kubernetes.io/ttl"] == "120")
        #expect(set.diagnostics.map(\.isNote) == [true, false])
        #expect(set.diagnostics.map(\.description) == [
            "\(tree.path("app/kustomization.yaml")):7: resources: remote resource https://github.com/example/repo//deploy?ref=v1 skipped (not read offline)",
            "\(tree.path("app/kustomization.yaml")):9: resources: ./missing.yaml does not exist",
        ])
    }

    /// kustomize's namespace transform sets every namespaced object's namespace, its own
    /// included (`kubectl kustomize`, v5.5: `namespace: own` becomes the outer one).
    @Test func outerNamespaceWinsOverAnObjectsOwn() throws {
        let tree = try TemporaryTree()
        try tree.write("kustomization.yaml", TemporaryTree.kustomization(namespace: "outer", resources: ["./inner"]))
        try tree.write("inner/kustomization.yaml", TemporaryTree.kustomization(namespace: "inner", resources: ["./route.yaml", "./gateway.yaml"]))
        try tree.write("inner/route.yaml", Self.route(host: "a.example.org"))
        try tree.write("inner/gateway.yaml", Self.gateway.replacingOccurrences(of: "name: envoy-internal", with: "name: envoy-internal\n  namespace: network"))
        let set = ManifestLoader.load(paths: [tree.root.path])
        #expect(set.routes.map(\.id.description) == ["httproute/outer/app"])
        #expect(set.gateways.map(\.id.description) == ["gateway/outer/envoy-internal"])
    }

    /// What netagent does not apply is said, with file, line and key; what hides objects is
    /// listed as not expanded; a patch naming no object fails kustomize's build and is an error.
    @Test func whatIsNotAppliedIsSaid() throws {
        let tree = try TemporaryTree()
        try tree.write("app/kustomization.yaml", """
            namespace: media
            replacements: []
            images: [{name: app, newTag: v2}]
            resources:
              - ./route.yaml
            components:
              - https://github.com/example/components//common?ref=v1
            helmCharts:
              - {name: grafana, repo: https://grafana.github.io/helm-charts, version: 8.5.1}
            patches:
              - patch: |
                  apiVersion: gateway.networking.k8s.io/v1
                  kind: HTTPRoute
                  metadata: {name: missing}
                  spec: {hostnames: [x.example.org]}
            """)
        try tree.write("app/route.yaml", Self.route(host: "app.example.org"))
        let set = ManifestLoader.load(paths: [tree.path("app")])
        let file = tree.path("app/kustomization.yaml")
        #expect(set.routes.map(\.id.description) == ["httproute/media/app"])
        #expect(set.diagnostics.map { "\($0.isNote ? "note" : "error") \($0)" } == [
            "note \(file):2: replacements: not applied by netagent; the objects are read without it",
            "note \(file):8: helmCharts: objects it makes are not read (netagent does not run kustomize plugins or Helm)",
            "note \(file):7: components: remote component https://github.com/example/components//common?ref=v1 skipped (not read offline)",
            "error \(file):11: strategic merge patch matches no object built here (kustomize fails the build)",
        ])
        #expect(set.unexpanded.map(\.reason) == ["helmCharts not expanded", "remote component https://github.com/example/components//common?ref=v1"])
    }

    /// A kustomization naming files outside its folder — a resource file, a `patches` path, a
    /// `patchesStrategicMerge` file, a symlink out — as kustomize's default load restrictor
    /// refuses them (the oracle: `KustomizeOracleTests.refusesFilesOutsideItsFolder`). A folder
    /// outside (`../base`) is a kustomization of its own and is read.
    static func treeReachingOutside() throws -> TemporaryTree {
        let tree = try TemporaryTree()
        try tree.write("base/kustomization.yaml", TemporaryTree.kustomization(namespace: nil, resources: ["./route.yaml"]))
        try tree.write("base/route.yaml", route(host: "app.example.org"))
        try tree.write("stray-route.yaml", route(host: "stray.example.org").replacingOccurrences(of: "name: app", with: "name: stray"))
        try tree.write("patch.yaml", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: app, labels: {patched: "yes"}}

            """)
        try tree.write("app/kustomization.yaml", """
            namespace: media
            resources:
              - ../base
              - ../stray-route.yaml
              - ./link.yaml
            patches:
              - path: ../patch.yaml
            patchesStrategicMerge:
              - ../patch.yaml
            """)
        try FileManager.default.createSymbolicLink(atPath: tree.path("app/link.yaml"), withDestinationPath: "../stray-route.yaml")
        return tree
    }

    @Test func filesOutsideTheKustomizationsFolderAreNotRead() throws {
        let tree = try Self.treeReachingOutside()
        let set = ManifestLoader.load(paths: [tree.path("app")])
        let file = tree.path("app/kustomization.yaml"), folder = tree.path("app")
        #expect(set.routes.map(\.id.description) == ["httproute/media/app"])
        #expect(set.routes.first?.metadata.labels["patched"] == nil)
        let refused = "is not in or below \(folder): kustomize refuses to read it (security); not read"
        #expect(set.diagnostics.map { "\($0.isNote ? "note" : "error") \($0)" } == [
            "error \(file):7: patches: ../patch.yaml \(refused)",
            "error \(file):9: patchesStrategicMerge: ../patch.yaml \(refused)",
            "error \(file):4: resources: ../stray-route.yaml \(refused)",
            "error \(file):5: resources: ./link.yaml \(refused)",
        ])
    }

    /// namePrefix/nameSuffix as `kubectl kustomize` (v5.5) builds them: each kustomization's
    /// around the name, a Namespace and parentRefs left alone, an overlay's patch naming the
    /// object by its name before the prefix.
    @Test func namePrefixAndSuffix() throws {
        let tree = try TemporaryTree()
        try tree.write("base/kustomization.yaml", "namePrefix: in-\nnamespace: media\nresources: [./route.yaml]\n")
        try tree.write("base/route.yaml", Self.route(host: "a.example.org"))
        try tree.write("over/kustomization.yaml", """
            nameSuffix: -s
            resources: [../base]
            patches:
              - patch: |
                  apiVersion: gateway.networking.k8s.io/v1
                  kind: HTTPRoute
                  metadata: {name: app}
                  spec: {hostnames: [b.example.org]}
            """)
        let set = ManifestLoader.load(paths: [tree.path("over")])
        #expect(set.routes.map(\.id.description) == ["httproute/media/in-app-s"])
        #expect(set.routes.first?.hostnames == ["b.example.org"])
        #expect(set.routes.first?.parentRefs.map(\.name) == ["envoy-internal"])
        #expect(set.diagnostics.filter { !$0.isNote }.isEmpty, "\(set.diagnostics)")
    }

    @Test func defaultNamespaceForObjectsStillWithout() throws {
        let tree = try TemporaryTree()
        try tree.write("route.yaml", Self.route(host: "a.example.org"))
        var options = ManifestOptions()
        options.defaultNamespace = "media"
        #expect(ManifestLoader.load(paths: [tree.root.path], options: options).routes.map(\.id.description) == ["httproute/media/app"])
    }

    @Test func explainSuggestsTheNamespaceThatHasTheGateway() throws {
        let tree = try TemporaryTree()
        try tree.write("network/kustomization.yaml", TemporaryTree.kustomization(namespace: "network", resources: ["./gateway.yaml"]))
        try tree.write("network/gateway.yaml", Self.gateway)
        try tree.write("media/route.yaml", Self.route(host: "a.example.org", gatewayNamespace: "default"))
        let (result, _) = planTree([tree.root.path])
        #expect(result.explanations.map(\.reason) == ["gateway default/envoy-internal not found; did you mean network/envoy-internal?"])
    }
}

struct VariableSubstitutionTests {
    @Test func forms() {
        let (text, unresolved) = VariableSubstitution.substitute(
            "a: ${A}\nb: ${B:=bee}\nc: ${C:-cee}\nd: $${A}\ne: ${not-a-name}\n# ${IGNORED}\nf: ${MISSING}x",
            variables: ["A": "ay"])
        #expect(text == "a: ay\nb: bee\nc: cee\nd: ${A}\ne: ${not-a-name}\n# ${IGNORED}\nf: ${MISSING}x")
        // envsubst's identifiers take `-`: Flux would give `${not-a-name}` the empty string.
        #expect(unresolved == [VariableSubstitution.Unresolved(name: "not-a-name", line: 5),
                               VariableSubstitution.Unresolved(name: "MISSING", line: 7)])
    }

    /// drone/envsubst's functions (funcs.go, template.go `lookupFunc`), which Flux's postBuild runs.
    @Test(arguments: [
        ("${D/example/sample}", "a.sample.example.org"),
        ("${D//example/sample}", "a.sample.sample.org"),
        // A bad substitution to envsubst (no second `/`): Flux fails; left as it stands.
        ("${D/example}", "${D/example}"),
        ("${D/example/}", "a..example.org"),
        ("${D/#a./b.}", "b.example.example.org"),
        ("${D/%org/net}", "a.example.example.net"),
        ("${D/%nope/net}", "a.example.example.org"),
        ("${D/a\\/b/c}", "a.example.example.org"),
        ("${EMPTY:=fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${UNSET=x${D}y}", "xa.example.example.orgy"),
        ("${UNSET:=}", ""),
        ("${D:=unused}", "a.example.example.org"),
        ("${NAME^}", "Media"),
        ("${NAME^^}", "MEDIA"),
        ("${UPPER,}", "mEDIA"),
        ("${UPPER,,}", "media"),
        ("${#NAME}", "5"),
        ("${NAME:1}", "edia"),
        ("${NAME:1:2}", "ed"),
        // `:-` is the default form to envsubst, not bash's negative offset.
        ("${NAME:-2}", "media"),
        ("${NAME:9}", ""),
        ("${D#*.}", "example.example.org"),
        ("${D##*.}", "org"),
        ("${D%.*}", "a.example.example"),
        ("${D%%.*}", "a"),
        ("$${D}", "${D}"),
        ("${D", "${D"),
        ("${}", "${}"),
    ])
    func envsubstForms(input: String, output: String) {
        let variables = ["D": "a.example.example.org", "EMPTY": "", "NAME": "media", "UPPER": "MEDIA"]
        let (text, unresolved) = VariableSubstitution.substitute("v: " + input, variables: variables)
        #expect(text == "v: " + output)
        #expect(unresolved.isEmpty)
    }

    @Test func functionsOfAnUnsetVariableAreReported() {
        let (text, unresolved) = VariableSubstitution.substitute("h: ${APP/a/b}.${X^^}.${Y:=ok}", variables: [:])
        #expect(text == "h: ${APP/a/b}.${X^^}.ok")
        #expect(unresolved.map(\.name) == ["APP", "X"])
    }

    @Test func varsFiles() throws {
        #expect(try VariableSubstitution.parseFile("# cluster\nexport A=1\nB = \"two words\"\n\nC='x=y'\n", file: "vars.env")
            == ["A": "1", "B": "two words", "C": "x=y"])
        #expect(try VariableSubstitution.parseFile("SECRET_DOMAIN: example.org\nPORT: 443\n", file: "vars.yaml")
            == ["SECRET_DOMAIN": "example.org", "PORT": "443"])
        #expect(try VariableSubstitution.parseFile(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: cluster-secrets}\ndata: {A: YWE=}\nstringData: {B: bb}\n", file: "secret.yaml")
            == ["A": "aa", "B": "bb"])
        #expect(throws: ManifestDiagnostic.self) { try VariableSubstitution.parseFile("A=1\njunk\n", file: "vars.env") }
    }
}

struct FluxPrefilterTests {
    @Test func byteSearch() {
        let needle = GitOpsTree.fluxGroup
        #expect(Bytes.contains(Data("apiVersion: kustomize.toolkit.fluxcd.io/v1".utf8), needle))
        #expect(Bytes.contains(Data("kustomize.toolkit.fluxcd.io".utf8), needle))
        #expect(!Bytes.contains(Data("kustomize.toolkit.fluxcd.i".utf8), needle))
        #expect(!Bytes.contains(Data("kkustomize.config.k8s.io kustomize.toolkit".utf8), needle))
        #expect(!Bytes.contains(Data(), needle))
    }
}
