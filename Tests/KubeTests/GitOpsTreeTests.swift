import DNSCore
import Foundation
import TestSupport
import Testing
@testable import Kube

/// The real-world fixtures laid out as their repositories are, with the kustomizations and Flux
/// Kustomizations that give them namespaces: each gives its EXPECTED.md records with no
/// namespace passed by hand and no fixture file edited.
@Suite(.enabled(if: Fixtures.available || Repository.isCI, "the shared fixtures are not beside this package"))
struct GitOpsFixtureTests {
    static let tunnel = "kubernetes__apps__network__cloudflare-tunnel__app__dnsendpoint.yaml"

    @Test func onedr0pWithFlux() throws {
        let tree = try TemporaryTree.fixture("onedr0p__home-ops", layout: .flux, namespaceIndex: 2,
                                             raw: [Self.tunnel: Self.tunnel + ".orig"])
        let variables = ["CLOUDFLARE_TUNNEL_ID": "11111111-2222-3333-4444-555555555555"]
        let (cloudflare, set) = planTree([tree.path("kubernetes")], variables: variables) {
            $0.gatewayName = "envoy-external"
            $0.domainFilters = ["turbo.ac"]
        }
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(lines(cloudflare.endpoints) == ["flux-webhook.turbo.ac CNAME external.turbo.ac"])
        #expect(cloudflare.endpoints.map(\.labels.resource) == ["httproute/flux-system/github-webhook"])
        #expect(Set(set.gateways.map(\.metadata.namespace)) == ["network"])
        let (unifi, _) = planTree([tree.path("kubernetes")], variables: variables) { $0.domainFilters = ["turbo.ac"] }
        #expect(lines(unifi.endpoints) == ["flux-webhook.turbo.ac CNAME external.turbo.ac"])
    }

    /// The tunnel's DNSEndpoint says `${CLOUDFLARE_TUNNEL_ID}`, which `substituteFrom` fills
    /// from a Secret that is not in Git: without `--var` it is reported where it stands.
    @Test func onedr0pUnresolvedVariable() throws {
        let tree = try TemporaryTree.fixture("onedr0p__home-ops", layout: .flux, namespaceIndex: 2,
                                             raw: [Self.tunnel: Self.tunnel + ".orig"])
        let (result, set) = planTree([tree.path("kubernetes")]) { $0.domainFilters = ["turbo.ac"] }
        #expect(lines(result.endpoints) == ["flux-webhook.turbo.ac CNAME external.turbo.ac"])
        #expect(set.diagnostics.count == 1)
        let diagnostic = try #require(set.diagnostics.first)
        #expect(diagnostic.location.file.hasSuffix("cloudflare-tunnel/app/dnsendpoint.yaml"))
        #expect(diagnostic.location.line != nil)
        #expect(diagnostic.message.hasPrefix("variable ${CLOUDFLARE_TUNNEL_ID} has no value"))
    }

    @Test func bjwSLabsWithFlux() throws {
        let tree = try TemporaryTree.fixture("bjw-s-labs__home-ops", layout: .flux, namespaceIndex: 2)
        let (ovh, set) = planTree([tree.path("kubernetes")]) {
            $0.gatewayName = "envoy-external"
            $0.domainFilters = ["bjw-s.dev"]
        }
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(lines(ovh.endpoints) == ["flux-webhook.bjw-s.dev CNAME ingress-ext.bjw-s.dev", "git.bjw-s.dev CNAME ingress-ext.bjw-s.dev"])
        let (unifi, _) = planTree([tree.path("kubernetes")]) { $0.domainFilters = ["bjw-s.dev"] }
        #expect(lines(unifi.endpoints) == [
            "flux-webhook.bjw-s.dev CNAME ingress-ext.bjw-s.dev", "git.bjw-s.dev CNAME ingress-ext.bjw-s.dev",
            "hass.bjw-s.dev CNAME ingress-int.bjw-s.dev", "home-assistant.bjw-s.dev CNAME ingress-int.bjw-s.dev",
            "hubble.bjw-s.dev CNAME ingress-int.bjw-s.dev",
        ])
    }

    /// Argo CD and kustomize: the fixture's own external-dns kustomization is kept, with its
    /// remote CRD skipped and its files that the fixture does not hold reported.
    @Test func sholdeeWithKustomize() throws {
        let tree = try TemporaryTree.fixture("sholdee__home-ops", layout: .kustomize, namespaceIndex: 1)
        let (result, set) = planTree([tree.path("apps")])
        #expect(set.diagnostics.allSatisfy { $0.location.file.hasSuffix("apps/external-dns/kustomization.yaml") }, "\(set.diagnostics)")
        #expect(set.diagnostics.contains { $0.message.hasPrefix("resources: remote resource https://") && $0.message.hasSuffix("skipped (not read offline)") && $0.isNote })
        let mgmt = ["adguard", "alertmgr", "appdaemon", "codeserver", "grafana", "hass", "headlamp", "hivemq", "hubble", "longhorn",
                    "mealie", "powerdns", "powerdns-api", "prometheus", "unifi", "zwave"].map { "\($0).mgmt.sholdee.net A 192.168.77.32" }
        let external = ["argocd", "kromgo", "portainer", "renovate"].map { "\($0).sholdee.net A 192.168.77.31" }
        #expect(lines(result.endpoints) == (mgmt + external + ["unifi.guest.sholdee.net A 192.168.77.33"]).sorted())
        #expect(result.endpoints.first { $0.name.text == "portainer.sholdee.net" }?.labels.resource == "httproute/portainer/portainer")
    }

    @Test func swibrowWithKustomize() throws {
        let tree = try TemporaryTree.fixture("swibrow__home-ops", layout: .kustomize, namespaceIndex: 3)
        let (result, set) = planTree([tree.path("kubernetes")]) {
            $0.gatewayLabelFilter = LabelSelector(matchLabels: ["external-dns.alpha.kubernetes.io/enabled": "true"])
            $0.domainFilters = ["wibrow.dev", "propagit.dev", "cloudsnacks.dev"]
        }
        #expect(set.diagnostics.allSatisfy { $0.location.file.contains("/external-dns") && ($0.message.hasSuffix("does not exist")
                    || ($0.isNote && $0.message.hasPrefix("helmCharts: objects it makes are not read"))) }, "\(set.diagnostics)")
        // The external-dns charts the kustomizations inflate are named as not expanded.
        #expect(set.unexpanded.map { "\($0.kind) \($0.name) \($0.reason) \($0.hiddenCount ?? 0)" }
                == ["Kustomization external-dns helmCharts not expanded 1", "Kustomization external-dns-unifi helmCharts not expanded 1"])
        let external = ["phoenix", "mcp", "mcp-api", "git", "ha", "grafana", "otlp", "idm"].map { "\($0).wibrow.dev CNAME external.wibrow.dev" }
        let internalHosts = ["mlflow", "mcp-internal", "hubble", "vm", "rook"].map { "\($0).wibrow.dev CNAME internal.wibrow.dev" }
        #expect(lines(result.endpoints) == (external + internalHosts).sorted())
    }

    @Test(arguments: [
        ("main", "lab-gateway.techtales.io", [String](), ["argo-workflows", "blackbox-exporter", "podinfo"]),
        ("utility", "utility-gateway.techtales.io", ["flux-webhook-utility", "secrets"], ["flux-webhook-utility", "harbor", "secrets"]),
    ])
    func tyriisWithFlux(cluster: String, target: String, cloudflare: [String], unifi: [String]) throws {
        let tree = try TemporaryTree.fixture("tyriis__home-ops", layout: .flux, namespaceIndex: 3)
        for (filter, hosts) in [("external-dns/cloudflare in (true)", cloudflare), ("external-dns/unifi in (true)", unifi)] {
            let (result, set) = planTree([tree.path("kubernetes/\(cluster)")]) {
                $0.annotationFilter = (try? LabelSelector(parsing: filter)) ?? LabelSelector()
                $0.gatewayNamespace = "networking"
                $0.domainFilters = ["techtales.io"]
            }
            #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
            #expect(lines(result.endpoints) == hosts.map { "\($0).techtales.io CNAME \(target)" }, "\(cluster) \(filter)")
        }
    }
}
