import Probes

/// The causal order of `check`'s lines: which failing line follows from which, so that the
/// first failing line of the table and the first failing check in JSON is a root cause, and
/// every consequence names the root it follows from. Each rule is one small function over two
/// lines' typed subjects (a probe's `ProbeFacts`, a plan's token problem); the order of the
/// rules is the order in which causes are looked for:
/// 1. a failing DNS server before the records it serves;
/// 2. a provider's token (verified after a 403) before its other zones;
/// 3. a provider that cannot be read before its records' answers, and an invalid token before
///    the tunnel status read with it;
/// 4. a node that is gone before its path MTU;
/// 5. the VIP before the API port of the control planes;
/// 6. the link (a path MTU below the expected) before TCP timeouts on the node.
/// Loss and latency come before a node's own port timeouts inside the node's line (`NodesProbe`).
public enum CausalOrder {
    /// One rule: whether `item` follows from `root` (both failing).
    public typealias Rule = @Sendable (_ root: CheckItem, _ item: CheckItem) -> Bool

    public static let rules: [(name: String, follows: Rule)] = [
        ("dns-server-before-records", dnsServerBeforeRecords),
        ("token-before-zones", tokenBeforeZones),
        ("provider-before-records", providerBeforeRecords),
        ("token-before-tunnel-api", tokenBeforeTunnelAPI),
        ("node-before-mtu", nodeBeforeMTU),
        ("vip-before-api-ports", vipBeforeAPIPorts),
        ("mtu-before-timeouts", mtuBeforeTimeouts),
    ]

    /// The items with each consequence's `followsFrom` set to its root (the end of the chain),
    /// roots first: areas holding a root come before areas whose failures all follow from one,
    /// and inside an area the roots come first; otherwise the order is kept.
    public static func arrange(_ items: [CheckItem]) -> [CheckItem] {
        var parent: [Int: Int] = [:]
        let failing = items.indices.filter { !items[$0].ok && !items[$0].isKnownOffline }
        for index in failing {
            for candidate in failing where candidate != index {
                // Two lines that explain each other (two zones refused for one token): the earlier is the root.
                if follows(items[index], from: items[candidate]),
                   candidate < index || !follows(items[candidate], from: items[index]) {
                    parent[index] = candidate
                    break
                }
            }
        }
        var arranged = items
        for index in failing {
            var root = index
            var seen: Set<Int> = [index]
            while let next = parent[root], seen.insert(next).inserted { root = next }
            // A cycle (two lines each explaining the other) has no root: both stay roots.
            if root != index, parent[root] == nil { arranged[index].followsFrom = items[root].reference }
        }
        let order = areas(arranged)
        return arranged.enumerated().sorted { a, b in
            let areaA = order.firstIndex(of: a.element.area) ?? 0, areaB = order.firstIndex(of: b.element.area) ?? 0
            if areaA != areaB { return areaA < areaB }
            let rankA = rank(a.element), rankB = rank(b.element)
            return rankA != rankB ? rankA < rankB : a.offset < b.offset
        }.map { item in
            var item = item.element
            if let root = item.followsFrom { item.reason += " — follows from \(root.area.title): \(root.target)" }
            return item
        }
    }

    /// Whether some rule says `item` follows from `root`.
    static func follows(_ item: CheckItem, from root: CheckItem) -> Bool {
        rules.contains { $0.follows(root, item) }
    }

    /// The areas in table order: those holding a root cause first, each group in `CheckArea` order.
    public static func areas(_ items: [CheckItem]) -> [CheckArea] {
        let rooted = Set(items.filter { !$0.ok && !$0.isKnownOffline && $0.followsFrom == nil }.map(\.area))
        return CheckArea.allCases.filter(rooted.contains) + CheckArea.allCases.filter { !rooted.contains($0) }
    }

    /// Roots first, then consequences, then the rest, inside an area.
    static func rank(_ item: CheckItem) -> Int {
        if item.ok || item.isKnownOffline { return 2 }
        return item.followsFrom == nil ? 0 : 1
    }

    // MARK: rules

    static func probe(_ item: CheckItem) -> (result: ProbeResult, provider: String?)? {
        if case .probe(let result, let provider) = item.subject { (result, provider) } else { nil }
    }

    /// A DNS server that refuses, fails or is silent explains every record asked of it.
    @Sendable static func dnsServerBeforeRecords(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard let server = probe(root)?.result, let facts = server.observed.dnsServer,
              [.dnsRefused, .servfail, .timeout, .unreachable].contains(server.fault),
              let record = probe(item)?.result.observed.dnsRecord else { return false }
        return record.server == facts.server
    }

    /// A token found invalid explains the other zones of its provider that failed.
    @Sendable static func tokenBeforeZones(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard case .plan(let provider, .invalid?) = root.subject, case .plan(let other, _) = item.subject else { return false }
        return provider == other
    }

    /// A Cloudflare token found invalid explains a tunnel status that cannot be read (`run` and
    /// `check` read it with the first Cloudflare provider's token).
    @Sendable static func tokenBeforeTunnelAPI(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard case .plan(_, .invalid?) = root.subject, let tunnel = probe(item)?.result else { return false }
        // Only a refusal by the API (no transport failure): an unreachable API is its own cause.
        if case .tunnelAPIUnreadable(nil, _) = tunnel.observed { return true }
        return false
    }

    /// A provider that cannot be read (or planned) explains its records' drift.
    @Sendable static func providerBeforeRecords(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard case .plan(let provider, _) = root.subject, let record = probe(item), record.result.kind == .dnsRecords else { return false }
        return record.provider == provider
    }

    /// A node that answers nothing explains its unknown path MTU.
    @Sendable static func nodeBeforeMTU(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard let node = probe(root)?.result, node.kind == .nodes, let facts = node.observed.node,
              !facts.ports.isEmpty, facts.failedPorts.count == facts.ports.count, !facts.echoed,
              let mtu = probe(item)?.result, mtu.kind == .mtu else { return false }
        return mtu.target == node.target
    }

    /// The VIP down (or held by nobody, or by two) explains a control plane failing only its API port.
    @Sendable static func vipBeforeAPIPorts(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard let vip = probe(root)?.result, let facts = vip.observed.vip,
              [.vipDown, .noHolder, .splitBrain].contains(vip.fault),
              let node = probe(item)?.result.observed.node, node.role == .controlplane,
              [.refused, .timeout].contains(probe(item)?.result.fault) else { return false }
        let failed = node.failedPorts
        return !failed.isEmpty && failed.count < node.ports.count && failed.allSatisfy { $0.port == facts.tcp.port }
    }

    /// A path MTU below the expected (a black hole, or a smaller link) explains a node's TCP timeouts.
    @Sendable static func mtuBeforeTimeouts(_ root: CheckItem, _ item: CheckItem) -> Bool {
        guard let mtu = probe(root)?.result, mtu.kind == .mtu, [.mtuBlackHole, .mtuSmaller].contains(mtu.fault),
              let node = probe(item)?.result, node.kind == .nodes, node.fault == .timeout,
              node.observed.node?.echoed == true else { return false }
        return node.target == mtu.target
    }
}
