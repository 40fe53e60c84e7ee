import Foundation
import Glibc
import NetIO

/// One node of the lab's cluster: the seed's node names, roles and offline notes, with the
/// address's last octet kept (10.0.60.21 → 198.18.60.21 or 127.0.60.21).
struct LabNode: Sendable, Hashable {
    var name: String
    var controlPlane: Bool
    var address: String
    var offline: String?
}

/// The seed cluster (seed/000_7514a84e81ccf73e.txt) mapped onto the lab's /24.
struct LabTopology: Sendable {
    /// `198.18.N` (namespaces) or `127.0.N` (loopback).
    var prefix: String
    var nodes: [LabNode]
    var vip: String { "\(prefix).10" }
    var network: String { "\(prefix).0/24" }
    /// The root namespace's own address on the lab's bridge (namespaces only).
    var observer: String { "\(prefix).2" }

    init(prefix: String) {
        self.prefix = prefix
        let seed: [(String, Bool, Int, String?)] = [
            ("k8s-1", true, 21, nil), ("k8s-2", false, 22, nil), ("k8s-3", true, 23, nil),
            ("k8s-4", false, 24, "PSU not working"), ("k8s-5", true, 25, nil), ("k8s-6", false, 26, nil),
            ("k8s-7", false, 27, nil), ("k8s-8", false, 28, nil), ("k8s-9", false, 29, nil),
            ("k8s-10", false, 30, "not starting"),
        ]
        nodes = seed.map { LabNode(name: $0.0, controlPlane: $0.1, address: "\(prefix).\($0.2)", offline: $0.3) }
    }

    var online: [LabNode] { nodes.filter { $0.offline == nil } }

    func node(_ name: String) throws -> LabNode {
        guard let node = nodes.first(where: { $0.name == name }) else {
            throw LabError("no node \(name); the lab's nodes are \(nodes.map(\.name).joined(separator: ", "))")
        }
        guard node.offline == nil else { throw LabError("\(name) is offline in the configuration (\(node.offline ?? "")): nothing runs there") }
        return node
    }
}

/// The nodes' side of the lab: a listener process per online node answering TCP 50000 and
/// 10250 (and TLS 6443 on control planes), as Talos' apid, the kubelet and the API server
/// would, and the faults that act on nodes. `NamespaceNodes` (root) puts each node in a
/// network namespace on a bridge; `LoopbackNodes` (anyone) binds loopback addresses.
protocol LabNodes: Sendable {
    var topology: LabTopology { get }
    /// What this kind of nodes cannot do, for the banner and the fault command.
    var unavailableFaults: [String: String] { get }
    /// Whether the VIP can be probed (ARP needs a real link).
    var probesVIP: Bool { get }
    /// Whether ICMP echo works for this process.
    var icmp: Bool { get }
    func start() async throws
    func stop() async
    func nodeDown(_ name: String) async throws
    func nodeUp(_ name: String) async throws
    func setMTU(_ name: String, _ mtu: Int) async throws
    func moveVIP(to name: String?) async throws -> String
    /// The VIP is held by nobody.
    func dropVIP() async throws -> String
    /// Undoes every node fault.
    func clear() async throws
    /// One line for the banner.
    var summary: String { get }
}

/// The listener script the nodes run (python3's asyncio and ssl): TCP ports that accept and
/// close, TLS ports that finish a handshake and answer one HTTP request with 200.
enum NodeListener {
    static let script = #"""
        import argparse, asyncio, ssl

        async def plain(reader, writer):
            writer.close()

        async def https(reader, writer):
            try:
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                await writer.drain()
            except Exception:
                pass
            writer.close()

        async def main():
            parser = argparse.ArgumentParser()
            parser.add_argument("--address", default="0.0.0.0")
            parser.add_argument("--port", type=int, action="append", default=[])
            parser.add_argument("--tls", type=int, action="append", default=[])
            parser.add_argument("--cert")
            parser.add_argument("--key")
            args = parser.parse_args()
            servers = [await asyncio.start_server(plain, args.address, p) for p in args.port]
            if args.tls:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(args.cert, args.key)
                servers += [await asyncio.start_server(https, args.address, p, ssl=context) for p in args.tls]
            print("listening", flush=True)
            await asyncio.gather(*(s.serve_forever() for s in servers))

        asyncio.run(main())
        """#

    /// Writes the script and a self-signed certificate into `dir`.
    static func prepare(in dir: URL) async throws {
        try script.write(to: dir.appendingPathComponent("node-listener.py"), atomically: true, encoding: .utf8)
        guard let openssl = CommandRunner.find("openssl") else { throw LabError("openssl is not installed (scripts/setup installs it)") }
        let out = try await CommandRunner.run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=netagent-lab", "-keyout", dir.appendingPathComponent("node.key").path,
            "-out", dir.appendingPathComponent("node.crt").path,
        ], timeout: .seconds(20))
        guard out.status == 0 else { throw LabError("openssl req failed (\(out.status)): \(out.output)") }
    }

    static func arguments(dir: URL, node: LabNode, address: String?) -> [String] {
        var arguments = [dir.appendingPathComponent("node-listener.py").path]
        if let address { arguments += ["--address", address] }
        arguments += ["--port", "50000", "--port", "10250"]
        if node.controlPlane {
            arguments += ["--tls", "6443", "--cert", dir.appendingPathComponent("node.crt").path,
                          "--key", dir.appendingPathComponent("node.key").path]
        }
        return arguments
    }

    /// Starts `executable arguments` and waits until it says it listens.
    static func launch(_ executable: String, _ arguments: [String], what: String) async throws -> SpawnedProcess {
        let process = try SpawnedProcess.start(executable, arguments)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if process.output.contains("listening") { return process }
            if let status = process.exitStatusIfEnded() {
                let output = process.output
                process.removeFiles()
                throw LabError("\(what): the listener exited (\(status)): \(output)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.kill()
        _ = process.wait()
        process.removeFiles()
        throw LabError("\(what): the listener did not start")
    }
}

/// The listener processes of the nodes, by node name.
actor ListenerSet {
    private var running: [String: SpawnedProcess] = [:]
    private let start: @Sendable (LabNode) async throws -> SpawnedProcess

    init(start: @escaping @Sendable (LabNode) async throws -> SpawnedProcess) { self.start = start }

    func up(_ node: LabNode) async throws {
        guard running[node.name] == nil else { return }
        running[node.name] = try await start(node)
    }

    func down(_ name: String) {
        guard let process = running.removeValue(forKey: name) else { return }
        process.kill()
        _ = process.wait()
        process.removeFiles()
    }

    func stopAll() { for name in running.keys { down(name) } }
    var names: Set<String> { Set(running.keys) }
}

/// Nodes on loopback addresses (127.0.N.x): no root needed. ICMP always answers and the
/// loopback's MTU is one, so `mtu` and `vip-move` are not available.
struct LoopbackNodes: LabNodes {
    let topology: LabTopology
    let dir: URL
    let listeners: ListenerSet

    init(octet: Int, dir: URL) {
        let topology = LabTopology(prefix: "127.0.\(octet)")
        self.topology = topology
        self.dir = dir
        listeners = ListenerSet { node in
            try await NodeListener.launch("/usr/bin/python3", NodeListener.arguments(dir: dir, node: node, address: node.address),
                                          what: node.name)
        }
    }

    var unavailableFaults: [String: String] {
        ["mtu": "the nodes share the loopback interface, whose MTU cannot differ per node (run as root for namespaces)",
         "vip-move": "no ARP on loopback, so there is no VIP holder to move (run as root for namespaces)",
         "vip-down": "the VIP is not probed on loopback (no ARP; run as root for namespaces)"]
    }
    var probesVIP: Bool { false }

    /// Unprivileged ICMP needs the process's group inside `net.ipv4.ping_group_range`, root needs nothing.
    var icmp: Bool {
        if getuid() == 0 { return true }
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ping_group_range", encoding: .utf8) else { return false }
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
        return bounds.count == 2 && bounds[0] <= getgid() && getgid() <= bounds[1]
    }

    var summary: String { "nodes on loopback \(topology.prefix).x (no namespaces: mtu, vip-move and vip-down unavailable)" }

    func start() async throws {
        try await NodeListener.prepare(in: dir)
        for node in topology.online { try await listeners.up(node) }
    }

    func stop() async { await listeners.stopAll() }
    func nodeDown(_ name: String) async throws { await listeners.down(try topology.node(name).name) }
    func nodeUp(_ name: String) async throws { try await listeners.up(try topology.node(name)) }
    func setMTU(_ name: String, _ mtu: Int) async throws { throw LabError("mtu: \(unavailableFaults["mtu"] ?? "")") }
    func moveVIP(to name: String?) async throws -> String { throw LabError("vip-move: \(unavailableFaults["vip-move"] ?? "")") }
    func dropVIP() async throws -> String { throw LabError("vip-down: \(unavailableFaults["vip-down"] ?? "")") }
    func clear() async throws { for node in topology.online { try await listeners.up(node) } }
}
