import Cloudflare
import DNSCore
import Lab
import Synchronization

/// A clock for the client that never waits: `sleep` moves `now` on and remembers how long it was asked to wait.
final class TestClock: Sendable {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    var pacing: CloudflarePacing {
        CloudflarePacing(
            now: { self.state.withLock { $0.now } },
            sleep: { duration in self.state.withLock { $0.now += duration; $0.sleeps.append(duration) } },
            random: { 0.5 })
    }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
}

/// A running simulator, a client and provider for it, and a TXT registry around the provider.
struct Rig {
    let simulator: CloudflareSimulator
    let client: CloudflareClient
    let provider: CloudflareProvider
    let registry: TXTRegistry
    let clock: TestClock

    var zoneID: String { simulator.options.zones[0].id }

    static func endpoint(_ name: String, _ type: RecordType, _ targets: [String], ttl: Int? = nil, proxied: Bool? = nil,
                         resource: String = "httproute/default/app") throws -> Endpoint {
        Endpoint(name: try DNSName(name), type: type, targets: targets, ttl: ttl,
                 providerSpecific: ProviderSpecific(cloudflareProxied: proxied), labels: EndpointLabels(resource: resource))
    }

    /// Runs `body` with a rig whose simulator runs for as long as `body` does.
    static func with(
        _ options: CloudflareSimulator.Options = .init(), token: String = "lab-token",
        policy: CloudflareRetryPolicy = CloudflareRetryPolicy(), owner: String = "home", timeout: Duration = .seconds(10),
        provider configure: (inout CloudflareProvider.Options) -> Void = { _ in },
        _ body: (Rig) async throws -> Void
    ) async throws {
        let simulator = CloudflareSimulator(options)
        let clock = TestClock()
        try await simulator.withRunning { url in
            let client = CloudflareClient(baseURL: url, token: token, policy: policy, pacing: clock.pacing, timeout: timeout)
            var providerOptions = CloudflareProvider.Options(zones: options.zones.compactMap { try? DNSName($0.name) })
            configure(&providerOptions)
            let provider = CloudflareProvider(client: client, options: providerOptions)
            let registry = try TXTRegistry(provider: provider, ownerID: owner, mapper: TXTNameMapper())
            try await body(Rig(simulator: simulator, client: client, provider: provider, registry: registry, clock: clock))
        }
    }

    func reconcile(_ desired: [Endpoint], policy: Policy = .sync) async throws -> (plan: Plan, report: ApplyReport) {
        try await PlanningRun(policy: policy).reconcile(desired: desired, registry: registry)
    }

    /// The zone's records as `name type content` lines, sorted.
    func lines(zone: Int = 0) async -> [String] {
        await simulator.records(zoneID: simulator.options.zones[zone].id).map { "\($0.name) \($0.type) \($0.content)" }.sorted()
    }

    func stored(_ name: String, _ type: String) async -> [SimulatedDNSRecord] {
        await simulator.records(zoneID: zoneID).filter { $0.name == name && $0.type == type }
    }

    func requests() async -> [CloudflareSimulator.LoggedRequest] { await simulator.requests() }
}
