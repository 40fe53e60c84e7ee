public import NetIO
public import Probes

/// The cluster netagent watches: its network, VIP, MTU and nodes (`cluster:`).
public struct ClusterConfig: Hashable, Sendable {
    /// Name used in alert subjects and metrics (`home`).
    public var name: String
    /// The nodes' network; every node, the gateway and the VIP must lie inside it.
    public var network: CIDR
    /// The network's router, if given.
    public var gateway: IPAddress?
    /// The control-plane VIP (Talos VIP), if any; the `vip` probe needs it.
    public var vip: IPAddress?
    /// Expected MTU of the nodes' network (default 1500).
    public var mtu: Int
    /// The nodes, in file order.
    public var nodes: [Node]

    public init(name: String, network: CIDR, gateway: IPAddress? = nil, vip: IPAddress? = nil,
                mtu: Int = 1500, nodes: [Node] = []) {
        self.name = name
        self.network = network
        self.gateway = gateway
        self.vip = vip
        self.mtu = mtu
        self.nodes = nodes
    }

    /// Nodes the owner marked offline; they are probed but never alert.
    public var offlineNodes: [Node] { nodes.filter { $0.offline != nil } }

    /// One cluster node (`cluster.nodes[i]`): the probes' own type, so the configuration's nodes
    /// are the probes' targets as they are.
    public typealias Node = NodeTarget
}

extension ClusterConfig {
    static func read(_ field: Field) -> ClusterConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let name = map.required("name")?.string()
        let networkField = map.required("network")
        let network = networkField?.parsed { text throws(ConfigValueError) in try CIDR(text) }
        let gateway = map.optional("gateway").flatMap { inside(network, $0) }
        let vip = map.optional("vip").flatMap { inside(network, $0) }
        let mtu = map.optional("mtu")?.int(in: 576...9216) ?? 1500
        let nodes = map.optional("nodes")?.list()?.map { readNode($0, network: network) } ?? []
        checkUnique(nodes, vip: vip)
        guard let name, let network else { return nil }
        return ClusterConfig(name: name, network: network, gateway: gateway, vip: vip, mtu: mtu,
                             nodes: nodes.compactMap(\.node))
    }

    /// An address that must lie in `network` (checked only when the network itself parsed).
    private static func inside(_ network: CIDR?, _ field: Field) -> IPAddress? {
        guard let address = field.ip() else { return nil }
        if let network, !network.contains(address) {
            field.fail("\(address) is outside cluster.network \(network)")
            return nil
        }
        return address
    }

    /// What one `cluster.nodes[i]` entry gave; name and address are kept for the
    /// uniqueness checks even when the rest is invalid.
    private struct ReadNode {
        var node: Node?
        var name: (value: String, field: Field)?
        var address: (value: IPAddress, field: Field)?
    }

    private static func readNode(_ field: Field, network: CIDR?) -> ReadNode {
        guard let map = field.mapping() else { return ReadNode() }
        defer { map.finish() }
        var read = ReadNode()
        if let nameField = map.required("name"), let name = nameField.string() { read.name = (name, nameField) }
        if let addressField = map.required("address"), let address = inside(network, addressField) {
            read.address = (address, addressField)
        }
        let role = map.optional("role")?.choice(Node.Role.self) ?? .worker
        let offline = map.optional("offline")?.string()
        if let name = read.name?.value, let address = read.address?.value {
            read.node = Node(name: name, address: address, role: role, offline: offline)
        }
        return read
    }

    private static func checkUnique(_ nodes: [ReadNode], vip: IPAddress?) {
        var names: [String: Int] = [:]
        var addresses: [IPAddress: Int] = [:]
        for read in nodes {
            if let (name, field) = read.name {
                if let first = names[name] {
                    field.fail("duplicate node name '\(name)' (first at line \(first))")
                } else {
                    names[name] = field.line
                }
            }
            if let (address, field) = read.address {
                if let first = addresses[address] {
                    field.fail("duplicate node address \(address) (first at line \(first))")
                } else {
                    addresses[address] = field.line
                }
                if address == vip { field.fail("\(address) is the cluster VIP, not a node address") }
            }
        }
    }
}
