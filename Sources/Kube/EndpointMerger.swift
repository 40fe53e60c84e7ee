public import DNSCore

/// external-dns's `MergeEndpoints`: endpoints with the same name, type and TTL from different
/// routes become one, their targets unioned; the first one's labels and provider-specific
/// properties are kept. A CNAME holds one target, so CNAMEs merge only when their (first)
/// targets are equal; different CNAME targets for one name stay apart and are reported.
public enum EndpointMerger {
    private struct Key: Hashable {
        let name: DNSName
        let type: RecordType
        let ttl: Int?
        let cnameTarget: String?
    }

    /// Merges and sorts by name, type, targets, TTL, resource.
    static func merge(_ endpoints: [Endpoint], warnings: inout [SourceWarning]) -> [Endpoint] {
        var merged: [Endpoint] = []
        var positions: [Key: Int] = [:]
        var cnameTargets: [DNSName: String] = [:]
        merged.reserveCapacity(endpoints.count)
        for endpoint in endpoints {
            var cnameTarget: String?
            if endpoint.type == .cname {
                guard let first = endpoint.targets.first else { continue }
                cnameTarget = first
                if let seen = cnameTargets[endpoint.name], seen != first {
                    warnings.append(SourceWarning(
                        resource: endpoint.labels.resource ?? "",
                        message: "\(endpoint.name) CNAME \(first) conflicts with \(endpoint.name) CNAME \(seen): a name can hold only one CNAME"))
                } else {
                    cnameTargets[endpoint.name] = first
                }
            }
            let key = Key(name: endpoint.name, type: endpoint.type, ttl: endpoint.ttl, cnameTarget: cnameTarget)
            if let position = positions[key] {
                merged[position].setTargets(merged[position].targets + endpoint.targets)
            } else {
                positions[key] = merged.count
                merged.append(endpoint)
            }
        }
        return merged.sorted(by: precedes)
    }

    /// The order of `plan`'s output: name, then type, then targets, TTL and resource for ties.
    public static func precedes(_ a: Endpoint, _ b: Endpoint) -> Bool {
        if a.name != b.name { return a.name < b.name }
        if a.type != b.type { return a.type < b.type }
        if a.targets != b.targets { return a.targets.lexicographicallyPrecedes(b.targets) }
        if a.ttl != b.ttl { return (a.ttl ?? 0) < (b.ttl ?? 0) }
        return (a.labels.resource ?? "") < (b.labels.resource ?? "")
    }
}
