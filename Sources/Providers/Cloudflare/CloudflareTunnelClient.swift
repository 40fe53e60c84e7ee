/// A Cloudflare Tunnel as the API reports it (`GET /accounts/{acct}/cfd_tunnel/{id}`).
public struct CloudflareTunnel: Codable, Hashable, Sendable {
    public var id: String
    public var name: String?
    /// `healthy`, `degraded`, `down` or `inactive` (API-FACTS §C.1).
    public var status: String
}

/// One cloudflared instance of a tunnel and its edge connections
/// (`GET /accounts/{acct}/cfd_tunnel/{id}/connections`).
public struct CloudflareTunnelConnector: Codable, Hashable, Sendable {
    public struct Connection: Codable, Hashable, Sendable {
        public var id: String
        public var colo_name: String?
        /// A connection that dropped and is still tracked while it reconnects.
        public var is_pending_reconnect: Bool?
    }

    public var id: String
    public var version: String?
    public var conns: [Connection]?
}

/// A tunnel's state: its status and its live edge connections, summed over connectors.
public struct CloudflareTunnelState: Hashable, Sendable {
    public var tunnel: CloudflareTunnel
    public var connectors: [CloudflareTunnelConnector]

    /// Edge connections that are up (not waiting to reconnect).
    public var activeConnections: Int {
        connectors.reduce(0) { sum, connector in
            sum + (connector.conns ?? []).filter { $0.is_pending_reconnect != true }.count
        }
    }
}

/// Reads a tunnel's status for the tunnel probe. Needs the Cloudflare Tunnel:Read permission
/// on the account. The probes see it through their own `TunnelStatusSource` protocol, which
/// NetAgent adapts this to, so neither module knows the other.
public struct CloudflareTunnelClient: Sendable {
    public let client: CloudflareClient
    public let accountID: String

    public init(client: CloudflareClient, accountID: String) {
        self.client = client
        self.accountID = accountID
    }

    /// The tunnel and its connectors (the tunnel object's own `connections` is deprecated).
    public func state(ofTunnel id: String) async throws(CloudflareError) -> CloudflareTunnelState {
        let base = "/accounts/\(accountID)/cfd_tunnel/\(id.lowercased())"
        let scope = "account \(accountID) tunnel \(id)"
        do {
            let tunnel = try await client.get(base, operation: .readTunnel, as: CloudflareTunnel.self)
            let connectors = try await client.get(base + "/connections", operation: .readTunnel, as: [CloudflareTunnelConnector].self)
            return CloudflareTunnelState(tunnel: tunnel, connectors: connectors)
        } catch {
            throw error.scoped(scope)
        }
    }

    /// The CNAME target of a tunnel's public hostnames: `<tunnel-id>.cfargotunnel.com`.
    public static func cnameTarget(forTunnel id: String) -> String { "\(id.lowercased()).cfargotunnel.com" }

    /// Whether a CNAME target is a tunnel (`*.cfargotunnel.com`); such records work only proxied.
    public static func isTunnelTarget(_ target: String) -> Bool {
        let lower = target.lowercased()
        return lower.hasSuffix(".cfargotunnel.com") || lower.hasSuffix(".cfargotunnel.com.")
    }
}
