import Foundation
import Testing
@testable import Kube

/// GitOps repositories laid out as Argo CD and Flux app-template users lay them out, read from
/// their entry point the way `netagent plan --manifests` reads them (`planTree`).
struct ArgoCDTreeTests {
    static func route(_ name: String, host: String) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: \(name)
        spec:
          hostnames: ["\(host)"]
          parentRefs: [{name: envoy-internal, namespace: network}]

        """
    }

    static func application(_ name: String, source: String, namespace: String) -> String {
        """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata:
          name: \(name)
          namespace: argocd
        spec:
          project: default
        \(source)
          destination:
            server: https://kubernetes.default.svc
            namespace: \(namespace)

        """
    }

    /// An Argo CD repository: a root Application (directory source) over `argocd/`, where an
    /// ApplicationSet's git directories generator names `apps/*` (one excluded), an Application
    /// renders app-template from a Helm repository with a value file of this repository
    /// (multi-source `$values`), and what cannot be expanded is listed.
    static func argoRepository() throws -> TemporaryTree {
        let tree = try TemporaryTree()
        try tree.write(".git/config", "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/example/home-ops.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n")
        try tree.write("bootstrap/root.yaml", application("root", source: """
              source:
                repoURL: https://github.com/example/home-ops
                targetRevision: HEAD
                path: argocd
            """, namespace: "argocd"))
        try tree.write("argocd/apps.yaml", """
            apiVersion: argoproj.io/v1alpha1
            kind: ApplicationSet
            metadata:
              name: apps
              namespace: argocd
            spec:
              generators:
                - git:
                    repoURL: git@github.com:example/home-ops.git
                    revision: HEAD
                    directories:
                      - path: apps/*
                      - path: apps/legacy
                        exclude: true
              template:
                metadata:
                  name: '{{path.basename}}'
                spec:
                  project: default
                  source:
                    repoURL: https://github.com/example/home-ops.git
                    targetRevision: HEAD
                    path: '{{path}}'
                  destination:
                    server: https://kubernetes.default.svc
                    namespace: '{{path.basename}}'

            """)
        try tree.write("argocd/echo.yaml", application("echo", source: """
              sources:
                - repoURL: https://bjw-s-labs.github.io/helm-charts
                  chart: app-template
                  targetRevision: 4.4.0
                  helm:
                    valueFiles: [$values/values/echo.yaml]
                    valuesObject:
                      route:
                        app:
                          annotations: {external-dns.alpha.kubernetes.io/ttl: "120"}
                - repoURL: https://github.com/example/home-ops.git
                  targetRevision: HEAD
                  ref: values
            """, namespace: "default"))
        try tree.write("argocd/others.yaml", application("grafana", source: """
              source:
                repoURL: https://grafana.github.io/helm-charts
                chart: grafana
                targetRevision: 8.5.1
            """, namespace: "monitoring") + "---\n" + application("elsewhere", source: """
              source:
                repoURL: https://github.com/other/repo.git
                path: manifests
            """, namespace: "other") + """
            ---
            apiVersion: argoproj.io/v1alpha1
            kind: ApplicationSet
            metadata:
              name: per-cluster
              namespace: argocd
            spec:
              generators:
                - clusters: {}
              template:
                metadata: {name: '{{name}}-addons'}
                spec:
                  project: default
                  source: {repoURL: https://github.com/example/home-ops.git, path: addons}
                  destination: {server: '{{server}}', namespace: addons}

            """)
        try tree.write("values/echo.yaml", """
            route:
              app:
                hostnames: ["{{ .Release.Name }}.example.com"]
                parentRefs:
                  - name: envoy-internal
                    namespace: network
                    sectionName: https

            """)
        try tree.write("apps/gateway/kustomization.yaml", TemporaryTree.kustomization(namespace: "network", resources: ["gateway.yaml"]))
        try tree.write("apps/gateway/gateway.yaml", KustomizeAndFluxTests.gateway)
        try tree.write("apps/wiki/route.yaml", route("wiki", host: "wiki.example.com"))
        try tree.write("apps/blog/kustomization.yaml", TemporaryTree.kustomization(namespace: nil, resources: ["route.yaml"]))
        try tree.write("apps/blog/route.yaml", route("blog", host: "blog.example.com"))
        try tree.write("apps/legacy/route.yaml", route("legacy", host: "legacy.example.com"))
        return tree
    }

    @Test func argoRepositoryFromItsEntryPoint() throws {
        let tree = try Self.argoRepository()
        let (result, set) = planTree([tree.path("bootstrap")])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(lines(result.endpoints) == [
            "blog.example.com A 192.0.2.10", "echo.example.com A 192.0.2.10 ttl=120", "wiki.example.com A 192.0.2.10",
        ])
        // destination.namespace for objects without one; the kustomization's namespace wins.
        #expect(Set(set.routes.map(\.id.description)) == ["httproute/blog/blog", "httproute/wiki/wiki", "httproute/default/echo"])
        #expect(set.gateways.map(\.id.description) == ["gateway/network/envoy-internal"])
        // The synthesised route points at the Application whose values produced it.
        let echo = try #require(set.routes.first { $0.metadata.name == "echo" }?.id)
        #expect(set.origins[echo] == SourceLocation(file: tree.path("argocd/echo.yaml"), line: 1))
        #expect(set.unexpanded.map(\.description).sorted() == [
            "\(tree.path("argocd/others.yaml")):1: Application argocd/grafana not expanded: Helm chart grafana 8.5.1 is not app-template",
            "\(tree.path("argocd/others.yaml")):16: Application argocd/elsewhere not expanded: spec.source.repoURL https://github.com/other/repo.git is not this repository (this repository is https://github.com/example/home-ops.git)",
            "\(tree.path("argocd/others.yaml")):30: ApplicationSet argocd/per-cluster not expanded: spec.generators[0].clusters generator is not read (it needs the cluster or a remote API)",
        ].sorted())
    }

    /// Pointed at the whole checkout, the app folders are read once, with the namespace Argo CD
    /// gives them rather than the default one.
    @Test func argoRepositoryFromItsRoot() throws {
        let tree = try Self.argoRepository()
        let (result, set) = planTree([tree.root.path])
        #expect(Set(set.routes.map(\.id.description)) == [
            "httproute/blog/blog", "httproute/wiki/wiki", "httproute/default/echo", "httproute/default/legacy",
        ])
        #expect(lines(result.endpoints).count == 4)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
    }

    /// Git files generator with Go templates (Generators-Git.md), kustomize `namePrefix` and
    /// `namespace` of the source, and a directory source's `recurse`/`exclude`.
    @Test func filesGeneratorAndSourceOptions() throws {
        let tree = try TemporaryTree()
        try tree.write(".git/config", "[remote \"origin\"]\n\turl = git@github.com:example/ops.git\n")
        try tree.write("network/gateway.yaml", KustomizeAndFluxTests.gateway.replacingOccurrences(of: "  name: envoy-internal", with: "  name: envoy-internal\n  namespace: network"))
        try tree.write("clusters/main/config.json", #"{"app": {"name": "docs", "host": "docs.example.com"}, "ns": "documentation"}"#)
        try tree.write("clusters/lab/config.json", #"{"app": {"name": "lab", "host": "lab.example.com"}, "ns": "lab"}"#)
        try tree.write("argocd/set.yaml", """
            apiVersion: argoproj.io/v1alpha1
            kind: ApplicationSet
            metadata: {name: by-file, namespace: argocd}
            spec:
              goTemplate: true
              generators:
                - git:
                    repoURL: https://github.com/example/ops
                    files:
                      - path: clusters/**/config.json
                      - path: clusters/lab/config.json
                        exclude: true
              template:
                metadata: {name: '{{ .app.name }}'}
                spec:
                  project: default
                  source:
                    repoURL: https://github.com/example/ops
                    path: 'sites/{{ .path.basename }}'
                    kustomize: {namePrefix: '{{ .app.name }}-', namespace: '{{ .ns }}'}
                  destination: {server: https://kubernetes.default.svc, namespace: ignored}
            ---
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: plain, namespace: argocd}
            spec:
              source:
                repoURL: https://github.com/example/ops.git
                path: plain
                directory: {recurse: true, exclude: 'old/*'}
              destination: {namespace: web}

            """)
        try tree.write("sites/main/kustomization.yaml", TemporaryTree.kustomization(namespace: "ignored-too", resources: ["route.yaml"]))
        try tree.write("sites/main/route.yaml", Self.route("site", host: "docs.example.com"))
        try tree.write("plain/a/route.yaml", Self.route("a", host: "a.example.com"))
        try tree.write("plain/old/route.yaml", Self.route("old", host: "old.example.com"))
        let (result, set) = planTree([tree.path("argocd"), tree.path("network")])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(Set(set.routes.map(\.id.description)) == ["httproute/documentation/docs-site", "httproute/web/a"])
        #expect(lines(result.endpoints) == ["a.example.com A 192.0.2.10", "docs.example.com A 192.0.2.10"])
    }

    /// app-template 2.x (another route class) is listed as not expanded; a semver range is
    /// rendered with a note that it names no single version.
    @Test func appTemplateVersions() throws {
        let tree = try TemporaryTree()
        func release(_ name: String, _ version: String) -> String {
            """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: \(name), namespace: default}
            spec:
              chart: {spec: {chart: app-template, version: "\(version)"}}
              values:
                route:
                  main: {hostnames: [\(name).example.com], parentRefs: [{name: envoy-internal, namespace: network}]}

            """
        }
        try tree.write("hr.yaml", release("old", "2.6.0") + "---\n" + release("ranged", ">=4.0.0 <5.0.0"))
        let (_, set) = planTree([tree.root.path])
        #expect(set.routes.map(\.id.description) == ["httproute/default/ranged"])
        #expect(set.unexpanded.map(\.reason) == ["app-template 2.6.0 is not a version read (3.x, 4.x, 5.x)"])
        #expect(set.diagnostics.map(\.message) == [
            "HelmRelease default/ranged: app-template version >=4.0.0 <5.0.0 names no single version; its routes are rendered with the 3.x–5.x rules",
        ])
    }

    /// onedr0p/home-ops defines the `app-template` OCIRepository in a kustomize component
    /// (kubernetes/components/common/repos/app-template) that every namespace includes; read once,
    /// it lands in one namespace, and the HelmReleases of the others take it, with one note.
    @Test func ociRepositoryOfAComponent() throws {
        let tree = try TemporaryTree()
        try tree.write("repos/ocirepository.yaml", """
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {name: app-template, namespace: default}
            spec: {ref: {tag: 4.4.0}, url: oci://ghcr.io/bjw-s-labs/helm/app-template}

            """)
        for namespace in ["default", "media"] {
            try tree.write("\(namespace)/hr.yaml", """
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata: {name: app, namespace: \(namespace)}
                spec:
                  chartRef: {kind: OCIRepository, name: app-template}
                  values:
                    route:
                      app: {hostnames: ["{{ .Release.Namespace }}.example.com"], parentRefs: [{name: envoy-internal, namespace: network}]}

                """)
        }
        let (_, set) = planTree([tree.root.path])
        #expect(set.routes.map(\.hostnames) == [["default.example.com"], ["media.example.com"]])
        #expect(set.unexpanded.isEmpty)
        #expect(set.diagnostics.map(\.message) == [
            "chartRef OCIRepository app-template is not in the namespace of 1 HelmRelease(s) (media/app); the one of that name in default/app-template is taken for them",
        ])
    }

    /// `valuesFrom` a ConfigMap that the kustomization beside the HelmRelease generates from a
    /// file (Flux's documented way to keep values in a file); a generator file outside the
    /// folder is not read (kustomize's load restrictor).
    @Test func valuesFromAGeneratedConfigMap() throws {
        let tree = try TemporaryTree()
        try tree.write("app/kustomization.yaml", """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources: [helmrelease.yaml]
            configMapGenerator:
              - name: echo-values
                files: [values.yaml=helm-values.yaml]
              - name: escape-values
                files: [values.yaml=../secret.yaml]
              - name: link-values
                files: [values.yaml=link.yaml]
            generatorOptions: {disableNameSuffixHash: true}

            """)
        try tree.write("app/helm-values.yaml", "route:\n  app:\n    hostnames: [echo.example.com]\n")
        try tree.write("secret.yaml", "route:\n  app:\n    hostnames: [leak.example.com]\n")
        // A symlink inside the folder that leads out of it is outside too, as kustomize sees it.
        try FileManager.default.createSymbolicLink(atPath: tree.path("app/link.yaml"), withDestinationPath: "../secret.yaml")
        try tree.write("app/helmrelease.yaml", """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: echo, namespace: default}
            spec:
              chart: {spec: {chart: app-template, version: 4.4.0}}
              valuesFrom:
                - {kind: ConfigMap, name: echo-values}
                - {kind: ConfigMap, name: escape-values}
                - {kind: ConfigMap, name: link-values}
              values:
                route:
                  app: {parentRefs: [{name: envoy-internal, namespace: network}]}

            """)
        let (_, set) = planTree([tree.path("app")])
        #expect(set.routes.map(\.hostnames) == [["echo.example.com"]])
        #expect(set.diagnostics.map(\.message) == [
            "HelmRelease default/echo: spec.valuesFrom[1] ConfigMap default/escape-values key values.yaml is not in the manifests read; the routes are rendered without it",
            "HelmRelease default/echo: spec.valuesFrom[2] ConfigMap default/link-values key values.yaml is not in the manifests read; the routes are rendered without it",
        ])
    }

    /// A HelmRelease whose values hold a variable without a value is left out, as the reader
    /// leaves out any object that holds one (and reports it with its line).
    @Test func helmReleaseWithAnUnresolvedVariable() throws {
        let tree = try TemporaryTree()
        try tree.write("ks.yaml", """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: apps}
            spec: {path: ./app, postBuild: {substitute: {}}}

            """)
        try tree.write("app/hr.yaml", """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: echo, namespace: default}
            spec:
              chart: {spec: {chart: app-template, version: 4.4.0}}
              values:
                route:
                  app:
                    hostnames: ["echo.${SECRET_DOMAIN}"]
                    parentRefs: [{name: envoy-internal, namespace: network}]

            """)
        let (_, set) = planTree([tree.root.path])
        #expect(set.routes.isEmpty)
        #expect(set.diagnostics.map(\.description) == [
            "\(tree.path("app/hr.yaml")):9: variable ${SECRET_DOMAIN} has no value (--var SECRET_DOMAIN=VALUE or --vars-file); its object is left out",
        ])
    }

    /// An action not evaluated offline (`title` here) in a field that decides nothing for DNS is
    /// passed over; in the name, a source or the destination it keeps that Application out,
    /// reported with the field and the parameters (a field of a parameter set the list
    /// generator does not give is not guessed).
    @Test func templateActionsNotEvaluated() throws {
        let tree = try TemporaryTree()
        try tree.write(".git/config", "[remote \"origin\"]\n\turl = https://github.com/example/ops\n")
        try tree.write("apps/a/route.yaml", Self.route("a", host: "a.example.com"))
        try tree.write("apps/b/route.yaml", Self.route("b", host: "b.example.com"))
        try tree.write("argocd/set.yaml", """
            apiVersion: argoproj.io/v1alpha1
            kind: ApplicationSet
            metadata: {name: apps, namespace: argocd}
            spec:
              goTemplate: true
              generators:
                - list:
                    elements: [{dir: a, ns: '{{ "A" | title }}'}]
                - git:
                    repoURL: https://github.com/example/ops.git
                    directories: [{path: apps/b}]
              template:
                metadata:
                  name: '{{ .path.basename | default "a" }}'
                  annotations: {note: '{{ .path.basename | title }}'}
                spec:
                  source: {repoURL: https://github.com/example/ops, path: 'apps/{{ .dir | default .path.basename }}'}
                  destination: {namespace: '{{ if .ns }}{{ .ns }}{{ else }}web{{ end }}'}

            """)
        let (_, set) = planTree([tree.path("argocd")])
        #expect(set.routes.isEmpty)
        #expect(set.diagnostics.map(\.message) == [
            "ApplicationSet argocd/apps: template.metadata.name: action {{ .path.basename | default \"a\" }} is not evaluated offline; the Application of parameters dir=a, ns={{ \"A\" | title }} is not read",
            "ApplicationSet argocd/apps: template.spec.source.path: action {{ .dir | default .path.basename }} is not evaluated offline; the Application of parameters path apps/b is not read",
        ])
    }

    /// Hostile trees: an Application that applies its own folder (app of apps of itself) is read
    /// once; an ApplicationSet template that aliases expand into too many nodes is refused; a
    /// source path whose `..` lead out of the repository is not followed.
    @Test func hostileArgoTrees() throws {
        let tree = try TemporaryTree()
        try tree.write(".git/config", "[remote \"origin\"]\n\turl = https://github.com/example/ops\n")
        try tree.write("argocd/self.yaml", Self.application("self", source: """
              source: {repoURL: https://github.com/example/ops, path: argocd, directory: {recurse: true}}
            """, namespace: "argocd"))
        try tree.write("argocd/route.yaml", Self.route("r", host: "r.example.com"))
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...4 { bomb += "a\(i): &a\(i) [*a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1)]\n" }
        try tree.write("argocd/bomb.yaml", bomb + """
            ---
            apiVersion: argoproj.io/v1alpha1
            kind: ApplicationSet
            metadata: {name: bomb, namespace: argocd}
            spec:
              generators: [{list: {elements: [{a: b}]}}]
              template:
                metadata: {name: x, labels: {big: *a4}}
                spec: {source: {repoURL: https://github.com/example/ops, path: argocd}, destination: {namespace: x}}

            """)
        try tree.write("outside/route.yaml", Self.route("outside", host: "outside.example.com"))
        try tree.write("repo/.git/config", "[remote \"origin\"]\n\turl = https://github.com/example/inner\n")
        try tree.write("repo/escape.yaml", Self.application("escape", source: """
              source: {repoURL: https://github.com/example/inner, path: ../outside}
            """, namespace: "x"))
        let (_, set) = planTree([tree.path("argocd"), tree.path("repo")])
        #expect(set.diagnostics.contains { $0.message == "Application argocd/escape: spec.source.path ../outside leads out of the repository \(tree.path("repo")); not read" })
        #expect(set.routes.map(\.id.description) == ["httproute/argocd/r"])
        #expect(set.diagnostics.contains { $0.message == "ApplicationSet argocd/bomb: spec.template has more than 10000 YAML nodes (aliases expanded); nothing generated" })
    }

    /// Flux HelmReleases of app-template: one through an OCIRepository `chartRef` (v4) with
    /// values from a ConfigMap and `postBuild` variables, one through a HelmRepository chart (v3);
    /// a HelmRelease of another chart is listed as not expanded.
    @Test func fluxHelmReleasesOfAppTemplate() throws {
        let tree = try TemporaryTree()
        try tree.write("kubernetes/flux/apps.yaml", """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: echo, namespace: flux-system}
            spec:
              path: ./kubernetes/apps/default/echo/app
              targetNamespace: default
              postBuild:
                substitute: {SECRET_DOMAIN: example.com}
              sourceRef: {kind: GitRepository, name: flux-system}

            """)
        try tree.write("kubernetes/apps/default/echo/app/kustomization.yaml", TemporaryTree.kustomization(namespace: nil, resources: ["ocirepository.yaml", "helmrelease.yaml", "values.yaml"]))
        try tree.write("kubernetes/apps/default/echo/app/ocirepository.yaml", """
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {name: app-template}
            spec:
              interval: 15m
              layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
              ref: {tag: 4.4.0}
              url: oci://ghcr.io/bjw-s-labs/helm/app-template

            """)
        try tree.write("kubernetes/apps/default/echo/app/values.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: echo-values}
            data:
              values.yaml: |
                route:
                  app:
                    parentRefs: [{name: envoy-internal, namespace: network, sectionName: https}]

            """)
        try tree.write("kubernetes/apps/default/echo/app/helmrelease.yaml", """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: echo}
            spec:
              chartRef: {kind: OCIRepository, name: app-template}
              interval: 1h
              valuesFrom:
                - {kind: ConfigMap, name: echo-values}
                - {kind: Secret, name: echo-secret-values, optional: true}
              values:
                route:
                  app:
                    hostnames: ["{{ .Release.Name }}.${SECRET_DOMAIN}", "echo-alias.${SECRET_DOMAIN}"]
                  admin:
                    hostnames: ["admin.${SECRET_DOMAIN}"]
                    parentRefs: [{name: envoy-internal, namespace: network}]
            ---
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: legacy, namespace: media}
            spec:
              chart:
                spec:
                  chart: app-template
                  version: 3.7.3
                  sourceRef: {kind: HelmRepository, name: bjw-s, namespace: flux-system}
              values:
                route:
                  main:
                    hostnames: [legacy.example.com]
                    parentRefs: [{name: envoy-internal, namespace: network}]
            ---
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: grafana, namespace: monitoring}
            spec:
              chart:
                spec: {chart: grafana, version: 8.5.1, sourceRef: {kind: HelmRepository, name: grafana}}

            """)
        try tree.write("kubernetes/apps/network/gateway.yaml", KustomizeAndFluxTests.gateway.replacingOccurrences(of: "  name: envoy-internal", with: "  name: envoy-internal\n  namespace: network"))
        let (result, set) = planTree([tree.path("kubernetes")])
        #expect(set.diagnostics.map(\.message) == [
            "HelmRelease default/echo: spec.valuesFrom[1] Secret echo-secret-values is not in Git; the routes are rendered without its values",
        ])
        #expect(set.diagnostics.allSatisfy { $0.isNote })
        #expect(lines(result.endpoints) == [
            "admin.example.com A 192.0.2.10", "echo-alias.example.com A 192.0.2.10", "echo.example.com A 192.0.2.10",
            "legacy.example.com A 192.0.2.10",
        ])
        // targetNamespace is the namespace of every namespaced object Flux builds, the
        // HelmReleases' own namespaces replaced (kustomize's namespace transform).
        #expect(Set(set.routes.map(\.id.description)) == ["httproute/default/echo-admin", "httproute/default/echo-app", "httproute/default/legacy-main"])
        let helmRelease = tree.path("kubernetes/apps/default/echo/app/helmrelease.yaml")
        #expect(set.routes.filter { $0.metadata.name.hasPrefix("echo") }.allSatisfy { set.origins[$0.id] == SourceLocation(file: helmRelease, line: 1) })
        #expect(set.unexpanded.map(\.description) == ["\(helmRelease):33: HelmRelease default/grafana not expanded: Helm chart grafana 8.5.1 is not app-template"])
    }
}
