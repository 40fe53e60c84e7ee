import Testing
import DNSCore
@testable import Kube

/// How a case's objects get their status: written by a controller (taken as it is), or absent
/// (a Git repository) and inferred by the manifests source.
enum StatusMode: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// Every parentRef reported `Accepted=True`; Gateways report their `spec.addresses`.
    case reported
    /// No status at all: the manifests source infers it.
    case inferred

    var testDescription: String { rawValue }
}

/// Loads `yaml` as manifests, gives it status as `mode` says, and runs the route source.
func resolve(_ yaml: String, mode: StatusMode = .inferred, manifest: ManifestOptions = ManifestOptions(),
             configure: (inout RouteSourceOptions) -> Void = { _ in }) -> (RouteSourceResult, ManifestSet) {
    var manifestOptions = manifest
    manifestOptions.inferStatus = mode == .inferred
    var set = ManifestLoader.load(text: yaml, file: "case.yaml", options: manifestOptions)
    if mode == .reported {
        for i in set.routes.indices where set.routes[i].status == nil {
            set.routes[i].status = RouteStatus(parents: set.routes[i].parentRefs.map {
                RouteParentStatus(parentRef: $0, controllerName: "test", conditions: [Condition(type: "Accepted", status: "True")])
            })
        }
        for i in set.gateways.indices where set.gateways[i].status == nil {
            set.gateways[i].status = GatewayStatus(addresses: set.gateways[i].specAddresses)
        }
        StatusInference.apply(to: &set, addresses: manifest.gatewayAddresses)
    }
    var options = RouteSourceOptions()
    options.explain = true
    configure(&options)
    let result = RouteSource(options: options).endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces)
    return (result, set)
}

/// The records of `yaml` as compact lines: `name TYPE target,target [ttl=N]`.
func records(_ yaml: String, mode: StatusMode = .inferred, manifest: ManifestOptions = ManifestOptions(),
             configure: (inout RouteSourceOptions) -> Void = { _ in }) -> [String] {
    lines(resolve(yaml, mode: mode, manifest: manifest, configure: configure).0.endpoints)
}

func lines(_ endpoints: [Endpoint]) -> [String] {
    endpoints.map { endpoint in
        "\(endpoint.name) \(endpoint.type.rawValue) \(endpoint.targets.joined(separator: ","))"
            + (endpoint.ttl.map { " ttl=\($0)" } ?? "")
    }
}

/// A Gateway `default/gw` with the given listeners (YAML list items, indented for `listeners:`).
func gateway(_ listeners: String, name: String = "gw", namespace: String = "default",
             addresses: [String] = ["198.18.0.10"], annotations: String = "", labels: String = "") -> String {
    header("Gateway", name: name, namespace: namespace, annotations: annotations, labels: labels) + """
    spec:
      gatewayClassName: test
      addresses:
    \(addresses.map { "    - value: \"\($0)\"" }.joined(separator: "\n"))
      listeners:
    \(indent(listeners, by: 4))
    ---

    """
}

/// An HTTPRoute (or `kind`) with the given hostnames and parentRefs (YAML list items).
func route(_ name: String = "r", namespace: String = "default", kind: String = "HTTPRoute", hostnames: [String] = [],
           parents: String = "- name: gw", annotations: String = "", labels: String = "", status: String = "") -> String {
    header(kind, name: name, namespace: namespace, annotations: annotations, labels: labels) + """
    spec:
      hostnames: [\(hostnames.map { "\"\($0)\"" }.joined(separator: ", "))]
      parentRefs:
    \(indent(parents, by: 4))
    \(status.isEmpty ? "" : "status:\n" + indent(status, by: 2))
    ---

    """
}

/// `apiVersion`, `kind` and `metadata` of a Gateway API object; annotations and labels as YAML lines.
func header(_ kind: String, name: String, namespace: String, annotations: String, labels: String) -> String {
    """
    apiVersion: gateway.networking.k8s.io/v1
    kind: \(kind)
    metadata:
      name: \(name)
      namespace: \(namespace)
    \(annotations.isEmpty ? "" : "  annotations:\n" + indent(annotations, by: 4))
    \(labels.isEmpty ? "" : "  labels:\n" + indent(labels, by: 4))

    """
}

/// The listener most cases use: `http` HTTP 80, all namespaces, optional hostname.
func listener(_ name: String = "http", protocol: String = "HTTP", port: Int = 80, hostname: String? = nil,
              from: String = "All", extra: String = "") -> String {
    var text = "- name: \(name)\n  protocol: \(`protocol`)\n  port: \(port)\n"
    if let hostname { text += "  hostname: \"\(hostname)\"\n" }
    text += "  allowedRoutes:\n    namespaces:\n      from: \(from)\n"
    if !extra.isEmpty { text += indent(extra, by: 2) + "\n" }
    return text
}

func indent(_ text: String, by spaces: Int) -> String {
    let pad = String(repeating: " ", count: spaces)
    return text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.isEmpty ? "" : pad + $0 }
        .joined(separator: "\n")
}
