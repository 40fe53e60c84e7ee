public import DNSCore
import NetIO

/// One Pi-hole v6 instance as a `DNSProvider`: A/AAAA through `dns.hosts`, CNAME through
/// `dns.cnameRecords`. An HA pair is two providers, each reconciled and reported on its own.
///
/// Applying, in the order a real FTL accepts: FTL runs `dnsmasq --test` on the would-be
/// configuration at every hosts/CNAME write and refuses two `cname=` lines for one name or a
/// CNAME loop (400 "Invalid configuration"; ../shared/reference/pihole-ftl-openapi/README.md,
/// FTL `src/api/config.c`). So a run sends: hosts lines removed, hosts lines added, CNAME
/// lines removed, CNAME lines added — an update removes its old line before it adds the new
/// one, and hosts come before the CNAMEs that may point at them. Among the CNAMEs added the
/// order does not matter: dnsmasq accepts a `cname=` whose target is defined later, or not at
/// all (measured, dnsmasq 2.90 `--test`). A desired CNAME that points at itself or closes a
/// loop is refused with a named error before anything is written. Nothing of a CNAME change
/// takes effect before the resolver restarts, so removing first loses no answer.
///
/// One restart a run: every write goes with `restart=false` but the run's last, a CNAME write
/// when the run changes CNAMEs (else no restart: hosts apply at once). After it the provider
/// waits, with back-off and a bound, until the API answers again, before any other call (the
/// logout included); meanwhile `restarts` says the resolver is restarting, so the DNS-truth
/// probe does not call it drift. A write FTL refuses (400) fails that record alone, with
/// dnsmasq's hint and the record named; an update whose new line is refused gets its old line
/// back. A record Pi-hole cannot hold (a wildcard, a CNAME with several targets, TXT) is
/// refused on its own; the rest goes on.
public actor PiholeProvider: DNSProvider {
    public nonisolated let name: String
    public let client: PiholeClient
    private var known = PiholeRecordSet(hosts: [], cnames: [])
    /// Where "this Pi-hole's resolver is restarting" is published, under `restartKey`.
    private let restarts: ResolverRestarts?
    private let restartKey: String
    /// How long the API may stay away after a restarting write before the run fails.
    private let restartTimeout: Duration

    /// - Parameters:
    ///   - restarts: told while this Pi-hole restarts its resolver, under `restartKey` (the
    ///     provider's name in the configuration, which names its DNS server too).
    public init(client: PiholeClient, name: String? = nil, restarts: ResolverRestarts? = nil, restartKey: String? = nil,
                restartTimeout: Duration = .seconds(60)) {
        self.client = client
        self.name = name ?? "pihole \(client.baseURL)"
        self.restarts = restarts
        self.restartKey = restartKey ?? self.name
        self.restartTimeout = restartTimeout
    }

    public func records() async throws -> [Endpoint] {
        let hosts = try await client.lines(.hosts)
        let cnames = try await client.lines(.cnameRecords)
        known = PiholeRecordSet(hosts: hosts, cnames: cnames)
        return known.endpoints
    }

    public nonisolated func adjust(_ desired: [Endpoint]) -> [Endpoint] {
        desired.map { endpoint in
            var stored = endpoint
            stored.providerSpecific = ProviderSpecific()
            // dns.hosts has no TTL; a CNAME line may carry one.
            if endpoint.type != .cname { stored.ttl = nil }
            return stored
        }
    }

    /// Gives the API seat back. Call at shutdown.
    public func close() async { await client.logout() }

    private struct Step {
        enum Action { case add, remove }
        let action: Action
        let line: String
        let array: PiholeArray
        /// Index into `changes` of the change this step belongs to.
        let change: Int
    }

    private struct Change {
        let operation: ApplyFailure.Operation
        let key: Endpoint.Key
        var refusal: String?
        /// Lines of this change removed so far: given back if its new line is refused.
        var removed: [(line: String, array: PiholeArray)] = []
    }

    public func apply(_ changes: Plan.Changes) async throws -> ApplyReport {
        if known.lines.isEmpty, !(changes.deletes.isEmpty && changes.updates.isEmpty) { _ = try await records() }
        var steps: [Step] = []
        var outcome: [Change] = []

        func stored(_ key: Endpoint.Key, _ target: String) -> PiholeRecordSet.StoredLine? {
            known.lines[PiholeRecordSet.LineKey(key: key, target: target)]
        }
        func remove(_ endpoint: Endpoint, targets: some Sequence<String>, change: Int) {
            for target in targets {
                guard let line = stored(endpoint.key, target) else { continue }  // already gone
                guard !line.shared else {
                    outcome[change].refusal = "the line '\(line.text)' also names other hosts; netagent does not edit it"
                    continue
                }
                steps.append(Step(action: .remove, line: line.text, array: line.array, change: change))
            }
        }
        func add(_ endpoint: Endpoint, targets: some Sequence<String>, change: Int) {
            for target in targets {
                switch PiholeRecordSet.line(for: endpoint, target: target) {
                case .success(let (line, array)):
                    if stored(endpoint.key, target)?.text == line { continue }
                    steps.append(Step(action: .add, line: line, array: array, change: change))
                case .failure(let refusal):
                    outcome[change].refusal = refusal.reason
                }
            }
        }

        let loops = Self.cnameLoops(known: known.endpoints, changes: changes)
        for endpoint in changes.deletes {
            outcome.append(Change(operation: .delete, key: endpoint.key))
            remove(endpoint, targets: endpoint.targets, change: outcome.count - 1)
        }
        for update in changes.updates {
            outcome.append(Change(operation: .update, key: update.key))
            let index = outcome.count - 1
            if let loop = loops[update.key] { outcome[index].refusal = loop; continue }
            add(update.new, targets: update.new.targets, change: index)
            guard outcome[index].refusal == nil else { continue }
            let kept = Set(update.new.targets).intersection(update.old.targets)
            let replaced = update.old.targets.filter { target in
                // A CNAME whose TTL changed keeps its target but gets a new line.
                !kept.contains(target) || (update.old.type == .cname && update.old.ttl != update.new.ttl)
            }
            remove(update.old, targets: replaced, change: index)
        }
        for endpoint in changes.creates {
            outcome.append(Change(operation: .create, key: endpoint.key))
            if let loop = loops[endpoint.key] { outcome[outcome.count - 1].refusal = loop; continue }
            add(endpoint, targets: endpoint.targets, change: outcome.count - 1)
        }
        // Refused changes send nothing at all, rather than half a change.
        steps.removeAll { outcome[$0.change].refusal != nil }
        try await run(Self.ordered(steps), recording: &outcome)
        return report(outcome)
    }

    /// The order FTL's `dnsmasq --test` gate accepts at every step: hosts removed, hosts added,
    /// CNAMEs removed, CNAMEs added.
    private static func ordered(_ steps: [Step]) -> [Step] {
        let group = { (array: PiholeArray, action: Step.Action) in steps.filter { $0.array == array && $0.action == action } }
        return group(.hosts, .remove) + group(.hosts, .add) + group(.cnameRecords, .remove) + group(.cnameRecords, .add)
    }

    /// The desired CNAMEs of this run that point at themselves or close a loop with the
    /// CNAMEs the Pi-hole will hold after the run, each with the error naming the loop.
    /// dnsmasq refuses such a configuration ("CNAME loop involving …"), and so would FTL.
    static func cnameLoops(known: [Endpoint], changes: Plan.Changes) -> [Endpoint.Key: String] {
        var targets: [String: String] = [:]
        for endpoint in known where endpoint.type == .cname { targets[endpoint.name.text] = endpoint.targets.first }
        for endpoint in changes.deletes where endpoint.type == .cname { targets[endpoint.name.text] = nil }
        var wanted: [Endpoint] = changes.creates.filter { $0.type == .cname }
        for update in changes.updates {
            if update.old.type == .cname { targets[update.old.name.text] = nil }
            if update.new.type == .cname { wanted.append(update.new) }
        }
        for endpoint in wanted where endpoint.targets.count == 1 { targets[endpoint.name.text] = endpoint.targets[0] }
        var loops: [Endpoint.Key: String] = [:]
        for endpoint in wanted {
            var chain = [endpoint.name.text]
            var current = endpoint.name.text
            while let next = targets[current], chain.count <= targets.count + 1 {
                if next == endpoint.name.text {
                    chain.append(next)
                    loops[endpoint.key] = chain.count == 2
                        ? "the CNAME \(endpoint.name) points at itself; dnsmasq (and so Pi-hole) refuses it"
                        : "the CNAME \(endpoint.name) would close a loop (\(chain.joined(separator: " -> "))); dnsmasq (and so Pi-hole) refuses it"
                    break
                }
                if chain.contains(next) { break }  // a loop further on, not through this name
                chain.append(next)
                current = next
            }
        }
        return loops
    }

    private func run(_ steps: [Step], recording outcome: inout [Change]) async throws {
        let lastCNAME = steps.lastIndex { $0.array == .cnameRecords }
        var restartPending = false
        var restarted = false
        // A window opened for a restart that then did not happen (the write refused or a no-op,
        // or the run stopped) is closed again: the probe must not excuse a real miss for a minute.
        var windowOpened = false
        defer { if windowOpened && !restarted { restarts?.ended(restartKey) } }
        for (index, step) in steps.enumerated() where outcome[step.change].refusal == nil {
            let restart = index == lastCNAME
            if restart {
                restarts?.restarting(restartKey, until: .now + restartTimeout)
                windowOpened = true
            }
            do {
                // A line already there (or already gone) changed nothing, so FTL restarted nothing.
                let changed = switch step.action {
                case .add: try await client.add(step.line, to: step.array, restart: restart)
                case .remove: try await client.remove(step.line, from: step.array, restart: restart)
                }
                if step.array == .cnameRecords && changed { restartPending = !restart }
                restarted = restart && changed
                if step.action == .remove { outcome[step.change].removed.append((step.line, step.array)) }
            } catch {
                // An unreachable instance or a lost seat stops the run; a refused value stops one change.
                guard error.kind == .refused else { throw error }
                // A CNAME line put back below is stored but needs the restart too.
                if step.array == .cnameRecords, !outcome[step.change].removed.isEmpty { restartPending = true }
                outcome[step.change].refusal = "\(step.action == .add ? "adding" : "removing") '\(step.line)': \(error.description)"
                try await giveBack(&outcome[step.change])
            }
        }
        if restartPending && !restarted {
            restarts?.restarting(restartKey, until: .now + restartTimeout)
            windowOpened = true
            try await client.restartDNS()
            restarted = true
        }
        if restarted {
            do {
                try await client.waitUntilAnswering(within: restartTimeout)
            } catch {
                restarts?.ended(restartKey)
                throw error
            }
            // The API is back; dnsmasq answers from about the same moment. The probe gets a
            // short grace for answers cached across the restart.
            restarts?.restarting(restartKey, until: .now + .seconds(5))
        }
        // The lines changed: the next apply reads them again unless `records()` runs first.
        known = PiholeRecordSet(hosts: [], cnames: [])
    }

    /// An update whose new line was refused gets back the lines it had removed (with
    /// `restart=false`: the run's restart comes later or has been asked for anyway).
    private func giveBack(_ change: inout Change) async throws {
        let removed = change.removed
        change.removed = []
        for (line, array) in removed {
            if let problem = await putBack(line, array) { change.refusal = (change.refusal ?? "") + problem }
        }
    }

    private func putBack(_ line: String, _ array: PiholeArray) async -> String? {
        do {
            try await client.add(line, to: array, restart: false)
            return nil
        } catch {
            return "; and '\(line)' could not be put back: \(error.description)"
        }
    }
    private func report(_ outcome: [Change]) -> ApplyReport {
        var report = ApplyReport()
        for change in outcome {
            if let refusal = change.refusal {
                report.failures.append(ApplyFailure(operation: change.operation, key: change.key, message: refusal))
                continue
            }
            switch change.operation {
            case .create: report.created += 1
            case .update: report.updated += 1
            case .delete: report.deleted += 1
            }
        }
        return report
    }
}
