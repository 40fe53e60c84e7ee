import DNSCore
import Testing
@testable import Kube

/// §1.5: targets, record types, TTL and merging; each case with reported and inferred status.
@Suite struct TargetsAndMergeTests {
    static let target = "external-dns.alpha.kubernetes.io/target"

    static let cases: [MatchCase] = [
        MatchCase(name: "IPv4 address gives A",
                  yaml: gateway(listener(), addresses: ["192.0.2.1"]) + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com A 192.0.2.1"]),
        MatchCase(name: "IPv6 address gives AAAA",
                  yaml: gateway(listener(), addresses: ["2001:db8::1"]) + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com AAAA 2001:db8::1"]),
        MatchCase(name: "a hostname address gives CNAME",
                  yaml: gateway(listener(), addresses: ["lb.example.net"]) + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com CNAME lb.example.net"]),
        MatchCase(name: "mixed addresses give one endpoint per type",
                  yaml: gateway(listener(), addresses: ["192.0.2.2", "2001:db8::1", "192.0.2.1", "lb.example.net"])
                      + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com A 192.0.2.1,192.0.2.2", "a.example.com AAAA 2001:db8::1", "a.example.com CNAME lb.example.net"]),
        MatchCase(name: "the Gateway's target annotation overrides its addresses",
                  yaml: gateway(listener(), addresses: ["192.0.2.1"], annotations: "\(target): ingress.example.net.")
                      + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com CNAME ingress.example.net"]),
        MatchCase(name: "a comma-separated target annotation",
                  yaml: gateway(listener(), annotations: "\(target): 203.0.113.1, 203.0.113.2") + route(hostnames: ["a.example.com"]),
                  records: ["a.example.com A 203.0.113.1,203.0.113.2"]),
        MatchCase(name: "a target annotation on the route is ignored",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], annotations: "\(target): other.example.net"),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "ttl annotation in seconds",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], annotations: "external-dns.alpha.kubernetes.io/ttl: \"300\""),
                  records: ["a.example.com A 198.18.0.10 ttl=300"]),
        MatchCase(name: "ttl annotation as a duration",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], annotations: "external-dns.kubernetes.io/ttl: 5m"),
                  records: ["a.example.com A 198.18.0.10 ttl=300"]),
        MatchCase(name: "an invalid ttl keeps the default",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], annotations: "external-dns.kubernetes.io/ttl: soon"),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "two routes with one host and TTL merge",
                  yaml: gateway(listener(), addresses: ["192.0.2.1"]) + gateway(listener(), name: "gw2", addresses: ["192.0.2.2"])
                      + route("a", hostnames: ["a.example.com"]) + route("b", hostnames: ["a.example.com"], parents: "- name: gw2"),
                  records: ["a.example.com A 192.0.2.1,192.0.2.2"]),
        MatchCase(name: "different TTLs do not merge",
                  yaml: gateway(listener(), addresses: ["192.0.2.1"]) + gateway(listener(), name: "gw2", addresses: ["192.0.2.2"])
                      + route("a", hostnames: ["a.example.com"])
                      + route("b", hostnames: ["a.example.com"], parents: "- name: gw2", annotations: "external-dns.kubernetes.io/ttl: \"60\""),
                  records: ["a.example.com A 192.0.2.1", "a.example.com A 192.0.2.2 ttl=60"]),
        MatchCase(name: "equal CNAMEs from two routes merge",
                  yaml: gateway(listener(), annotations: "\(target): lb.example.net")
                      + route("a", hostnames: ["a.example.com"]) + route("b", hostnames: ["a.example.com"]),
                  records: ["a.example.com CNAME lb.example.net"]),
        MatchCase(name: "different CNAMEs for one name stay apart",
                  yaml: gateway(listener(), annotations: "\(target): lb1.example.net")
                      + gateway(listener(), name: "gw2", annotations: "\(target): lb2.example.net")
                      + route("a", hostnames: ["a.example.com"]) + route("b", hostnames: ["a.example.com"], parents: "- name: gw2"),
                  records: ["a.example.com CNAME lb1.example.net", "a.example.com CNAME lb2.example.net"]),
    ]

    @Test(arguments: cases, StatusMode.allCases)
    func rule(_ c: MatchCase, mode: StatusMode) {
        #expect(records(c.yaml, mode: mode) == c.records)
    }

    @Test func mergedRecordKeepsTheFirstRouteInNameOrder() {
        let yaml = gateway(listener()) + route("zeta", hostnames: ["a.example.com"]) + route("alpha", hostnames: ["a.example.com"])
        let endpoints = resolve(yaml).0.endpoints
        #expect(endpoints.map(\.labels.resource) == ["httproute/default/alpha"])
    }

    @Test func resourceLabelNamesKindNamespaceAndName() {
        let yaml = gateway(listener()) + route("web", kind: "GRPCRoute", hostnames: ["g.example.com"])
        #expect(resolve(yaml).0.endpoints.map(\.labels.resource) == ["grpcroute/default/web"])
    }

    @Test func conflictingCNAMEsAreReported() {
        let yaml = TargetsAndMergeTests.cases.first { $0.name == "different CNAMEs for one name stay apart" }?.yaml ?? ""
        let warnings = resolve(yaml).0.warnings.map(\.message)
        #expect(warnings.contains { $0.contains("a name can hold only one CNAME") })
    }

    @Test func ignoredAndInvalidAnnotationsAreReported() {
        let yaml = gateway(listener(), annotations: "external-dns.alpha.kubernetes.io/ttl: \"60\"")
            + route(hostnames: ["a.example.com"], annotations: "\(Self.target): x.example.net\nexternal-dns.kubernetes.io/ttl: soon")
        let warnings = resolve(yaml).0.warnings
        #expect(warnings.contains { $0.resource == "gateway/default/gw" && $0.message.contains("no effect on a Gateway") })
        #expect(warnings.contains { $0.resource == "httproute/default/r" && $0.message.contains("no effect on a route") })
        #expect(warnings.contains { $0.message.contains("\"soon\"") && $0.message.contains("default TTL is kept") })
    }
}

/// netagent's improvement: provider-specific annotations on a Gateway are defaults for its routes.
@Suite struct GatewayDefaultsTests {
    static let proxied = "external-dns.alpha.kubernetes.io/cloudflare-proxied"

    @Test func gatewayValueIsTheDefault() {
        let yaml = gateway(listener(), annotations: "\(Self.proxied): \"false\"") + route(hostnames: ["a.example.com"])
        #expect(resolve(yaml).0.endpoints.map(\.providerSpecific) == [ProviderSpecific(cloudflareProxied: false)])
    }

    @Test func routeValueWins() {
        let yaml = gateway(listener(), annotations: "\(Self.proxied): \"false\"\nexternal-dns.alpha.kubernetes.io/cloudflare-tags: gw:yes")
            + route(hostnames: ["a.example.com"], annotations: "external-dns.kubernetes.io/cloudflare-proxied: \"true\"")
        #expect(resolve(yaml).0.endpoints.map(\.providerSpecific) == [ProviderSpecific(cloudflareProxied: true, cloudflareTags: ["gw:yes"])])
    }

    @Test func externalDNSBehaviourWhenTurnedOff() {
        let yaml = gateway(listener(), annotations: "\(Self.proxied): \"false\"") + route(hostnames: ["a.example.com"])
        let endpoints = resolve(yaml) { $0.gatewayProviderDefaults = false }.0.endpoints
        #expect(endpoints.map(\.providerSpecific) == [ProviderSpecific()])
    }

    @Test func eachHostTakesTheDefaultsOfTheGatewaysThatServeIt() {
        let yaml = gateway(listener(hostname: "*.a.example.com"), annotations: "\(Self.proxied): \"true\"")
            + gateway(listener(hostname: "*.b.example.com"), name: "gw2")
            + route(hostnames: ["x.a.example.com", "x.b.example.com"], parents: "- name: gw\n- name: gw2")
        let proxied = resolve(yaml).0.endpoints.map { "\($0.name) \($0.providerSpecific.cloudflareProxied.map(String.init) ?? "-")" }
        #expect(proxied == ["x.a.example.com true", "x.b.example.com -"])
    }
}
