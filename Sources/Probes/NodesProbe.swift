import NetIO

/// nodes: TCP connect to each node's ports (the control-plane ports on control planes) and
/// ICMP echo. A node the configuration marks offline is reported as known-offline.
public struct NodesProbe: Probe {
    public let kind = ProbeKind.nodes
    public var nodes: [NodeTarget]
    public var tcpPorts: [Int]
    public var controlPlanePorts: [Int]
    public var icmp: Bool
    /// Echo requests per node per run.
    public var echoCount: Int

    public init(nodes: [NodeTarget], tcpPorts: [Int] = [50000, 10250], controlPlanePorts: [Int] = [6443],
                icmp: Bool = true, echoCount: Int = 3) {
        self.nodes = nodes
        self.tcpPorts = tcpPorts
        self.controlPlanePorts = controlPlanePorts
        self.icmp = icmp
        self.echoCount = echoCount
    }

    public func run(timeout: Duration) async -> [ProbeResult] {
        await eachInParallel(nodes) { node in await check(node, timeout: timeout) }
    }

    private enum Check: Sendable {
        case tcp(Int, TCPConnectResult)
        case ping(Result<PingResult, ICMPUnavailableError>)
    }

    func check(_ node: NodeTarget, timeout: Duration) async -> ProbeResult {
        let start = ContinuousClock.now
        let ports = tcpPorts + (node.role == .controlplane ? controlPlanePorts : [])
        let spacing = min(.milliseconds(100), timeout / max(2, echoCount + 1))
        let checks = await withTaskGroup(of: Check.self) { group in
            for port in ports {
                group.addTask { .tcp(port, await TCPProbe.connect(to: node.address, port: port, timeout: timeout)) }
            }
            if icmp {
                group.addTask {
                    do throws(ICMPUnavailableError) {
                        return .ping(.success(try await ICMPProbe.ping(node.address, count: echoCount, spacing: spacing, timeout: timeout)))
                    } catch {
                        return .ping(.failure(error))
                    }
                }
            }
            var all: [Check] = []
            for await check in group { all.append(check) }
            return all
        }
        let tcp = checks.compactMap { if case .tcp(let port, let result) = $0 { (port, result) } else { nil } }.sorted { $0.0 < $1.0 }
        let ping: Result<PingResult, ICMPUnavailableError>? = checks.compactMap { check in
            if case .ping(let result) = check { result } else { nil }
        }.first
        var facts: [String: String] = ["address": node.address.description, "role": node.role.rawValue]
        for (port, result) in tcp { facts["tcp/\(port)"] = "\(result.outcome.rawValue) \(result.latency.readable)" }
        switch ping {
        case .success(let p)?:
            facts["icmp"] = "\(p.received)/\(p.sent) replies" + (p.medianRoundTrip.map { ", median \($0.readable)" } ?? "")
            facts["icmp-socket"] = p.socketKind.rawValue
            facts["loss"] = String(format: "%.0f%%", p.loss * 100)
        case .failure(let error)?:
            facts["icmp"] = "unavailable: \(error.message)"
        case nil:
            break
        }
        let verdict = Self.verdict(node: node, tcp: tcp, ping: ping)
        let elapsed = ContinuousClock.now - start
        if let offline = node.offline {
            let answers = verdict.fault == nil ? "it answers all the same" : "as expected: \(verdict.reason)"
            facts["offline"] = offline
            return ProbeResult(kind: kind, target: node.name, status: .knownOffline, phase: verdict.phase,
                               reason: "known offline (\(offline)); \(answers)", latency: elapsed, facts: facts)
        }
        guard let fault = verdict.fault else {
            return ProbeResult(kind: kind, target: node.name, status: .ok, reason: verdict.reason, latency: elapsed, facts: facts)
        }
        return .failure(kind, node.name, fault, phase: verdict.phase ?? "connect", verdict.reason, latency: elapsed, facts: facts)
    }

    /// The node's verdict from its port and echo outcomes: the worst thing, named.
    static func verdict(node: NodeTarget, tcp: [(Int, TCPConnectResult)], ping: Result<PingResult, ICMPUnavailableError>?)
        -> (fault: ProbeFault?, phase: String?, reason: String) {
        let failed = tcp.filter { $0.1.outcome != .connected }
        let replies = (try? ping?.get())?.received ?? 0
        if !tcp.isEmpty && failed.count == tcp.count && replies == 0 {
            let outcomes = Set(failed.map(\.1.outcome))
            let fault: ProbeFault = outcomes.contains(.unreachable) ? .unreachable : outcomes == [.refused] ? .refused : .timeout
            let detail = failed.map { "\($0.0) \($0.1.outcome.rawValue)" }.joined(separator: ", ")
            let echo = ping == nil ? "" : ", no echo reply"
            return (fault, "connect", "node \(node.address) does not answer: \(detail)\(echo)")
        }
        if let (port, result) = failed.first {
            let fault: ProbeFault = switch result.outcome {
            case .refused: .refused
            case .unreachable: .unreachable
            default: .timeout
            }
            let names = failed.map { "\($0.0) \($0.1.outcome.rawValue)" }.joined(separator: ", ")
            return (fault, "connect", "port \(port) on \(node.address): \(result.message) (\(names))")
        }
        switch ping {
        case .failure(let error)?:
            return (.icmpUnavailable, "icmp", error.message)
        case .success(let p)? where p.received < p.sent:
            let why = p.lastError.map { ": \($0)" } ?? ""
            return (.packetLoss, "icmp", "\(p.sent - p.received) of \(p.sent) echo requests lost\(why)")
        default:
            return (nil, nil, "all \(tcp.count) ports connect" + (ping == nil ? "" : ", every echo answered"))
        }
    }
}
