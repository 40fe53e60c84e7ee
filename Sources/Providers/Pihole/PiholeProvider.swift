public import DNSCore
import NetIO

/// One Pi-hole v6 instance as a `DNSProvider`: A/AAAA through `dns.hosts`, CNAME through
/// `dns.cnameRecords`. An HA pair is two providers, each reconciled and reported on its own.
///
/// Applying: deletes, then updates (the new line is added before the old one is removed, so
/// the name keeps resolving), then creates. Every CNAME change but the run's last is sent with
/// `restart=false`, so a run restarts the resolver once. A record Pi-hole cannot hold (a
/// wildcard, a CNAME with several targets, TXT) is refused on its own; the rest goes on.
public actor PiholeProvider: DNSProvider {
    public nonisolated let name: String
    public let client: PiholeClient
    private var known = PiholeRecordSet(hosts: [], cnames: [])

    public init(client: PiholeClient, name: String? = nil) {
        self.client = client
        self.name = name ?? "pihole \(client.baseURL)"
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

        for endpoint in changes.deletes {
            outcome.append(Change(operation: .delete, key: endpoint.key))
            remove(endpoint, targets: endpoint.targets, change: outcome.count - 1)
        }
        for update in changes.updates {
            outcome.append(Change(operation: .update, key: update.key))
            let index = outcome.count - 1
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
            add(endpoint, targets: endpoint.targets, change: outcome.count - 1)
        }
        // Refused changes send nothing at all, rather than half a change.
        steps.removeAll { outcome[$0.change].refusal != nil }
        try await run(steps, recording: &outcome)
        return report(outcome)
    }

    private func run(_ steps: [Step], recording outcome: inout [Change]) async throws {
        let lastCNAME = steps.lastIndex { $0.array == .cnameRecords }
        var restartPending = false
        for (index, step) in steps.enumerated() where outcome[step.change].refusal == nil {
            let restart = step.array == .cnameRecords ? index == lastCNAME : nil
            do {
                switch step.action {
                case .add: try await client.add(step.line, to: step.array, restart: restart ?? true)
                case .remove: try await client.remove(step.line, from: step.array, restart: restart ?? true)
                }
                if step.array == .cnameRecords { restartPending = index != lastCNAME }
            } catch {
                // An unreachable instance or a lost seat stops the run; a refused value stops one change.
                guard error.kind == .refused else { throw error }
                outcome[step.change].refusal = error.description
            }
        }
        if restartPending { try await client.restartDNS() }
        // The lines changed: the next apply reads them again unless `records()` runs first.
        known = PiholeRecordSet(hosts: [], cnames: [])
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
