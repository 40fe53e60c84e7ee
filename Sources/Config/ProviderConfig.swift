public import DNSCore
public import Foundation
import Kube

/// One DNS target netagent reconciles (`providers[i]`): common settings plus the typed
/// settings of its kind.
public struct ProviderConfig: Hashable, Sendable {
    /// Unique name, used in logs, metrics and `netagent plan`.
    public var name: String
    /// Which routes feed this provider (external-dns's filters).
    public var select: SelectFilters
    /// What the planner may do to records this provider owns (default `sync`): DNSCore's
    /// `Policy`, external-dns's `sync`, `upsert-only`, `create-only`.
    public var policy: Policy
    /// The provider's own settings.
    public var kind: Kind

    public init(name: String, select: SelectFilters = SelectFilters(), policy: Policy = .sync, kind: Kind) {
        self.name = name
        self.select = select
        self.policy = policy
        self.kind = kind
    }

    /// The provider kinds, each with its own settings.
    public enum Kind: Hashable, Sendable {
        case cloudflare(CloudflareSettings)
        case pihole(PiholeSettings)

        /// The `type:` value.
        public var typeName: String {
            switch self {
            case .cloudflare: "cloudflare"
            case .pihole: "pihole"
            }
        }
    }
}

/// Route filters named as external-dns names its flags (`select:`). Empty means all routes.
public struct SelectFilters: Hashable, Sendable {
    /// `--gateway-name`: only parents whose Gateway has this name.
    public var gatewayName: String?
    /// `--gateway-namespace`: only Gateways in this namespace.
    public var gatewayNamespace: String?
    /// `--gateway-label-filter`: label selector on Gateways.
    public var gatewayLabelFilter: String?
    /// `--label-filter`: label selector on routes.
    public var labelFilter: String?
    /// `--annotation-filter`: annotation selector on routes.
    public var annotationFilter: String?
    /// `--ignore-hostname-annotation`: ignore the `hostname` annotation (default false).
    public var ignoreHostnameAnnotation: Bool
    /// `--domain-filter`: only names in these domains; empty means every domain. As in
    /// external-dns, `example.com` is the name and every name below it, `.example.com` only the
    /// names below it. Lower case, without a trailing dot.
    public var domainFilters: [String]
    /// `--exclude-domains`: never names in these domains (same forms as `domainFilters`).
    public var excludeDomains: [String]
    /// `--fqdn-template`: names for routes that give none (a Go template; see `FQDNTemplate`).
    public var fqdnTemplate: String?
    /// `--combine-fqdn-annotation`: the template's names are added to every route's own.
    public var combineFQDNAndAnnotation = false
    /// `--gateway-listener-sets`: routes may attach through ListenerSets (default false).
    public var gatewayListenerSets = false

    public init(gatewayName: String? = nil, gatewayNamespace: String? = nil, gatewayLabelFilter: String? = nil,
                labelFilter: String? = nil, annotationFilter: String? = nil, ignoreHostnameAnnotation: Bool = false,
                domainFilters: [String] = [], excludeDomains: [String] = [], fqdnTemplate: String? = nil,
                combineFQDNAndAnnotation: Bool = false, gatewayListenerSets: Bool = false) {
        self.gatewayListenerSets = gatewayListenerSets
        self.fqdnTemplate = fqdnTemplate
        self.combineFQDNAndAnnotation = combineFQDNAndAnnotation
        self.gatewayName = gatewayName
        self.gatewayNamespace = gatewayNamespace
        self.gatewayLabelFilter = gatewayLabelFilter
        self.labelFilter = labelFilter
        self.annotationFilter = annotationFilter
        self.ignoreHostnameAnnotation = ignoreHostnameAnnotation
        self.domainFilters = domainFilters
        self.excludeDomains = excludeDomains
    }
}

/// Cloudflare settings (`type: cloudflare`).
public struct CloudflareSettings: Hashable, Sendable {
    public static let defaultAPIURL = URL(string: "https://api.cloudflare.com/client/v4")!
    /// Base URL of the v4 API (the Lab simulator sets its own).
    public var apiURL: URL
    /// Where the API token is read from (`apiTokenFile` or `apiTokenEnv`).
    public var apiToken: SecretSource
    /// Account id, needed for Cloudflare Tunnel status.
    public var accountID: String?
    /// Zones by name.
    public var zones: [DNSName]
    /// Zones by id, for zone-scoped tokens that cannot list zones.
    public var zoneIDs: [String]
    /// Default for the `cloudflare-proxied` annotation (default false).
    public var proxied: Bool
    /// TXT ownership id, compatible with external-dns's `--txt-owner-id` (default `default`).
    public var owner: String
    /// external-dns's `--txt-prefix` (may hold `%{record_type}`); exclusive with `txtSuffix`.
    public var txtPrefix: String?
    /// external-dns's `--txt-suffix`; exclusive with `txtPrefix`.
    public var txtSuffix: String?
    /// Operations per batch request: 200 (the Free plan) by default, at most 3500.
    public var batchChunkSize: Int
    /// `registry`: where ownership is kept (default `txt`).
    public var registry: RegistryKind
    /// `commentMaxLength`: the longest record comment the zones' plan allows, for
    /// `registry: comment` (default 100, the Free plan; 500 on paid plans).
    public var commentMaxLength: Int
    /// `tunnel`: the Cloudflare Tunnel's public names, published from the configuration.
    public var tunnel: TunnelRecords?

    /// Where netagent keeps which records it owns.
    public enum RegistryKind: String, CaseIterable, Hashable, Sendable {
        /// A TXT record beside each record, in external-dns's format (`TXTRegistry`).
        case txt
        /// A marker at the end of each record's own comment; no TXT records (`CommentRegistry`).
        case comment
    }

    /// The Cloudflare Tunnel's own public names (`tunnel.hostnames`), each a proxied CNAME to
    /// `<id>.cfargotunnel.com` — what `cloudflared tunnel route dns` creates (API-FACTS §C) —
    /// so a cluster without a DNSEndpoint for them gets them too.
    public struct TunnelRecords: Hashable, Sendable {
        /// `tunnel.id`, or the tunnel probe's `tunnelID` when not set.
        public var id: UUID
        public var hostnames: [DNSName]

        public init(id: UUID, hostnames: [DNSName]) {
            self.id = id
            self.hostnames = hostnames
        }

        /// `<id>.cfargotunnel.com`, with the UUID in lower case as cloudflared writes it.
        public var target: String { id.uuidString.lowercased() + ".cfargotunnel.com" }
    }

    public init(apiURL: URL = CloudflareSettings.defaultAPIURL, apiToken: SecretSource, accountID: String? = nil,
                zones: [DNSName] = [], zoneIDs: [String] = [], proxied: Bool = false, owner: String = "default",
                txtPrefix: String? = nil, txtSuffix: String? = nil, batchChunkSize: Int = 200, tunnel: TunnelRecords? = nil,
                registry: RegistryKind = .txt, commentMaxLength: Int = 100) {
        self.tunnel = tunnel
        self.registry = registry
        self.commentMaxLength = commentMaxLength
        self.apiURL = apiURL
        self.apiToken = apiToken
        self.accountID = accountID
        self.zones = zones
        self.zoneIDs = zoneIDs
        self.proxied = proxied
        self.owner = owner
        self.txtPrefix = txtPrefix
        self.txtSuffix = txtSuffix
        self.batchChunkSize = batchChunkSize
    }
}

/// Pi-hole v6 settings (`type: pihole`).
public struct PiholeSettings: Hashable, Sendable {
    /// One URL per instance (`url`, or `urls` for an HA pair); each is reconciled on its own.
    public var urls: [URL]
    /// Where the password is read from; nil for a Pi-hole without a password.
    public var password: SecretSource?

    public init(urls: [URL], password: SecretSource? = nil) {
        self.urls = urls
        self.password = password
    }
}

extension ProviderConfig {
    /// What one `providers[i]` entry gave: its name (for the duplicate check) even when the rest is invalid.
    struct ReadResult {
        var config: ProviderConfig?
        var nameField: Field?
        var name: String?
    }

    /// The records the configuration itself asks of this provider: the tunnel's public names,
    /// always proxied, under the resource label `config/<provider>/tunnel`.
    public var configuredRecords: [Endpoint] {
        guard case .cloudflare(let settings) = kind, let tunnel = settings.tunnel else { return [] }
        return tunnel.hostnames.map { name in
            Endpoint(name: name, type: .cname, targets: [tunnel.target], providerSpecific: ProviderSpecific(cloudflareProxied: true),
                     labels: EndpointLabels(resource: "config/\(self.name)/tunnel"))
        }
    }

    static func read(_ field: Field, tunnelID: UUID? = nil) -> ReadResult {
        guard let map = field.mapping() else { return ReadResult() }
        let nameField = map.required("name")
        var result = ReadResult(nameField: nameField, name: nameField?.string())
        let type = map.required("type")
        let select = map.optional("select").flatMap(SelectFilters.read) ?? SelectFilters()
        let policy = map.optional("policy")?.choice(Policy.self) ?? .sync
        let kind: Kind?
        switch type?.scalar() {
        case "cloudflare": kind = CloudflareSettings.read(map, tunnelID: tunnelID).map(Kind.cloudflare)
        case "pihole": kind = PiholeSettings.read(map).map(Kind.pihole)
        case let other?:
            type?.fail("'\(other)' is not a provider type (cloudflare, pihole)")
            return result
        case nil: return result
        }
        map.finish()
        if let name = result.name, let kind {
            result.config = ProviderConfig(name: name, select: select, policy: policy, kind: kind)
        }
        return result
    }
}

extension SelectFilters {
    static func read(_ field: Field) -> SelectFilters? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let domains = { (key: String) in map.optional(key)?.list { $0.domainFilterEntry() } ?? [] }
        return SelectFilters(
            gatewayName: map.optional("gatewayName")?.string(),
            gatewayNamespace: map.optional("gatewayNamespace")?.string(),
            gatewayLabelFilter: map.optional("gatewayLabelFilter")?.string(),
            labelFilter: map.optional("labelFilter")?.string(),
            annotationFilter: map.optional("annotationFilter")?.string(),
            ignoreHostnameAnnotation: map.optional("ignoreHostnameAnnotation")?.bool() ?? false,
            domainFilters: domains("domainFilters"),
            excludeDomains: domains("excludeDomains"),
            fqdnTemplate: map.optional("fqdnTemplate")?.parsed { text throws(ConfigValueError) in
                do throws(TemplateError) { _ = try FQDNTemplate(parsing: text) } catch { throw ConfigValueError(error.description) }
                return text
            },
            combineFQDNAndAnnotation: map.optional("combineFQDNAndAnnotation")?.bool() ?? false,
            gatewayListenerSets: map.optional("gatewayListenerSets")?.bool() ?? false)
    }
}

extension CloudflareSettings {
    static func read(_ map: MappingReader, tunnelID: UUID?) -> CloudflareSettings? {
        let apiURL = map.optional("apiURL")?.url(schemes: ["https", "http"]) ?? CloudflareSettings.defaultAPIURL
        let token = map.secret("apiToken", required: true)
        let accountID = map.optional("accountID")?.string()
        let zones = map.optional("zones")?.list { $0.dnsName() } ?? []
        let zoneIDs = map.optional("zoneIDs")?.list { $0.string() } ?? []
        if zones.isEmpty && zoneIDs.isEmpty && !map.has("zones") && !map.has("zoneIDs") {
            map.fail("name the zones with 'zones' or 'zoneIDs'")
        }
        let proxied = map.optional("proxied")?.bool() ?? false
        let owner = map.optional("owner")?.string() ?? "default"
        let prefix = map.optional("txtPrefix")?.scalar()
        let suffix = map.optional("txtSuffix")?.scalar()
        if prefix != nil && suffix != nil { map.fail("set only one of 'txtPrefix' and 'txtSuffix'") }
        let chunk = map.optional("batchChunkSize")?.int(in: 1...3500) ?? 200
        let tunnel = map.optional("tunnel").flatMap { TunnelRecords.read($0, probeTunnelID: tunnelID) }
        let registryField = map.optional("registry")
        let registry = registryField?.choice(RegistryKind.self) ?? .txt
        let commentField = map.optional("commentMaxLength")
        let commentMaxLength = commentField?.int(in: 1...500) ?? 100
        if registry == .comment, let problem = CommentMarker.ownerProblem(owner) { map.optional("owner")?.fail(problem) }
        if registry != .comment, commentField != nil { commentField?.fail("'commentMaxLength' applies only with 'registry: comment'") }
        guard let token else { return nil }
        return CloudflareSettings(apiURL: apiURL, apiToken: token, accountID: accountID, zones: zones,
                                  zoneIDs: zoneIDs, proxied: proxied, owner: owner, txtPrefix: prefix,
                                  txtSuffix: suffix, batchChunkSize: chunk, tunnel: tunnel,
                                  registry: registry, commentMaxLength: commentMaxLength)
    }
}

extension CloudflareSettings.TunnelRecords {
    /// `tunnel: {id, hostnames}`; `id` defaults to `probes.tunnel.tunnelID`.
    static func read(_ field: Field, probeTunnelID: UUID?) -> CloudflareSettings.TunnelRecords? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let given = map.optional("id")?.parsed { text throws(ConfigValueError) in
            guard let id = UUID(uuidString: text) else { throw ConfigValueError("'\(text)' is not a tunnel UUID") }
            return id
        }
        let hostnamesField = map.required("hostnames")
        let hostnames = hostnamesField?.list { $0.dnsName() } ?? []
        if hostnamesField?.node.sequence?.isEmpty == true { hostnamesField?.fail("list at least one public name of the tunnel") }
        if let wildcard = hostnames.first(where: { $0.text.hasPrefix("*.") }) {
            hostnamesField?.fail("\(wildcard) is a wildcard; name each public hostname of the tunnel")
        }
        guard let id = given ?? probeTunnelID else {
            if !map.has("id") { map.fail("missing 'id' (the tunnel's UUID), and probes.tunnel.tunnelID is not set either") }
            return nil
        }
        return CloudflareSettings.TunnelRecords(id: id, hostnames: hostnames)
    }
}

extension PiholeSettings {
    static func read(_ map: MappingReader) -> PiholeSettings? {
        let one = map.optional("url")
        let many = map.optional("urls")
        let password = map.secret("password", required: false)
        let urls: [URL]
        switch (one, many) {
        case (let one?, nil): urls = one.url(schemes: ["http", "https"]).map { [$0] } ?? []
        case (nil, let many?):
            urls = many.list { $0.url(schemes: ["http", "https"]) } ?? []
            if many.node.sequence?.isEmpty == true { many.fail("list at least one URL") }
        case (.some, .some): map.fail("set only one of 'url' and 'urls'"); return nil
        case (nil, nil): map.fail("missing 'url' (or 'urls' for several instances)"); return nil
        }
        return PiholeSettings(urls: urls, password: password)
    }
}

extension Field {
    func dnsName() -> DNSName? { parsed { text throws(ConfigValueError) in
        do throws(DNSNameError) { return try DNSName(text) } catch { throw ConfigValueError(error.description) }
    } }

    /// A domain filter entry: a DNS name, optionally with external-dns's leading dot
    /// ("subdomains only"), returned lower-cased without a trailing dot.
    func domainFilterEntry() -> String? { parsed { text throws(ConfigValueError) in
        let below = text.hasPrefix(".")
        do throws(DNSNameError) {
            let name = try DNSName(below ? String(text.dropFirst()) : text)
            return (below ? "." : "") + name.text
        } catch { throw ConfigValueError(error.description) }
    } }
}
