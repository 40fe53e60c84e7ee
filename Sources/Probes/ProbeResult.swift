public import Foundation

/// The probe kinds, one file each (the table of kinds is `ProbeKind.table`).
public enum ProbeKind: String, CaseIterable, Codable, Sendable, Hashable {
    case dnsServer = "dns-server"
    case dnsRecords = "dns-records"
    case nodes
    case mtu
    case vip
    case tunnel
}

/// A fault a probe found, by name: what a person reads in an alert and what tests assert.
public enum ProbeFault: String, Codable, Sendable, Hashable, CaseIterable {
    /// No answer before the target's deadline.
    case timeout
    /// TCP RST: the host is up, nothing listens on the port.
    case refused
    /// No route or no host (ICMP unreachable, ARP unanswered, a closed DNS port).
    case unreachable
    /// More echo requests than `probes.nodes.maxLoss` went unanswered while some came back.
    case packetLoss = "packet-loss"
    /// The median echo round trip is above `probes.nodes.maxLatency`.
    case highLatency = "high-latency"
    /// Neither ICMP socket could be opened (the sysctl range or CAP_NET_RAW is missing).
    case icmpUnavailable = "icmp-unavailable"
    /// A DNS server answered REFUSED.
    case dnsRefused = "dns-refused"
    /// A DNS server answered SERVFAIL.
    case servfail
    /// Another DNS response code, or an unreadable reply.
    case dnsError = "dns-error"
    /// The name does not exist (NXDOMAIN).
    case nxdomain
    /// The name exists but has no record of the desired type.
    case missing
    /// The record holds none of the desired targets.
    case wrongTarget = "wrong-target"
    /// The record holds some desired targets and leftovers, or lacks some: a stale record set.
    case stale
    /// The server is restarting its resolver on netagent's own request (a Pi-hole after the
    /// run's CNAME changes): no answer, or the old one, for a few seconds. Not drift.
    case resolverRestarting = "resolver-restarting"
    /// A "fragmentation needed" reported a path MTU below the expected one.
    case mtuSmaller = "mtu-smaller"
    /// Packets above a size vanish with no "too big" message.
    case mtuBlackHole = "mtu-black-hole"
    /// The VIP's port does not accept TCP connections.
    case vipDown = "vip-down"
    /// TCP worked but the TLS handshake failed.
    case tlsFailed = "tls-failed"
    /// Nobody answers ARP for the VIP.
    case noHolder = "no-holder"
    /// More than one MAC answers ARP for the VIP.
    case splitBrain = "split-brain"
    /// ARP could not be asked (no arping, no route).
    case arpUnavailable = "arp-unavailable"
    /// cloudflared's /ready reports fewer connections than required, or is not ready.
    case tunnelNotReady = "tunnel-not-ready"
    /// The Cloudflare API reports the tunnel degraded, down or inactive.
    case tunnelUnhealthy = "tunnel-unhealthy"
    /// A public name does not CNAME to the tunnel.
    case cnameMismatch = "cname-mismatch"
}

/// One probe's verdict on one target: what failed, in which phase, why in words, and what it
/// observed, typed (`observed`) with its string view (`facts`) made from it once. Never a bare Bool.
/// Encodes (for `probe --output json`) as before: the string view, not the typed facts; a
/// decoded result (another process's output) has the string view only (`observed` is `.none`).
public struct ProbeResult: Codable, Sendable, Hashable {
    /// ok: healthy. failed: a fault. knownOffline: the configuration says the target is down
    /// (it is still probed, but never counts as a failure).
    public enum Status: String, Codable, Sendable, Hashable { case ok, failed, knownOffline = "known-offline" }

    public var kind: ProbeKind
    public var target: String
    public var status: Status
    /// The named fault when `status` is failed.
    public var fault: ProbeFault?
    /// Where it failed: connect, tls, icmp, arp, dns, pmtu, ready, api, cname.
    public var phase: String?
    /// The verdict in words.
    public var reason: String
    /// Milliseconds the target took (the whole check, or its main round trip).
    public var latencyMs: Double?
    /// What the probe observed, typed: what causes, alerts and the status page read.
    public var observed: ProbeFacts { didSet { facts = observed.strings } }
    /// The string view of `observed` (`mtu`, `holder`, `tcp/6443`, `icmp`, `rcode`, `answers`, …),
    /// for JSON and mails; nobody parses it back.
    public private(set) var facts: [String: String]
    public var at: Date

    public var ok: Bool { status != .failed }

    enum CodingKeys: String, CodingKey { case kind, target, status, fault, phase, reason, latencyMs, facts, at }

    public init(kind: ProbeKind, target: String, status: Status, fault: ProbeFault? = nil, phase: String? = nil,
                reason: String, latency: Duration? = nil, observed: ProbeFacts = .none, at: Date = Date()) {
        self.kind = kind
        self.target = target
        self.status = status
        self.fault = fault
        self.phase = phase
        self.reason = reason
        latencyMs = latency.map(Self.milliseconds)
        self.observed = observed
        facts = observed.strings
        self.at = at
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        kind = try values.decode(ProbeKind.self, forKey: .kind)
        target = try values.decode(String.self, forKey: .target)
        status = try values.decode(Status.self, forKey: .status)
        fault = try values.decodeIfPresent(ProbeFault.self, forKey: .fault)
        phase = try values.decodeIfPresent(String.self, forKey: .phase)
        reason = try values.decode(String.self, forKey: .reason)
        latencyMs = try values.decodeIfPresent(Double.self, forKey: .latencyMs)
        observed = .none
        facts = try values.decode([String: String].self, forKey: .facts)
        at = try values.decode(Date.self, forKey: .at)
    }

    /// A failed result with its named fault.
    public static func failure(_ kind: ProbeKind, _ target: String, _ fault: ProbeFault, phase: String, _ reason: String,
                               latency: Duration? = nil, observed: ProbeFacts = .none) -> ProbeResult {
        ProbeResult(kind: kind, target: target, status: .failed, fault: fault, phase: phase, reason: reason,
                    latency: latency, observed: observed)
    }

    /// A duration in milliseconds, to the microsecond.
    public static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, atto) = duration.components
        return ((Double(seconds) * 1000 + Double(atto) / 1e15) * 1000).rounded() / 1000
    }
}

extension Duration {
    /// "12.3ms" for people.
    public var readable: String {
        let ms = ProbeResult.milliseconds(self)
        return ms >= 1000 ? String(format: "%.2fs", ms / 1000) : String(format: "%.1fms", ms)
    }
}
