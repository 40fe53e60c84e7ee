import Foundation
import HTTPTypes
import Hummingbird
import NetIO

/// The Pi-hole v6 API on a loopback port, writing what it stores into a real dnsmasq on
/// another loopback port, so records can be checked by resolving them. It follows the API
/// facts (sessions, seats, rate limit, error envelope, `restart=false`), not netagent's client.
public final class PiholeSimulator: Sendable {
    public struct Options: Sendable {
        /// nil: a Pi-hole without a password (every request is authorised).
        public var password: String?
        public var appPassword: String?
        public var appSudo = false
        public var maxSessions = 16
        public var sessionTimeout: Duration = .seconds(1800)
        /// Records present at start, as FTL stores them.
        public var hosts: [String] = []
        public var cnames: [String] = []

        public init(password: String? = "pihole-lab-password", appPassword: String? = nil) {
            self.password = password
            self.appPassword = appPassword
        }
    }

    /// What the simulator was asked to do, for tests and the benchmark.
    public struct Counters: Sendable, Hashable {
        public var calls = 0
        public var logins = 0
        public var logouts = 0
        public var restarts = 0
    }

    let state: PiholeState
    let server: LabServer
    /// The dnsmasq that serves what the API stored: `127.0.0.1:dnsPort`.
    public let dnsPort: Int

    public static func start(_ options: Options = Options()) async throws -> PiholeSimulator {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pihole-lab-\(UUID().uuidString.prefix(8))")
        let dnsPort = try Self.freeUDPPort()
        let dns = PiholeDNS(folder: folder, port: dnsPort)
        try await dns.start(hosts: options.hosts, cnames: options.cnames)
        let state = PiholeState(options: options, dns: dns)
        let server = try await LabServer.start(Self.router(state), name: "pihole")
        return PiholeSimulator(state: state, server: server, dnsPort: dnsPort)
    }

    private init(state: PiholeState, server: LabServer, dnsPort: Int) {
        self.state = state
        self.server = server
        self.dnsPort = dnsPort
    }

    /// The API's base URL, `http://127.0.0.1:PORT` (`/api/…` below it).
    public var url: String { server.url }
    public var dnsAddress: String { "127.0.0.1:\(dnsPort)" }

    public func hosts() async -> [String] { await state.hosts }
    public func cnames() async -> [String] { await state.cnames }
    public func counters() async -> Counters { await state.counters }
    public func activeSessions() async -> Int { await state.activeSessions }
    /// Every session ends, as when the timeout passes or FTL restarts without restoring them.
    public func expireSessions() async { await state.expireSessions() }
    /// Other clients take `count` seats.
    public func occupySeats(_ count: Int) async { await state.occupySeats(count) }
    /// A record added in Pi-hole's web interface.
    public func addByHand(host line: String) async throws { try await state.addByHand(host: line) }

    /// Stops the API and its dnsmasq.
    public func stop() async {
        await server.stop()
        await state.dns.stop()
    }

    static func router(_ state: PiholeState) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/auth") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            return Self.response(await state.login(body: Data(buffer: body)))
        }
        router.delete("/api/auth") { request, _ in Self.response(await state.logout(sid: Self.sid(request))) }
        router.get("/api/config/dns/:array") { request, context in
            Self.response(await state.list(context.parameters.get("array") ?? "", sid: Self.sid(request)))
        }
        for method in [HTTPRequest.Method.put, .delete] {
            router.on("/api/config/dns/:array/:value", method: method) { request, context in
                let raw = context.parameters.get("value") ?? ""
                let value = raw.removingPercentEncoding ?? raw
                let restart = request.uri.queryParameters.get("restart").map { $0 != "false" } ?? true
                return Self.response(await state.change(
                    method == .put ? "PUT" : "DELETE", array: context.parameters.get("array") ?? "", value: value,
                    restart: restart, sid: Self.sid(request)))
            }
        }
        router.post("/api/action/restartdns") { request, _ in Self.response(await state.restartDNS(sid: Self.sid(request))) }
        return router
    }

    /// The SID from the places FTL looks (X-FTL-SID or sid header, then `?sid=`); cookies are not simulated.
    static func sid(_ request: Request) -> String? {
        if let name = HTTPField.Name("X-FTL-SID"), let value = request.headers[name] { return value }
        if let name = HTTPField.Name("sid"), let value = request.headers[name] { return value }
        return request.uri.queryParameters.get("sid").map { String($0) }
    }

    static func response(_ reply: PiholeState.Reply) -> Response {
        guard let data = reply.body else { return Response(status: .init(code: reply.status)) }
        return Response(
            status: .init(code: reply.status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func freeUDPPort() throws -> Int {
        try LoopbackPort.free(udp: true)
    }
}
