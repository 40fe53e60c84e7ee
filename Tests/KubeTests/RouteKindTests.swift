import DNSCore
import Testing
@testable import Kube

/// TLSRoute, TCPRoute and UDPRoute with external-dns's semantics, one table per kind. Each case
/// names the external-dns source it follows (kubernetes-sigs/external-dns v0.23:
/// `source/gateway_tlsroute.go`, `gateway_tcproute.go`, `gateway_udproute.go` — each
/// adapter's `Hostnames()` and `Protocol()` — their `_test.go` files, and `source/gateway.go`'s
/// `gwProtocolMatches`); the Gateway has a hostname-less listener of the route's protocol and
/// the addresses 10.64.0.1 and 10.64.0.2, as in those tests.
@Suite struct RouteKindTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var source: String
        var kind: String
        /// The listener's protocol and hostname.
        var listenerProtocol: String
        var listenerHostname: String? = nil
        var hostnames: [String] = []
        var annotations = ""
        var expected: [String]
        var testDescription: String { "\(kind): \(name)" }
    }

    static let ips = ["10.64.0.1", "10.64.0.2"]

    static let cases: [Case] = [
        Case(name: "spec hostnames and the hostname annotation",
             source: "gateway_tlsroute_test.go TestGatewayTLSRouteSourceEndpoints (its template case: FQDNTemplateTests)",
             kind: "TLSRoute", listenerProtocol: "TLS", hostnames: ["api-hostnames.foobar.internal"],
             annotations: "external-dns.alpha.kubernetes.io/hostname: api-annotation.foobar.internal",
             expected: ["api-annotation.foobar.internal A 10.64.0.1,10.64.0.2", "api-hostnames.foobar.internal A 10.64.0.1,10.64.0.2"]),
        Case(name: "not on an HTTPS listener (TLS is matched exactly)",
             source: "gateway.go gwProtocolMatches: HTTPS folds into HTTP only; TLSRoute → TLS",
             kind: "TLSRoute", listenerProtocol: "HTTPS", hostnames: ["api.foobar.internal"], expected: []),
        Case(name: "a wildcard listener hostname narrows to the route's host",
             source: "gateway.go gwMatchingHost, shared by every route kind",
             kind: "TLSRoute", listenerProtocol: "TLS", listenerHostname: "*.foobar.internal",
             hostnames: ["db.foobar.internal", "db.other.internal"], expected: ["db.foobar.internal A 10.64.0.1,10.64.0.2"]),
        Case(name: "the hostname annotation names it",
             source: "gateway_tcproute_test.go TestGatewayTCPRouteSourceEndpoints (annotation api-annotation.foobar.internal)",
             kind: "TCPRoute", listenerProtocol: "TCP",
             annotations: "external-dns.alpha.kubernetes.io/hostname: api-annotation.foobar.internal",
             expected: ["api-annotation.foobar.internal A 10.64.0.1,10.64.0.2"]),
        Case(name: "spec.hostnames is not read",
             source: "gateway_tcproute.go: Hostnames() returns nil",
             kind: "TCPRoute", listenerProtocol: "TCP", hostnames: ["ignored.foobar.internal"], expected: []),
        Case(name: "it attaches to a TLS listener too",
             source: "gateway.go gwProtocolMatches: a TCP route may attach to a TLS listener",
             kind: "TCPRoute", listenerProtocol: "TLS",
             annotations: "external-dns.alpha.kubernetes.io/hostname: pg.foobar.internal",
             expected: ["pg.foobar.internal A 10.64.0.1,10.64.0.2"]),
        Case(name: "without the annotation it inherits the listener's hostname",
             source: "gateway.go hosts(): no spec hostnames → the empty host, which takes the listener's",
             kind: "TCPRoute", listenerProtocol: "TCP", listenerHostname: "tcp.foobar.internal",
             expected: ["tcp.foobar.internal A 10.64.0.1,10.64.0.2"]),
        Case(name: "the hostname annotation names it",
             source: "gateway_udproute_test.go TestGatewayUDPRouteSourceEndpoints (annotation api-annotation.foobar.internal)",
             kind: "UDPRoute", listenerProtocol: "UDP",
             annotations: "external-dns.alpha.kubernetes.io/hostname: api-annotation.foobar.internal",
             expected: ["api-annotation.foobar.internal A 10.64.0.1,10.64.0.2"]),
        Case(name: "not on a TCP listener",
             source: "gateway.go gwProtocolMatches: UDP only matches UDP",
             kind: "UDPRoute", listenerProtocol: "TCP",
             annotations: "external-dns.alpha.kubernetes.io/hostname: dns.foobar.internal", expected: []),
    ]

    static func yaml(_ c: Case) -> String {
        gateway(listener("l", protocol: c.listenerProtocol, port: 443, hostname: c.listenerHostname), name: "internal", addresses: ips)
            + route("api", kind: c.kind, hostnames: c.hostnames, parents: "- name: internal", annotations: c.annotations)
    }

    @Test(arguments: cases)
    func routeKind(_ c: Case) {
        for mode in StatusMode.allCases {
            #expect(records(Self.yaml(c), mode: mode) == c.expected, "\(mode): \(c.source)")
        }
    }

    @Test func resourceLabelsNameTheKind() {
        let c = Self.cases[3]
        let (result, _) = resolve(Self.yaml(c), mode: .reported)
        #expect(result.endpoints.map { $0.labels.resource ?? "" } == ["tcproute/default/api"])
    }

    @Test func explainSaysATCPRouteIsNamedOnlyByItsAnnotation() {
        let c = Self.cases[4]
        let (result, _) = resolve(Self.yaml(c), mode: .reported)
        #expect(result.explanations.contains { $0.reason.contains("TCPRoute has no spec.hostnames") }, "\(result.explanations)")
    }

    @Test func sourceFlagSelectsTheKind() {
        var only = RouteSourceOptions()
        only.routeKinds = [.httpRoute]
        let set = ManifestLoader.load(text: Self.yaml(Self.cases[0]), file: "k.yaml")
        #expect(RouteSource(options: only).endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces).endpoints.isEmpty)
        #expect(RouteKind.allCases.map(\.sourceName) == ["gateway-httproute", "gateway-grpcroute", "gateway-tlsroute", "gateway-tcproute", "gateway-udproute"])
    }
}

/// `--fqdn-template` and `--combine-fqdn-annotation` as the gateway sources apply them
/// (`source/gateway.go` `gatewayRouteResolver.hosts`, `source/fqdn/fqdn.go` `ExecTemplate`).
@Suite struct FQDNTemplateTests {
    static let template = "{{.Name}}-template.foobar.internal"

    static func routeYAML(kind: String, protocol: String, hostnames: [String] = [], annotations: String = "") -> String {
        gateway(listener("l", protocol: `protocol`, port: 443), name: "internal", addresses: RouteKindTests.ips)
            + route("api", kind: kind, hostnames: hostnames, parents: "- name: internal", annotations: annotations)
    }

    static func hosts(_ yaml: String, template: String = template, combine: Bool) throws -> [String] {
        let parsed = try FQDNTemplate(parsing: template)
        return records(yaml, mode: .reported) { options in
            options.fqdnTemplate = parsed
            options.combineFQDNAndAnnotation = combine
        }.map { String($0.split(separator: " ")[0]) }
    }

    @Test("TLSRoute: spec, annotation and template names, combined (gateway_tlsroute_test.go)")
    func tlsRouteCombined() throws {
        let yaml = Self.routeYAML(kind: "TLSRoute", protocol: "TLS", hostnames: ["api-hostnames.foobar.internal"],
                                  annotations: "external-dns.alpha.kubernetes.io/hostname: api-annotation.foobar.internal")
        #expect(try Self.hosts(yaml, combine: true)
            == ["api-annotation.foobar.internal", "api-hostnames.foobar.internal", "api-template.foobar.internal"])
        // Not combining: a route with spec hostnames gets no template names.
        #expect(try Self.hosts(yaml, combine: false) == ["api-annotation.foobar.internal", "api-hostnames.foobar.internal"])
    }

    @Test("TCPRoute and UDPRoute: annotation and template (gateway_tcproute_test.go, gateway_udproute_test.go)")
    func tcpAndUDPRoutesCombined() throws {
        for (kind, proto) in [("TCPRoute", "TCP"), ("UDPRoute", "UDP")] {
            let yaml = Self.routeYAML(kind: kind, protocol: proto,
                                      annotations: "external-dns.alpha.kubernetes.io/hostname: api-annotation.foobar.internal")
            #expect(try Self.hosts(yaml, combine: true) == ["api-annotation.foobar.internal", "api-template.foobar.internal"], "\(kind)")
            // Without spec hostnames the template applies even without combining.
            #expect(try Self.hosts(yaml, combine: false) == ["api-annotation.foobar.internal", "api-template.foobar.internal"], "\(kind)")
        }
    }

    @Test("ExecTemplate: split on commas, spaces and one trailing dot trimmed, functions and index")
    func templateLanguage() throws {
        let meta = ObjectMeta(name: "Web", namespace: "apps", labels: ["zone": "home.test"], annotations: ["a": "x"])
        #expect(try FQDNTemplate(parsing: "{{.Name | toLower}}.{{.Namespace}}.example.com., {{index .Labels \"zone\"}} ,")
            .hosts(kind: "HTTPRoute", metadata: meta) == ["web.apps.example.com", "home.test"])
        #expect(try FQDNTemplate(parsing: "{{ trimSuffix \"-svc\" .Name }}.{{.Labels.zone}}").hosts(kind: "HTTPRoute",
            metadata: ObjectMeta(name: "api-svc", labels: ["zone": "home.test"])) == ["api.home.test"])
        #expect(try FQDNTemplate(parsing: "{{.Labels.missing}}.x").hosts(kind: "HTTPRoute", metadata: meta) == ["<no value>.x"])
        #expect(try FQDNTemplate(parsing: "{{replace \".\" \"-\" .Name}}").hosts(kind: "K", metadata: ObjectMeta(name: "a.b")) == ["a-b"])
        #expect(throws: TemplateError.self) { try FQDNTemplate(parsing: "{{.Spec.Hostnames}}") }
        #expect(throws: TemplateError.self) { try FQDNTemplate(parsing: "{{printf \"%s\" .Name}}") }
        #expect(throws: TemplateError.self) { try FQDNTemplate(parsing: "{{.Name") }
        #expect(throws: TemplateError.self) { try FQDNTemplate(parsing: "{{ \"a\"b }}") }
        #expect(throws: TemplateError.self) { try FQDNTemplate(parsing: "{{ replace \"a\"\"b\" \"c\" .Name }}") }
    }

    /// A route author's annotation, multiplied by `replace`, must not grow without bound: the
    /// route gets no template names and a warning that names it, and `index` of a large map still works.
    @Test func templateOutputIsBounded() throws {
        let big = String(repeating: "a", count: 2000)
        let meta = ObjectMeta(name: "api", namespace: "apps", annotations: ["x": big, "zone": "home.test"])
        let squared = try FQDNTemplate(parsing: "{{ replace \"a\" .Annotations.x .Annotations.x }}")
        #expect(throws: TemplateError.self) { try squared.hosts(kind: "HTTPRoute", metadata: meta) }
        let piped = try FQDNTemplate(parsing: "{{ .Annotations.x | replace \"a\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" }}")
        #expect(throws: TemplateError.self) { try piped.hosts(kind: "HTTPRoute", metadata: meta) }
        let huge = ObjectMeta(name: "api", namespace: "apps", annotations: ["x": String(repeating: "a", count: 100_000), "zone": "home.test"])
        #expect(try FQDNTemplate(parsing: "{{ index .Annotations \"zone\" }}").hosts(kind: "HTTPRoute", metadata: huge) == ["home.test"])

        let yaml = FQDNTemplateTests.routeYAML(kind: "TCPRoute", protocol: "TCP", annotations: "x: \(big)")
        let (result, _) = resolve(yaml, mode: .reported) { $0.fqdnTemplate = squared }
        #expect(result.endpoints.isEmpty)
        #expect(result.warnings.contains { $0.message.contains("fqdnTemplate") && $0.message.contains("exceed \(FQDNTemplate.maxOutputBytes) bytes") })
    }
}
