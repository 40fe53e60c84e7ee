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
        #expect(Set(object.keys) == ["desired", "explanations"])
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
