import NetIO

/// nodes: TCP connect to each node's ports (the control-plane ports on control planes) and
/// ICMP echo. A node the configuration marks offline is reported as known-offline.
public struct NodesProbe: Probe {
    public let kind = ProbeKind.nodes
    public var nodes: [NodeTarget]
    public var tcpPorts: [Int]
    public var controlPlanePorts: [Int]
    public var icmp: Bool
    /// Echo requests per node per run (`probes.nodes.echoCount`).
    public var echoCount: Int
    /// Time between two echo requests (`probes.nodes.echoSpacing`).
    public var echoSpacing: Duration
    /// When the link counts as slow or lossy (`probes.nodes.maxLatency`, `probes.nodes.maxLoss`).
    public var thresholds: LinkThresholds

    /// The defaults (`probes.nodes` documents them): 40 echoes 20 ms apart fit in half of the
    /// default 2 s timeout, and 40 tell 10 % loss from 40 % with a 20 % threshold.
    public static let defaultEchoCount = 40
    public static let defaultEchoSpacing = Duration.milliseconds(20)

    public init(nodes: [NodeTarget], tcpPorts: [Int] = [50000, 10250], controlPlanePorts: [Int] = [6443],
                icmp: Bool = true, echoCount: Int = Self.defaultEchoCount, echoSpacing: Duration = Self.defaultEchoSpacing,
                thresholds: LinkThresholds = LinkThresholds()) {
        self.nodes = nodes
        self.tcpPorts = tcpPorts
        self.controlPlanePorts = controlPlanePorts
        self.icmp = icmp
        self.echoCount = echoCount
        self.echoSpacing = echoSpacing
        self.thresholds = thresholds
    }

    public func run(timeout: Duration) async -> [ProbeResult] {
        await eachInParallel(nodes) { node in await check(node, timeout: timeout) }
    }

    private enum Check: Sendable {
        case tcp(Int, TCPConnectResult)
        case ping(NodeFacts.Echo)
    }

    func check(_ node: NodeTarget, timeout: Duration) async -> ProbeResult {
        let start = ContinuousClock.now
        let ports = tcpPorts + (node.role == .controlplane ? controlPlanePorts : [])
        let checks = await withTaskGroup(of: Check.self) { group in
            for port in ports {
                group.addTask { .tcp(port, await TCPProbe.connect(to: node.address, port: port, timeout: timeout)) }
            }
            if icmp {
                group.addTask { [echoCount, echoSpacing] in
                    do throws(ICMPUnavailableError) {
                        let ping = try await ICMPProbe.ping(node.address, count: echoCount, spacing: echoSpacing, timeout: timeout)
                        return .ping(.measured(ping))
                    } catch {
                        return .ping(.unavailable(error.message))
                    }
                }
            }
            var all: [Check] = []
            for await check in group { all.append(check) }
            return all
        }
        var outcomes = checks.compactMap { if case .tcp(let port, let result) = $0 { PortOutcome(port: port, result) } else { nil } }
        let echo = checks.compactMap { if case .ping(let echo) = $0 { echo } else { nil } }.first ?? .notProbed
        // One SYN (or SYN-ACK) lost is not a filtered port: on a link that loses echoes, a
        // timed-out port is tried once more before it counts.
        if case .measured(let stats) = echo, stats.received < stats.sent, stats.received > 0 {
            outcomes = await retryTimeouts(outcomes, address: node.address, timeout: timeout)
        }
        var facts = NodeFacts(address: node.address, role: node.role, ports: outcomes, echo: echo, thresholds: thresholds)
        let verdict = Self.verdict(node: node, facts: facts)
        let elapsed = ContinuousClock.now - start
        if let offline = node.offline {
            let answers = verdict.fault == nil ? "it answers all the same" : "as expected: \(verdict.reason)"
            facts.offline = offline
            return ProbeResult(kind: kind, target: node.name, status: .knownOffline, phase: verdict.phase,
                               reason: "known offline (\(offline)); \(answers)", latency: elapsed, observed: .node(facts))
        }
        guard let fault = verdict.fault else {
            return ProbeResult(kind: kind, target: node.name, status: .ok, reason: verdict.reason, latency: elapsed,
                               observed: .node(facts))
        }
        return .failure(kind, node.name, fault, phase: verdict.phase ?? "connect", verdict.reason, latency: elapsed,
                        observed: .node(facts))
    }

    /// The ports that timed out, connected again once (in parallel); the others as they were.
    private func retryTimeouts(_ outcomes: [PortOutcome], address: IPAddress, timeout: Duration) async -> [PortOutcome] {
        let timedOut = outcomes.filter { $0.outcome == .timeout }.map(\.port)
        guard !timedOut.isEmpty else { return outcomes }
        let again = await withTaskGroup(of: PortOutcome.self) { group in
            for port in timedOut {
                group.addTask { PortOutcome(port: port, await TCPProbe.connect(to: address, port: port, timeout: timeout), attempts: 2) }
            }
            var all: [Int: PortOutcome] = [:]
            for await outcome in group { all[outcome.port] = outcome }
            return all
        }
        return outcomes.map { again[$0.port] ?? $0 }
    }

    /// The node's verdict from its facts, in causal order: the node gone, then the link (latency,
    /// loss) that the ports' timeouts may follow from, then the ports, then ICMP itself.
    static func verdict(node: NodeTarget, facts: NodeFacts) -> (fault: ProbeFault?, phase: String?, reason: String) {
        let failed = facts.failedPorts
        let tcp = facts.ports
        if !tcp.isEmpty && failed.count == tcp.count && !facts.echoed {
            let outcomes = Set(failed.map(\.outcome))
            let fault: ProbeFault = outcomes.contains(.unreachable) ? .unreachable : outcomes == [.refused] ? .refused : .timeout
            let detail = failed.map { "\($0.port) \($0.outcome.rawValue)" }.joined(separator: ", ")
            let echo = facts.echo == .notProbed ? "" : ", no echo reply"
            return (fault, "connect", "node \(node.address) does not answer: \(detail)\(echo)")
        }
        if let median = facts.highLatency, let stats = facts.statistics {
            return (.highLatency, "icmp", "median echo round trip \(median.readable) is above probes.nodes.maxLatency "
                + "\(facts.thresholds.maxLatency.readable) (\(stats.received)/\(stats.sent) replies)")
        }
        if let stats = facts.lossy {
            return (.packetLoss, "icmp", "\(stats.sent - stats.received) of \(stats.sent) echo requests lost (\(stats.lostPercent) %), "
                + "above probes.nodes.maxLoss \(Int((facts.thresholds.maxLoss * 100).rounded())) %")
        }
        if let first = failed.first {
            let fault: ProbeFault = switch first.outcome {
            case .refused: .refused
            case .unreachable: .unreachable
            default: .timeout
            }
            let names = failed.map { "\($0.port) \($0.outcome.rawValue)" }.joined(separator: ", ")
            return (fault, "connect", "port \(first.port) on \(node.address): \(first.message) (\(names))")
        }
        switch facts.echo {
        case .unavailable(let message):
            return (.icmpUnavailable, "icmp", message)
        case .measured(let stats) where stats.received == 0:
            let why = stats.lastError.map { ": \($0)" } ?? ""
            return (.packetLoss, "icmp", "all \(stats.sent) echo requests lost while TCP works\(why)")
        case .measured(let stats) where stats.received < stats.sent:
            return (nil, nil, "all \(tcp.count) ports connect; \(stats.sent - stats.received) of \(stats.sent) echoes lost, "
                + "within probes.nodes.maxLoss")
        case .measured:
            return (nil, nil, "all \(tcp.count) ports connect, every echo answered")
        case .notProbed:
            return (nil, nil, "all \(tcp.count) ports connect")
        }
    }
}
