import Testing
@testable import Kube

/// One case of §1.4: a Gateway, a route, and the records external-dns would publish.
struct MatchCase: CustomTestStringConvertible, Sendable {
    let name: String
    let yaml: String
    let records: [String]
    var testDescription: String { name }
}

/// §1.4 listener matching, each case run with reported status and with inferred status.
@Suite struct ListenerMatchingTests {
    static let cases: [MatchCase] = [
        MatchCase(name: "listener without hostname yields the route host",
                  yaml: gateway(listener()) + route(hostnames: ["foo.example.com"]),
                  records: ["foo.example.com A 198.18.0.10"]),
        MatchCase(name: "route without hostname inherits the listener's",
                  yaml: gateway(listener(hostname: "app.example.com")) + route(),
                  records: ["app.example.com A 198.18.0.10"]),
        MatchCase(name: "both without hostname publish nothing",
                  yaml: gateway(listener()) + route(),
                  records: []),
        MatchCase(name: "wildcard listener and bare route publish the wildcard",
                  yaml: gateway(listener(hostname: "*.example.com")) + route(),
                  records: ["*.example.com A 198.18.0.10"]),
        MatchCase(name: "wildcard listener matches any depth",
                  yaml: gateway(listener(hostname: "*.example.com")) + route(hostnames: ["a.b.example.com", "c.example.com"]),
                  records: ["a.b.example.com A 198.18.0.10", "c.example.com A 198.18.0.10"]),
        MatchCase(name: "wildcard listener never matches the bare parent",
                  yaml: gateway(listener(hostname: "*.example.com")) + route(hostnames: ["example.com", "x.example.com"]),
                  records: ["x.example.com A 198.18.0.10"]),
        MatchCase(name: "wildcard route on a specific listener yields the listener host",
                  yaml: gateway(listener(hostname: "foo.example.com")) + route(hostnames: ["*.example.com"]),
                  records: ["foo.example.com A 198.18.0.10"]),
        MatchCase(name: "hosts are lower-cased",
                  yaml: gateway(listener(hostname: "*.Example.com")) + route(hostnames: ["Foo.EXAMPLE.com"]),
                  records: ["foo.example.com A 198.18.0.10"]),
        MatchCase(name: "HTTPS listener carries an HTTPRoute",
                  yaml: gateway(listener("https", protocol: "HTTPS", port: 443)) + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "TLS, TCP and UDP listeners never carry an HTTPRoute",
                  yaml: gateway(listener("tls", protocol: "TLS", port: 443) + listener("tcp", protocol: "TCP", port: 22)
                                + listener("udp", protocol: "UDP", port: 53)) + route(hostnames: ["a.example.com"]),
                  records: []),
        MatchCase(name: "GRPCRoute attaches to an HTTPS listener",
                  yaml: gateway(listener("grpc", protocol: "HTTPS", port: 50051)) + route(kind: "GRPCRoute", hostnames: ["g.example.com"]),
                  records: ["g.example.com A 198.18.0.10"]),
        MatchCase(name: "GRPCRoute attaches to an HTTP listener",
                  yaml: gateway(listener()) + route(kind: "GRPCRoute", hostnames: ["g.example.com"]),
                  records: ["g.example.com A 198.18.0.10"]),
        MatchCase(name: "sectionName selects one listener",
                  yaml: gateway(listener("a", hostname: "a.example.com") + listener("b", port: 81, hostname: "b.example.com"))
                      + route(parents: "- name: gw\n  sectionName: b"),
                  records: ["b.example.com A 198.18.0.10"]),
        MatchCase(name: "no sectionName means every listener",
                  yaml: gateway(listener("a", hostname: "a.example.com") + listener("b", port: 81, hostname: "b.example.com")) + route(),
                  records: ["a.example.com A 198.18.0.10", "b.example.com A 198.18.0.10"]),
        MatchCase(name: "an unknown sectionName matches nothing",
                  yaml: gateway(listener("a", hostname: "a.example.com")) + route(parents: "- name: gw\n  sectionName: nope"),
                  records: []),
        MatchCase(name: "parentRef port selects listeners on that port",
                  yaml: gateway(listener("a", port: 80, hostname: "a.example.com") + listener("b", port: 8080, hostname: "b.example.com"))
                      + route(parents: "- name: gw\n  port: 8080"),
                  records: ["b.example.com A 198.18.0.10"]),
        MatchCase(name: "allowedRoutes Same refuses another namespace",
                  yaml: gateway(listener(from: "Same"), namespace: "infra") + route(namespace: "apps", hostnames: ["a.example.com"],
                                                                                  parents: "- name: gw\n  namespace: infra"),
                  records: []),
        MatchCase(name: "allowedRoutes Same admits the Gateway's namespace",
                  yaml: gateway(listener(from: "Same"), namespace: "infra") + route(namespace: "infra", hostnames: ["a.example.com"]),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "allowedRoutes defaults to Same",
                  yaml: gateway("- name: http\n  protocol: HTTP\n  port: 80\n", namespace: "infra")
                      + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra"),
                  records: []),
        MatchCase(name: "allowedRoutes All admits any namespace",
                  yaml: gateway(listener(from: "All"), namespace: "infra")
                      + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra"),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "allowedRoutes Selector admits a namespace with matching labels",
                  yaml: namespace("apps", labels: "expose: \"true\"") + gateway(listener(from: "Selector", extra: selector("expose: \"true\"")), namespace: "infra")
                      + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra"),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "allowedRoutes Selector refuses a namespace without them",
                  yaml: namespace("apps") + gateway(listener(from: "Selector", extra: selector("expose: \"true\"")), namespace: "infra")
                      + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra"),
                  records: []),
        MatchCase(name: "allowedRoutes Selector by the automatic namespace-name label",
                  yaml: gateway(listener(from: "Selector", extra: selector("kubernetes.io/metadata.name: apps")), namespace: "infra")
                      + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra"),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "allowedRoutes Selector with matchExpressions",
                  yaml: namespace("apps", labels: "tier: web") + gateway(listener(from: "Selector", extra: "    selector:\n      matchExpressions:\n        - {key: tier, operator: In, values: [web, api]}"), namespace: "infra")
                      + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra"),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "allowedRoutes Selector without a selector admits nothing",
                  yaml: gateway(listener(from: "Selector"), namespace: "infra")
                      + route(namespace: "infra", hostnames: ["a.example.com"]),
                  records: []),
        MatchCase(name: "allowedRoutes kinds must list the route kind",
                  yaml: gateway(listener(extra: "  kinds:\n    - kind: GRPCRoute")) + route(hostnames: ["a.example.com"])
                      + route("g", kind: "GRPCRoute", hostnames: ["g.example.com"]),
                  records: ["g.example.com A 198.18.0.10"]),
        MatchCase(name: "annotation hostnames go through the listener intersection",
                  yaml: gateway(listener(hostname: "*.example.com"))
                      + route(hostnames: ["a.example.com"],
                              annotations: "external-dns.alpha.kubernetes.io/hostname: b.example.com,c.example.net"),
                  records: ["a.example.com A 198.18.0.10", "b.example.com A 198.18.0.10"]),
        MatchCase(name: "a route with no hostnames inherits and adds annotation hosts",
                  yaml: gateway(listener(hostname: "*.example.com"))
                      + route(annotations: "external-dns.kubernetes.io/hostname: b.example.com"),
                  records: ["*.example.com A 198.18.0.10", "b.example.com A 198.18.0.10"]),
        MatchCase(name: "matching listeners of one Gateway give one set of targets",
                  yaml: gateway(listener("a") + listener("b", protocol: "HTTPS", port: 443)) + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com A 198.18.0.10"]),
    ]

    @Test(arguments: cases, StatusMode.allCases)
    func rule(_ c: MatchCase, mode: StatusMode) {
        #expect(records(c.yaml, mode: mode) == c.records)
    }
}

func namespace(_ name: String, labels: String = "") -> String {
    """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: \(name)
    \(labels.isEmpty ? "" : "  labels:\n" + indent(labels, by: 4))
    ---

    """
}

/// A `selector:` with `matchLabels`, indented for a listener's `allowedRoutes.namespaces`.
func selector(_ matchLabels: String) -> String {
    "    selector:\n      matchLabels:\n" + indent(matchLabels, by: 8)
}
