import Foundation
import Kube
import Lab

/// What `netagent lab fault` and `netagent lab route` do to a running lab, through its control endpoint.
extension LabSession {
    func control(_ method: String, _ path: String, _ body: String) async -> LabControlServer.Reply {
        switch (method, path) {
        case ("GET", "/progress"):
            let data = (try? JSONEncoder().encode(await progress())) ?? Data()
            return .init(status: 200, body: String(decoding: data, as: UTF8.self))
        case ("POST", "/route"):
            do {
                return .init(status: 200, body: try await route(body.split(whereSeparator: \.isWhitespace).map(String.init)) + "\n")
            } catch {
                return .init(status: 400, body: "\(error)\n")
            }
        case ("POST", "/fault"):
            let words = body.split(whereSeparator: \.isWhitespace).map(String.init)
            do {
                return .init(status: 200, body: try await fault(words) + "\n")
            } catch {
                return .init(status: 400, body: "\(error)\n")
            }
        default:
            return .init(status: 404, body: "unknown: \(method) \(path)\n")
        }
    }

    /// The fault kinds and what they take, for help texts and errors.
    static let faultUsage = """
        pihole-down | pihole-up | cloudflare-down | cloudflare-up | tunnel-down | tunnel-up | node-down NODE | \
        node-up NODE | mtu NODE SIZE | vip-move [NODE] | vip-down | clear
        """

    func fault(_ words: [String]) async throws -> String {
        guard let kind = words.first else { throw LabError("no fault given: \(Self.faultUsage)") }
        let args = Array(words.dropFirst())
        func arg(_ index: Int, _ what: String) throws -> String {
            guard index < args.count else { throw LabError("\(kind) needs \(what)") }
            return args[index]
        }
        if let why = nodes.unavailableFaults[kind] { throw LabError("\(kind) is unavailable here: \(why)") }
        let message: String
        switch kind {
        case "pihole-down":
            await stopServer("pihole")
            message = "Pi-hole down: its API and its dnsmasq (\(pihole.dnsAddress)) are stopped"
        case "pihole-up":
            try await restart("pihole") { [pihole] port, ready in try await pihole.run(port: port, onListening: ready) }
            message = "Pi-hole up again"
        case "cloudflare-down":
            await stopServer("cloudflare")
            message = "Cloudflare's API is down"
        case "cloudflare-up":
            try await restart("cloudflare") { [cloudflare] port, ready in try await cloudflare.run(port: port, onListening: ready) }
            message = "Cloudflare's API is up again"
        case "node-down":
            let node = try arg(0, "a node")
            try await nodes.nodeDown(node)
            message = "\(node): apid (50000), kubelet (10250)\(try nodes.topology.node(node).controlPlane ? " and the API server (6443)" : "") stopped; it still answers ping"
        case "node-up":
            let node = try arg(0, "a node")
            try await nodes.nodeUp(node)
            message = "\(node): listeners up again"
        case "mtu":
            let node = try arg(0, "a node")
            guard let size = Int(try arg(1, "a size")) else { throw LabError("mtu \(node): '\(args[1])' is not a number") }
            try await nodes.setMTU(node, size)
            message = "\(node): its switch port now carries \(size)-byte frames; bigger ones vanish"
        case "vip-move":
            message = try await nodes.moveVIP(to: args.first)
        case "vip-down":
            message = try await nodes.dropVIP()
        case "tunnel-down", "tunnel-up":
            let up = kind == "tunnel-up"
            state.withLock { $0.tunnelConnections = up ? 2 : 0 }
            await cloudflare.setTunnel(Self.tunnel(up: up))
            message = up ? "tunnel \(Self.tunnelID): cloudflared has 2 connections again"
                         : "tunnel \(Self.tunnelID): cloudflared has no connection; the API says down"
        case "clear":
            try await nodes.clear()
            let kinds = state.withLock { $0.tasks }
            if kinds["pihole"] == nil { _ = try await fault(["pihole-up"]) }
            if kinds["cloudflare"] == nil { _ = try await fault(["cloudflare-up"]) }
            _ = try await fault(["tunnel-up"])
            state.withLock { $0.faults = [] }
            return "every fault cleared"
        default:
            throw LabError("unknown fault '\(kind)': \(Self.faultUsage)")
        }
        record(kind: kind, args: args)
        return message
    }

    private func restart(_ name: String, _ run: @escaping @Sendable (Int, @escaping @Sendable (Int) async -> Void) async throws -> Void) async throws {
        guard state.withLock({ $0.tasks[name] == nil }) else { return }
        let port = state.withLock { $0.ports[name] ?? 0 }
        // The port was just given up; a moment may pass before it can be bound again.
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                try await serve(name, port: port, run)
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        throw lastError ?? LabError("\(name) did not start again")
    }

    /// Keeps the list of active faults: an `-up` removes its `-down`, `node-up` its `node-down`.
    private func record(kind: String, args: [String]) {
        state.withLock { s in
            let node = args.first
            switch kind {
            case "pihole-up": s.faults.removeAll { $0 == "pihole-down" }
            case "cloudflare-up": s.faults.removeAll { $0 == "cloudflare-down" }
            case "tunnel-up": s.faults.removeAll { $0 == "tunnel-down" }
            case "node-up": s.faults.removeAll { $0 == "node-down \(node ?? "")" }
            case "vip-move": s.faults.removeAll { $0.hasPrefix("vip-") }; s.faults.append("vip-move")
            case "mtu": s.faults.removeAll { $0.hasPrefix("mtu \(node ?? "") ") }; s.faults.append((["mtu"] + args).joined(separator: " "))
            default:
                let entry = ([kind] + args).joined(separator: " ")
                if !s.faults.contains(entry) { s.faults.append(entry) }
            }
        }
    }

    /// `lab route add NAME HOSTNAME [GATEWAY]`: an HTTPRoute in `default` on GATEWAY (default the
    /// `*internal*` one, else the first), accepted as its controller would; `lab route delete NAME`.
    func route(_ words: [String]) async throws -> String {
        guard words.count >= 2 else { throw LabError("route: give `add NAME HOSTNAME [GATEWAY]` or `delete NAME`") }
        let name = words[1]
        switch words[0] {
        case "add":
            guard words.count >= 3 else { throw LabError("route add \(name): give a hostname") }
            let gateways = fixture.manifests.gateways
            let wanted = words.count > 3 ? words[3] : (fixture.gatewayName(containing: "internal") ?? gateways.first?.metadata.name ?? "")
            guard let gateway = gateways.first(where: { $0.metadata.name == wanted }) else {
                throw LabError("route add \(name): no Gateway \(wanted); there are \(gateways.map(\.metadata.name).joined(separator: ", "))")
            }
            let ref = ParentReference(namespace: gateway.metadata.namespace, name: gateway.metadata.name)
            let route = Route(kind: .httpRoute, metadata: ObjectMeta(name: name, namespace: "default"), hostnames: [words[2]],
                              parentRefs: [ref],
                              status: RouteStatus(parents: [RouteParentStatus(parentRef: ref, controllerName: "netagent.local/lab",
                                                                              conditions: [Condition(type: "Accepted", status: "True")])]))
            try await kube.apply(.httpRoutes, json: LabFixture.routeJSON(route))
            state.withLock { s in
                s.objects.routes.removeAll { $0.id == route.id }
                s.objects.routes.append(route)
            }
            try recount()
            return "HTTPRoute default/\(name) with \(words[2]) on \(gateway.metadata.namespace)/\(gateway.metadata.name)"
        case "delete":
            do {
                try await kube.delete(.httpRoutes, namespace: "default", name: name)
            } catch {
                throw LabError("route delete \(name): no HTTPRoute default/\(name)")
            }
            state.withLock { s in s.objects.routes.removeAll { $0.kind == .httpRoute && $0.metadata.namespace == "default" && $0.metadata.name == name } }
            try recount()
            return "HTTPRoute default/\(name) deleted"
        default:
            throw LabError("route: '\(words[0])' is neither add nor delete")
        }
    }
}
