import DNSCore
import Testing
@testable import Kube

/// external-dns's `crd` source over DNSEndpoints read from manifests. Each case names what it
/// follows: `source/crd.go` (`Endpoints`, `filterByAnnotations`) and `source/crd_test.go` at
/// kubernetes-sigs/external-dns v0.23, `apis/v1alpha1/dnsendpoint.go` for the object, and the
/// seed fixtures in ../shared/fixtures/real-world.
@Suite struct DNSEndpointSourceTests {
    static func object(_ endpoints: String, name: String = "records", namespace: String = "network",
                       labels: String = "{}", annotations: String = "{}") -> String {
        """
        ---
        apiVersion: externaldns.k8s.io/v1alpha1
        kind: DNSEndpoint
        metadata:
          name: \(name)
          namespace: \(namespace)
          labels: \(labels)
          annotations: \(annotations)
        spec:
          endpoints:
        \(endpoints)

        """
    }

    static func run(_ yaml: String, configure: (inout RouteSourceOptions) -> Void = { _ in }) -> (RouteSourceResult, ManifestSet) {
        let set = ManifestLoader.load(text: yaml, file: "dnsendpoints.yaml")
        var options = RouteSourceOptions()
        options.explain = true
        configure(&options)
        return (DNSEndpointSource(options: options).endpoints(set.dnsEndpoints), set)
    }

    static func described(_ endpoints: [Endpoint]) -> [String] {
        endpoints.map { e in
            var line = "\(e.name) \(e.type.rawValue) \(e.targets.joined(separator: ",")) \(e.labels.resource ?? "-")"
            if let ttl = e.ttl { line += " ttl=\(ttl)" }
            if let proxied = e.providerSpecific.cloudflareProxied { line += " proxied=\(proxied)" }
            return line
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// Where external-dns's behaviour comes from.
        var source: String
        var endpoints: String
        var labels = "{}"
        var annotations = "{}"
        var configure: @Sendable (inout RouteSourceOptions) -> Void = { _ in }
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "the seed's tunnel record: a CNAME to <id>.cfargotunnel.com, resource crd/NS/NAME",
             source: "crd.go Endpoints: WithLabel(ResourceLabelKey, crd/<ns>/<name>); onedr0p cloudflare-tunnel dnsendpoint.yaml",
             endpoints: """
                 - dnsName: external.turbo.ac
                   recordType: CNAME
                   targets: [11111111-2222-3333-4444-555555555555.cfargotunnel.com]
             """,
             expected: ["external.turbo.ac CNAME 11111111-2222-3333-4444-555555555555.cfargotunnel.com crd/network/records"]),
        Case(name: "several A entries with one target each, and a TTL",
             source: "crd_test.go 'endpoints with multiple records'; bjw-s towonel-agent dnsendpoint.yaml; recordTTL is endpoint.TTL",
             endpoints: """
                 - { dnsName: ingress-ext.bjw-s.test, recordType: A, targets: [198.18.0.129], recordTTL: 300 }
                 - { dnsName: twnl.bjw-s.test, recordType: A, targets: [198.18.0.129, 198.18.0.130] }
             """,
             expected: ["ingress-ext.bjw-s.test A 198.18.0.129 crd/network/records ttl=300",
                        "twnl.bjw-s.test A 198.18.0.129,198.18.0.130 crd/network/records"]),
        Case(name: "providerSpecific cloudflare-proxied under the alpha prefix is read",
             source: "swibrow envoy-gateway internal-dnsendpoint.yaml; provider_specific.go names (prefix + cloudflare-proxied)",
             endpoints: """
                 - dnsName: internal.wibrow.test
                   recordType: A
                   targets: ["10.20.10.238"]
                   providerSpecific:
                     - { name: external-dns.alpha.kubernetes.io/cloudflare-proxied, value: "false" }
             """,
             expected: ["internal.wibrow.test A 10.20.10.238 crd/network/records proxied=false"]),
        Case(name: "an A/AAAA/CNAME entry without targets is skipped, the others kept",
             source: "crd.go Endpoints: 'has an empty list of targets' warning and continue",
             endpoints: """
                 - { dnsName: empty.home.test, recordType: A, targets: [] }
                 - { dnsName: kept.home.test, recordType: CNAME, targets: [gw.home.test] }
             """,
             expected: ["kept.home.test CNAME gw.home.test crd/network/records"]),
        Case(name: "a target with a trailing dot is an illegal target format: skipped",
             source: "crd.go Endpoints: illegalTarget when a non-NAPTR target ends with '.'; crd_test.go 'illegal target'",
             endpoints: """
                 - { dnsName: dotted.home.test, recordType: CNAME, targets: [gw.home.test.] }
             """,
             expected: []),
        Case(name: "--label-filter selects the objects",
             source: "crd.go Endpoints: List with LabelSelector: cs.labelSelector.String(); crd_test.go label filter cases",
             endpoints: "    - { dnsName: a.home.test, recordType: A, targets: [198.18.0.1] }",
             labels: "{ scope: internal }",
             configure: { $0.labelFilter = LabelSelector(matchLabels: ["scope": "external"]) },
             expected: []),
        Case(name: "--annotation-filter selects the objects",
             source: "crd.go filterByAnnotations: selector over the object's annotations",
             endpoints: "    - { dnsName: a.home.test, recordType: A, targets: [198.18.0.1] }",
             annotations: "{ kubernetes.io/ingress.class: external }",
             configure: { $0.annotationFilter = LabelSelector(matchLabels: ["kubernetes.io/ingress.class": "external"]) },
             expected: ["a.home.test A 198.18.0.1 crd/network/records"]),
        Case(name: "--namespace selects the objects",
             source: "crd.go List/watch: Namespace(cs.namespace)",
             endpoints: "    - { dnsName: a.home.test, recordType: A, targets: [198.18.0.1] }",
             configure: { $0.namespace = "apps" },
             expected: []),
        Case(name: "the domain filter applies (external-dns applies it in the plan)",
             source: "plan.go filterRecordsForPlan with the domain filter (EXTERNAL-DNS.md §2.1)",
             endpoints: """
                 - { dnsName: a.home.test, recordType: A, targets: [198.18.0.1] }
                 - { dnsName: b.other.test, recordType: A, targets: [198.18.0.2] }
             """,
             configure: { $0.domainFilters = ["home.test"] },
             expected: ["a.home.test A 198.18.0.1 crd/network/records"]),
        Case(name: "types outside the managed set (TXT, MX, SRV) are not published",
             source: "--managed-record-types default A, AAAA, CNAME (EXTERNAL-DNS.md §2.1)",
             endpoints: """
                 - { dnsName: mail.home.test, recordType: MX, targets: ["10 mx.home.test"] }
                 - { dnsName: note.home.test, recordType: TXT, targets: ["hello"] }
                 - { dnsName: v6.home.test, recordType: AAAA, targets: ["2001:db8::1"] }
             """,
             expected: ["v6.home.test AAAA 2001:db8::1 crd/network/records"]),
    ]

    @Test(arguments: cases)
    func crdSource(_ c: Case) {
        let yaml = Self.object(c.endpoints, labels: c.labels, annotations: c.annotations)
        let (result, set) = Self.run(yaml, configure: c.configure)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(Self.described(result.endpoints) == c.expected, "\(c.source)")
    }

    @Test func skippedEntriesAreWarnedAndExplained() {
        let yaml = Self.object("""
                - { dnsName: empty.home.test, recordType: A, targets: [] }
                - { dnsName: dotted.home.test, recordType: CNAME, targets: [gw.home.test.] }
                - { dnsName: wrong.home.test, recordType: A, targets: [gw.home.test] }
                - { dnsName: two.home.test, recordType: CNAME, targets: [a.home.test, b.home.test] }
                - { dnsName: bad.home.test, recordType: CNAME, targets: [evil..com] }
            """)
        let (result, _) = Self.run(yaml)
        #expect(result.endpoints.isEmpty)
        #expect(result.warnings.map(\.message) == [
            "spec.endpoints[0] empty.home.test: an A record with no targets; skipped",
            "spec.endpoints[1] dotted.home.test: target \"gw.home.test.\" ends with a dot, which external-dns refuses as an illegal target format; skipped",
            "spec.endpoints[2] wrong.home.test: target \"gw.home.test\" is not valid for an A record ('gw.home.test' is not an IPv4 address); skipped",
            "spec.endpoints[3] two.home.test: a CNAME has one target, not 2; skipped",
            "spec.endpoints[4] bad.home.test: target \"evil..com\" is not valid for a CNAME record ('evil..com' is not a host name: empty label); skipped",
        ])
        #expect(Set(result.explanations.map(\.resource)) == ["crd/network/records"])
        #expect(result.explanations.count == 5)
    }

    @Test func aBadRecordTTLNamesTheFieldAndTheObject() {
        let yaml = Self.object("    - { dnsName: a.home.test, recordType: A, targets: [198.18.0.1], recordTTL: ten }")
        let set = ManifestLoader.load(text: yaml, file: "dnsendpoints.yaml")
        #expect(set.dnsEndpoints.isEmpty)
        #expect(set.diagnostics.map(\.message) == ["cannot read DNSEndpoint records: recordTTL: 'ten' is not an integer"])
    }

    @Test func routesAndDNSEndpointsTogether() {
        let yaml = gateway(listener()) + route("app", hostnames: ["app.example.com"])
            + Self.object("    - { dnsName: tunnel.example.com, recordType: CNAME, targets: [abc.cfargotunnel.com] }")
        let set = ManifestLoader.load(text: yaml, file: "mixed.yaml")
        let result = RouteSource().endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces,
                                             dnsEndpoints: set.dnsEndpoints)
        #expect(result.endpoints.map { "\($0.name) \($0.labels.resource ?? "")" }
            == ["app.example.com httproute/default/app", "tunnel.example.com crd/network/records"])
        var off = RouteSourceOptions()
        off.readDNSEndpoints = false
        let without = RouteSource(options: off).endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces,
                                                          dnsEndpoints: set.dnsEndpoints)
        #expect(without.endpoints.map(\.name.text) == ["app.example.com"])
    }
}
