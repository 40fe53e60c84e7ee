import Foundation
import NetIO

/// The lab's nodes in network namespaces (root only), the shape of scripts/testbed with the
/// seed's nodes: a bridge in `NAME-sw`, each online node in `NAME-<node>` on it with one veth,
/// and a veth from the root namespace into the bridge holding 198.18.N.2, so the agent (which
/// runs in the root namespace beside the simulators on 127.0.0.1) reaches the nodes by a real
/// link: TCP, ICMP, path MTU and ARP. Traffic leaves the root namespace only for 198.18.N.0/24,
/// addresses inside these namespaces. The VIP starts on the first control plane.
struct NamespaceNodes: LabNodes {
    let topology: LabTopology
    let name: String
    let dir: URL
    let listeners: ListenerSet
    let ip: String

    init(name: String, octet: Int, dir: URL) throws {
        guard let ip = CommandRunner.find("ip") else { throw LabError("ip is not installed (scripts/setup installs iproute2)") }
        let topology = LabTopology(prefix: "198.18.\(octet)")
        self.topology = topology
        self.name = name
        self.dir = dir
        self.ip = ip
        let namespace = Self.namespace(name)
        listeners = ListenerSet { node in
            try await NodeListener.launch(ip, ["netns", "exec", namespace(node.name), "/usr/bin/python3"]
                                          + NodeListener.arguments(dir: dir, node: node, address: nil), what: node.name)
        }
    }

    static func namespace(_ lab: String) -> @Sendable (String) -> String { { "\(lab)-\($0)" } }
    func ns(_ node: String) -> String { "\(name)-\(node)" }
    var bridge: String { ns("sw") }
    /// The root namespace's end of the link into the bridge.
    var rootLink: String { "\(name)-lab0" }

    var unavailableFaults: [String: String] { [:] }
    var probesVIP: Bool { true }
    var icmp: Bool { true }
    var summary: String {
        "nodes in network namespaces \(name)-k8s-* on bridge \(bridge), reached from \(topology.observer) on \(rootLink); VIP \(topology.vip)"
    }

    @discardableResult
    func run(_ arguments: [String], allowFailure: Bool = false) async throws -> CommandOutput {
        let out = try await CommandRunner.run(ip, arguments, timeout: .seconds(20))
        if out.status != 0 && !allowFailure {
            throw LabError("ip \(arguments.joined(separator: " ")) failed (\(out.status)): \(out.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return out
    }

    /// Removes a lab of this name: its namespaces (and every process in them) and the root link.
    static func removeStale(name: String) async {
        guard let ip = CommandRunner.find("ip") else { return }
        let list = (try? await CommandRunner.run(ip, ["netns", "list"], timeout: .seconds(10)))?.output ?? ""
        for line in list.split(separator: "\n") {
            let namespace = String(line.split(separator: " ").first ?? "")
            guard namespace.hasPrefix("\(name)-") else { continue }
            let pids = (try? await CommandRunner.run(ip, ["netns", "pids", namespace], timeout: .seconds(10)))?.output ?? ""
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            _ = try? await CommandRunner.run(ip, ["netns", "del", namespace], timeout: .seconds(10))
        }
        _ = try? await CommandRunner.run(ip, ["link", "del", "\(name)-lab0"], timeout: .seconds(10))
    }

    func start() async throws {
        await Self.removeStale(name: name)
        let inUse = try await run(["-o", "-4", "addr", "show", "to", topology.network]).output
        if !inUse.isEmpty {
            throw LabError("\(topology.network) is already used in this namespace (\(inUse.split(separator: " ").dropFirst().first ?? "?")); pick another with --octet")
        }
        try await NodeListener.prepare(in: dir)
        do {
            try await build()
        } catch {
            await stop()
            throw error
        }
    }

    private func build() async throws {
        try await run(["netns", "add", bridge])
        try await run(["-n", bridge, "link", "set", "lo", "up"])
        try await run(["-n", bridge, "link", "add", "br0", "type", "bridge"])
        try await run(["-n", bridge, "link", "set", "br0", "up"])
        try await run(["link", "add", rootLink, "type", "veth", "peer", "name", "p-root", "netns", bridge])
        try await run(["-n", bridge, "link", "set", "p-root", "master", "br0", "up"])
        try await run(["addr", "add", "\(topology.observer)/24", "dev", rootLink])
        try await run(["link", "set", rootLink, "up"])
        for node in topology.online {
            let namespace = ns(node.name)
            try await run(["netns", "add", namespace])
            try await run(["-n", namespace, "link", "set", "lo", "up"])
            try await run(["link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", port(node.name), "netns", bridge])
            try await run(["-n", bridge, "link", "set", port(node.name), "master", "br0", "mtu", "1500", "up"])
            try await run(["-n", namespace, "link", "set", "eth0", "mtu", "1500", "up"])
            try await run(["-n", namespace, "addr", "add", "\(node.address)/24", "dev", "eth0"])
            try await listeners.up(node)
        }
        if let first = topology.online.first(where: \.controlPlane) { try await addVIP(first.name) }
    }

    /// The bridge port of a node (at most 15 characters: `p-k8s-10`).
    func port(_ node: String) -> String { "p-\(node)" }

    func stop() async {
        await listeners.stopAll()
        await Self.removeStale(name: name)
    }

    func nodeDown(_ node: String) async throws { await listeners.down(try topology.node(node).name) }
    func nodeUp(_ node: String) async throws { try await listeners.up(try topology.node(node)) }

    /// The node's bridge port gets `mtu`: bigger frames towards it vanish without a "too big"
    /// (a black hole), as a mis-set switch port does.
    func setMTU(_ node: String, _ mtu: Int) async throws {
        guard (576...9000).contains(mtu) else { throw LabError("mtu \(mtu): give 576…9000") }
        try await run(["-n", bridge, "link", "set", port(try topology.node(node).name), "mtu", "\(mtu)"])
    }

    func holders() async -> [String] {
        var holders: [String] = []
        for node in topology.online where node.controlPlane {
            let out = (try? await run(["-n", ns(node.name), "-o", "addr", "show", "dev", "eth0"], allowFailure: true))?.output ?? ""
            if out.contains(" \(topology.vip)/32") { holders.append(node.name) }
        }
        return holders
    }

    private func addVIP(_ node: String) async throws {
        try await run(["-n", ns(node), "addr", "add", "\(topology.vip)/32", "dev", "eth0"])
        // A gratuitous ARP, as Talos sends when it takes the VIP.
        if let arping = CommandRunner.find("arping") {
            _ = try? await CommandRunner.run(ip, ["netns", "exec", ns(node), arping, "-q", "-U", "-c1", "-I", "eth0", topology.vip],
                                             timeout: .seconds(5))
        }
    }

    /// Moves the VIP to `target`, or to the control plane after the current holder.
    func moveVIP(to target: String?) async throws -> String {
        let controlPlanes = topology.online.filter(\.controlPlane).map(\.name)
        let current = await holders()
        let next: String
        if let target {
            let node = try topology.node(target)
            guard node.controlPlane else { throw LabError("\(target) is a worker; the VIP moves between control planes (\(controlPlanes.joined(separator: ", ")))") }
            next = node.name
        } else {
            let index = current.first.flatMap { controlPlanes.firstIndex(of: $0) } ?? -1
            next = controlPlanes[(index + 1) % controlPlanes.count]
        }
        for holder in current { try await run(["-n", ns(holder), "addr", "del", "\(topology.vip)/32", "dev", "eth0"]) }
        try await addVIP(next)
        return "VIP \(topology.vip): \(current.isEmpty ? "nobody" : current.joined(separator: ", ")) -> \(next)"
    }

    /// Nobody holds the VIP any more, as when every control plane lost its etcd quorum.
    func dropVIP() async throws -> String {
        let current = await holders()
        for holder in current { try await run(["-n", ns(holder), "addr", "del", "\(topology.vip)/32", "dev", "eth0"]) }
        return "VIP \(topology.vip): released by \(current.isEmpty ? "nobody" : current.joined(separator: ", ")); no node holds it"
    }

    func clear() async throws {
        for node in topology.online {
            try await listeners.up(node)
            try await run(["-n", bridge, "link", "set", port(node.name), "mtu", "1500"])
        }
        if await holders().isEmpty, let first = topology.online.first(where: \.controlPlane) { try await addVIP(first.name) }
    }
}
