public import Cloudflare
public import DNSCore

extension CloudflareSettings {
    /// The Cloudflare provider these settings describe, inside the TXT registry they name
    /// (owner id, prefix or suffix), so ownership stays compatible with external-dns.
    /// - Parameters:
    ///   - name: the provider's name from the configuration, for logs and reports.
    ///   - token: the API token read by `resolveSecrets`; it goes to the client only.
    /// - Throws: `TXTConfigError` when the owner id is empty or both affixes are set.
    public func makeRegistry(name: String, token: Secret) throws(TXTConfigError) -> (provider: CloudflareProvider, registry: TXTRegistry) {
        let client = CloudflareClient(baseURL: apiURL.absoluteString, token: token.value)
        let options = CloudflareProvider.Options(
            zones: zones, zoneIDs: zoneIDs, proxiedByDefault: proxied, batchChunkSize: batchChunkSize)
        let provider = CloudflareProvider(client: client, options: options, name: name)
        let mapper = try TXTNameMapper(prefix: txtPrefix ?? "", suffix: txtSuffix ?? "")
        return (provider, try TXTRegistry(provider: provider, ownerID: owner, mapper: mapper))
    }
}
