import DNSCore
import Foundation
import Testing
@testable import Kube
@testable import PlanOutput

/// `netagent plan` output: the JSON shape the issue fixes, the table, and `--explain` reasons.
@Suite struct PlanReportTests {
    static let yaml = gateway(listener(hostname: "*.example.com"), annotations: "external-dns.alpha.kubernetes.io/cloudflare-proxied: \"true\"")
        + route("web", hostnames: ["Web.Example.com", "b.example.com"],
                annotations: "external-dns.kubernetes.io/ttl: \"60\"\nexternal-dns.kubernetes.io/cloudflare-tags: z:1,a:2")
        + route("off-zone", hostnames: ["a.example.net"])

    @Test func jsonShape() throws {
        let (result, _) = resolve(Self.yaml)
        let text = PlanReport(desired: result.endpoints, explanations: result.explanations).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["desired", "explanations", "unexpanded"])
        #expect(object["unexpanded"] as? [Any] != nil)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("    {\"name\":") }.count == 2, "one record per line: \(text)")
        let desired = try #require(object["desired"] as? [[String: Any]])
        #expect(desired.map { $0["name"] as? String } == ["b.example.com", "web.example.com"])
        let first = try #require(desired.first)
        #expect(Set(first.keys) == ["name", "type", "targets", "ttl", "resource", "providerSpecific"])
        #expect(first["type"] as? String == "A")
        #expect(first["targets"] as? [String] == ["198.18.0.10"])
        #expect(first["ttl"] as? Int == 60)
        #expect(first["resource"] as? String == "httproute/default/web")
        let specific = try #require(first["providerSpecific"] as? [String: Any])
        #expect(specific["cloudflareProxied"] as? Bool == true)
        #expect(specific["cloudflareTags"] as? [String] == ["a:2", "z:1"])
        let explanations = try #require(object["explanations"] as? [[String: String]])
        #expect(explanations == [[
            "resource": "httproute/default/off-zone",
            "reason": "gateway default/gw has not accepted the route (Accepted=False NoMatchingListenerHostname: "
                + "a.example.net matches no admitting listener's hostname (*.example.com))",
        ]])
    }

    @Test func nullTTLAndEmptyLists() throws {
        let endpoint = Endpoint(name: try DNSName("a.example.com"), type: .cname, targets: ["x.example.net."], labels: EndpointLabels(resource: "httproute/a/b"))
        let text = PlanReport(desired: [endpoint], explanations: []).json()
        #expect(text.contains("\"ttl\":null"))
        #expect(text.contains("\"targets\":[\"x.example.net\"]"))
        #expect(text.contains("\"providerSpecific\":{}"))
        let empty = PlanReport(desired: [], explanations: []).json()
        let object = try JSONSerialization.jsonObject(with: Data(empty.utf8)) as? [String: [Any]]
        #expect(object?["desired"]?.isEmpty == true && object?["explanations"]?.isEmpty == true)
    }

    @Test func quotingEscapesControlCharacters() {
        #expect(JSONLines.text("a\"b\\c\nd\u{01}é") == "\"a\\\"b\\\\c\\nd\\u0001é\"")
    }

    @Test func table() {
        let (result, _) = resolve(Self.yaml)
        let text = PlanReport(desired: result.endpoints, explanations: result.explanations).table()
        let rows = text.split(separator: "\n").map(String.init)
        #expect(rows.first == "NAME             TYPE  TTL  TARGETS      RESOURCE               PROVIDER-SPECIFIC")
        #expect(rows[1] == "b.example.com    A     60   198.18.0.10  httproute/default/web  cloudflareProxied=true cloudflareTags=[\"a:2\", \"z:1\"]")
        #expect(text.contains("Why routes produced fewer records than they name:\n  httproute/default/off-zone: "))
        #expect(!text.contains("Not expanded"))
    }

    static let unexpanded = [
        UnexpandedSource(location: SourceLocation(file: "kubernetes/apps/observability/grafana/app/helmrelease.yaml", line: 3),
                         kind: "HelmRelease", name: "observability/grafana", reason: "Helm chart grafana 8.5.1 is not app-template"),
        UnexpandedSource(location: SourceLocation(file: "argocd/apps.yaml"), kind: "ApplicationSet", name: "argocd/apps",
                         reason: "generator scmProvider is not read", hiddenCount: 12),
    ]

    /// Nothing silent: what was not expanded is listed, with file, line and the count it hides, in each output.
    @Test func unexpandedInTableAndJSON() throws {
        let report = PlanReport(desired: [], explanations: [], unexpanded: Self.unexpanded)
        #expect(report.table() == """
            NAME  TYPE  TTL  TARGETS  RESOURCE  PROVIDER-SPECIFIC
            (no records)

            Not expanded (the records these stand for are missing from this plan):
              kubernetes/apps/observability/grafana/app/helmrelease.yaml:3: HelmRelease observability/grafana: Helm chart grafana 8.5.1 is not app-template
              argocd/apps.yaml: ApplicationSet argocd/apps (hides 12 objects): generator scmProvider is not read

            """)
        let text = report.json()
        #expect(text.contains("""
              "unexpanded": [
                {"file":"kubernetes/apps/observability/grafana/app/helmrelease.yaml","hiddenCount":null,"kind":"HelmRelease","line":3,"name":"observability/grafana","reason":"Helm chart grafana 8.5.1 is not app-template"},
                {"file":"argocd/apps.yaml","hiddenCount":12,"kind":"ApplicationSet","line":null,"name":"argocd/apps","reason":"generator scmProvider is not read"}
              ]
            """), "\(text)")
        let more = report.json(more: [("providers", [])])
        let keys = more.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == ["desired", "explanations", "unexpanded", "providers"])
    }
}

/// `plan --against`: the records a pull request changes, keyed by name and type.
@Suite struct PlanDiffTests {
    func record(_ name: String, _ targets: [String], type: RecordType = .a, ttl: Int? = nil, proxied: Bool? = nil, resource: String) throws -> Endpoint {
        var specific = ProviderSpecific()
        specific.cloudflareProxied = proxied
        return Endpoint(name: try DNSName(name), type: type, targets: targets, ttl: ttl, providerSpecific: specific,
                        labels: EndpointLabels(resource: resource))
    }

    @Test func createsUpdatesAndDeletesByNameAndType() throws {
        let base = [
            try record("same.example.com", ["198.18.0.1"], resource: "httproute/a/same"),
            try record("moved.example.com", ["198.18.0.1"], resource: "httproute/a/old-route"),
            try record("proxy.example.com", ["198.18.0.1"], proxied: false, resource: "httproute/a/proxy"),
            try record("gone.example.com", ["edge.example.com"], type: .cname, resource: "httproute/a/gone"),
            try record("retype.example.com", ["198.18.0.1"], resource: "httproute/a/retype"),
        ]
        let head = [
            try record("same.example.com", ["198.18.0.1"], resource: "httproute/a/same"),
            try record("moved.example.com", ["198.18.0.1"], resource: "httproute/b/new-route"),
            try record("proxy.example.com", ["198.18.0.1"], proxied: true, resource: "httproute/a/proxy"),
            try record("retype.example.com", ["edge.example.com"], type: .cname, resource: "httproute/a/retype"),
            try record("new.example.com", ["198.18.0.2", "198.18.0.1"], ttl: 60, resource: "httproute/a/new"),
        ]
        let diff = PlanDiff(base: PlanDiff.Tree(targets: [("cloudflare (cloudflare)", base)], files: ["httproute/a/gone": "apps/gone.yaml:4"]),
                            head: PlanDiff.Tree(targets: [("cloudflare (cloudflare)", head)], files: ["httproute/a/new": "apps/new.yaml:1"],
                                                unexpanded: PlanReportTests.unexpanded))
        let changes = try #require(diff.targets.first?.changes)
        // A route that moves without changing the record is no DNS change; a new type is a create and a delete.
        #expect(changes.map { "\($0.action) \($0.record.name.text) \($0.record.type.rawValue) \($0.file ?? "-")" } == [
            "create new.example.com A apps/new.yaml:1", "create retype.example.com CNAME -",
            "update proxy.example.com A -",
            "delete gone.example.com CNAME apps/gone.yaml:4", "delete retype.example.com A -",
        ])
        #expect(PlanDiff.value(changes[2]) == "cloudflareProxied=false → cloudflareProxied=true")
        #expect(PlanDiff.value(changes[0]) == "198.18.0.1,198.18.0.2 ttl=60")
        let markdown = diff.markdown(base: "origin/main", head: "kubernetes")
        #expect(markdown.contains("#### cloudflare (cloudflare): 2 to create, 1 to update, 2 to delete\n"))
        #expect(markdown.contains("<details><summary>Not expanded: 2 objects (the records they stand for are not compared)</summary>"))
        #expect(markdown.contains("- argocd/apps.yaml: ApplicationSet argocd/apps (hides 12 objects): generator scmProvider is not read\n"))
        #expect(!diff.isEmpty)
    }

    @Test func noChangesIsOneLine() throws {
        let records = [try record("a.example.com", ["198.18.0.1"], resource: "httproute/a/a")]
        let diff = PlanDiff(base: PlanDiff.Tree(targets: [("records", records)], files: [:]),
                            head: PlanDiff.Tree(targets: [("records", records)], files: [:]))
        #expect(diff.isEmpty)
        #expect(diff.table() == "records: no changes\nNo DNS changes between the two trees.\n")
        #expect(diff.markdown(base: "main", head: "pr").hasSuffix("**No DNS changes.**\n\n"))
        #expect(diff.json() == "{\n  \"changes\": [],\n  \"unexpanded\": []\n}\n")
    }

    /// Values from the manifests cannot break the comment's table or inject HTML.
    @Test func markdownEscapesWhatTheManifestsSay() throws {
        let hostile = UnexpandedSource(location: SourceLocation(file: "a|b.yaml", line: 1), kind: "HelmRelease", name: "x/y",
                                       reason: "chart <img src=x onerror=alert(1)> | `evil`\nline")
        let diff = PlanDiff(base: PlanDiff.Tree(targets: [], files: [:]),
                            head: PlanDiff.Tree(targets: [("records", [try record("a.example.com", ["198.18.0.1"], resource: "httproute/a/a")])],
                                                files: ["httproute/a/a": "apps/a|`b`.yaml:1"], unexpanded: [hostile]))
        let markdown = diff.markdown(base: "main", head: "pr")
        #expect(markdown.contains("| `apps/a\\|'b'.yaml:1` |"), "\(markdown)")
        #expect(markdown.contains("- a\\|b.yaml:1: HelmRelease x/y: chart &lt;img src=x onerror=alert(1)&gt; \\| 'evil'\\nline\n"), "\(markdown)")
        #expect(!markdown.contains("<img"))
    }
}

/// `--explain`: one reason per way a named host can fail to become a record.
@Suite struct ExplainTests {
    func reasons(_ yaml: String, configure: (inout RouteSourceOptions) -> Void = { _ in }) -> [String] {
        resolve(yaml, configure: configure).0.explanations.map(\.reason)
    }

    @Test func routesThatGetEveryRecordAreNotExplained() {
        let yaml = gateway(listener("http", from: "Same"), namespace: "infra") + route(namespace: "apps", hostnames: ["a.example.com"],
            parents: "- name: gw\n  namespace: infra").replacingOccurrences(of: "  namespace: default", with: "")
        #expect(resolve(gateway(listener()) + route(hostnames: ["a.example.com"])).0.explanations.isEmpty)
        #expect(!reasons(yaml).isEmpty)
    }

    @Test func reasons() {
        let cases: [(String, String)] = [
            (gateway(listener()) + route(hostnames: ["a.example.com"], annotations: "external-dns.alpha.kubernetes.io/controller: none"),
             "opted out by the controller annotation (\"none\" is not \"dns-controller\")"),
            (gateway(listener()) + route(hostnames: ["a.example.com"], parents: "[]"), "no spec.parentRefs"),
            (gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents: []"),
             "no status.parents: no gateway controller has reported on this route"),
            (route(hostnames: ["a.example.com"]) + gateway(listener(), name: "other"), "gateway default/gw not found"),
            (gateway(listener()) + route(), "names no hostname, and no admitting listener has a hostname to inherit"),
            (gateway(listener()) + route(hostnames: ["a.example.com", "bad_host"]), "invalid hostname 'bad_host': label 'bad_host' holds a character other than letters, digits and '-'"),
            (gateway(listener(), addresses: []) + route(hostnames: ["a.example.com"]),
             "hostname a.example.com: gateway default/gw has no addresses (status.addresses is empty and there is no target annotation)"),
            (gateway(listener(hostname: "*.example.com")) + route(hostnames: ["a.example.com"], annotations: "external-dns.alpha.kubernetes.io/hostname: x.example.net"),
             "no listener admits hostname x.example.net"),
        ]
        for (yaml, reason) in cases {
            #expect(reasons(yaml).contains(reason), "\(reasons(yaml))")
        }
        let gatewayName = gateway(listener()) + route(hostnames: ["a.example.com"])
        #expect(reasons(gatewayName) { $0.gatewayName = "edge" } == ["gateway default/gw does not match --gateway-name edge"])
        #expect(reasons(gatewayName) { $0.domainFilters = ["example.net"] } == ["hostname a.example.com is outside the domain filter"])
        #expect(reasons(gatewayName) { $0.gatewayNamespace = "infra" } == ["gateway default/gw is outside --gateway-namespace infra"])
    }

    @Test func listenerRefusalsAreNamed() {
        let yaml = gateway(listener("ssh", protocol: "TCP", port: 22) + listener("web", from: "Same"), namespace: "infra")
            + route(namespace: "apps", hostnames: ["a.example.com"], status: "parents:\n- parentRef: {name: gw, namespace: infra}\n  controllerName: x\n  conditions: [{type: Accepted, status: \"True\"}]",
                    ).replacingOccurrences(of: "- name: gw", with: "- name: gw\n      namespace: infra")
        #expect(reasons(yaml) == [
            "listener infra/gw/ssh: protocol TCP does not carry HTTPRoute",
            "listener infra/gw/web: namespace apps is not the Gateway's (allowedRoutes from: Same)",
        ])
    }
}
