/// Whether a listener lets a route attach, by protocol, `allowedRoutes.namespaces` and
/// `allowedRoutes.kinds` — the checks external-dns makes (`gwProtocolMatches`,
/// `routeIsAllowed`) and the ones a gateway controller makes before it accepts a route.
enum ListenerAdmission {
    /// Why `listener` (of a Gateway in `gatewayNamespace`) refuses `route`, or nil when it
    /// admits it, checked in external-dns's order: protocol, the parentRef's `port` if any,
    /// namespaces, kinds. `namespaceLabels` holds the labels of every known Namespace.
    static func refusal(of route: Route, by listener: Listener, port: Int?, gatewayNamespace: String,
                        namespaceLabels: [String: [String: String]]) -> String? {
        guard listener.protocol.admits(route: route.kind.protocol) else {
            return "protocol \(listener.protocol) does not carry \(route.kind.rawValue)"
        }
        if let port, port != listener.port {
            return "port \(listener.port) is not the parentRef's port \(port)"
        }
        let allowed = listener.allowedRoutes
        let namespace = route.metadata.namespace
        switch allowed.from {
        case .all:
            break
        case .same:
            if namespace != gatewayNamespace {
                return "namespace \(namespace) is not the Gateway's (allowedRoutes from: Same)"
            }
        case .selector:
            guard let selector = allowed.selector else { return "allowedRoutes from: Selector without a selector admits nothing" }
            if let problem = selector.problem { return "invalid namespace selector: \(problem)" }
            guard let labels = namespaceLabels[namespace] else {
                return "Namespace \(namespace) not found (its labels are needed by the listener's namespace selector)"
            }
            if !selector.matches(labels) { return "namespace \(namespace) does not match the listener's namespace selector" }
        case .other(let raw):
            return "unknown allowedRoutes from: \(raw)"
        }
        if !allowed.kinds.isEmpty, !allowed.kinds.contains(RouteGroupKind(kind: route.kind.rawValue)) {
            return "allowedRoutes.kinds does not list \(route.kind.rawValue)"
        }
        return nil
    }
}
