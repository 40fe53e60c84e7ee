public import DNSCore
import Foundation
public import NetIO
import Synchronization

/// A Cloudflare Tunnel's status as the Cloudflare API reports it.
public struct TunnelStatus: Sendable, Hashable {
    public enum Health: String, Sendable, Hashable, CaseIterable { case healthy, degraded, down, inactive }
    public var health: Health
    /// Connections the API lists for the tunnel.
    public var connections: Int

    public init(health: Health, connections: Int) {
        self.health = health
        self.connections = connections
    }
}

/// Where the tunnel probe reads the API's view of a tunnel. The Cloudflare provider
/// implements it; probes know nothing of providers.
public protocol TunnelStatusSource: Sendable {
    /// The tunnel's status; throws when the API cannot be asked.
    func status(ofTunnel id: String) async throws -> TunnelStatus
}

/// An in-memory `TunnelStatusSource` for tests and the lab: set the status, the probe reads it.
public final class InMemoryTunnelStatusSource: TunnelStatusSource {
    private let statuses = Mutex<[String: TunnelStatus]>([:])

    public init(_ initial: [String: TunnelStatus] = [:]) { statuses.withLock { $0 = initial } }

    public func set(_ status: TunnelStatus, forTunnel id: String) { statuses.withLock { $0[id] = status } }

    public func status(ofTunnel id: String) async throws -> TunnelStatus {
        guard let status = statuses.withLock({ $0[id] }) else { throw UnknownTunnel(id: id) }
        return status
    }

    /// The source holds nothing for the tunnel.
    public struct UnknownTunnel: Error, CustomStringConvertible {
        public var id: String
        public var description: String { "no tunnel \(id)" }
    }
}

/// tunnel: cloudflared's `/ready` (`readyConnections` ≥ `minConnections`), the API's tunnel
/// status, and that each public name's CNAME points at `<tunnelID>.cfargotunnel.com`.
public struct TunnelProbe: Probe {
    public let kind = ProbeKind.tunnel
    public var readyURL: String
    public var tunnelID: String
    public var minConnections: Int
    public var statusSource: (any TunnelStatusSource)?
    /// Public names that must CNAME to the tunnel, and the server to ask.
    public var publicNames: [DNSName]
    public var nameServer: DNSServerTarget?
    public let http: HTTPClient
    public let resolver: Resolver

    public init(readyURL: String, tunnelID: String, minConnections: Int = 1, statusSource: (any TunnelStatusSource)? = nil,
                publicNames: [DNSName] = [], nameServer: DNSServerTarget? = nil, http: HTTPClient = HTTPClient(),
                resolver: Resolver) {
        self.readyURL = readyURL
        self.tunnelID = tunnelID.lowercased()
        self.minConnections = minConnections
        self.statusSource = statusSource
        self.publicNames = publicNames
        self.nameServer = nameServer
        self.http = http
        self.resolver = resolver
    }

    /// The CNAME target every public name must have.
    public var cnameTarget: String { "\(tunnelID).cfargotunnel.com" }

    public func run(timeout: Duration) async -> [ProbeResult] {
        async let ready = checkReady(timeout: timeout)
        async let api = checkAPI()
        async let names = checkNames(timeout: timeout)
        return await [ready] + (api.map { [$0] } ?? []) + names
    }

    func checkReady(timeout: Duration) async -> ProbeResult {
        let target = "cloudflared \(readyURL)"
        do {
            let response = try await http.send(HTTPRequest(url: readyURL, timeout: timeout, connectTimeout: timeout,
                                                                maxBodyBytes: HTTPBodyLimit.tunnelReady))
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
            let connections = (object?["readyConnections"] as? NSNumber)?.intValue
            let facts = ProbeFacts.tunnelReady(TunnelReadyFacts(httpStatus: response.status, readyConnections: connections,
                                                                minConnections: minConnections))
            guard let connections else {
                return .failure(kind, target, .tunnelNotReady, phase: "ready",
                                "HTTP \(response.status) without readyConnections", latency: response.duration, observed: facts)
            }
            guard response.status == 200, connections >= minConnections else {
                return .failure(kind, target, .tunnelNotReady, phase: "ready",
                                "\(connections) ready connection(s), at least \(minConnections) needed (HTTP \(response.status))",
                                latency: response.duration, observed: facts)
            }
            return ProbeResult(kind: kind, target: target, status: .ok, reason: "\(connections) ready connections",
                               latency: response.duration, observed: facts)
        } catch {
            let fault: ProbeFault = error.isTimeout ? .timeout : .unreachable
            return .failure(kind, target, fault, phase: "ready", "cloudflared's /ready cannot be read: \(error)")
        }
    }

    func checkAPI() async -> ProbeResult? {
        guard let statusSource else { return nil }
        let target = "tunnel \(tunnelID)"
        do {
            let status = try await statusSource.status(ofTunnel: tunnelID)
            let facts = ProbeFacts.tunnelAPI(status)
            guard status.health == .healthy else {
                return .failure(kind, target, .tunnelUnhealthy, phase: "api",
                                "the Cloudflare API reports the tunnel \(status.health.rawValue) with \(status.connections) connection(s)",
                                observed: facts)
            }
            return ProbeResult(kind: kind, target: target, status: .ok,
                               reason: "healthy with \(status.connections) connection(s)", observed: facts)
        } catch {
            let transport = (error as? any CarriesTransportError)?.transport
            return .failure(kind, target, transport?.isTimeout == true ? .timeout : .unreachable, phase: "api",
                            "the tunnel status cannot be read: \(error)",
                            observed: .tunnelAPIUnreadable(transport: transport, message: "\(error)"))
        }
    }

    func checkNames(timeout: Duration) async -> [ProbeResult] {
        guard let nameServer, !publicNames.isEmpty else { return [] }
        let questions = publicNames.map { DNSQuestion(name: $0.text, type: .cname) }
        let answers = await resolver.queryAll(questions, server: nameServer.server, timeout: timeout, tries: 2)
        return zip(publicNames, answers).map { name, answer in
            let target = "cname \(name)"
            switch answer {
            case .failure(let error):
                return .failure(kind, target, error.kind == .timeout ? .timeout : .dnsError, phase: "cname", error.message)
            case .success(let response):
                let found = DNSRecordsProbe.values(of: .cname, in: response)
                let facts = ProbeFacts.tunnelCNAME(TunnelCNAMEFacts(rcode: response.rcode, found: found, expected: cnameTarget))
                if found == [cnameTarget] {
                    return ProbeResult(kind: kind, target: target, status: .ok, reason: "CNAME to the tunnel",
                                       latency: response.latency, observed: facts)
                }
                let why = response.rcode != .noError ? "answered \(response.rcode)"
                    : found.isEmpty ? "has no CNAME" : "CNAMEs to \(found.sorted().joined(separator: ", "))"
                return .failure(kind, target, .cnameMismatch, phase: "cname", "\(name) \(why), not \(cnameTarget)",
                                latency: response.latency, observed: facts)
            }
        }
    }
}
