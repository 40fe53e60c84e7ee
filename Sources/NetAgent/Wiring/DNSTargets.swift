import Cloudflare
public import Config
public import DNSCore
import Diagnosis
import Foundation
import NetIO
import Pihole
public import State

/// One place netagent writes DNS to: a provider instance (one Pi-hole of an HA pair, a
/// Cloudflare account) with its ownership registry and its planning rules. Each target is
/// planned, applied and reported on its own, so one being down never holds up another.
public struct DNSTarget: Sendable {
    /// The configuration entry it comes from (`select`, `policy`, `name`).
    public let config: ProviderConfig
    /// Which instance, for people: `pihole http://10.0.60.53`.
    public let instance: String
    public let registry: any Registry
    public let planning: PlanningRun
    /// Gives back what the target holds (a Pi-hole API seat); call once when done.
    public let close: @Sendable () async -> Void
    /// What the last read of the target set aside (a Cloudflare record that could not be read),
    /// each named; said at every cycle.
    public let warnings: @Sendable () async -> [String]

    public init(config: ProviderConfig, instance: String, registry: any Registry, planning: PlanningRun,
                close: @escaping @Sendable () async -> Void, warnings: @escaping @Sendable () async -> [String] = { [] }) {
        self.config = config
        self.instance = instance
        self.registry = registry
        self.planning = planning
        self.close = close
        self.warnings = warnings
    }
}

extension DNSTarget {
    /// The targets of every provider in `config`. Pi-hole ownership lives in the ledger
    /// `ledgers` makes for a scope (`pihole/<provider>/<url>`) when given, else in the state
    /// file's ledger when `state` is given, else in memory (a first run, which adopts only exact matches).
    /// `restarts` hears of each Pi-hole's resolver restart, under the provider's name.
    public static func all(
        config: NetAgentConfig, secrets: ResolvedSecrets, state: StateStore?,
        ledgers: (@Sendable (_ scope: String) -> any OwnershipLedger)? = nil, restarts: ResolverRestarts? = nil
    ) -> [DNSTarget] {
        let deleteGuard = DeleteGuard(maxDeleteFraction: config.reconcile.maxDeleteFraction)
        return config.providers.flatMap { provider -> [DNSTarget] in
            let planning = PlanningRun(
                policy: provider.policy,
                filters: PlanFilters(domains: DomainFilter(
                    include: provider.select.domainFilters, exclude: provider.select.excludeDomains)),
                deleteGuard: deleteGuard)
            switch provider.kind {
            case .pihole(let settings):
                return settings.urls.map { url in
                    // The instance names the target in logs, metrics labels, /readyz and /status: no query value, no userinfo.
                    let name = "\(provider.name) \(Redaction.url(PiholeClient.normalizedBaseURL(url.absoluteString)))"
                    let client = PiholeClient(url: url.absoluteString, password: secrets.piholePasswords[provider.name]?.value,
                                              onCall: AgentMetrics.apiCallCounter(provider: name))
                    let pihole = PiholeProvider(client: client, name: name, restarts: restarts, restartKey: provider.name)
                    let scope = "pihole/\(provider.name)/\(client.baseURL)"
                    let ledger: any OwnershipLedger = ledgers?(scope) ?? state.map { $0.ledger(scope: scope) } ?? InMemoryLedger()
                    return DNSTarget(
                        config: provider, instance: pihole.name,
                        registry: LedgerRegistry(provider: pihole, ledger: ledger, ownerID: provider.name),
                        planning: planning, close: { await pihole.close() })
                }
            case .cloudflare(let settings):
                // One target per zone: a zone that cannot be read or written never holds up another.
                let unavailable = { (reason: String) in [DNSTarget(
                    config: provider, instance: "\(provider.name) (cloudflare)",
                    registry: UnavailableRegistry(provider: UnavailableProvider(name: provider.name, reason: reason)),
                    planning: planning, close: {})] }
                guard let token = secrets.cloudflareTokens[provider.name] else { return unavailable("no API token was read") }
                do {
                    return try settings.makeZoneRegistries(name: provider.name, token: token).map { zone in
                        DNSTarget(config: provider, instance: zone.provider.name, registry: zone.registry, planning: planning, close: {},
                                  warnings: { await zone.provider.skippedRecords.map { "skipped: \($0)" } })
                    }
                } catch {
                    return unavailable("\(error)")
                }
            }
        }
    }
}

/// A provider that cannot be built from its settings: every read fails with the reason.
struct UnavailableProvider: DNSProvider {
    let name: String
    let reason: String
    func records() async throws -> [Endpoint] { throw PlanFailure(message: reason) }
    func apply(_ changes: Plan.Changes) async throws -> ApplyReport { throw PlanFailure(message: reason) }
    func adjust(_ desired: [Endpoint]) -> [Endpoint] { desired }
}

/// The registry around an `UnavailableProvider`: it owns nothing and fails as its provider does.
struct UnavailableRegistry: Registry {
    let provider: any DNSProvider
    var ownerID: String { provider.name }
    func records(desired: [Endpoint]) async throws -> [Endpoint] { try await provider.records() }
    func apply(_ changes: Plan.Changes) async throws -> ApplyReport { try await provider.apply(changes) }
}
