import Alerts
public import Config
import DNSCore
public import Diagnosis
import Foundation
import NetIO
import Probes
import State

/// `netagent check`: every configured probe once, a read-only plan against every provider
/// instance, the desired records asked of their DNS servers, and the alert path (the relay
/// greeted without sending, the state file's outbox and open alerts). Nothing is written: no
/// record, no ledger entry, no state file, no mail. The probes are built once, so `--watch`
/// rounds share the VIP probe's timeline.
public final class Checker: Sendable {
    public let config: NetAgentConfig
    public let secrets: ResolvedSecrets
    /// The areas that run: selected and configured.
    public let areas: [CheckArea]
    /// Selected areas the configuration does not set up, with the key that would.
    public let notConfigured: [CheckArea: String]
    private let probes: [ScheduledProbe]
    private let resolver: Resolver

    /// - Parameter only: the areas to check; nil for all.
    public init(config: NetAgentConfig, secrets: ResolvedSecrets, only: Set<CheckArea>? = nil) {
        self.config = config
        self.secrets = secrets
        resolver = Resolver()
        let selected = only ?? Set(CheckArea.allCases)
        let scheduled = config.scheduledProbes(resolver: resolver, tunnelStatus: config.tunnelStatusSource(secrets: secrets)).filter { selected.contains(CheckArea($0.probe.kind)) }
        probes = scheduled
        var areas: [CheckArea] = []
        var missing: [CheckArea: String] = [:]
        for area in CheckArea.allCases where selected.contains(area) {
            let configured = switch area {
            case .records: !config.providers.isEmpty
            case .alerts: config.alerting != nil
            default: scheduled.contains { CheckArea($0.probe.kind) == area }
            }
            if configured { areas.append(area) } else { missing[area] = Self.key(area) }
        }
        self.areas = areas
        notConfigured = missing
    }

    /// The configuration key that sets an area up.
    public static func key(_ area: CheckArea) -> String {
        switch area {
        case .records: "providers"
        case .dns: "probes.dns"
        case .nodes: "probes.nodes"
        case .mtu: "probes.mtu"
        case .vip: "probes.vip with cluster.vip"
        case .tunnel: "probes.tunnel"
        case .alerts: "alerting"
        }
    }

    /// Stops the resolver's threads; call once when done.
    public func shutdown() { resolver.shutdown() }

    /// One round of every area, in parallel. `progress` is called with the areas still running
    /// whenever one finishes.
    public func run(progress: @escaping @Sendable (_ running: [CheckArea]) -> Void = { _ in }) async -> CheckReport {
        progress(areas)
        let byArea = await withTaskGroup(of: (CheckArea, [CheckItem]).self) { group in
            for area in areas {
                group.addTask { (area, await self.check(area)) }
            }
            var done: [CheckArea: [CheckItem]] = [:]
            for await (area, items) in group {
                done[area] = items
                progress(areas.filter { done[$0] == nil })
            }
            return done
        }
        let items = areas.flatMap { byArea[$0] ?? [] }
        return CheckReport(items: items, areas: areas, notConfigured: notConfigured)
    }

    private func check(_ area: CheckArea) async -> [CheckItem] {
        switch area {
        case .records: return await records()
        case .alerts: return await alerts()
        default:
            let scheduled = probes.filter { CheckArea($0.probe.kind) == area }
            var items: [CheckItem] = []
            for probe in scheduled { items += await probe.probe.run(timeout: probe.timeout).map(CheckItem.init) }
            return items
        }
    }

    // MARK: records

    /// The sources read once, a read-only plan per target, then (with `probes.dnsRecords`) each
    /// provider's desired records asked of the `probes.dns` server of the same name.
    private func records() async -> [CheckItem] {
        let (objects, clusterUnreachable) = await SourceObjects.readOnce(config: config)
        var items = objects.problems.map { problem in
            CheckItem(area: .records, target: "sources", ok: false,
                      reason: "\(problem) — fix the manifest, or the cluster connection (sources.kubernetes)")
        }
        if clusterUnreachable {
            // Planning against nothing would show every record as a delete.
            return items + config.providers.map { provider in
                CheckItem(area: .records, target: provider.name, ok: false,
                          reason: "not planned: the cluster's routes could not be read (see sources above)")
            }
        }
        let plans = await TargetPlan.all(config: config, secrets: secrets, objects: objects)
        for plan in plans {
            guard let provider = config.providers.first(where: { $0.name == plan.provider }) else { continue }
            let holder = CheckCauses.holder(provider)
            var facts = ["provider": provider.name, "type": provider.kind.typeName, "desired": "\(plan.desiredCount)"]
            switch plan.outcome {
            case .failure(let failure):
                facts["error"] = failure.message
                let url = switch provider.kind {
                case .cloudflare(let settings): settings.apiURL.absoluteString
                case .pihole(let settings):
                    settings.urls.map(\.absoluteString).first { plan.instance.hasSuffix($0) } ?? settings.urls.first?.absoluteString ?? plan.instance
                }
                var item = CheckItem(area: .records, target: plan.instance, ok: false,
                                     reason: CheckCauses.planFailure(failure, holder: holder, url: url), facts: facts)
                item.subject = .plan(provider: provider.name, token: failure.token)
                items.append(item)
            case .success(let result):
                let c = result.changes
                facts["creates"] = "\(c.creates.count)"
                facts["updates"] = "\(c.updates.count)"
                facts["deletes"] = "\(c.deletes.count)"
                if !result.conflicts.isEmpty { facts["conflicts"] = "\(result.conflicts.count)" }
                if let reason = result.guardReason { facts["guard"] = "\(reason)" }
                let verdict = CheckCauses.plan(result, holder: holder, desired: plan.desiredCount)
                items.append(CheckItem(area: .records, target: plan.instance, ok: verdict.ok, reason: verdict.reason, facts: facts))
            }
        }
        return items + (await recordsAnswered(plans))
    }

    /// "DNS truth" for `check`: each provider's desired records asked as `RecordsToAsk` says.
    /// Only failures are listed, plus one line per provider for the names that match.
    private func recordsAnswered(_ plans: [TargetPlan]) async -> [CheckItem] {
        guard let schedule = config.probes.dnsRecords, schedule.enabled, let dns = config.probes.dns else { return [] }
        var items: [CheckItem] = []
        for provider in config.providers {
            guard let desired = plans.first(where: { $0.provider == provider.name })?.desired,
                  let ask = RecordsToAsk(provider: provider, desired: desired, dns: dns) else { continue }
            let server = ask.server
            let address = server.server
            let probe = DNSRecordsProbe(records: ask.records, resolver: resolver)
            let results = await probe.run(timeout: schedule.timeout)
            let who = provider.kind.typeName == "pihole" ? "Pi-hole" : server.name
            for result in results where !result.ok {
                var marked = result
                if var facts = result.observed.dnsRecord {
                    facts.answeredBy = who
                    marked.observed = .dnsRecord(facts)
                }
                var item = CheckItem(marked)
                item.subject = .probe(marked, provider: provider.name)
                items.append(item)
            }
            let matching = results.filter(\.ok).count
            items.append(CheckItem(area: .records, target: "\(provider.name) @\(server.name) (\(address))", ok: matching == results.count,
                                   reason: "\(matching) of \(results.count) desired names answer as planned",
                                   facts: ["provider": provider.name, "server": address.description,
                                           "asked": "\(results.count)", "matching": "\(matching)"]))
        }
        return items
    }

    // MARK: alerts

    private func alerts() async -> [CheckItem] {
        guard let alerting = config.alerting else { return [] }
        var items: [CheckItem] = []
        var relay = AlertMailer(config: alerting.smtp, password: secrets.smtpPassword).relay
        relay.timeout = .seconds(10)
        let display = relay.url
        let start = ContinuousClock.now
        var facts = ["relay": display, "sent": "nothing (EHLO, NOOP, QUIT)"]
        do {
            let receipt = try await SMTPClient().greet(relay)
            facts["reply"] = "\(receipt.code)"
            items.append(CheckItem(area: .alerts, target: "relay \(display)", ok: true, reason: "relay answers (\(receipt.code)); no mail sent",
                                   latencyMs: Self.milliseconds(ContinuousClock.now - start), facts: facts))
        } catch {
            facts["reply"] = "\(error.replyCode)"
            facts["error"] = error.description
            let why = error.replyCode >= 500 ? "the relay refuses this client (authentication, TLS or the EHLO name?)"
                : error.replyCode > 0 ? "the relay is busy or failing for now"
                : "relay down, wrong host/port, or a firewall between"
            items.append(CheckItem(area: .alerts, target: "relay \(display)", ok: false,
                                   reason: "relay \(display) cannot be greeted: \(error) — \(why); alerts wait in the outbox meanwhile",
                                   latencyMs: Self.milliseconds(ContinuousClock.now - start), facts: facts))
        }
        items += await stateFile()
        return items
    }

    /// The outbox and the open alerts in the state file, opened read-only; a file that is not
    /// there or cannot be read is reported as such and is not a failure.
    private func stateFile() async -> [CheckItem] {
        let path = config.state.path
        let target = "state \(path)"
        guard FileManager.default.isReadableFile(atPath: path) else {
            return [CheckItem(area: .alerts, target: target, ok: true, reason: "absent or not readable: outbox and open alerts not checked",
                              facts: ["state": path])]
        }
        do {
            let store = try StateStore(readingOnly: path)
            let outbox = AlertOutbox(store: store)
            let pending = try await outbox.entries(.pending)
            let rejected = try await outbox.entries(.rejected)
            let open = try await store.openAlerts()
            var items: [CheckItem] = []
            var facts = ["state": path, "pending": "\(pending.count)", "rejected": "\(rejected.count)"]
            if pending.isEmpty && rejected.isEmpty {
                items.append(CheckItem(area: .alerts, target: "outbox", ok: true, reason: "every alert mail delivered", facts: facts))
            } else {
                let oldest = (pending + rejected).map(\.createdAt).min()
                let last = (pending + rejected).compactMap(\.lastError).last
                if let last { facts["last-error"] = last }
                var words = ["\(pending.count + rejected.count) alert mail(s) undelivered"]
                if !pending.isEmpty { words.append("\(pending.count) waiting to be retried") }
                if !rejected.isEmpty { words.append("\(rejected.count) refused for good by the relay") }
                if let oldest { words.append("oldest from \(Self.timestamp(oldest))") }
                items.append(CheckItem(area: .alerts, target: "outbox", ok: false,
                                       reason: words.joined(separator: ", ") + (last.map { "; last error: \($0)" } ?? "")
                                           + " — fix the relay; the agent sends them when it can", facts: facts))
            }
            let firing = open.filter { $0.state == .firing }
            let listed = firing.prefix(5).map { "\($0.key.rule) \($0.key.target) (since \(Self.timestamp($0.firingSince ?? $0.since)))" }
            items.append(CheckItem(
                area: .alerts, target: "open alerts", ok: firing.isEmpty,
                reason: firing.isEmpty
                    ? "none firing (\(open.count) pending)"
                    : "\(firing.count) firing: " + listed.joined(separator: ", ") + (firing.count > 5 ? ", …" : ""),
                facts: ["firing": "\(firing.count)", "pending": "\(open.count - firing.count)"]))
            return items
        } catch {
            return [CheckItem(area: .alerts, target: target, ok: true, reason: "cannot be read (\(error)): outbox and open alerts not checked",
                              facts: ["state": path])]
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, atto) = duration.components
        return ((Double(seconds) * 1000 + Double(atto) / 1e15) * 1000).rounded() / 1000
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
