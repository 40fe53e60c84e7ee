import Foundation
import Testing
@testable import Kube

/// §1.3: which `status.parents` entries count. Status is written out in each case.
@Suite struct ParentResolutionTests {
    static let accepted = "conditions:\n    - type: Accepted\n      status: \"True\""

    static func parent(_ ref: String, conditions: String = accepted) -> String {
        "- parentRef:\n" + indent(ref, by: 4) + "\n  controllerName: example.com/gateway\n  " + conditions
    }

    static let cases: [MatchCase] = [
        MatchCase(name: "accepted parent",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents:\n" + parent("name: gw")),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "status without parents",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents: []"),
                  records: []),
        MatchCase(name: "Accepted=False",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents:\n" + parent("name: gw",
                      conditions: "conditions:\n    - type: Accepted\n      status: \"False\"\n      reason: NotAllowedByListeners")),
                  records: []),
        MatchCase(name: "no Accepted condition",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents:\n" + parent("name: gw",
                      conditions: "conditions:\n    - type: ResolvedRefs\n      status: \"True\"")),
                  records: []),
        MatchCase(name: "observedGeneration is not compared",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents:\n" + parent("name: gw",
                      conditions: "conditions:\n    - type: Accepted\n      status: \"True\"\n      observedGeneration: 1")),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "stale status parent no longer in spec.parentRefs",
                  yaml: gateway(listener()) + gateway(listener(hostname: "b.example.com"), name: "old")
                      + route(parents: "- name: gw", status: "parents:\n" + parent("name: old")),
                  records: []),
        MatchCase(name: "spec defaults: group, kind and namespace written out in status",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents:\n"
                      + parent("group: gateway.networking.k8s.io\nkind: Gateway\nnamespace: default\nname: gw")),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "a parent of another kind is not a Gateway",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], parents: "- name: gw\n  kind: Service\n  group: \"\"",
                                                    status: "parents:\n" + parent("name: gw\nkind: Service\ngroup: \"\"")),
                  records: []),
        MatchCase(name: "a Gateway that is not in the set",
                  yaml: route(hostnames: ["a.example.com"], status: "parents:\n" + parent("name: gw")),
                  records: []),
        MatchCase(name: "sectionName is taken from the status parentRef",
                  yaml: gateway(listener("a", hostname: "a.example.com") + listener("b", port: 81, hostname: "b.example.com"))
                      + route(parents: "- name: gw\n  sectionName: a", status: "parents:\n" + parent("name: gw\nsectionName: b")),
                  records: ["b.example.com A 198.18.0.10"]),
        MatchCase(name: "accepted parent in another namespace",
                  yaml: gateway(listener(), namespace: "infra") + route(namespace: "apps", hostnames: ["a.example.com"],
                      parents: "- name: gw\n  namespace: infra", status: "parents:\n" + parent("name: gw\nnamespace: infra")),
                  records: ["a.example.com A 198.18.0.10"]),
        MatchCase(name: "a status parent without namespace means the route's namespace",
                  yaml: gateway(listener(), namespace: "infra") + route(namespace: "apps", hostnames: ["a.example.com"],
                      parents: "- name: gw\n  namespace: infra", status: "parents:\n" + parent("name: gw")),
                  records: []),
        MatchCase(name: "no spec.parentRefs means nothing even with status",
                  yaml: gateway(listener()) + route(hostnames: ["a.example.com"], parents: "[]", status: "parents:\n" + parent("name: gw")),
                  records: []),
        MatchCase(name: "two accepted parents union their targets",
                  yaml: gateway(listener(), addresses: ["198.18.0.10"]) + gateway(listener(), name: "gw2", addresses: ["198.18.0.11"])
                      + route(hostnames: ["a.example.com"], parents: "- name: gw\n- name: gw2",
                              status: "parents:\n" + parent("name: gw") + "\n" + parent("name: gw2")),
                  records: ["a.example.com A 198.18.0.10,198.18.0.11"]),
        MatchCase(name: "a Gateway with status but no addresses gives no record",
                  yaml: gateway(listener(), addresses: []).replacingStatus("") + route(hostnames: ["a.example.com"],
                      status: "parents:\n" + parent("name: gw")),
                  records: []),
    ]

    @Test(arguments: cases)
    func rule(_ c: MatchCase) {
        #expect(records(c.yaml, mode: .inferred) == c.records)
    }

    @Test func explanationsNameTheParentProblem() {
        let yaml = gateway(listener()) + route(hostnames: ["a.example.com"], status: "parents:\n" + Self.parent("name: gw",
            conditions: "conditions:\n    - type: Accepted\n      status: \"False\"\n      reason: NotAllowedByListeners\n      message: no listener admits it"))
        let (result, _) = resolve(yaml)
        #expect(result.explanations.map(\.reason) == [
            "gateway default/gw has not accepted the route (Accepted=False NotAllowedByListeners: no listener admits it)",
        ])
        #expect(result.explanations.map(\.resource) == ["httproute/default/r"])
    }
}

extension String {
    /// Adds an empty `status: {}` to the Gateway so the manifests source takes it as reported.
    func replacingStatus(_ addresses: String) -> String {
        let marker = "spec:\n  gatewayClassName: test"
        guard let range = range(of: marker) else { return self }
        return replacingCharacters(in: range, with: "status:\n  addresses: [\(addresses)]\n" + marker)
    }
}
