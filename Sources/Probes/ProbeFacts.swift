import Foundation
public import NetIO

/// What a probe observed, typed, one case per probe kind (and per tunnel check). Causes,
/// alert rules, the VIP log and the status page read these; the `[String: String]` view in
/// `ProbeResult.facts` (JSON, alert mails) is made from them once, by `strings`.
public enum ProbeFacts: Sendable, Hashable {
    case none
    case node(NodeFacts)
    case mtu(MTUFacts)
    case vip(VIPFacts)
    case dnsServer(DNSServerFacts)
    case dnsRecord(DNSRecordFacts)
    case tunnelReady(TunnelReadyFacts)
    case tunnelAPI(TunnelStatus)
    /// The tunnel's status could not be read: the transport failure behind it, if that was it.
    case tunnelAPIUnreadable(transport: NetIOError?, message: String)
    case tunnelCNAME(TunnelCNAMEFacts)

    public var node: NodeFacts? { if case .node(let facts) = self { facts } else { nil } }
    public var mtu: MTUFacts? { if case .mtu(let facts) = self { facts } else { nil } }
    public var vip: VIPFacts? { if case .vip(let facts) = self { facts } else { nil } }
    public var dnsServer: DNSServerFacts? { if case .dnsServer(let facts) = self { facts } else { nil } }
    public var dnsRecord: DNSRecordFacts? { if case .dnsRecord(let facts) = self { facts } else { nil } }

    /// The string view documented in docs/check.schema.json (`facts`), made once per result.
    public var strings: [String: String] {
        switch self {
        case .none: [:]
        case .node(let facts): facts.strings
        case .mtu(let facts): facts.strings
        case .vip(let facts): facts.strings
        case .dnsServer(let facts): facts.strings
        case .dnsRecord(let facts): facts.strings
        case .tunnelReady(let facts): facts.strings
        case .tunnelAPI(let status): ["status": status.health.rawValue, "connections": "\(status.connections)"]
        case .tunnelAPIUnreadable(let transport, _): transport.map { ["curl-code": "\($0.code)"] } ?? [:]
        case .tunnelCNAME(let facts): facts.strings
        }
    }
}

// MARK: nodes

/// One TCP port's connect outcome on a node.
public struct PortOutcome: Sendable, Hashable {
    public var port: Int
    public var outcome: TCPConnectResult.Outcome
    /// From the (last) SYN leaving to the outcome.
    public var latency: Duration
    /// The connect's own words (`Connection refused`, `no answer within 2.00s`).
    public var message: String
    /// 2 when a timeout on a lossy link was tried again (`NodesProbe`).
    public var attempts: Int

    public init(port: Int, _ result: TCPConnectResult, attempts: Int = 1) {
        self.port = port
        outcome = result.outcome
        latency = result.latency
        message = result.message
        self.attempts = attempts
    }

    public var connected: Bool { outcome == .connected }
}

/// Echo statistics: NetIO's `PingResult` (sent, received with late replies, every round trip,
/// min/median/p90/max, the schedule used).
public typealias EchoStatistics = PingResult

extension PingResult {
    /// Lost share in whole percent, rounded, for people.
    public var lostPercent: Int { Int(lossPercent.rounded()) }
}

/// When a node's link counts as bad: `probes.nodes.maxLatency` and `probes.nodes.maxLoss`.
public struct LinkThresholds: Sendable, Hashable {
    /// The median echo round trip above which the link is slow.
    public var maxLatency: Duration
    /// The lost share (0…1) above which the link is lossy.
    public var maxLoss: Double

    public init(maxLatency: Duration = .milliseconds(100), maxLoss: Double = 0.2) {
        self.maxLatency = maxLatency
        self.maxLoss = maxLoss
    }
}

/// What the nodes probe saw of one node.
public struct NodeFacts: Sendable, Hashable {
    /// The echo part: not asked, no ICMP socket, or its statistics.
    public enum Echo: Sendable, Hashable {
        case notProbed
        case unavailable(String)
        case measured(EchoStatistics)
    }

    public var address: IPAddress
    public var role: NodeTarget.Role
    /// Every probed port, sorted by port.
    public var ports: [PortOutcome]
    public var echo: Echo
    public var thresholds: LinkThresholds
    public var offline: String?

    public init(address: IPAddress, role: NodeTarget.Role, ports: [PortOutcome], echo: Echo,
                thresholds: LinkThresholds = LinkThresholds(), offline: String? = nil) {
        self.address = address
        self.role = role
        self.ports = ports.sorted { $0.port < $1.port }
        self.echo = echo
        self.thresholds = thresholds
        self.offline = offline
    }

    public var failedPorts: [PortOutcome] { ports.filter { !$0.connected } }
    public var statistics: EchoStatistics? { if case .measured(let s) = echo { s } else { nil } }
    /// At least one echo reply came back.
    public var echoed: Bool { (statistics?.received ?? 0) > 0 }
    /// The median round trip when it is above `maxLatency`.
    public var highLatency: Duration? {
        guard let median = statistics?.medianRoundTrip, median > thresholds.maxLatency else { return nil }
        return median
    }
    /// The loss when some replies came back and more than `maxLoss` were lost (all lost is a
    /// dead host or blocked ICMP, not a lossy link).
    public var lossy: EchoStatistics? {
        guard let s = statistics, s.received > 0, s.loss > thresholds.maxLoss else { return nil }
        return s
    }

    var strings: [String: String] {
        var facts = ["address": address.description, "role": role.rawValue]
        for port in ports {
            facts["tcp/\(port.port)"] = "\(port.outcome.rawValue) \(port.latency.readable)"
                + (port.attempts > 1 ? " (\(port.attempts) attempts)" : "")
        }
        switch echo {
        case .measured(let s):
            var icmp = "\(s.received)/\(s.sent) replies"
            if let median = s.medianRoundTrip, let low = s.minRoundTrip, let high = s.maxRoundTrip {
                icmp += ", median \(median.readable)"
                facts["rtt"] = "min \(low.readable), median \(median.readable), p90 \((s.p90RoundTrip ?? median).readable), max \(high.readable)"
            }
            if s.late > 0 { icmp += ", \(s.late) late" }
            facts["icmp"] = icmp
            facts["icmp-socket"] = s.socketKind.rawValue
            facts["loss"] = "\(s.lostPercent)%"
        case .unavailable(let message):
            facts["icmp"] = "unavailable: \(message)"
        case .notProbed:
            break
        }
        if let offline { facts["offline"] = offline }
        return facts
    }
}

// MARK: mtu

/// What the mtu probe saw of one node: the search's report (the sizes that answered, the
/// answering router, and whether the timeout cut the search short: `report.cutShort`,
/// `report.smallestFailing`) and the size it should have.
public struct MTUFacts: Sendable, Hashable {
    public var address: IPAddress
    public var expected: Int
    public var report: PathMTUReport
    public var offline: String?

    public init(address: IPAddress, expected: Int, report: PathMTUReport, offline: String? = nil) {
        self.address = address
        self.expected = expected
        self.report = report
        self.offline = offline
    }

    var strings: [String: String] {
        var facts = ["address": address.description, "expected": "\(expected)", "route-mtu": "\(report.routeMTU)",
                     "probes": "\(report.probesSent)", "icmp-socket": report.socketKind.rawValue]
        if let mtu = report.largestAnswered { facts["mtu"] = "\(mtu)" }
        if let reported = report.reportedMTU { facts["reported-mtu"] = "\(reported)" }
        if let by = report.reportedBy { facts["reported-by"] = by }
        if let silent = report.smallestSilent { facts["silent-from"] = "\(silent)" }
        if report.cutShort {
            facts["search"] = "cut short by the timeout" + (report.smallestFailing.map { " (\($0) bytes fail)" } ?? "")
        }
        if let offline { facts["offline"] = offline }
        return facts
    }
}

extension PathMTUReport {
    /// The sizes the path MTU may still be when the timeout cut the search short: the largest
    /// size that answered up to one below the smallest that failed (or `expected`). Nil when the
    /// search ended on the exact size, or nothing answered.
    public func undecided(expected: Int) -> ClosedRange<Int>? {
        guard cutShort, let mtu = largestAnswered, smallestFailing != mtu + 1 else { return nil }
        return mtu...max(mtu, (smallestFailing ?? expected + 1) - 1)
    }
}

// MARK: vip

/// What the vip probe saw in one round.
public struct VIPFacts: Sendable, Hashable {
    public enum ARP: Sendable, Hashable {
        /// The MACs that answered ARP for the VIP (none: nobody holds it), on `interface`.
        case answered(macs: [String], interface: String)
        /// ARP could not be asked; the reason.
        case unavailable(String)
    }

    public var tcp: PortOutcome
    /// The TLS handshake's failure in words; nil when it completed.
    public var tlsError: String?
    public var arp: ARP
    /// The holders by node name (a MAC no control plane owns stays a MAC), in the ARP order.
    public var holders: [String]
    /// The failover this round completed, if any.
    public var failover: VIPEvent?
    /// Whether the VIP has no holder or is moving, in words (`moving`; the alert policy's
    /// condition for muting what follows from a failover); nil while one node holds it steadily.
    public var moving: String?

    public init(tcp: PortOutcome, tlsError: String?, arp: ARP, holders: [String], failover: VIPEvent? = nil, moving: String? = nil) {
        self.moving = moving
        self.tcp = tcp
        self.tlsError = tlsError
        self.arp = arp
        self.holders = holders
        self.failover = failover
    }

    /// VIP:port usable: TCP connected and the TLS handshake done.
    public var up: Bool { tcp.connected && tlsError == nil }

    var strings: [String: String] {
        var facts = ["tcp": "\(tcp.outcome.rawValue) \(tcp.latency.readable)", "tls": tlsError.map { "failed: \($0)" } ?? "ok",
                     "holders": holders.joined(separator: ", ")]
        if case .answered(let macs, let interface) = arp {
            facts["holder-macs"] = macs.joined(separator: ", ")
            facts["interface"] = interface
        }
        if holders.count == 1 { facts["holder"] = holders[0] }
        if let failover {
            facts["failover"] = "\(failover.oldHolder ?? "?") -> \(failover.newHolder ?? "?") after "
                + String(format: "%.3fs", failover.durationSeconds ?? 0)
        }
        if let moving { facts["moving"] = moving }
        return facts
    }
}

// MARK: DNS

/// A DNS exchange's outcome: the reply (any rcode) or why there was none.
public enum DNSOutcome: Sendable, Hashable {
    case answered(rcode: DNSResponseCode, answers: [String], latency: Duration)
    case failed(ResolverError.Kind, message: String)

    public var rcode: DNSResponseCode? { if case .answered(let rcode, _, _) = self { rcode } else { nil } }
}

/// What the dns-server probe saw of one server.
public struct DNSServerFacts: Sendable, Hashable {
    public var server: DNSServer
    public var question: DNSQuestion
    public var outcome: DNSOutcome

    public init(server: DNSServer, question: DNSQuestion, outcome: DNSOutcome) {
        self.server = server
        self.question = question
        self.outcome = outcome
    }

    var strings: [String: String] {
        var facts = ["server": server.description, "question": "\(question.name) \(question.type.rawValue)"]
        if case .answered(let rcode, let answers, _) = outcome {
            facts["rcode"] = rcode.description
            facts["answers"] = answers.joined(separator: ", ")
        }
        return facts
    }
}

/// What the dns-records probe saw of one desired name.
public struct DNSRecordFacts: Sendable, Hashable {
    public var desired: [String]
    /// The address of the server asked.
    public var server: DNSServer
    /// The reply's response code; nil when no reply came.
    public var rcode: DNSResponseCode?
    public var cnameChain: [String]
    /// The values found, normalised; nil when the reply was not read that far.
    public var found: Set<String>?
    /// The failure seen while the server restarts on netagent's request (`resolverRestarting`).
    public var seen: String?
    /// Who holds the record, for people (`Pi-hole`), when the caller knows.
    public var answeredBy: String?

    public init(desired: [String], server: DNSServer, rcode: DNSResponseCode? = nil, cnameChain: [String] = [],
                found: Set<String>? = nil, seen: String? = nil, answeredBy: String? = nil) {
        self.desired = desired
        self.server = server
        self.rcode = rcode
        self.cnameChain = cnameChain
        self.found = found
        self.seen = seen
        self.answeredBy = answeredBy
    }

    var strings: [String: String] {
        var facts = ["desired": desired.joined(separator: ", "), "server": server.description]
        if let rcode { facts["rcode"] = rcode.description }
        if !cnameChain.isEmpty { facts["cname-chain"] = cnameChain.joined(separator: " -> ") }
        if let found { facts["found"] = found.sorted().joined(separator: ", ") }
        if let seen { facts["seen"] = seen }
        if let answeredBy { facts["answered-by"] = answeredBy }
        return facts
    }
}

// MARK: tunnel

/// cloudflared's `/ready` answer.
public struct TunnelReadyFacts: Sendable, Hashable {
    public var httpStatus: Int
    /// `readyConnections` from the body; nil when absent.
    public var readyConnections: Int?
    public var minConnections: Int

    var strings: [String: String] {
        ["http-status": "\(httpStatus)", "ready-connections": readyConnections.map(String.init) ?? "absent",
         "min-connections": "\(minConnections)"]
    }
}

/// A public name's CNAME as the name server answers it.
public struct TunnelCNAMEFacts: Sendable, Hashable {
    public var rcode: DNSResponseCode
    public var found: Set<String>
    public var expected: String

    var strings: [String: String] {
        ["rcode": rcode.description, "cname": found.sorted().joined(separator: ", "), "expected": expected]
    }
}
