public import Config
public import DNSCore
import Foundation
public import Probes

/// One line a person can act on, built from what a probe or a plan actually observed: what
/// failed, the evidence beside it, and the likeliest cause as a question where the evidence
/// cannot prove it. Used by `netagent check`; the status page and alert mails can use it too.
/// Every cause is described in docs/troubleshooting.md.
public enum CheckCauses {
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

    static func node(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let ports = r.facts.keys.compactMap { $0.hasPrefix("tcp/") ? Int($0.dropFirst(4)) : nil }.sorted()
        let outcome = { (port: Int) in String(r.facts["tcp/\(port)"]?.split(separator: " ").first ?? "unknown") }
        let failed = ports.filter { outcome($0) != "connected" }
        let icmp = r.facts["icmp"]
        let echoed = icmp.map { Self.repliesReceived($0) > 0 } ?? false
        let icmpWords = switch icmp {
        case nil: "ICMP not probed"
        case let text? where text.hasPrefix("unavailable"): "ICMP not available here"
        default: echoed ? "ICMP ok" : "no ICMP echo"
        }
        let name = r.target
        switch fault {
        case .packetLoss:
            return "\(name): \(icmp ?? "echo replies lost") (TCP ok) — a lossy link, a duplex mismatch or a busy host?"
        case .icmpUnavailable:
            return "\(name): TCP ok, ICMP cannot be sent from here (\(r.reason)) — run as root or open net.ipv4.ping_group_range"
        default:
            break
        }
        let grouped = Dictionary(grouping: failed, by: outcome).sorted { $0.key < $1.key }
            .map { "TCP \($0.value.map(String.init).joined(separator: ", ")) \(Self.word($0.key))" }.joined(separator: "; ")
        if !failed.isEmpty, failed.count == ports.count, failed.allSatisfy({ outcome($0) == "refused" }) {
            // Resets from every port: the host is up, whatever ICMP says, and no service runs.
            let names = failed.map { services[$0] ?? "port \($0)" }.joined(separator: ", ")
            return "\(name): \(grouped), \(icmpWords) — the host is up but nothing listens (\(names)): "
                + "Talos services not running (booting, maintenance mode, or stopped?)"
        }
        if failed.count == ports.count && !echoed {
            let why = failed.contains { outcome($0) == "unreachable" }
                ? "host unreachable (no ARP reply): node down, unplugged or on another address?"
                : "node down, or a firewall drops everything?"
            return "\(name): \(grouped), \(icmpWords) — \(why)"
        }
        let culprit = failed.map { port -> String in
            let service = services[port] ?? "the service on \(port)"
            return outcome(port) == "refused" ? "\(service) down?" : "\(service) hung or port \(port) filtered?"
        }.joined(separator: " ")
        return "\(name): \(grouped), \(icmpWords) — \(culprit)"
    }

    static func word(_ outcome: String) -> String {
        switch outcome {
        case "timeout": "timed out"
        case "unreachable": "unreachable"
        case "refused": "refused"
        default: outcome
        }
    }

    /// "2/3 replies, …" → 2.
    static func repliesReceived(_ icmp: String) -> Int {
        Int(icmp.split(separator: "/").first ?? "") ?? 0
    }

    // MARK: mtu

    static func mtu(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let expected = r.facts["expected"] ?? "?"
        let found = r.facts["mtu"] ?? "?"
        switch fault {
        case .mtuSmaller:
            let by: String = r.facts["reported-by"].map { (router: String) -> String in "router \(router) says \"fragmentation needed\"" }
                ?? "a router says \"fragmentation needed\""
            return "path MTU to \(r.target) is \(found), expected \(expected): \(by) — a link behind it has a smaller MTU (tunnel, VLAN, PPPoE?); raise it or set cluster.mtu to \(found)"
        case .mtuBlackHole:
            let from: String = r.facts["silent-from"].map { (size: String) -> String in "packets of \(size) bytes and more vanish" }
                ?? "larger packets vanish"
            return "path MTU to \(r.target) is \(found), expected \(expected): black hole — \(from) with no \"too big\" reply; "
                + "a switch port or link on the way has a smaller MTU and drops silently (which hop, the probe cannot see)"
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
        let vip = r.target.split(separator: ":").first.map(String.init) ?? r.target
        let holders = (r.facts["holders"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let tcp = String(r.facts["tcp"]?.split(separator: " ").first ?? "")
        switch fault {
        case .splitBrain:
            return "VIP \(vip) held by \(Self.count(holders.count)) nodes: \(holders.joined(separator: ", ")) (split brain) — "
                + "the control planes cannot see each other (etcd/network partition?); traffic goes to whichever ARP answer won"
        case .vipDown:
            if let holder = holders.first {
                return "VIP \(r.target) \(Self.word(tcp)), held by \(holder) — the API server on \(holder) down?"
            }
            return "VIP \(r.target) \(Self.word(tcp)) and nobody answers ARP for \(vip) — no control plane holds the VIP (VIP election, etcd quorum?)"
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

    static func dnsServer(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let question = r.facts["question"] ?? "the test name"
        switch fault {
        case .timeout: return "\(r.target): no reply — DNS server down, or a firewall drops port 53?"
        case .unreachable: return "\(r.target): port closed — the DNS service is not running (dnsmasq/FTL crashed?)"
        case .dnsRefused: return "\(r.target): REFUSED for \(question) — it does not serve this client (listening mode, ACL)?"
        case .servfail: return "\(r.target): SERVFAIL for \(question) — its upstream resolvers fail (upstream down, DNSSEC?)"
        case .nxdomain: return "\(r.target): NXDOMAIN for \(question) — a wrong probes.dns.question, or a block list/local zone hides it?"
        case .missing: return "\(r.target): no A record for \(question) — blocked or filtered answer?"
        default: return "\(r.target): \(r.reason)"
        }
    }

    static func dnsRecord(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        let name = r.target.split(separator: " ").first.map(String.init) ?? r.target
        let server = r.facts["answered-by"] ?? r.target.split(separator: "@").last.map(String.init) ?? "the server"
        let desired = r.facts["desired"] ?? "?"
        switch fault {
        case .wrongTarget, .stale:
            return "\(name): \(server) answers \(r.facts["found"] ?? "?"), plan says \(desired)"
        case .missing:
            return "\(name): \(server) has no such record, plan says \(desired) — not reconciled yet, or another instance holds it?"
        case .nxdomain:
            return "\(name): \(server) answers NXDOMAIN, plan says \(desired) — not reconciled yet?"
        case .timeout, .unreachable:
            return "\(name): \(server) did not answer (\(fault.rawValue)) — its DNS service down?"
        case .resolverRestarting:
            return "\(name): \(server) is restarting its resolver after netagent's own changes — not drift, asked again next round"
        default:
            return "\(name): \(server): \(r.reason)"
        }
    }

    // MARK: tunnel

    static func tunnel(_ r: ProbeResult, _ fault: ProbeFault) -> String {
        if fault == .timeout || fault == .unreachable, r.phase == "api" {
            // The tunnel's status as Cloudflare's API reports it: cloudflared is not involved.
            let why = Self.curlCode(r.reason) == nil ? r.reason : Self.curlError(r.reason)
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

    // MARK: plans

    /// Who holds a provider's records, for people.
    public static func holder(_ config: ProviderConfig) -> String {
        switch config.kind {
        case .pihole: "Pi-hole"
        case .cloudflare: "Cloudflare"
        }
    }

    /// One planned change in words: `+ a.example.com A 198.18.0.5`, or for an update
    /// `app.example.com: Pi-hole has 198.18.0.9, plan says 198.18.0.10`.
    public static func change(_ update: Plan.Update, holder: String) -> String {
        "\(update.new.name) \(update.new.type.rawValue): \(holder) has \(update.old.targets.joined(separator: ", ")), plan says \(update.new.targets.joined(separator: ", "))"
    }

    /// The cause for a plan: in sync, or the changes pending with the first `shown` named.
    public static func plan(_ plan: Plan, holder: String, desired: Int, shown: Int = 3) -> (ok: Bool, reason: String) {
        let c = plan.changes
        var notes: [String] = []
        if let reason = plan.guardReason {
            notes.append("the delete guard would withhold \(plan.withheldDeletes.count) deletes (\(reason))")
        }
        if !plan.conflicts.isEmpty { notes.append("\(plan.conflicts.count) name(s) claimed twice: \(plan.conflicts[0])") }
        if c.isEmpty {
            let base = "in sync (\(desired) desired record\(desired == 1 ? "" : "s"))"
            // A lost claim is a route whose record is not written: not all is well.
            return (notes.isEmpty, ([base] + notes).joined(separator: "; "))
        }
        let named = c.updates.map { change($0, holder: holder) }
            + c.creates.map { "missing \($0.name) \($0.type.rawValue) \($0.targets.joined(separator: ","))" }
            + c.deletes.map { "left over \($0.name) \($0.type.rawValue) \($0.targets.joined(separator: ","))" }
        let more = named.count > shown ? "; … \(named.count - shown) more" : ""
        let summary = "\(c.count) change\(c.count == 1 ? "" : "s") pending: " + named.prefix(shown).joined(separator: "; ") + more
        return (false, ([summary] + notes).joined(separator: "; ") + " — the next reconcile (`netagent run`) makes them")
    }

    /// Why a target could not be planned, with where to look: the transport failure in a few
    /// words when the API could not be reached at all (the whole message stays in the `error`
    /// fact), else the provider's own message, which carries its advice when it has one.
    public static func planFailure(_ failure: PlanFailure, holder: String, url: String) -> String {
        let message = failure.message
        let setting = holder == "Cloudflare" ? "apiURL" : "url"
        let transport: String? = switch Self.curlCode(message) {
        case 7: "connection refused — nothing listens there: \(holder) down, or a wrong \(setting)?"
        case 28: "no answer in time — the host down, or a firewall drops the port?"
        case 6: "the host name does not resolve — a typo in \(setting), or this machine's DNS?"
        case 35, 51, 58, 60: "TLS failed (\(Self.curlError(message))) — a certificate this machine does not trust, or http/https mixed up?"
        default: nil
        }
        if let transport { return "cannot read \(holder) at \(url): \(transport)" }
        // The providers' errors end in their own advice (`— check the password …`) when they know it.
        if message.contains(" — ") { return "cannot read \(holder) at \(url): \(message)" }
        return "cannot read \(holder) at \(url): \(message) — the password/token refused, or the API answered something unexpected?"
    }

    /// The curl code NetIO appends to a transport error (`… (curl code 7)`), if any.
    static func curlCode(_ message: String) -> Int? {
        guard let range = message.range(of: "(curl code ", options: .backwards) else { return nil }
        return Int(message[range.upperBound...].prefix { $0.isNumber })
    }

    /// curl's own words for a transport error (`… URL: WORDS (curl code N)`): the text after the
    /// last URL's `: ` (or after the last `: ` when no URL is named).
    static func curlError(_ message: String) -> String {
        let head = message.range(of: " (curl code ", options: .backwards).map { String(message[..<$0.lowerBound]) } ?? message
        if let scheme = head.range(of: "://", options: .backwards),
           let end = head.range(of: ": ", range: scheme.upperBound..<head.endIndex) {
            return String(head[end.upperBound...])
        }
        return head.components(separatedBy: ": ").last ?? head
    }
}
