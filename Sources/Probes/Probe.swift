public import NetIO

/// One probe kind over its targets: each run returns one result per target (per name for
/// dns-records), every target bounded by `timeout` from the start of the run and checked
/// in parallel, so one dead target costs its timeout once.
public protocol Probe: Sendable {
    var kind: ProbeKind { get }
    /// Checks every target once. Never throws: every failure is a result.
    func run(timeout: Duration) async -> [ProbeResult]
}

/// Checks every target at once and returns the results in the targets' order: each target has
/// its own deadline inside `check`, so a round takes as long as its slowest target, not the sum.
func eachInParallel<Target: Sendable>(
    _ targets: [Target], _ check: @escaping @Sendable (Target) async -> ProbeResult
) async -> [ProbeResult] {
    await withTaskGroup(of: (Int, ProbeResult).self) { group in
        for (index, target) in targets.enumerated() {
            group.addTask { (index, await check(target)) }
        }
        var results = [ProbeResult?](repeating: nil, count: targets.count)
        for await (index, result) in group { results[index] = result }
        return results.compactMap { $0 }
    }
}

extension ProbeKind {
    /// The table of kinds: what each checks and its default schedule.
    public static let table: [ProbeKind: (summary: String, interval: Duration, timeout: Duration)] = [
        .dnsServer: ("each DNS server answers a known name: latency, response code, answers", .seconds(30), .seconds(2)),
        .dnsRecords: ("every desired record resolves at the server that should serve it", .seconds(30), .seconds(5)),
        .nodes: ("TCP ports and ICMP echo on every node; offline nodes reported as known-offline", .seconds(30), .seconds(2)),
        .mtu: ("path MTU to each node by don't-fragment probing, compared with the cluster MTU", .seconds(300), .seconds(5)),
        .vip: ("TCP and TLS to VIP:6443, and which node answers ARP for the VIP", .seconds(1), .seconds(1)),
        .tunnel: ("cloudflared /ready, the API's tunnel status, public names CNAME to the tunnel", .seconds(30), .seconds(5)),
    ]

    /// The kind's one-line summary.
    public var summary: String { Self.table[self]?.summary ?? rawValue }
}

/// A cluster node as the probes see it.
/// Also the configuration's `cluster.nodes[i]` (`ClusterConfig.Node`).
public struct NodeTarget: Sendable, Hashable {
    /// Control plane or worker: control planes also get the API port probed.
    public enum Role: String, CaseIterable, Sendable, Hashable { case controlplane, worker }
    /// Unique node name (`k8s-1`).
    public var name: String
    /// The node's address (inside `cluster.network` when it comes from the configuration).
    public var address: IPAddress
    public var role: Role
    /// Why the node is known to be down; such a node is probed but never fails.
    public var offline: String?

    public init(name: String, address: IPAddress, role: Role = .worker, offline: String? = nil) {
        self.name = name
        self.address = address
        self.role = role
        self.offline = offline
    }
}
