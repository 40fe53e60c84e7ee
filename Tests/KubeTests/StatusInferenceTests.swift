import Testing
@testable import Kube

/// What the manifests source infers for objects without status, and that it leaves status alone.
@Suite struct StatusInferenceTests {
    func acceptance(_ yaml: String) -> [String] {
        let set = ManifestLoader.load(text: yaml)
        return set.routes.flatMap { route in
            (route.status?.parents ?? []).map { parent in
                let condition = parent.accepted
                return "\(parent.parentRef.name) \(condition?.status ?? "-") \(condition?.reason ?? "")"
            }
        }
    }

    @Test func acceptedWhenAListenerAdmitsTheRoute() {
        #expect(acceptance(gateway(listener()) + route(hostnames: ["a.example.com"])) == ["gw True Accepted"])
    }

    @Test func notAllowedByListeners() {
        let yaml = gateway(listener(from: "Same"), namespace: "infra")
            + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: infra")
        #expect(acceptance(yaml) == ["gw False NotAllowedByListeners"])
    }

    @Test func noMatchingListenerHostname() {
        let yaml = gateway(listener(hostname: "*.example.net")) + route(hostnames: ["a.example.com"])
        #expect(acceptance(yaml) == ["gw False NoMatchingListenerHostname"])
    }

    @Test func annotationHostnamesDoNotDecideAttachment() {
        let yaml = gateway(listener(hostname: "*.example.net"))
            + route(annotations: "external-dns.alpha.kubernetes.io/hostname: a.example.com")
        #expect(acceptance(yaml) == ["gw True Accepted"])
        #expect(records(yaml) == ["*.example.net A 198.18.0.10"])
    }

    @Test func unknownSectionOrPortIsNoMatchingParent() {
        #expect(acceptance(gateway(listener()) + route(parents: "- name: gw\n  sectionName: https")) == ["gw False NoMatchingParent"])
        #expect(acceptance(gateway(listener()) + route(parents: "- name: gw\n  port: 443")) == ["gw False NoMatchingParent"])
    }

    @Test func missingGatewaysAreNotAcceptedAndOtherKindsGetNoEntry() {
        let yaml = gateway(listener()) + route(hostnames: ["a.example.com"], parents: "- name: missing\n- name: gw\n- name: svc\n  kind: Service\n  group: \"\"")
        #expect(acceptance(yaml) == ["missing False NoMatchingParent", "gw True Accepted"])
        #expect(records(yaml) == ["a.example.com A 198.18.0.10"])
    }

    @Test func aGatewayInAnotherNamespaceIsPointedOut() {
        let yaml = gateway(listener()) + route(namespace: "apps", hostnames: ["a.example.com"], parents: "- name: gw\n  namespace: network")
        #expect(resolve(yaml).0.explanations.map(\.reason) == ["gateway network/gw not found; did you mean default/gw?"])
    }

    @Test func reportedStatusIsTakenAsItIs() {
        // The listener would refuse the route, but the controller said Accepted=True; external-dns's own
        // listener checks still apply, so this case yields nothing either way — while a reported
        // Accepted=False on a route the listeners would admit is believed.
        let refused = gateway(listener(hostname: "b.example.com")) + route(hostnames: ["a.example.com"],
            status: "parents:\n- parentRef: {name: gw}\n  controllerName: x\n  conditions: [{type: Accepted, status: \"False\"}]")
        #expect(acceptance(refused) == ["gw False "])
        let set = ManifestLoader.load(text: gateway(listener()) + route(hostnames: ["a.example.com"],
            status: "parents:\n- parentRef: {name: gw}\n  controllerName: x\n  conditions: [{type: Accepted, status: \"False\"}]"))
        #expect(set.routes.first?.status?.parents.first?.controllerName == "x")
        #expect(records(gateway(listener()) + route(hostnames: ["a.example.com"],
            status: "parents:\n- parentRef: {name: gw}\n  controllerName: x\n  conditions: [{type: Accepted, status: \"False\"}]")) == [])
    }

    @Test func gatewayAddressesComeFromSpecOrTheFlag() {
        let yaml = gateway(listener(), addresses: ["192.0.2.7"]) + route(hostnames: ["a.example.com"])
        #expect(records(yaml) == ["a.example.com A 192.0.2.7"])
        var options = ManifestOptions()
        options.gatewayAddresses = [GatewayAddressOverride(namespace: "default", name: "gw", value: "lb.example.net"),
                                    GatewayAddressOverride(namespace: "default", name: "gw", value: "2001:db8::7")]
        #expect(records(yaml, manifest: options) == ["a.example.com AAAA 2001:db8::7", "a.example.com CNAME lb.example.net"])
    }

    @Test func gatewayAddressFlagIsIgnoredForAGatewayWithStatus() {
        var options = ManifestOptions()
        options.gatewayAddresses = [GatewayAddressOverride(namespace: "default", name: "gw", value: "192.0.2.99"),
                                    GatewayAddressOverride(namespace: "default", name: "nope", value: "192.0.2.98")]
        let yaml = gateway(listener(), addresses: []).replacingStatus("{value: 192.0.2.1}") + route(hostnames: ["a.example.com"])
        let (result, set) = resolve(yaml, manifest: options)
        #expect(lines(result.endpoints) == ["a.example.com A 192.0.2.1"])
        #expect(set.diagnostics.map(\.message).contains { $0.contains("ignored: the Gateway carries status") })
        #expect(set.diagnostics.map(\.message).contains { $0.contains("no Gateway default/nope") })
    }

    @Test func namespacesExistWithTheAutomaticLabel() {
        let yaml = namespace("apps", labels: "team: web") + gateway(listener(), namespace: "infra")
        let set = ManifestLoader.load(text: yaml)
        let labels = Dictionary(uniqueKeysWithValues: set.namespaces.map { ($0.metadata.name, $0.metadata.labels) })
        #expect(labels["apps"] == ["team": "web", "kubernetes.io/metadata.name": "apps"])
        #expect(labels["infra"] == ["kubernetes.io/metadata.name": "infra"])
    }

    @Test func parseGatewayAddressAndPathNamespaceFlags() {
        #expect(GatewayAddressOverride(parsing: "network/envoy=192.0.2.1") == GatewayAddressOverride(namespace: "network", name: "envoy", value: "192.0.2.1"))
        for bad in ["envoy=192.0.2.1", "network/envoy", "/envoy=1.2.3.4", "network/=1.2.3.4", "a/b/c=1.2.3.4", "a/b="] {
            #expect(GatewayAddressOverride(parsing: bad) == nil, "\(bad)")
        }
        #expect(PathNamespace(parsing: "apps/web=web") == PathNamespace(path: "apps/web", namespace: "web"))
        #expect(PathNamespace(parsing: "apps/web") == nil)
    }
}
