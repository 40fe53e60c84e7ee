import Config
import DNSCore
import NetIO
import Probes

/// `netagent run`'s dns-records probe: at every run, each provider's desired records from the
/// sources as they are then, asked as `RecordsToAsk` says (the DNS server named as the
/// provider). Its results are the same as `netagent probe dns-records`'s, so the alert rules,
/// metrics and status page need nothing new.
struct DaemonRecordsProbe: Probe {
    let kind = ProbeKind.dnsRecords
    /// The sources' objects now; nil while they cannot be planned from (informers not yet
    /// listed, the cluster unreachable), when nothing is asked, since "desired" would be empty.
    let objects: @Sendable () async -> SourceObjects?
    let providers: [ProviderConfig]
    let dns: ProbesConfig.DNSServers
    let annotationPrefixes: [String]
    let resolver: Resolver
    let restarts: ResolverRestarts?

    func run(timeout: Duration) async -> [ProbeResult] {
        guard let objects = await objects() else { return [] }
        var records: [ExpectedRecord] = []
        for provider in providers {
            // A selector that does not parse fails the provider's reconcile, which says so.
            guard let desired = try? objects.desired(for: provider, annotationPrefixes: annotationPrefixes),
                  let ask = RecordsToAsk(provider: provider, desired: desired.endpoints, dns: dns) else { continue }
            records += ask.records
        }
        return await DNSRecordsProbe(records: records, resolver: resolver, restarts: restarts).run(timeout: timeout)
    }
}

extension NetAgentConfig {
    /// The dns-records probe `run` schedules when `probes.dnsRecords` and `probes.dns` are set.
    func scheduledRecordsProbe(resolver: Resolver, restarts: ResolverRestarts? = nil, objects: @escaping @Sendable () async -> SourceObjects?) -> ScheduledProbe? {
        guard let schedule = probes.dnsRecords, schedule.enabled, let dns = probes.dns else { return nil }
        let probe = DaemonRecordsProbe(objects: objects, providers: providers, dns: dns,
                                       annotationPrefixes: self.sources.annotationPrefixes, resolver: resolver, restarts: restarts)
        return ScheduledProbe(probe, interval: schedule.interval, timeout: schedule.timeout)
    }
}
