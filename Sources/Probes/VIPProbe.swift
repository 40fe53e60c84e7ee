import Foundation
public import NetIO
import Synchronization

/// vip: a fast probe of VIP:port (TCP connect and TLS handshake) and of who holds the VIP:
/// the MACs answering ARP for it, mapped to node names through the control-plane nodes'
/// own MACs. Keeps a `VIPTimeline` across runs: failovers with old and new holder and the
/// outage, and split brains (two MACs at once).
public final class VIPProbe: Probe {
    public let kind = ProbeKind.vip
    public let vip: IPAddress
    public let port: Int
    public let nodes: [NodeTarget]
    /// The interface to send ARP on; default the route's device.
    public let interface: String?
    public let http: HTTPClient
    private let state = Mutex(State())

    private struct State {
        var timeline = VIPTimeline()
        /// MAC → node name, learned by ARP for each node's own address; kept when a node goes away.
        var macs: [String: String] = [:]
    }

    public init(vip: IPAddress, port: Int = 6443, nodes: [NodeTarget], interface: String? = nil, http: HTTPClient = HTTPClient()) {
        self.vip = vip
        self.port = port
        self.nodes = nodes.filter { $0.role == .controlplane }
        self.interface = interface
        self.http = http
    }

    /// The timeline so far (failovers, outages, split brains).
    public var timeline: VIPTimeline { state.withLock { $0.timeline } }

    public func run(timeout: Duration) async -> [ProbeResult] { [await check(timeout: timeout)] }

    private func arpVIP(timeout: Duration) async -> Result<ARPReplies, ARPError> {
        do {
            // Two requests, so that a second holder's reply is not missed.
            return .success(try await ARPProbe.replies(for: vip, interface: interface, count: 2, timeout: timeout))
        } catch {
            return .failure(error)
        }
    }

    func check(timeout: Duration) async -> ProbeResult {
        let start = ContinuousClock.now
        async let tcp = TCPProbe.connect(to: vip, port: port, timeout: timeout)
        async let tls = handshake(timeout: timeout)
        async let arpAsk = arpVIP(timeout: timeout)
        async let learned = learnMACs(timeout: timeout)
        let (tcpResult, tlsError, arpResult, nodeMACs) = await (tcp, tls, arpAsk, learned)
        let names = state.withLock { state in
            state.macs.merge(nodeMACs) { _, new in new }
            return state.macs
        }
        let target = "\(vip):\(port)"
        var holders: [String] = []
        var arpProblem: String?
        let arp: VIPFacts.ARP
        switch arpResult {
        case .success(let replies):
            holders = replies.macs.map { names[$0] ?? $0 }
            arp = .answered(macs: replies.macs, interface: replies.interface)
        case .failure(let error):
            arpProblem = error.message
            arp = .unavailable(error.message)
        }
        var facts = VIPFacts(tcp: PortOutcome(port: port, tcpResult), tlsError: tlsError, arp: arp, holders: holders)
        let now = Date()
        let events = state.withLock { $0.timeline.observe(up: facts.up, holders: holders, at: now) }
        facts.failover = events.last { (event: VIPEvent) in event.kind == .failover }
        facts.moving = await movement(holders: holders, arpAnswered: arpProblem == nil, failover: facts.failover,
                                      failed: !facts.up, names: names, timeout: timeout)
        let observed = ProbeFacts.vip(facts)
        let elapsed = ContinuousClock.now - start
        if holders.count > 1 {
            return .failure(kind, target, .splitBrain, phase: "arp",
                            "split brain: \(holders.count) MACs answer ARP for \(vip): \(holders.joined(separator: ", "))",
                            latency: elapsed, observed: observed)
        }
        if tcpResult.outcome != .connected {
            return .failure(kind, target, .vipDown, phase: "connect",
                            "\(vip):\(port) \(tcpResult.message)" + (holders.first.map { " (ARP: held by \($0))" } ?? ""),
                            latency: elapsed, observed: observed)
        }
        if let tlsError {
            return .failure(kind, target, .tlsFailed, phase: "tls", "TLS handshake with \(vip):\(port) failed: \(tlsError)",
                            latency: elapsed, observed: observed)
        }
        if let arpProblem {
            return .failure(kind, target, .arpUnavailable, phase: "arp", arpProblem, latency: elapsed, observed: observed)
        }
        guard let holder = holders.first else {
            return .failure(kind, target, .noHolder, phase: "arp", "nobody answers ARP for \(vip)", latency: elapsed, observed: observed)
        }
        return ProbeResult(kind: kind, target: target, status: .ok, reason: "up, held by \(holder)", latency: elapsed, observed: observed)
    }

    /// Whether the VIP has no holder or is moving, in words (the `moving` fact; the alert
    /// policy's `vip-moving` condition, which mutes the TLS and API-port alerts that follow from
    /// a failover): nobody answers ARP for it, the holder changed since the last round, or a
    /// failed round's second ARP, asked after TCP/TLS gave up, finds another holder than the
    /// first (the VIP left while the handshake ran). Nil when one node holds it steadily.
    private func movement(holders: [String], arpAnswered: Bool, failover: VIPEvent?, failed: Bool,
                          names: [String: String], timeout: Duration) async -> String? {
        guard arpAnswered else { return nil }
        if holders.isEmpty { return "nobody holds \(vip)" }
        if let failover { return "moved from \(failover.oldHolder ?? "?") to \(failover.newHolder ?? "?")" }
        guard failed, holders.count == 1 else { return nil }
        guard let after = try? await ARPProbe.replies(for: vip, interface: interface, count: 1, timeout: min(timeout, .seconds(1))) else {
            return nil
        }
        let now = after.macs.map { names[$0] ?? $0 }
        guard now != holders else { return nil }
        return "moved during the probe: held by \(holders[0]) at the start, " + (now.isEmpty ? "by nobody" : "by \(now.joined(separator: ", "))") + " after"
    }

    /// The one request netagent sends without verifying the certificate: a bare GET of
    /// VIP:port/readyz whose answer is never read, to see that a TLS handshake completes. The
    /// VIP is addressed by IP, which the API server's certificate need not name; it carries no
    /// token, cookie or client certificate, so a server in the VIP's place learns nothing.
    func handshakeRequest(timeout: Duration) -> HTTPRequest {
        HTTPRequest(url: "https://\(vip.isIPv4 ? vip.description : "[\(vip)]"):\(port)/readyz",
                    timeout: timeout, connectTimeout: timeout, tls: TLSOptions(verify: false))
    }

    /// A TLS handshake (and any HTTP answer) from VIP:port, certificate not verified: only the
    /// handshake is checked. Nil when it worked, else the failure in words.
    private func handshake(timeout: Duration) async -> String? {
        let request = handshakeRequest(timeout: timeout)
        do {
            _ = try await http.send(request)
            return nil
        } catch {
            return error.description
        }
    }

    /// ARP for every control-plane node's own address: MAC → node name.
    private func learnMACs(timeout: Duration) async -> [String: String] {
        await withTaskGroup(of: [String: String].self) { group in
            for node in nodes {
                group.addTask { [interface] in
                    let replies = try? await ARPProbe.replies(for: node.address, interface: interface, count: 1, timeout: timeout)
                    return Dictionary((replies?.macs ?? []).map { ($0, node.name) }, uniquingKeysWith: { first, _ in first })
                }
            }
            var all: [String: String] = [:]
            for await part in group { all.merge(part) { first, _ in first } }
            return all
        }
    }
}
