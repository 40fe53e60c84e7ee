import DNSCore

/// Test fixtures: terse builders for endpoints and a one-line-per-change summary of a plan,
/// so table cases read like the rules they check.
enum Fx {
    static let me = "me"
    static let them = "them"

    static func name(_ raw: String) -> DNSName {
        guard let name = try? DNSName(raw) else { preconditionFailure("bad name in a test table: \(raw)") }
        return name
    }

    static func rec(
        _ name: String, _ type: RecordType, _ targets: [String], ttl: Int? = nil, proxied: Bool? = nil,
        owner: String? = nil, resource: String? = nil
    ) -> Endpoint {
        Endpoint(
            name: Self.name(name), type: type, targets: targets, ttl: ttl,
            providerSpecific: ProviderSpecific(cloudflareProxied: proxied),
            labels: EndpointLabels(owner: owner, resource: resource))
    }

    /// A desired record from `resource` (default `httproute/web/NAME`'s first label).
    static func want(_ name: String, _ type: RecordType, _ targets: String..., ttl: Int? = nil, proxied: Bool? = nil, from resource: String? = nil) -> Endpoint {
        let first = name.split(separator: ".").first.map(String.init) ?? name
        return rec(name, type, targets, ttl: ttl, proxied: proxied, resource: resource ?? "httproute/web/\(first)")
    }

    /// A current record owned by `owner` (default: us).
    static func have(_ name: String, _ type: RecordType, _ targets: String..., ttl: Int? = nil, proxied: Bool? = nil, owner: String? = me, from resource: String? = nil) -> Endpoint {
        let first = name.split(separator: ".").first.map(String.init) ?? name
        let res = owner == nil ? nil : (resource ?? "httproute/web/\(first)")
        return rec(name, type, targets, ttl: ttl, proxied: proxied, owner: owner, resource: res)
    }

    /// One line per change, conflict and guard verdict, in plan order.
    static func summary(_ plan: Plan) -> [String] {
        var lines: [String] = []
        for e in plan.changes.creates { lines.append("+ \(e.key) \(describe(e))") }
        for u in plan.changes.updates { lines.append("~ \(u.key) \(describe(u.old)) -> \(describe(u.new))") }
        for e in plan.changes.deletes { lines.append("- \(e.key)") }
        for c in plan.conflicts {
            lines.append("! \(c.key) \(c.loser.labels.resource ?? "-") lost to \(Plan.Conflict.claimantTag(c.winner)) \(tag(c.reason))")
        }
        if let reason = plan.guardReason {
            switch reason {
            case .desiredEmpty: lines.append("guard desired-empty withheld \(plan.withheldDeletes.count)")
            case .tooManyDeletes: lines.append("guard too-many withheld \(plan.withheldDeletes.count)")
            case .sourceUnread: lines.append("guard source-unread withheld \(plan.withheldDeletes.count)")
            }
        }
        return lines
    }

    static func describe(_ e: Endpoint) -> String {
        var text = e.targets.joined(separator: ",")
        if let ttl = e.ttl { text += " ttl=\(ttl)" }
        if let proxied = e.providerSpecific.cloudflareProxied { text += " proxied=\(proxied)" }
        return text
    }

    static func tag(_ reason: ConflictReason) -> String {
        switch reason {
        case .preferredTargets: "preferred"
        case .currentResourceKeeps: "keeps"
        case .cnameBesideAddresses: "cname"
        case .foreignRecord(let owner): "foreign(\(owner ?? "none"))"
        }
    }
}

extension Plan.Conflict {
    /// The winner as the tables name it: its resource, else `owner:X`, else `unowned`.
    static func claimantTag(_ e: Endpoint) -> String {
        if e.labels.owner != nil, e.labels.owner != Fx.me { return "owner:\(e.labels.owner ?? "")" }
        return e.labels.resource ?? (e.labels.owner == nil ? "unowned" : "owner:\(Fx.me)")
    }
}
