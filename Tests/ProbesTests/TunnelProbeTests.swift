import DNSCore
import Foundation
import NetIO
import Probes
import Testing
import TestSupport

@Suite(.enabled(if: installed("dnsmasq", "python3"), "needs dnsmasq and python3"))
struct TunnelProbeTests {
    static let tunnelID = "11111111-2222-3333-4444-555555555555"

    /// python3's http.server serving a folder whose `ready` file is cloudflared's /ready body.
    func readyServer(_ body: String) async throws -> (ChildProcess, String) {
        let folder = try Repository.temporaryFolder("ready")
        try body.write(to: folder.appendingPathComponent("ready"), atomically: true, encoding: .utf8)
        // Another port when the chosen one was taken between its choice and the server's bind.
        let (port, child) = try await startOnFreePort(udp: false) { port in
            try ChildProcess("/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", "--directory", folder.path, "\(port)"])
        } ready: { _, port in
            try await waitForTCP(port: port)
        }
        return (child, "http://127.0.0.1:\(port)/ready")
    }

    @Test func readyConnectionsAPIStatusAndCNAMEsAreEachChecked() async throws {
        let dns = try await DnsmasqServer(records: [
            "--cname=app.example.test,\(Self.tunnelID).cfargotunnel.com",
            "--cname=old.example.test,elsewhere.example.test",
            "--host-record=plain.example.test,198.18.0.7",
        ])
        let (server, url) = try await readyServer(#"{"status":200,"readyConnections":1,"connectorId":"x"}"#)
        _ = server
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let source = InMemoryTunnelStatusSource([Self.tunnelID: TunnelStatus(health: .degraded, connections: 1)])
        let probe = TunnelProbe(
            readyURL: url, tunnelID: Self.tunnelID, minConnections: 2, statusSource: source,
            publicNames: [try DNSName("app.example.test"), try DNSName("old.example.test"), try DNSName("plain.example.test")],
            nameServer: DNSServerTarget(name: "cloudflare", server: try DNSServer(address: "127.0.0.1", port: dns.port)),
            resolver: resolver)
        let results = await probe.run(timeout: .seconds(2))
        let byTarget = Dictionary(uniqueKeysWithValues: results.map { ($0.target, $0) })
        #expect(byTarget["cloudflared \(url)"]?.fault == .tunnelNotReady)
        #expect(byTarget["cloudflared \(url)"]?.facts["ready-connections"] == "1")
        #expect(byTarget["tunnel \(Self.tunnelID)"]?.fault == .tunnelUnhealthy)
        #expect(byTarget["cname app.example.test"]?.status == .ok)
        #expect(byTarget["cname old.example.test"]?.fault == .cnameMismatch)
        #expect(byTarget["cname plain.example.test"]?.fault == .cnameMismatch)

        source.set(TunnelStatus(health: .healthy, connections: 4), forTunnel: Self.tunnelID)
        var relaxed = probe
        relaxed.minConnections = 1
        relaxed.publicNames = [try DNSName("app.example.test")]
        let healthy = await relaxed.run(timeout: .seconds(2))
        let failing = healthy.filter { !$0.ok }.map(\.reason)
        #expect(failing.isEmpty, "\(failing)")
        #expect(healthy.count == 3)
    }

    @Test func aDeadReadyEndpointIsNamed() async throws {
        let port = try freeLoopbackPort()
        let resolver = Resolver()
        defer { resolver.shutdown() }
        let probe = TunnelProbe(readyURL: "http://127.0.0.1:\(port)/ready", tunnelID: Self.tunnelID, resolver: resolver)
        let results = await probe.run(timeout: .seconds(1))
        #expect(results.count == 1)
        #expect(results.first?.fault == .unreachable)
        #expect(results.first?.phase == "ready")
    }
}
