import Foundation
import Testing
import Yams
@testable import Kube

/// The routes app-template renders, checked against output the chart's authors recorded: the
/// chart's own helm-unittest suites, which assert fields of the objects `helm template` renders.
struct AppTemplateRenderTests {
    static let release = AppTemplate.Release(name: "release-name", namespace: "NAMESPACE", version: "4.4.0",
                                             location: SourceLocation(file: "hr.yaml", line: 1), ownerKind: "HelmRelease", ownerName: "test/release-name")

    static func render(_ values: String, release: AppTemplate.Release = release) throws -> AppTemplate.Rendered {
        AppTemplate.render(values: try Yams.compose(yaml: values), release: release)
    }

    /// bjw-s-labs/helm-charts charts/library/common/test-chart/unittests/route/field_namespaceOverride_test.yaml
    /// (229f0b5c): one route renders as `release-name` in the release namespace `NAMESPACE`, or in
    /// `namespaceOverride`; an empty override falls back to the release namespace.
    @Test func namespaceOverride() throws {
        let plain = try Self.render("route:\n  main:\n    parentRefs:\n      - {name: parentName, namespace: parentNamespace}\n")
        #expect(plain.routes.map(\.id.description) == ["httproute/NAMESPACE/release-name"])
        let custom = try Self.render("route:\n  main:\n    namespaceOverride: custom-namespace\n    parentRefs: [{name: parentName, namespace: parentNamespace}]\n")
        #expect(custom.routes.map(\.metadata.namespace) == ["custom-namespace"])
        let empty = try Self.render("route:\n  main:\n    namespaceOverride: \"\"\n    parentRefs: [{name: parentName, namespace: parentNamespace}]\n")
        #expect(empty.routes.map(\.metadata.namespace) == ["NAMESPACE"])
        #expect(plain.diagnostics.isEmpty && custom.diagnostics.isEmpty && empty.diagnostics.isEmpty)
    }

    /// bjw-s/helm-charts charts/other/app-template/tests/route/values_test.yaml (72670526),
    /// "sectionName in parentRefs should be optional" and "setting gateway should pass"; names from
    /// bjw-s-labs/helm-charts …/unittests/route/field_parentRefs_identifier_test.yaml (336412b5):
    /// with two items enabled each name gets `-<identifier>` (`release-name-main`).
    @Test func parentRefsAndNamesOfTwoRoutes() throws {
        let rendered = try Self.render("""
            route:
              main:
                enabled: true
                parentRefs:
                  - name: parentName
                    namespace: parentNamespace
              second:
                enabled: true
                parentRefs:
                  - name: parentName
                    namespace: parentNamespace
                    sectionName: parentSection
            """)
        #expect(rendered.routes.map(\.metadata.name) == ["release-name-main", "release-name-second"])
        #expect(rendered.routes.map { $0.parentRefs.first?.sectionName } == [nil, "parentSection"])
        let ref = try #require(rendered.routes.first?.parentRefs.first)
        #expect(ref == ParentReference(group: "gateway.networking.k8s.io", kind: "Gateway", namespace: "parentNamespace", name: "parentName"))
    }

    /// Same suite, "hostnames shouldn't be used for TCPRoutes and UDPRoutes" and "custom host and
    /// path should pass" (`spec.hostnames[0] == chart-test.local`).
    @Test func hostnamesOnlyWhereTheKindHasThem() throws {
        let rendered = try Self.render("""
            route:
              main: {kind: TCPRoute, hostnames: [chart-test.local], parentRefs: [{name: parentName, namespace: parentNamespace}]}
              udp: {kind: UDPRoute, hostnames: [chart-test.local], parentRefs: [{name: parentName, namespace: parentNamespace}]}
              web: {hostnames: [chart-test.local], parentRefs: [{name: parentName, namespace: parentNamespace}]}
            """)
        #expect(rendered.routes.map(\.kind) == [.tcpRoute, .udpRoute, .httpRoute])
        #expect(rendered.routes.map(\.hostnames) == [[], [], ["chart-test.local"]])
    }

    /// bjw-s/helm-charts charts/other/app-template/tests/route/metadata_test.yaml (0a5fb9d3),
    /// "custom metadata with global metadata should pass": annotations are the global ones and the
    /// route's together.
    @Test func globalAnnotations() throws {
        let rendered = try Self.render("""
            global:
              annotations: {global_annotation: test}
            route:
              main:
                enabled: true
                annotations: {test_annotation: test}
                parentRefs: [{name: test, namespace: test}]
            """)
        #expect(rendered.routes.first?.metadata.annotations == ["global_annotation": "test", "test_annotation": "test"])
    }

    /// A disabled route is not rendered; `{{ .Release.Name }}` in hostnames and annotation values
    /// is evaluated (`"{{ .Release.Name }}.turbo.ac"`, as onedr0p/home-ops writes it — the
    /// fixture's EXPECTED.md); any other template is reported and its value left out.
    @Test func templates() throws {
        let release = AppTemplate.Release(name: "echo", namespace: "default", version: "4.4.0",
                                          location: SourceLocation(file: "hr.yaml", line: 3), ownerKind: "HelmRelease", ownerName: "default/echo")
        let rendered = try Self.render("""
            route:
              app:
                annotations:
                  external-dns.alpha.kubernetes.io/target: "{{ .Values.target }}"
                hostnames:
                  - "{{ .Release.Name }}.turbo.ac"
                  - "{{- .Release.Name -}}-{{ .Release.Namespace }}.turbo.ac"
                  - '{{ printf "%s.turbo.ac" .Release.Name }}'
                parentRefs: [{name: envoy-internal, namespace: network}]
              old:
                enabled: false
            target: external.turbo.ac
            """, release: release)
        let route = try #require(rendered.routes.first)
        #expect(rendered.routes.count == 1)
        #expect(route.metadata.name == "echo")
        #expect(route.hostnames == ["echo.turbo.ac", "echo-default.turbo.ac"])
        #expect(route.metadata.annotations["external-dns.alpha.kubernetes.io/target"] == "external.turbo.ac")
        #expect(rendered.diagnostics.count == 1)
        #expect(rendered.diagnostics.first?.message.contains(#"route.app.hostnames[2]: template {{ printf "%s.turbo.ac" .Release.Name }} is not evaluated offline"#) == true)
        #expect(rendered.diagnostics.first?.location == SourceLocation(file: "hr.yaml", line: 3))
    }

    /// `_names.tpl` with app-template's `global.nameOverride` default, and the resource-name rules.
    @Test func names() throws {
        #expect(AppTemplate.fullname(values: nil, releaseName: "echo") == "echo")
        #expect(AppTemplate.fullname(values: try Yams.compose(yaml: "fullnameOverride: other"), releaseName: "echo") == "other")
        #expect(AppTemplate.fullname(values: try Yams.compose(yaml: "global: {nameOverride: web}"), releaseName: "echo") == "echo-web")
        #expect(AppTemplate.fullname(values: try Yams.compose(yaml: "global: {nameOverride: web}"), releaseName: "my-web") == "my-web")
        let rendered = try Self.render("""
            global: {alwaysAppendIdentifierToResourceName: true}
            route:
              main: {suffix: ext, parentRefs: [{name: gw}]}
              Other: {forceRename: "{{ .Release.Name }}-Renamed", parentRefs: [{name: gw}]}
              third: {prefix: pre, parentRefs: [{name: gw}]}
            """)
        #expect(rendered.routes.map(\.metadata.name) == ["release-name-renamed", "release-name-main-ext", "pre-release-name-third"])
    }

    /// app-template 3.x names routes by common 3.x's `lib/route/_valuesToObject.tpl`: the primary
    /// route (`primary: true` among those with `enabled: true`, else the first of those) gets the
    /// fullname, the others `fullname-<key>`, `nameOverride` gives `fullname-<override>`.
    @Test func namesOfCommon3() throws {
        var release = Self.release
        release.version = "3.7.3"
        let rendered = try Self.render("""
            route:
              main: {enabled: true, parentRefs: [{name: gw}]}
              second: {enabled: true, primary: true, parentRefs: [{name: gw}]}
              third: {parentRefs: [{name: gw}]}
              fourth: {nameOverride: extra, parentRefs: [{name: gw}]}
            """, release: release)
        #expect(rendered.routes.map(\.metadata.name) == ["release-name-extra", "release-name-main", "release-name", "release-name-third"])
        let lone = try Self.render("route:\n  app: {parentRefs: [{name: gw}]}\n", release: release)
        #expect(lone.routes.map(\.metadata.name) == ["release-name-app"])
    }

    /// The common library's documentation, docs/common-library/resources/names.md ("Assuming a
    /// Helm Release with the name `base_name`…"): every row of its table of expected names.
    @Test func namesTableOfTheDocumentation() throws {
        // forceRename, enabled items, always append, identifier, prefix, suffix → expected name
        let rows: [(String?, Int, Bool, String, String?, String?, String)] = [
            ("custom-name", 1, false, "abc", nil, nil, "custom-name"),
            ("{{ .Release.Namespace }}", 1, false, "abc", nil, nil, "default"),
            (nil, 1, false, "abc", nil, nil, "base_name"),
            (nil, 1, false, "abc", "team", nil, "team-base_name"),
            (nil, 1, false, "abc", "base_name", nil, "base_name"),
            (nil, 1, false, "abc", nil, "svc", "base_name-svc"),
            (nil, 1, false, "abc", nil, "base_name", "base_name"),
            (nil, 1, false, "abc", "team", "svc", "team-base_name-svc"),
            (nil, 1, true, "abc", nil, nil, "base_name-abc"),
            (nil, 1, true, "abc", "team", "svc", "team-base_name-abc-svc"),
            (nil, 2, false, "abc", nil, nil, "base_name-abc"),
            (nil, 2, false, "abc", "team", "svc", "team-base_name-abc-svc"),
            (nil, 2, false, "base_name", nil, nil, "base_name"),
            (nil, 2, false, "abc", nil, "abc", "base_name-abc"),
        ]
        let context = TemplateContext(releaseName: "base_name", releaseNamespace: "default", fullname: "base_name", values: nil)
        for (force, count, always, id, prefix, suffix, expected) in rows {
            var fields: [String] = []
            if let force { fields.append("forceRename: '\(force)'") }
            if let prefix { fields.append("prefix: \(prefix)") }
            if let suffix { fields.append("suffix: \(suffix)") }
            let values = try #require(try Yams.compose(yaml: "{" + fields.joined(separator: ", ") + "}"))
            let name = AppTemplate.resourceName(fullname: "base_name", id: id, values: values, count: count, alwaysAppend: always) { text, _ in
                if case .value(let result) = context.evaluate(text) { return result }
                return nil
            }
            #expect(name == expected, "forceRename \(force ?? "-") items \(count) always \(always) id \(id) prefix \(prefix ?? "-") suffix \(suffix ?? "-")")
        }
    }

    /// A templated parentRef is written as given by the route class (reported, left out), and
    /// evaluated from common 5.3, which passes every string of the values through `tpl`
    /// (bjw-s-labs/helm-charts …/unittests/values/string_templates_test.yaml: `{{ .Release.Name }}-pull`).
    @Test func templatedParentRefs() throws {
        let values = "route:\n  app: {parentRefs: [{name: '{{ .Release.Name }}-gw', namespace: network}]}\n"
        let old = try Self.render(values)
        #expect(old.routes.first?.parentRefs.isEmpty == true)
        #expect(old.diagnostics.map(\.message) == [
            "HelmRelease test/release-name: route.app.parentRefs[0].name: {{ .Release.Name }}-gw is not passed through tpl by app-template 4.4.0; parentRef left out",
        ])
        var release = Self.release
        release.version = "5.3.0"
        let new = try Self.render(values, release: release)
        #expect(new.routes.first?.parentRefs.map(\.name) == ["release-name-gw"])
        #expect(new.diagnostics.isEmpty)
    }

    /// `parentRefs[].name` is required: the chart fails to render, so none of its routes exist.
    @Test func missingParentNameFailsTheRender() throws {
        let rendered = try Self.render("route:\n  a: {parentRefs: [{name: gw}]}\n  b: {parentRefs: [{namespace: x}]}\n")
        #expect(rendered.routes.isEmpty)
        #expect(rendered.diagnostics.map(\.message) == [
            "HelmRelease test/release-name: app-template would fail to render (parentRef name is required for HTTPRoute release-name-b); its routes are left out",
        ])
    }

    @Test func majorVersions() {
        #expect(AppTemplate.major(of: "4.4.0") == 4)
        #expect(AppTemplate.major(of: "v3.7.3") == 3)
        #expect(AppTemplate.major(of: ">=4.0.0") == nil)
        #expect(AppTemplate.major(of: nil) == nil)
    }
}

struct ArgoTemplateTests {
    /// Generators-Git.md: `{{path}}`, `{{path.basename}}`, `{{path[n]}}`, `{{path.basenameNormalized}}`
    /// in fasttemplate mode, `.path.path`, `.path.basename`, `index .path.segments n` in Go templates.
    @Test func directoryParameters() throws {
        let set = ArgoCDExpansion.pathParameters("apps/my_app", file: nil, prefix: nil)
        let fast = ArgoTemplate(goTemplate: false, parameters: set)
        #expect(try fast.render("{{path}} {{path.basename}} {{ path[0] }} {{path.basenameNormalized}} {{unknown}}")
                == "apps/my_app my_app apps my-app {{unknown}}")
        let go = ArgoTemplate(goTemplate: true, parameters: set)
        #expect(try go.render("{{ .path.path }}/{{.path.basename | upper}}/{{ index .path.segments 0 }}") == "apps/my_app/MY_APP/apps")
        #expect(throws: ArgoTemplate.Unsupported.self) { try go.render("{{ .path.basename | trunc 3 }}") }
        // sholdee/home-ops apps/argocd/manifests/app-set.yaml (072f3c12): the namespace of `apps/*-conf`.
        let conf = ArgoTemplate(goTemplate: true, parameters: ArgoCDExpansion.pathParameters("apps/cert-manager-conf", file: nil, prefix: nil))
        #expect(try conf.render(#"{{ regexReplaceAll "-conf$" .path.basename "" }}"#) == "cert-manager")
        #expect(try conf.render(#"{{ .path.basename | trimSuffix "-conf" | replace "-" "_" }}"#) == "cert_manager")
        #expect(throws: ArgoTemplate.Unsupported.self) { try conf.render("{{ $x := 1 }}") }
    }

    @Test func globs() {
        #expect(Glob.match("apps/*", "apps/echo"))
        #expect(!Glob.match("apps/*", "apps/echo/x"))
        #expect(Glob.match("clusters/**/config.json", "clusters/config.json"))
        #expect(Glob.match("clusters/**/config.json", "clusters/a/b/config.json"))
        #expect(Glob.match("/d/[f|g]".dropFirst().description, "d/g"))
        #expect(Glob.match("{a,b}.yaml", "b.yaml"))
        #expect(!Glob.match("{a,b}.yaml", "c.yaml"))
        // Hostile patterns: every (pattern, path) position is decided once, and `{a,b}` expands
        // to a bounded number of alternatives.
        #expect(!Glob.match(String(repeating: "*a", count: 40) + "b", String(repeating: "a", count: 400)))
        #expect(Glob.expand(String(repeating: "{a,b}", count: 40)).count == 256)
    }

    /// Generators-Merge.md: later generators override the base sets with the same merge keys.
    @Test func mergeGenerator() {
        func set(_ values: [String: String]) -> ArgoParameters { ArgoParameters(values: values.mapValues { .string($0) }) }
        let merged = ArgoCDExpansion.merge([[set(["name": "a", "ns": "x"]), set(["name": "b", "ns": "x"])], [set(["name": "b", "ns": "y"])]],
                                           keys: ["name"])
        #expect(merged.map { $0.flat["ns"] } == ["x", "y"])
    }
}
