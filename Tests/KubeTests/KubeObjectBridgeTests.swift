import Foundation
import Testing
@testable import Kube

/// Objects from the Kubernetes client reach `RouteSource` through the manifests' decoder.
@Suite struct KubeObjectBridgeTests {
    func object(_ json: String, kind: String = "", apiVersion: String = "") throws -> KubeObject {
        let raw = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        return KubeObject(raw: raw, defaultKind: kind, defaultAPIVersion: apiVersion)
    }

    @Test func listItemsWithoutKindDecodeAsTheirList() throws {
        let route = try object("""
            {"metadata": {"name": "web", "namespace": "apps"},
             "spec": {"hostnames": ["web.example.com"], "parentRefs": [{"name": "gw", "namespace": "net"}]},
             "status": {"parents": [{"parentRef": {"name": "gw", "namespace": "net"}, "controllerName": "x",
                                     "conditions": [{"type": "Accepted", "status": "True"}]}]}}
            """, kind: "HTTPRoute", apiVersion: "gateway.networking.k8s.io/v1")
        let gateway = try object("""
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "net"},
             "spec": {"listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "All"}}}]},
             "status": {"addresses": [{"type": "IPAddress", "value": "192.0.2.9"}]}}
            """)
        guard case .route(let decodedRoute) = try route.routeSourceObject(),
              case .gateway(let decodedGateway) = try gateway.routeSourceObject() else {
            Issue.record("not decoded as a route and a Gateway")
            return
        }
        let result = RouteSource().endpoints(gateways: [decodedGateway], routes: [decodedRoute], namespaces: [])
        #expect(lines(result.endpoints) == ["web.example.com A 192.0.2.9"])
    }

    @Test func otherKindsAreSkippedAndBadObjectsNamed() throws {
        let service = try object(#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}"#)
        guard case .skipped(kind: "Service") = try service.routeSourceObject() else {
            Issue.record("a Service was not skipped")
            return
        }
        let broken = try object(#"{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw"}, "spec": {"listeners": [{"name": "x", "protocol": "HTTP", "port": "eighty"}]}}"#)
        #expect { try broken.routeSourceObject() } throws: { error in
            (error as? DecodeError)?.description == "Gateway gw: port: 'eighty' is not an integer"
        }
    }
}
