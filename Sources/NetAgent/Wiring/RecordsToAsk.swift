public import Config
public import DNSCore
import NetIO
public import Probes

/// Which of a provider's desired records the dns-records probe asks, and of which server: the
/// `probes.dns.servers` entry named as the provider (`check` and `run` both use this rule).
/// TXT records are never asked, nor proxied Cloudflare records, whose public answers are
/// Cloudflare's own addresses.
public struct RecordsToAsk: Sendable {
    public var provider: ProviderConfig
    public var server: DNSServerTarget
    public var records: [ExpectedRecord]

    /// Nil when no DNS server carries the provider's name, or nothing of `desired` is asked.
    public init?(provider: ProviderConfig, desired: [Endpoint], dns: ProbesConfig.DNSServers) {
        guard let entry = dns.servers.first(where: { $0.name == provider.name }),
              let address = try? DNSServer(address: entry.address.description, port: entry.port) else { return nil }
        let proxiedByDefault: Bool? = if case .cloudflare(let settings) = provider.kind { settings.proxied } else { nil }
        let server = DNSServerTarget(name: entry.name, server: address)
        let asked = desired.filter { endpoint in
            guard endpoint.type != .txt else { return false }
            guard let proxiedByDefault else { return true }
            return !(endpoint.providerSpecific.cloudflareProxied ?? proxiedByDefault)
        }
        guard !asked.isEmpty else { return nil }
        self.provider = provider
        self.server = server
        records = asked.map { ExpectedRecord(endpoint: $0, server: server) }
    }
}
