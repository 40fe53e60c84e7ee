import Cloudflare
import Lab
import NetAgent
import Probes
import Testing

/// The adapter the daemon hands the tunnel probe, against the Cloudflare simulator.
struct TunnelStatusSourceTests {
    @Test func theProbeSeesTheAPIsStatusAndLiveConnections() async throws {
        let id = "11111111-2222-3333-4444-555555555555"
        var options = CloudflareSimulator.Options()
        options.tunnels = [.init(id: id, status: "healthy", connectors: [
            .init(connections: [.init(colo: "fra08"), .init(colo: "fra10"), .init(colo: "ams01", pendingReconnect: true)]),
        ])]
        let simulator = CloudflareSimulator(options)
        try await simulator.withRunning { url in
            let source = CloudflareTunnelStatusSource(
                client: CloudflareClient(baseURL: url, token: "lab-token"), accountID: options.accountID)
            let healthy = try await source.status(ofTunnel: id)
            #expect(healthy == TunnelStatus(health: .healthy, connections: 2))
            await simulator.setTunnel(.init(id: id, status: "down"))
            let down = try await source.status(ofTunnel: id)
            #expect(down == TunnelStatus(health: .down, connections: 0))
        }
    }
}
