/// The Gateway API objects the end-to-end tests share: the home cluster's `envoy-internal`
/// Gateway (`*.home.test`, address 198.18.0.50) and routes attached to it.
public enum GatewayFixtures {
    /// The Gateway as the cluster's API serves it, with the status its controller writes.
    public static let gatewayJSON = """
        {"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway",
         "metadata":{"name":"envoy-internal","namespace":"network"},
         "spec":{"gatewayClassName":"envoy","listeners":[{"name":"https","port":443,"protocol":"HTTPS",
           "hostname":"*.home.test","allowedRoutes":{"namespaces":{"from":"All"}}}]},
         "status":{"addresses":[{"type":"IPAddress","value":"198.18.0.50"}]}}
        """

    /// An HTTPRoute in `apps` on that Gateway, accepted by the controller.
    public static func routeJSON(_ name: String, hosts: [String]) -> String {
        let hostnames = hosts.map { "\"\($0)\"" }.joined(separator: ",")
        return """
            {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
             "metadata":{"name":"\(name)","namespace":"apps"},
             "spec":{"parentRefs":[{"name":"envoy-internal","namespace":"network"}],"hostnames":[\(hostnames)]},
             "status":{"parents":[{"parentRef":{"name":"envoy-internal","namespace":"network"},
               "controllerName":"gateway.envoyproxy.io/gatewayclass-controller",
               "conditions":[{"type":"Accepted","status":"True"}]}]}}
            """
    }

    /// The Gateway as a GitOps repository holds it: no status, the address in `spec.addresses`.
    public static let gatewayYAML = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: { name: envoy-internal, namespace: network }
        spec:
          gatewayClassName: envoy
          addresses: [{ type: IPAddress, value: 198.18.0.50 }]
          listeners:
            - { name: https, port: 443, protocol: HTTPS, hostname: "*.home.test", allowedRoutes: { namespaces: { from: All } } }
        """

    /// An HTTPRoute manifest on that Gateway, without status.
    public static func routeYAML(_ name: String, namespace: String, hosts: [String]) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: { name: \(name), namespace: \(namespace) }
        spec:
          parentRefs: [{ name: envoy-internal, namespace: network }]
          hostnames: [\(hosts.joined(separator: ", "))]
        """
    }
}
