public import Foundation
public import NetIO

/// The probes (`probes:`). A kind runs when its key is present and not `enabled: false`.
public struct ProbesConfig: Hashable, Sendable {
    /// Default interval of every kind (default 30s).
    public var interval: Duration
    /// Default per-target deadline of every kind (default 2s).
    public var timeout: Duration
    public var dns: DNSServers?
    public var dnsRecords: Schedule?
    public var nodes: Nodes?
    public var vip: VIP?
    public var mtu: MTU?
    public var tunnel: Tunnel?

    public init(interval: Duration = .seconds(30), timeout: Duration = .seconds(2), dns: DNSServers? = nil,
                dnsRecords: Schedule? = nil, nodes: Nodes? = nil, vip: VIP? = nil, mtu: MTU? = nil,
                tunnel: Tunnel? = nil) {
        self.interval = interval
        self.timeout = timeout
        self.dns = dns
        self.dnsRecords = dnsRecords
        self.nodes = nodes
        self.vip = vip
        self.mtu = mtu
        self.tunnel = tunnel
    }

    /// The names of the kinds that will run, in a fixed order.
    public var enabledKinds: [String] {
        [("dns", dns?.schedule), ("dnsRecords", dnsRecords), ("nodes", nodes?.schedule), ("vip", vip?.schedule),
         ("mtu", mtu?.schedule), ("tunnel", tunnel?.schedule)]
            .compactMap { name, schedule in schedule?.enabled == true ? name : nil }
    }

    /// Settings every kind has; unset values fall back to `probes.interval` / `probes.timeout`.
    public struct Schedule: Hashable, Sendable {
        public var enabled: Bool
        public var interval: Duration
        public var timeout: Duration
        public init(enabled: Bool = true, interval: Duration, timeout: Duration) {
            self.enabled = enabled
            self.interval = interval
            self.timeout = timeout
        }
    }

    /// `dns`: each server must answer.
    public struct DNSServers: Hashable, Sendable {
        public var schedule: Schedule
        public var servers: [Server]
        /// The name every server must answer with an A record (default `example.com`, as `netagent probe`).
        public var question: String = "example.com"
        /// A DNS server by name, address and port (default 53).
        public struct Server: Hashable, Sendable {
            public var name: String
            public var address: IPAddress
            public var port: Int
            public init(name: String, address: IPAddress, port: Int = 53) {
                self.name = name
                self.address = address
                self.port = port
            }
        }
    }

    /// `nodes`: TCP ports on every node, the control-plane ports on control planes, ICMP echo.
    public struct Nodes: Hashable, Sendable {
        public var schedule: Schedule
        /// Default [50000, 10250] (Talos apid, kubelet).
        public var tcpPorts: [Int]
        /// Default [6443] (the Kubernetes API).
        public var controlPlanePorts: [Int]
        /// Default true.
        public var icmp: Bool
        /// Echo requests per node per round (`echoCount`, default 40).
        public var echoCount: Int = Nodes.defaultEchoCount
        /// Time between two echo requests (`echoSpacing`, default 20ms).
        public var echoSpacing: Duration = Nodes.defaultEchoSpacing
        /// The median echo round trip above which the link is called slow (`maxLatency`, default 100ms).
        public var maxLatency: Duration = Nodes.defaultMaxLatency
        /// The lost share of echoes (0…1) above which the link is called lossy (`maxLoss`, default 0.2).
        public var maxLoss: Double = Nodes.defaultMaxLoss

        /// 40 echoes 20 ms apart are sent in 0.8 s, inside half of the default 2 s timeout, so a
        /// round trip up to 1 s is measured on each. With n = 40 the observed loss has a binomial
        /// standard deviation of √(p(1−p)/n): 4.7 points at 10 % loss, 7.7 at 40 %; with `maxLoss`
        /// 0.2 (more than 8 of 40 lost), a 10 % link is called lossy in 1.6 % of rounds and a 40 %
        /// link missed in 0.6 % (docs/configuration.md).
        public static let defaultEchoCount = 40
        public static let defaultEchoSpacing = Duration.milliseconds(20)
        public static let defaultMaxLatency = Duration.milliseconds(100)
        public static let defaultMaxLoss = 0.2
    }

    /// `vip`: TCP and TLS to VIP:port, and which node holds the VIP. Interval default 1s.
    public struct VIP: Hashable, Sendable {
        public var schedule: Schedule
        /// Default 6443.
        public var port: Int
    }

    /// `mtu`: path MTU to each node compared with `expected` (default `cluster.mtu`).
    public struct MTU: Hashable, Sendable {
        public var schedule: Schedule
        public var expected: Int
    }

    /// `tunnel`: cloudflared's /ready and the Cloudflare tunnel status.
    public struct Tunnel: Hashable, Sendable {
        public var schedule: Schedule
        /// cloudflared's metrics server `/ready` URL.
        public var readyURL: URL
        /// The tunnel's UUID; public names must CNAME to `<tunnelID>.cfargotunnel.com`.
        public var tunnelID: UUID
        /// Fewest ready connections that count as healthy (default 1).
        public var minConnections: Int
    }
}

extension ProbesConfig {
    static func read(_ field: Field, clusterMTU: Int, hasVIP: Bool) -> ProbesConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let interval = map.optional("interval")?.duration() ?? .seconds(30)
        let timeout = checkedTimeout(map.optional("timeout")) ?? .seconds(2)
        let base = Schedule(interval: interval, timeout: timeout)
        var config = ProbesConfig(interval: interval, timeout: timeout)
        config.dns = kind(map, "dns", base) { readDNS($0, $1) }
        config.dnsRecords = kind(map, "dnsRecords", base) { _, schedule in schedule }
        config.nodes = kind(map, "nodes", base) { kind, schedule in
            let echoCount = kind.optional("echoCount")?.int(in: 1...1000) ?? Nodes.defaultEchoCount
            return Nodes(schedule: schedule,
                  tcpPorts: kind.optional("tcpPorts")?.list { $0.int(in: 1...65535) } ?? [50000, 10250],
                  controlPlanePorts: kind.optional("controlPlanePorts")?.list { $0.int(in: 1...65535) } ?? [6443],
                  icmp: kind.optional("icmp")?.bool() ?? true,
                  echoCount: echoCount,
                  echoSpacing: echoSpacing(kind, schedule, count: echoCount),
                  maxLatency: maxLatency(kind, schedule),
                  maxLoss: kind.optional("maxLoss")?.fraction() ?? Nodes.defaultMaxLoss)
        }
        let vipBase = Schedule(interval: .seconds(1), timeout: min(timeout, .seconds(1)))
        config.vip = kind(map, "vip", vipBase) { kind, schedule in
            if !hasVIP && schedule.enabled { kind.fail("the vip probe needs cluster.vip") }
            return VIP(schedule: schedule, port: kind.optional("port")?.int(in: 1...65535) ?? 6443)
        }
        config.mtu = kind(map, "mtu", base) { kind, schedule in
            MTU(schedule: schedule, expected: kind.optional("expected")?.int(in: 576...9216) ?? clusterMTU)
        }
        config.tunnel = kind(map, "tunnel", base) { kind, schedule in
            let url = kind.required("readyURL")?.url(schemes: ["http", "https"])
            let id = kind.required("tunnelID")?.parsed { text throws(ConfigValueError) in
                guard let id = UUID(uuidString: text) else { throw ConfigValueError("'\(text)' is not a tunnel UUID") }
                return id
            }
            let minimum = kind.optional("minConnections")?.int(in: 1...16) ?? 1
            guard let url, let id else { return nil }
            return Tunnel(schedule: schedule, readyURL: url, tunnelID: id, minConnections: minimum)
        }
        return config
    }

    /// `probes.nodes.echoSpacing`. When `echoCount` or `echoSpacing` is written and that many
    /// echoes that far apart do not fit in half the timeout (the other half is the last echo's
    /// time to come back), the written key is refused with its line. The defaults are never
    /// refused: with a short timeout the echo is spaced closer (`EchoSchedule`).
    private static func echoSpacing(_ kind: MappingReader, _ schedule: Schedule, count: Int) -> Duration {
        let field = kind.optional("echoSpacing")
        let spacing = field?.duration() ?? Nodes.defaultEchoSpacing
        let window = schedule.timeout / 2
        guard let written = field ?? kind.optional("echoCount"), spacing * max(1, count) > window else { return spacing }
        written.fail("\(count) echoes \(ConfigDuration.format(spacing)) apart take \(ConfigDuration.format(spacing * count)), "
            + "more than half the timeout (\(ConfigDuration.format(window))): lower echoCount or echoSpacing, or raise timeout")
        return spacing
    }

    /// `probes.nodes.maxLatency`, refused when a round trip that long cannot be measured (half the timeout).
    private static func maxLatency(_ kind: MappingReader, _ schedule: Schedule) -> Duration {
        guard let field = kind.optional("maxLatency"), let value = field.duration() else { return Nodes.defaultMaxLatency }
        if value >= schedule.timeout / 2 {
            field.fail("\(ConfigDuration.format(value)) cannot be measured: echo replies are awaited for half the timeout "
                + "(\(ConfigDuration.format(schedule.timeout / 2))); raise timeout or lower maxLatency")
        }
        return value
    }

    /// The longest probe deadline accepted: DNS queries are clamped to `Resolver.maxTimeout`
    /// (c-ares cannot take much more), and no probe result is worth waiting longer for.
    public static let maxTimeout = Resolver.maxTimeout

    /// A `timeout` key's duration, refused (with its line) above `maxTimeout`.
    private static func checkedTimeout(_ field: Field?) -> Duration? {
        guard let field, let timeout = field.duration() else { return nil }
        guard timeout <= maxTimeout else {
            field.fail("timeout \(ConfigDuration.format(timeout)) is above the \(ConfigDuration.format(maxTimeout)) maximum for a probe")
            return maxTimeout
        }
        return timeout
    }

    /// Reads one kind's mapping: its schedule (falling back to `base`) and its own keys.
    private static func kind<T>(_ map: MappingReader, _ key: String, _ base: Schedule,
                                _ body: (MappingReader, Schedule) -> T?) -> T? {
        guard let kind = map.optional(key)?.mapping() else { return nil }
        defer { kind.finish() }
        let schedule = Schedule(enabled: kind.optional("enabled")?.bool() ?? true,
                                interval: kind.optional("interval")?.duration() ?? base.interval,
                                timeout: checkedTimeout(kind.optional("timeout")) ?? base.timeout)
        if schedule.timeout > schedule.interval {
            kind.fail("timeout \(ConfigDuration.format(schedule.timeout)) is longer than the interval \(ConfigDuration.format(schedule.interval))")
        }
        return body(kind, schedule)
    }

    private static func readDNS(_ kind: MappingReader, _ schedule: Schedule) -> DNSServers? {
        var seen: [String: Int] = [:]
        let servers = kind.required("servers")?.list { field -> DNSServers.Server? in
            guard let server = field.mapping() else { return nil }
            defer { server.finish() }
            let nameField = server.required("name")
            let name = nameField?.string()
            let address = server.required("address")?.ip()
            let port = server.optional("port")?.int(in: 1...65535) ?? 53
            if let name, let nameField {
                if let first = seen[name] {
                    nameField.fail("duplicate DNS server name '\(name)' (first at line \(first))")
                }
                seen[name] = seen[name] ?? nameField.line
            }
            guard let name, let address else { return nil }
            return DNSServers.Server(name: name, address: address, port: port)
        }
        let question = kind.optional("question")?.string() ?? "example.com"
        guard let servers else { return nil }
        return DNSServers(schedule: schedule, servers: servers, question: question)
    }
}
