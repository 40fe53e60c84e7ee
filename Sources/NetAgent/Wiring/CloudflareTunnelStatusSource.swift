public import Cloudflare
public import Config
public import Probes

/// The tunnel probe's `TunnelStatusSource`, answered by the Cloudflare API.
///
/// It lives here because NetAgent is the one module allowed to know both sides: Probes must
/// not import a provider and the Cloudflare provider must not know the probes (DESIGN.md's
/// arrows). A retroactive conformance of `CloudflareTunnelClient` would also work, but an
/// adapter keeps the mapping (API status words → `TunnelStatus.Health`) in one visible place.
public struct CloudflareTunnelStatusSource: TunnelStatusSource {
    public let tunnels: CloudflareTunnelClient

    public init(client: CloudflareClient, accountID: String) {
        tunnels = CloudflareTunnelClient(client: client, accountID: accountID)
    }

    /// The API's status and the live edge connections summed over connectors; a status word
    /// the API adds later reads as `down`, so it alerts rather than passes.
    /// - Throws: `CloudflareError` (no Tunnel:Read permission, unknown tunnel, unreachable).
    public func status(ofTunnel id: String) async throws -> TunnelStatus {
        let state = try await tunnels.state(ofTunnel: id)
        let health = TunnelStatus.Health(rawValue: state.tunnel.status) ?? .down
        return TunnelStatus(health: health, connections: state.activeConnections)
    }
}

extension NetAgentConfig {
    /// The Cloudflare API's view of the tunnel for the tunnel probe: the first Cloudflare
    /// provider with an `accountID` and a token that was read. Nil when there is none; the
    /// probe then checks cloudflared's `/ready` and the names only.
    public func tunnelStatusSource(secrets: ResolvedSecrets) -> (any TunnelStatusSource)? {
        for provider in providers {
            guard case .cloudflare(let settings) = provider.kind, let accountID = settings.accountID,
                  let token = secrets.cloudflareTokens[provider.name] else { continue }
            let client = CloudflareClient(baseURL: settings.apiURL.absoluteString, token: token.value)
            return CloudflareTunnelStatusSource(client: client, accountID: accountID)
        }
        return nil
    }
}
