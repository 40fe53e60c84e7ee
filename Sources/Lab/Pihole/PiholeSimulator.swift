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
        /// 2FA: the TOTP secret (raw bytes). Logins with the main password must then carry a
        /// current code; app passwords skip it, as in FTL.
        public var totpSecret: [UInt8]?
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

        public init() {}

        /// What happened between `earlier` and now.
        public func since(_ earlier: Counters) -> Counters {
            var delta = Counters()
            delta.calls = calls - earlier.calls
            delta.logins = logins - earlier.logins
            delta.logouts = logouts - earlier.logouts
            delta.restarts = restarts - earlier.restarts
            return delta
        }
    }

    let state: PiholeState
    let writeDelay = WriteDelay()
    /// The port of the dnsmasq that serves what the API stored, once the simulator runs.
    public var dnsPort: Int { state.dns.port }

    /// Prepares a simulator; `run` or `withRunning` starts its API and its dnsmasq.
    public init(_ options: Options = Options()) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pihole-lab-\(UUID().uuidString.prefix(8))")
        state = PiholeState(options: options, dns: PiholeDNS(folder: folder))
    }

    /// Starts dnsmasq, then serves the API on 127.0.0.1:`port` (0: a free port) until the task is
    /// cancelled; calls `onListening` with the port once bound. dnsmasq stops with it.
    public func run(port: Int = 0, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        try await state.startDNS()
        do {
            try await LabHTTP.serve(Self.router(state, writeDelay: writeDelay), name: "pihole", port: port, onListening: onListening)
        } catch {
            await state.dns.stop()
            throw error
        }
        await state.dns.stop()
    }

    /// Runs the simulator for the length of `body`, which gets the API's base URL
    /// (`http://127.0.0.1:PORT`, `/api/…` below it); stops the API and dnsmasq afterwards.
    public func withRunning<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        try await LabHTTP.withRunning(name: "Pi-hole", serve: { onListening in try await self.run(onListening: onListening) }) { port in try await body("http://127.0.0.1:\(port)") }
    }

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
    /// Every later change of a DNS array (PUT or DELETE) waits `delay` before it is applied.
    public func delayWrites(by delay: Duration) { writeDelay.set(delay) }
    /// Changes that have begun (entered the delay) so far.
    public var writesStarted: Int { writeDelay.started }

    static func router(_ state: PiholeState, writeDelay: WriteDelay) -> Router<BasicRequestContext> {
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
                await writeDelay.wait()
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

}
