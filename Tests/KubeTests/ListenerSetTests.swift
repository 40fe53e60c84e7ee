import DNSCore
import Testing
@testable import Kube

/// Routes attached through a ListenerSet, behind the opt-in (`--gateway-listener-sets`,
/// `select.gatewayListenerSets`). Cases follow kubernetes-sigs/external-dns v0.23
/// `source/gateway.go`: `newListenerSetObject` (parent Gateway found, `allowedListeners`,
/// `Accepted`; targets from the set's `target` annotation, else the Gateway's, else its
/// addresses), `listenerSetSections` (each entry's own `Accepted`), `gatewayAllowsListenerSet`
/// (`from` None by default, Same, All, Selector) and `resolveParentRef` (`--gateway-name`
/// compares the parent Gateway's name).
@Suite struct ListenerSetTests {
    static func yaml(allowed: String? = "All", setAnnotations: String = "", setStatus: String = "", gatewayName: String = "gw") -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: { name: \(gatewayName), namespace: network }
        spec:
          gatewayClassName: envoy
          addresses: [{ value: 198.18.0.10 }]
        \(allowed.map { "  allowedListeners: { namespaces: { from: \($0) } }" } ?? "")
          listeners:
            - { name: http, port: 80, protocol: HTTP, hostname: "*.home.test", allowedRoutes: { namespaces: { from: All } } }
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata:
          name: team
          namespace: apps
          annotations: { \(setAnnotations) }
        spec:
          parentRef: { name: \(gatewayName), namespace: network }
          listeners:
            - { name: apps, port: 443, protocol: HTTPS, hostname: "*.apps.test", allowedRoutes: { namespaces: { from: Same } } }
        \(setStatus)
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: { name: web, namespace: apps }
        spec:
          parentRefs: [{ kind: ListenerSet, name: team }]
          hostnames: [web.apps.test, web.home.test]

        """
    }

    static func run(_ yaml: String, optIn: Bool = true, gatewayName: String? = nil) -> RouteSourceResult {
        let set = ManifestLoader.load(text: yaml, file: "ls.yaml")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        var options = RouteSourceOptions()
        options.explain = true
        options.gatewayListenerSets = optIn
        options.gatewayName = gatewayName
        return RouteSource(options: options).endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces,
                                                       listenerSets: set.listenerSets)
    }

    @Test("attached: the set's listener hostname narrows the route; the Gateway's addresses are the targets")
    func attached() {
        let result = Self.run(Self.yaml())
        #expect(lines(result.endpoints) == ["web.apps.test A 198.18.0.10"])
        #expect(result.endpoints.first?.labels.resource == "httproute/apps/web")
    }

    @Test("off by default: the route gives nothing, and --explain says why")
    func optIn() {
        let result = Self.run(Self.yaml(), optIn: false)
        #expect(result.endpoints.isEmpty)
        #expect(result.explanations.contains { $0.reason.contains("select.gatewayListenerSets") }, "\(result.explanations)")
    }

    @Test("the set's target annotation wins over the Gateway's addresses")
    func targetOverride() {
        let result = Self.run(Self.yaml(setAnnotations: "external-dns.alpha.kubernetes.io/target: ext.home.test"))
        #expect(lines(result.endpoints) == ["web.apps.test CNAME ext.home.test"])
    }

    @Test("a Gateway without allowedListeners (None) or with Same across namespaces does not attach it")
    func notAllowed() {
        for allowed in [nil, "Same", "None"] as [String?] {
            let result = Self.run(Self.yaml(allowed: allowed))
            #expect(result.endpoints.isEmpty, "\(allowed ?? "absent")")
        }
        #expect(Self.run(Self.yaml(allowed: nil)).explanations.contains { $0.reason.contains("allows no ListenerSets") })
    }

    @Test("reported status: a set or an entry not Accepted does not carry routes")
    func reportedStatus() {
        let entryRefused = """
            status:
              conditions: [{ type: Accepted, status: "True" }]
              listeners: [{ name: apps, conditions: [{ type: Accepted, status: "False", reason: HostnameConflict }] }]
            """
        #expect(Self.run(Self.yaml(setStatus: entryRefused)).endpoints.isEmpty)
        let setRefused = """
            status:
              conditions: [{ type: Accepted, status: "False", reason: NotAllowed }]
            """
        #expect(Self.run(Self.yaml(setStatus: setRefused)).endpoints.isEmpty)
        let accepted = """
            status:
              conditions: [{ type: Accepted, status: "True" }]
              listeners: [{ name: apps, conditions: [{ type: Accepted, status: "True" }] }]
            """
        #expect(lines(Self.run(Self.yaml(setStatus: accepted)).endpoints) == ["web.apps.test A 198.18.0.10"])
    }

    @Test("--gateway-name compares the parent Gateway's name, not the set's")
    func gatewayName() {
        #expect(Self.run(Self.yaml(), gatewayName: "gw").endpoints.count == 1)
        #expect(Self.run(Self.yaml(), gatewayName: "team").endpoints.isEmpty)
    }
}
