package import DNSCore
import NetIO

/// Pi-hole's two line formats, read into `Endpoint`s and written back. Every line read is
/// remembered exactly, so a delete sends FTL the very string it stored.
package struct PiholeRecordSet: Sendable {
    /// The records, one `Endpoint` per name and type.
    package var endpoints: [Endpoint] = []
    /// For each (key, target), the line that holds it and whether other names share that line.
    var lines: [LineKey: StoredLine] = [:]

    struct LineKey: Hashable, Sendable {
        let key: Endpoint.Key
        let target: String
    }

    struct StoredLine: Hashable, Sendable {
        let text: String
        let array: PiholeArray
        /// A hosts line naming several hosts: deleting it would delete the others too.
        let shared: Bool
    }

    /// Reads the arrays; lines that are not records netagent can manage are skipped.
    package init(hosts: [String], cnames: [String]) {
        var targets: [Endpoint.Key: [String]] = [:]
        var ttls: [Endpoint.Key: Int] = [:]
        for line in hosts {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2, let address = IPAddress(fields[0]) else { continue }
            let type: RecordType = address.isIPv4 ? .a : .aaaa
            for host in fields.dropFirst() {
                // A wildcard is no hosts entry netagent can write (`line(for:target:)`), so none it manages.
                guard let name = try? DNSName(host), !name.isWildcard else { continue }
                let key = Endpoint.Key(name: name, type: type)
                let target = address.description
                targets[key, default: []].append(target)
                lines[LineKey(key: key, target: target)] = StoredLine(text: line, array: .hosts, shared: fields.count > 2)
            }
        }
        for line in cnames {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 2 || fields.count == 3, let name = try? DNSName(fields[0]), !name.isWildcard,
                  !fields[1].isEmpty else { continue }
            // A target that is no valid name (`evil..com`, `1.2.3.4%eth0`, written before targets were
            // checked) is read as it stands, so the record its owner no longer wants can still be deleted.
            let target = (try? DNSName(fields[1]))?.text ?? Endpoint(name: name, type: .cname, targets: [fields[1]]).targets[0]
            let key = Endpoint.Key(name: name, type: .cname)
            targets[key, default: []].append(target)
            if fields.count == 3, let ttl = Int(fields[2]) { ttls[key] = ttl }
            lines[LineKey(key: key, target: target)] = StoredLine(text: line, array: .cnameRecords, shared: false)
        }
        endpoints = targets.keys.sorted().map { key in
            Endpoint(name: key.name, type: key.type, targets: targets[key] ?? [], ttl: ttls[key])
        }
    }

    /// The line that adds `target` of `endpoint`, or why Pi-hole cannot hold it.
    package static func line(for endpoint: Endpoint, target: String) -> Result<(String, PiholeArray), ApplyRefusal> {
        if endpoint.name.isWildcard {
            return .failure(ApplyRefusal("Pi-hole's local DNS cannot serve a wildcard name"))
        }
        switch endpoint.type {
        case .a, .aaaa:
            guard TargetSyntax.problem(target, for: endpoint.type) == nil, let address = IPAddress(target),
                  address.isIPv4 == (endpoint.type == .a) else {
                return .failure(ApplyRefusal("'\(target)' is not an \(endpoint.type == .a ? "IPv4" : "IPv6") address"))
            }
            return .success(("\(address) \(endpoint.name)", .hosts))
        case .cname:
            guard endpoint.targets.count == 1 else {
                return .failure(ApplyRefusal("a Pi-hole CNAME has one target, this record has \(endpoint.targets.count)"))
            }
            // A line Pi-hole would store but never read back as this record: refused before it is written.
            if let problem = TargetSyntax.problem(target, for: .cname) { return .failure(ApplyRefusal(problem)) }
            let ttl = endpoint.ttl.map { ",\($0)" } ?? ""
            return .success(("\(endpoint.name),\(target)\(ttl)", .cnameRecords))
        case .txt:
            return .failure(ApplyRefusal("Pi-hole has no TXT records"))
        }
    }
}

/// Why one record cannot be written to Pi-hole.
package struct ApplyRefusal: Error, Hashable, Sendable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
