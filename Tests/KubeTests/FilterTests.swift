import Testing
@testable import Kube

/// §1.7 and §1.6: filters, controller opt-out, hostname sources, domain filters.
@Suite struct FilterTests {
    static let twoGateways = gateway(listener(hostname: "*.a.example.com"), namespace: "infra", labels: "dns: \"true\"")
        + gateway(listener(hostname: "*.b.example.com"), name: "gw", namespace: "edge")
        + gateway(listener(hostname: "*.c.example.com"), name: "other", namespace: "infra")
        + route("r1", namespace: "infra", parents: "- name: gw")
        + route("r2", namespace: "edge", parents: "- name: gw")
        + route("r3", namespace: "infra", parents: "- name: other")

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let configure: @Sendable (inout RouteSourceOptions) -> Void
        let records: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no filter", configure: { _ in },
             records: ["*.a.example.com A 198.18.0.10", "*.b.example.com A 198.18.0.10", "*.c.example.com A 198.18.0.10"]),
        Case(name: "--gateway-name compares the name only", configure: { $0.gatewayName = "gw" },
             records: ["*.a.example.com A 198.18.0.10", "*.b.example.com A 198.18.0.10"]),
        Case(name: "--gateway-namespace", configure: { $0.gatewayNamespace = "infra" },
             records: ["*.a.example.com A 198.18.0.10", "*.c.example.com A 198.18.0.10"]),
        Case(name: "--gateway-label-filter", configure: { $0.gatewayLabelFilter = (try? LabelSelector(parsing: "dns=true")) ?? LabelSelector() },
             records: ["*.a.example.com A 198.18.0.10"]),
        Case(name: "--namespace filters routes", configure: { $0.namespace = "edge" },
             records: ["*.b.example.com A 198.18.0.10"]),
        Case(name: "--domain-filter", configure: { $0.domainFilters = ["b.example.com", "c.example.com"] },
             records: ["*.b.example.com A 198.18.0.10", "*.c.example.com A 198.18.0.10"]),
        Case(name: "--domain-filter with a leading dot admits only names below", configure: { $0.domainFilters = [".example.com"] },
             records: ["*.a.example.com A 198.18.0.10", "*.b.example.com A 198.18.0.10", "*.c.example.com A 198.18.0.10"]),
        Case(name: "--exclude-domains", configure: { $0.domainFilters = ["example.com"]; $0.excludeDomains = ["c.example.com"] },
             records: ["*.a.example.com A 198.18.0.10", "*.b.example.com A 198.18.0.10"]),
        Case(name: "--source gateway-grpcroute reads no HTTPRoute", configure: { $0.routeKinds = [.grpcRoute] }, records: []),
    ]

    @Test(arguments: cases, StatusMode.allCases)
    func filter(_ c: Case, mode: StatusMode) {
        #expect(records(Self.twoGateways, mode: mode, configure: c.configure) == c.records)
    }

    @Test(arguments: StatusMode.allCases)
    func labelAndAnnotationFilters(mode: StatusMode) throws {
        let yaml = gateway(listener())
            + route("one", hostnames: ["one.example.com"], annotations: "external-dns/unifi: \"true\"", labels: "team: web")
            + route("two", hostnames: ["two.example.com"], labels: "team: db")
        let byAnnotation = try LabelSelector(parsing: "external-dns/unifi in (true)")
        #expect(records(yaml, mode: mode) { $0.annotationFilter = byAnnotation } == ["one.example.com A 198.18.0.10"])
        let byLabel = try LabelSelector(parsing: "team=db")
        #expect(records(yaml, mode: mode) { $0.labelFilter = byLabel } == ["two.example.com A 198.18.0.10"])
    }

    @Test(arguments: StatusMode.allCases)
    func controllerAnnotation(mode: StatusMode) {
        let optOut = "external-dns.alpha.kubernetes.io/controller: none"
        let ours = "external-dns.kubernetes.io/controller: dns-controller"
        let yaml = gateway(listener()) + gateway(listener(), name: "skipped", annotations: optOut)
            + route("a", hostnames: ["a.example.com"], annotations: optOut)
            + route("b", hostnames: ["b.example.com"], annotations: ours)
            + route("c", hostnames: ["c.example.com"], parents: "- name: skipped")
        #expect(records(yaml, mode: mode) == ["b.example.com A 198.18.0.10"])
    }

    static let hostnameSources: [(String?, Bool, [String])] = [
        // (hostname-source, ignore-hostname-annotation, records)
        (nil, false, ["a.example.com", "b.example.com"]),
        (nil, true, ["a.example.com"]),
        ("annotation-only", false, ["b.example.com"]),
        ("Annotation-Only", false, ["b.example.com"]),
        ("annotation-only", true, []),
        ("defined-hosts-only", false, ["a.example.com"]),
        ("something-else", false, ["a.example.com", "b.example.com"]),
    ]

    @Test(arguments: hostnameSources, StatusMode.allCases)
    func hostnameSource(_ c: (source: String?, ignore: Bool, expected: [String]), mode: StatusMode) {
        var annotations = "external-dns.alpha.kubernetes.io/hostname: b.example.com"
        if let source = c.source { annotations += "\nexternal-dns.alpha.kubernetes.io/gateway-hostname-source: \(source)" }
        let yaml = gateway(listener()) + route(hostnames: ["a.example.com"], annotations: annotations)
        let names = resolve(yaml, mode: mode) { $0.ignoreHostnameAnnotation = c.ignore }.0.endpoints.map(\.name.text)
        #expect(names == c.expected)
    }

    @Test func definedHostsOnlyDoesNotInheritTheListenerHost() {
        let yaml = gateway(listener(hostname: "app.example.com"))
            + route(annotations: "external-dns.alpha.kubernetes.io/gateway-hostname-source: defined-hosts-only")
        #expect(records(yaml).isEmpty)
    }
}
