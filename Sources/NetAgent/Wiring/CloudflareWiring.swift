public import Cloudflare
public import Config
public import DNSCore

extension CloudflareSettings {
    /// One provider per zone named in `zones`, and one for all of `zoneIDs`, each inside the registry
    /// the settings name (`registry`: TXT records, or the records' comments; owner id, prefix or
    /// suffix, which the comment registry reads for the take-over from TXT), so every zone is planned, applied and
    /// reported on its own. They share one client, so one request budget covers the token.
    /// - Parameters:
    ///   - name: the provider's name from the configuration, for logs and reports.
    ///   - token: the API token read by `resolveSecrets`; it goes to the client only.
    /// - Throws: `TXTConfigError` when the owner id is empty or both affixes are set,
    ///   `CommentRegistryError` when the owner id cannot stand in a comment marker.
    public func makeZoneRegistries(name: String, token: Secret) throws -> [(provider: CloudflareProvider, registry: any Registry)] {
        let client = CloudflareClient(baseURL: apiURL.absoluteString, token: token.value, accountID: accountID,
                                      onCall: AgentMetrics.apiCallCounter(provider: name))
        let mapper = try TXTNameMapper(prefix: txtPrefix ?? "", suffix: txtSuffix ?? "")
        // Zones by id are found only at run time, so they share one provider, which routes by name.
        let zoneOptions = zones.map { CloudflareProvider.Options(zones: [$0]) }
            + (zoneIDs.isEmpty ? [] : [CloudflareProvider.Options(zoneIDs: zoneIDs)])
        var result: [(provider: CloudflareProvider, registry: any Registry)] = []
        for var options in zoneOptions {
            options.proxiedByDefault = proxied
            options.batchChunkSize = batchChunkSize
            let zone = options.zones.first.map { "zone \($0)" } ?? "zones by id \(options.zoneIDs.joined(separator: ", "))"
            let provider = CloudflareProvider(client: client, options: options, name: "\(name) \(zone)")
            switch registry {
            case .txt: result.append((provider, try TXTRegistry(provider: provider, ownerID: owner, mapper: mapper)))
            case .comment:
                result.append((provider, try CommentRegistry(
                    provider: provider, ownerID: owner, mapper: mapper, maxCommentLength: commentMaxLength)))
            }
        }
        return result
    }
}
