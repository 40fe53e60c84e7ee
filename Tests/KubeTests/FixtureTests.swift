import DNSCore
import Foundation
import TestSupport
import Testing
@testable import Kube

/// The real-world manifests in ../shared/fixtures/real-world, each folder against its
/// EXPECTED.md. Manifests from Git carry no status, so the manifests source infers it; the
/// namespaces that Flux or kustomize would set are given per file, as each EXPECTED.md lists them
/// (GitOpsFixtureTests reads the same files laid out with their kustomizations instead).
@Suite(.enabled(if: Fixtures.available || Repository.isCI, "the shared fixtures are not beside this package"))
struct FixtureTests {
    /// Loads `files` (names in `repo`, or every file when empty) and runs the route source.
    static func plan(_ repo: String, files: [String] = [], namespaceOf: (String) -> String?,
                     addresses: [GatewayAddressOverride] = [],
                     configure: (inout RouteSourceOptions) -> Void = { _ in }) throws -> RouteSourceResult {
        let folder = try Fixtures.folder().appendingPathComponent(repo)
        let names = files.isEmpty ? try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") } : files
        var options = ManifestOptions()
        options.gatewayAddresses = addresses
        options.pathNamespaces = names.compactMap { name in namespaceOf(name).map { PathNamespace(path: folder.appendingPathComponent(name).path, namespace: $0) } }
        let set = ManifestLoader.load(paths: names.sorted().map { folder.appendingPathComponent($0).path }, options: options)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        var sourceOptions = RouteSourceOptions()
        sourceOptions.explain = true
        configure(&sourceOptions)
        return RouteSource(options: sourceOptions).endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces)
    }

    /// The path component at `index` of a flattened file name (`a__b__c.yaml`).
    static func component(_ index: Int) -> (String) -> String? {
        { name in
            let parts = name.components(separatedBy: "__")
            return parts.count > index + 1 ? parts[index] : nil
        }
    }

    @Test func onedr0p() throws {
        let namespaceOf = Self.component(2)
        let cloudflare = try Self.plan("onedr0p__home-ops", namespaceOf: namespaceOf) {
            $0.gatewayName = "envoy-external"
            $0.domainFilters = ["turbo.ac"]
        }
        #expect(lines(cloudflare.endpoints) == ["flux-webhook.turbo.ac CNAME external.turbo.ac"])
        #expect(cloudflare.endpoints.map(\.labels.resource) == ["httproute/flux-system/github-webhook"])
        #expect(cloudflare.explanations.contains { $0.resource == "httproute/network/https-redirect" && $0.reason.hasPrefix("opted out by the controller annotation") })
        let unifi = try Self.plan("onedr0p__home-ops", namespaceOf: namespaceOf) { $0.domainFilters = ["turbo.ac"] }
        #expect(lines(unifi.endpoints) == ["flux-webhook.turbo.ac CNAME external.turbo.ac"])
    }

    @Test func bjwSLabs() throws {
        let namespaceOf = Self.component(2)
        let ovh = try Self.plan("bjw-s-labs__home-ops", namespaceOf: namespaceOf) {
            $0.gatewayName = "envoy-external"
            $0.domainFilters = ["bjw-s.dev"]
        }
        #expect(lines(ovh.endpoints) == ["flux-webhook.bjw-s.dev CNAME ingress-ext.bjw-s.dev", "git.bjw-s.dev CNAME ingress-ext.bjw-s.dev"])
        let unifi = try Self.plan("bjw-s-labs__home-ops", namespaceOf: namespaceOf) { $0.domainFilters = ["bjw-s.dev"] }
        #expect(lines(unifi.endpoints) == [
            "flux-webhook.bjw-s.dev CNAME ingress-ext.bjw-s.dev", "git.bjw-s.dev CNAME ingress-ext.bjw-s.dev",
            "hass.bjw-s.dev CNAME ingress-int.bjw-s.dev", "home-assistant.bjw-s.dev CNAME ingress-int.bjw-s.dev",
            "hubble.bjw-s.dev CNAME ingress-int.bjw-s.dev",
        ])
    }

    @Test func sholdee() throws {
        let result = try Self.plan("sholdee__home-ops", namespaceOf: Self.component(1))
        let mgmt = ["adguard", "alertmgr", "appdaemon", "codeserver", "grafana", "hass", "headlamp", "hivemq", "hubble", "longhorn",
                    "mealie", "powerdns", "powerdns-api", "prometheus", "unifi", "zwave"].map { "\($0).mgmt.sholdee.net A 192.168.77.32" }
        let external = ["argocd", "kromgo", "portainer", "renovate"].map { "\($0).sholdee.net A 192.168.77.31" }
        let expected = (mgmt + external + ["unifi.guest.sholdee.net A 192.168.77.33"]).sorted()
        #expect(lines(result.endpoints) == expected)
        #expect(result.endpoints.count == 21)
        // Merged names keep the first route in (kind, namespace, name) order.
        #expect(result.endpoints.first { $0.name.text == "portainer.sholdee.net" }?.labels.resource == "httproute/portainer/portainer")
    }

    @Test func swibrow() throws {
        let namespaceOf = Self.component(3)
        let external = ["phoenix", "mcp", "mcp-api", "git", "ha", "grafana", "otlp", "idm"].map { "\($0).wibrow.dev CNAME external.wibrow.dev" }
        let internalHosts = ["mlflow", "mcp-internal", "hubble", "vm", "rook"].map { "\($0).wibrow.dev CNAME internal.wibrow.dev" }
        let expected = (external + internalHosts).sorted()
        let cloudflare = try Self.plan("swibrow__home-ops", namespaceOf: namespaceOf) {
            $0.gatewayLabelFilter = LabelSelector(matchLabels: ["external-dns.alpha.kubernetes.io/enabled": "true"])
            $0.domainFilters = ["wibrow.dev", "propagit.dev", "cloudsnacks.dev"]
        }
        #expect(lines(cloudflare.endpoints) == expected)
        // netagent takes the Gateway's cloudflare-proxied "false" as the default of envoy-internal's
        // routes; external-dns ignores it. Cloudflare gets proxied=false either way here, since
        // this instance runs without --cloudflare-proxied.
        for endpoint in cloudflare.endpoints {
            let isInternal = endpoint.targets == ["internal.wibrow.dev"]
            #expect(endpoint.providerSpecific.cloudflareProxied == (isInternal ? false : nil), "\(endpoint.name)")
        }
        let asExternalDNS = try Self.plan("swibrow__home-ops", namespaceOf: namespaceOf) {
            $0.gatewayProviderDefaults = false
            $0.domainFilters = ["wibrow.dev"]
        }
        #expect(lines(asExternalDNS.endpoints) == expected)
        #expect(asExternalDNS.endpoints.allSatisfy { $0.providerSpecific.isEmpty })
    }

    @Test func tyriis() throws {
        for (cluster, gatewayTarget, cloudflare, unifi) in [
            ("main", "lab-gateway.techtales.io", [String](), ["argo-workflows", "blackbox-exporter", "podinfo"]),
            ("utility", "utility-gateway.techtales.io", ["flux-webhook-utility", "secrets"], ["flux-webhook-utility", "harbor", "secrets"]),
        ] {
            let folder = try Fixtures.folder().appendingPathComponent("tyriis__home-ops")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("kubernetes__\(cluster)__") }
            for (filter, hosts) in [("external-dns/cloudflare in (true)", cloudflare), ("external-dns/unifi in (true)", unifi)] {
                let result = try Self.plan("tyriis__home-ops", files: files, namespaceOf: Self.component(3)) {
                    $0.annotationFilter = (try? LabelSelector(parsing: filter)) ?? LabelSelector()
                    $0.gatewayNamespace = "networking"
                    $0.domainFilters = ["techtales.io"]
                }
                #expect(lines(result.endpoints) == hosts.map { "\($0).techtales.io CNAME \(gatewayTarget)" }, "\(cluster) \(filter)")
            }
        }
    }

    /// Each example directory is its own scenario; every Gateway reports 198.18.0.10.
    @Test(arguments: [
        ("http-routing", ["default/example-gateway"], ["bar.example.com", "example.com", "foo.example.com"]),
        ("cross-namespace-routing", ["infra-ns/shared-gateway"], ["foo.example.com"]),
        ("simple-http-https", ["default/example-gateway"], ["bar.example.com", "foo.example.com"]),
        ("wildcard-tls-gateway", ["default/wildcard-tls-gateway"], []),
        ("http-route-attachment", ["gateway-api-example-ns1/foo-gateway", "gateway-api-example-ns1/prod-gateway"], []),
        ("grpc-routing", ["default/example-gateway"], ["bar.example.com", "example.com", "foo.example.com"]),
        ("gateway-addresses", [], []),
    ])
    func gatewayAPIExamples(scenario: String, gateways: [String], hosts: [String]) throws {
        let folder = try Fixtures.folder().appendingPathComponent("kubernetes-sigs__gateway-api")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("examples__standard__\(scenario)") }
        #expect(!files.isEmpty)
        let addresses = gateways.compactMap { GatewayAddressOverride(parsing: "\($0)=198.18.0.10") }
        let result = try Self.plan("kubernetes-sigs__gateway-api", files: files, namespaceOf: { _ in nil }, addresses: addresses)
        #expect(lines(result.endpoints) == hosts.map { "\($0) A 198.18.0.10" })
        if scenario == "grpc-routing" {
            let httpOnly = try Self.plan("kubernetes-sigs__gateway-api", files: files, namespaceOf: { _ in nil }, addresses: addresses) {
                $0.routeKinds = [.httpRoute]
            }
            #expect(httpOnly.endpoints.isEmpty)
        }
    }
}

extension FixtureTests {
    /// EXPECTED.md scenario 4 states what routes on the wildcard-TLS Gateway would get.
    @Test func wildcardTLSGatewayWithRoutes() throws {
        let folder = try Fixtures.folder().appendingPathComponent("kubernetes-sigs__gateway-api")
        let yaml = try String(contentsOf: folder.appendingPathComponent("examples__standard__wildcard-tls-gateway.yaml"), encoding: .utf8)
            + "\n---\n" + route("foo", hostnames: ["foo.example.com"], parents: "- name: wildcard-tls-gateway")
            + route("apex", hostnames: ["example.com"], parents: "- name: wildcard-tls-gateway")
            + route("bare", parents: "- name: wildcard-tls-gateway")
        var options = ManifestOptions()
        options.gatewayAddresses = [GatewayAddressOverride(namespace: "default", name: "wildcard-tls-gateway", value: "198.18.0.10")]
        let result = resolve(yaml, manifest: options).0
        #expect(lines(result.endpoints) == ["*.example.com A 198.18.0.10", "foo.example.com A 198.18.0.10"])
        #expect(result.endpoints.first { $0.name.text == "foo.example.com" }?.labels.resource == "httproute/default/bare")
        #expect(result.explanations.map(\.description) == [
            "httproute/default/apex: gateway default/wildcard-tls-gateway has not accepted the route (Accepted=False "
                + "NoMatchingListenerHostname: example.com matches no admitting listener's hostname (foo.example.com, *.example.com))",
        ])
    }

    /// EXPECTED.md scenario 7: were the spec addresses reported, targets split by form.
    @Test func gatewayAddressesSplitByForm() throws {
        let folder = try Fixtures.folder().appendingPathComponent("kubernetes-sigs__gateway-api")
        let yaml = try String(contentsOf: folder.appendingPathComponent("examples__standard__gateway-addresses.yaml"), encoding: .utf8)
            + "\n---\n" + route(hostnames: ["app.example.net"], parents: "- name: gateway-addresses")
        #expect(records(yaml) == [
            "app.example.net A 0.0.0.0,1.1.1.1,1.2.3.4,11.0.0.0,255.255.255.255,9.255.255.255",
            // DNSCore writes IPv6 targets in RFC 5952 form.
            "app.example.net AAAA 1200:0:ab00:1234:0:2552:7777:1313,1234::,2001:db8:3c4d:15:0:d234:3eee:0,21da:d3:0:2f3b:2aa:ff:fe28:9c5a",
            "app.example.net CNAME example.com",
        ])
    }
}

enum Fixtures {
    /// `../shared/fixtures/real-world` relative to the package root.
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/fixtures/real-world").standardizedFileURL

    static var available: Bool { FileManager.default.fileExists(atPath: url.appendingPathComponent("INDEX.md").path) }

    /// The folder, or a failure saying where it was looked for (under CI the suite always runs).
    static func folder() throws -> URL {
        guard available else { throw MissingFixtures(path: url.path) }
        return url
    }

    struct MissingFixtures: Error, CustomStringConvertible {
        let path: String
        var description: String { "the real-world fixtures are missing: nothing at \(path)" }
    }
}
