import Foundation
public import NetIO

/// One line a person can act on, built from what a probe observed (its typed `ProbeFacts`):
/// what failed, the evidence beside it, and the likeliest cause as a question where the evidence
/// cannot prove it. Each cause is a small rule; `netagent check`, the status page and the alert
/// mails all show it (`ProbeResult.cause`). Every cause is described in docs/troubleshooting.md.
public enum ProbeCauses {
    /// curl's own words for a transport error, without the URL and code NetIO adds.
    public static func curlWords(_ error: NetIOError) -> String { error.message }

    /// The cause of a probe result, or its own reason when it is ok.
    public static func describe(_ result: ProbeResult) -> String {
        if result.status == .knownOffline { return "\(result.target): \(result.reason)" }
        guard result.status == .failed, let fault = result.fault else { return result.reason }
        switch result.kind {
        case .nodes: return node(result, fault)
        case .mtu: return mtu(result, fault)
        case .vip: return vip(result, fault)
        case .dnsServer: return dnsServer(result, fault)
        case .dnsRecords: return dnsRecord(result, fault)
        case .tunnel: return tunnel(result, fault)
        }
    }

    // MARK: nodes

    /// What listens on the ports netagent probes by default, for naming the likely culprit.
    static let services = [50000: "Talos apid", 10250: "kubelet", 6443: "the API server", 2379: "etcd"]

    /// The node's cause: the first rule that matches, in causal order (the node gone, its
    /// services, the link, its ports, ICMP itself).
    static func node(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        guard let facts = r.observed.node else { return "\(r.target): \(r.reason)" }
        let rules: [(String, NodeFacts) -> String?] = [nodeDown, servicesNotRunning, highLatency, packetLoss, icmpUnavailable, echoBlocked]
        for rule in rules { if let line = rule(r.target, facts) { return line } }
        return portsFailing(r.target, facts) ?? "\(r.target): \(r.reason)"
    }

    /// How the echo part reads beside port outcomes.
    static func icmpWords(_ facts: NodeFacts) -> String {
        switch facts.echo {
        case .notProbed: "ICMP not probed"
        case .unavailable: "ICMP not available here"
        case .measured: facts.echoed ? "ICMP ok" : "no ICMP echo"
        }
    }

    /// `TCP 10250, 50000 timed out; TCP 6443 refused`.
    static func grouped(_ ports: [PortOutcome]) -> String {
        Dictionary(grouping: ports, by: \.outcome.rawValue).sorted { $0.key < $1.key }
            .map { "TCP \($0.value.map { String($0.port) }.joined(separator: ", ")) \(word($0.value[0].outcome))" }
            .joined(separator: "; ")
    }

    /// Rule: every port refused. Resets from every port mean the host is up, whatever ICMP says.
    static func servicesNotRunning(_ name: String, _ facts: NodeFacts) -> String? {
        let failed = facts.failedPorts
        guard !failed.isEmpty, failed.count == facts.ports.count, failed.allSatisfy({ $0.outcome == .refused }) else { return nil }
        let names = failed.map { services[$0.port] ?? "port \($0.port)" }.joined(separator: ", ")
        return "\(name): \(grouped(failed)), \(icmpWords(facts)) — the host is up but nothing listens (\(names)): "
            + "Talos services not running (booting, maintenance mode, or stopped?)"
    }

    /// Rule: no port and no echo answer.
    static func nodeDown(_ name: String, _ facts: NodeFacts) -> String? {
        let failed = facts.failedPorts
        guard !failed.isEmpty, failed.count == facts.ports.count, !facts.echoed,
              !failed.allSatisfy({ $0.outcome == .refused }) else { return nil }
        let why = failed.contains { $0.outcome == .unreachable }
            ? "host unreachable (no ARP reply): node down, unplugged or on another address?"
            : "node down, or a firewall drops everything?"
        return "\(name): \(grouped(failed)), \(icmpWords(facts)) — \(why)"
    }

    /// `~800 ms`: a round number a person compares with a threshold — two significant digits
    /// below 100 ms, the nearest 50 ms below a second, the nearest 100 ms above (a median of
    /// 812 ms on an 800 ms link reads ~800 ms, not ~810 ms).
    static func about(_ duration: Duration) -> String {
        let ms = ProbeResult.milliseconds(duration)
        guard ms >= 10 else { return String(format: "~%.1f ms", ms) }
        let step = ms < 100 ? pow(10, floor(log10(ms)) - 1) : ms < 1000 ? 50 : 100
        return "~\(Int((ms / step).rounded() * step)) ms"
    }

    /// The ports that still failed on a node whose link is bad: they follow from the link.
    static func portsOnBadLink(_ facts: NodeFacts, _ root: String) -> String {
        let failed = facts.failedPorts
        guard !failed.isEmpty else { return "" }
        let retried = failed.contains { $0.attempts > 1 } ? " after a retry" : ""
        return "; \(grouped(failed))\(retried) — follows from the \(root)"
    }

    /// Rule: the median echo round trip above `probes.nodes.maxLatency`.
    static func highLatency(_ name: String, _ facts: NodeFacts) -> String? {
        guard let median = facts.highLatency, let stats = facts.statistics else { return nil }
        let p90 = stats.p90RoundTrip.map { ", p90 \($0.readable)" } ?? ""
        return "high latency: \(about(median)) round trip to \(name) (median of \(stats.received)/\(stats.sent) echo replies\(p90), "
            + "probes.nodes.maxLatency \(facts.thresholds.maxLatency.readable))" + portsOnBadLink(facts, "latency")
            + " — a saturated or shaped link, a bufferbloated router, or a busy host?"
    }

    /// Rule: more echoes lost than `probes.nodes.maxLoss`, some answered.
    static func packetLoss(_ name: String, _ facts: NodeFacts) -> String? {
        guard let stats = facts.lossy else { return nil }
        return "\(stats.lostPercent) % packet loss to \(name) (\(stats.sent - stats.received) of \(stats.sent) echoes lost, "
            + "probes.nodes.maxLoss \(Int((facts.thresholds.maxLoss * 100).rounded())) %)" + portsOnBadLink(facts, "loss")
            + " — a bad cable or port, a duplex mismatch, or an overloaded switch?"
    }

    /// Rule: no ICMP socket here while TCP works.
    static func icmpUnavailable(_ name: String, _ facts: NodeFacts) -> String? {
        guard facts.failedPorts.isEmpty, case .unavailable(let message) = facts.echo else { return nil }
        return "\(name): TCP ok, ICMP cannot be sent from here (\(message)) — run as root or open net.ipv4.ping_group_range"
    }

    /// Rule: every echo lost while every port connects.
    static func echoBlocked(_ name: String, _ facts: NodeFacts) -> String? {
        guard facts.failedPorts.isEmpty, let stats = facts.statistics, stats.sent > 0, stats.received == 0 else { return nil }
        return "\(name): 0/\(stats.sent) echo replies (TCP ok) — ICMP echo blocked by a firewall on the node or the way?"
    }

    /// Rule: some ports fail while the node answers.
    static func portsFailing(_ name: String, _ facts: NodeFacts) -> String? {
        let failed = facts.failedPorts
        guard !failed.isEmpty else { return nil }
        let culprit = failed.map { port -> String in
            let service = services[port.port] ?? "the service on \(port.port)"
            return port.outcome == .refused ? "\(service) down?" : "\(service) hung or port \(port.port) filtered?"
        }.joined(separator: " ")
        return "\(name): \(grouped(failed)), \(icmpWords(facts)) — \(culprit)"
    }

    static func word(_ outcome: TCPConnectResult.Outcome) -> String {
        switch outcome {
        case .timeout: "timed out"
        case .unreachable: "unreachable"
        case .refused: "refused"
        default: outcome.rawValue
        }
    }

    // MARK: mtu

    static func mtu(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        guard let facts = r.observed.mtu else { return "\(r.target): \(r.reason)" }
        let expected = facts.expected
        let largest = facts.report.largestAnswered.map(String.init) ?? "?"
        // Rule: a search the timeout cut short knows a range, never an exact-looking size.
        let undecided = facts.report.undecided(expected: expected)
        let found = undecided.map { "\($0.lowerBound)…\($0.upperBound)" } ?? largest
        let cut = undecided == nil ? "" : " (the search was cut short by the timeout: raise probes.mtu.timeout)"
        switch fault {
        case .mtuSmaller:
            let by = facts.report.reportedBy.map { "router \($0) says \"fragmentation needed\"" } ?? "a router says \"fragmentation needed\""
            return "path MTU to \(r.target) is \(found), expected \(expected): \(by) — a link behind it has a smaller MTU (tunnel, VLAN, PPPoE?); raise it or set cluster.mtu to \(largest)\(cut)"
        case .mtuBlackHole:
            let from = facts.report.smallestSilent.map { "packets of \($0) bytes and more vanish" } ?? "larger packets vanish"
            return "path MTU to \(r.target) is \(found), expected \(expected): black hole — \(from) with no \"too big\" reply; "
                + "a switch port or link on the way has a smaller MTU and drops silently (which hop, the probe cannot see)\(cut)"
        case .unreachable:
            return "\(r.target): no echo reply even to a small packet — node down or ICMP blocked, so the path MTU is unknown"
        case .icmpUnavailable:
            return "\(r.target): path MTU cannot be probed from here (\(r.reason)) — run as root or open net.ipv4.ping_group_range"
        default:
            return "\(r.target): \(r.reason)"
        }
    }

    // MARK: vip

    static func vip(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let vip = r.target.split(separator: ":").dropLast().joined(separator: ":")
        guard let facts = r.observed.vip else { return "VIP \(r.target): \(r.reason)" }
        let holders = facts.holders
        // Rule: a VIP that failed while it moves (`VIPFacts.moving`: the holder changed since the
        // last round, or during this one) is a failover in progress, not a broken API server.
        if fault == .vipDown || fault == .tlsFailed, !holders.isEmpty, let moving = facts.moving {
            let failed = fault == .tlsFailed ? "TLS handshake failed" : Self.word(facts.tcp.outcome)
            return "VIP \(r.target) \(failed) while it moves (\(moving)) — a failover in progress; if it lasts, "
                + "the new holder's API server is not up yet"
        }
        switch fault {
        case .splitBrain:
            return "VIP \(vip) held by \(Self.count(holders.count)) nodes: \(holders.joined(separator: ", ")) (split brain) — "
                + "the control planes cannot see each other (etcd/network partition?); traffic goes to whichever ARP answer won"
        case .vipDown:
            if let holder = holders.first {
                return "VIP \(r.target) \(Self.word(facts.tcp.outcome)), held by \(holder) — the API server on \(holder) down?"
            }
            return "VIP \(r.target) \(Self.word(facts.tcp.outcome)) and nobody answers ARP for \(vip) — no control plane holds the VIP (VIP election, etcd quorum?)"
        case .tlsFailed:
            return "VIP \(r.target): TCP ok, \(r.reason) — something other than the API server answers, or its certificate setup is broken"
        case .noHolder:
            return "VIP \(r.target) answers but nobody answers ARP for \(vip) — ARP from here is filtered, or a stale neighbour entry?"
        case .arpUnavailable:
            return "VIP \(vip): the holder cannot be asked (\(r.reason)) — install iputils-arping and run with CAP_NET_RAW"
        default:
            return "VIP \(r.target): \(r.reason)"
        }
    }

    static func count(_ n: Int) -> String {
        ["no", "one", "two", "three", "four", "five"].indices.contains(n) ? ["no", "one", "two", "three", "four", "five"][n] : "\(n)"
    }

    // MARK: DNS

    /// The advice for a DNS server that refuses this client, by whose server it is.
    static func refuses(_ server: String) -> String {
        server.lowercased().contains("pihole") || server.lowercased().contains("pi-hole")
            ? "Pi-hole refuses queries from this address: its listening mode / ACL (Settings → DNS → Interface settings: permit all origins, or add this network)"
            : "the server refuses queries from this address: its listening mode / ACL (allow-query, access-control)?"
    }

    static func dnsServer(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let question = r.observed.dnsServer.map { "\($0.question.name) \($0.question.type.rawValue)" } ?? "the test name"
        switch fault {
        case .timeout: return "\(r.target): no reply — DNS server down, or a firewall drops port 53?"
        case .unreachable: return "\(r.target): port closed — the DNS service is not running (dnsmasq/FTL crashed?)"
        case .dnsRefused: return "\(r.target): REFUSED for \(question) — \(refuses(r.target))"
        case .servfail: return "\(r.target): SERVFAIL for \(question) — its upstream resolvers fail (upstream down, DNSSEC?)"
        case .nxdomain: return "\(r.target): NXDOMAIN for \(question) — a wrong probes.dns.question, or a block list/local zone hides it?"
        case .missing: return "\(r.target): no A record for \(question) — blocked or filtered answer?"
        default: return "\(r.target): \(r.reason)"
        }
    }

    static func dnsRecord(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let name = r.target.split(separator: " ").first.map(String.init) ?? r.target
        let facts = r.observed.dnsRecord
        let server = facts?.answeredBy ?? r.target.split(separator: "@").last.map(String.init) ?? "the server"
        let desired = facts?.desired.joined(separator: ", ") ?? "?"
        switch fault {
        case .wrongTarget, .stale:
            return "\(name): \(server) answers \(facts?.found?.sorted().joined(separator: ", ") ?? "?"), plan says \(desired)"
        case .missing:
            return "\(name): \(server) has no such record, plan says \(desired) — not reconciled yet, or another instance holds it?"
        case .nxdomain:
            return "\(name): \(server) answers NXDOMAIN, plan says \(desired) — not reconciled yet?"
        case .timeout, .unreachable:
            return "\(name): \(server) did not answer (\(fault.rawValue)) — its DNS service down?"
        case .dnsRefused:
            return "\(name): \(server) refused the question — the server refuses this client, not the record"
        case .resolverRestarting:
            return "\(name): \(server) is restarting its resolver after netagent's own changes — not drift, asked again next round"
        default:
            return "\(name): \(server): \(r.reason)"
        }
    }

    // MARK: tunnel

    static func tunnel(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        if case .tunnelAPIUnreadable(let transport, let message) = r.observed {
            // The tunnel's status as Cloudflare's API reports it: cloudflared is not involved.
            let why = transport.map(curlWords) ?? message
            return "\(r.target): the Cloudflare API cannot be read (\(why)) — Cloudflare's API unreachable from here, "
                + "or the token cannot read tunnels (Account: Cloudflare Tunnel: Read)?"
        }
        switch fault {
        case .tunnelNotReady:
            return "\(r.target): \(r.reason) — cloudflared cannot reach Cloudflare's edge (egress to port 7844, credentials?)"
        case .timeout, .unreachable:
            return "\(r.target): cannot be read — cloudflared not running, or its metrics port not reachable from here?"
        case .tunnelUnhealthy:
            return "\(r.target): \(r.reason) — look at the connectors in the Cloudflare dashboard"
        case .cnameMismatch:
            return "\(r.target): \(r.reason) — the record points elsewhere; netagent or someone else wrote another target"
        default:
            return "\(r.target): \(r.reason)"
        }
    }

}

extension ProbeResult {
    /// The cause a person reads: in `check`, on the status page and in alert mails.
    public var cause: String { ProbeCauses.describe(self) }
}
