public import Foundation
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
        /// The UDP port of dnsmasq on 127.0.0.1; nil: a free one at each start. `netagent lab`
        /// fixes it so the agent's DNS probe finds dnsmasq again after a restart.
        public var dnsPort: Int?
        /// Where dnsmasq's hosts and configuration live; nil: a new folder under the temporary folder.
        public var folder: URL?
        /// How long a resolver restart (a CNAME write without `restart=false`, or
        /// `POST /api/action/restartdns`) takes the API and dnsmasq away: connections are
        /// refused and DNS goes unanswered meanwhile. FTL restarts after answering and "for a
        /// few seconds" nothing answers (API-FACTS §A.5; pi-hole/FTL#2384); the exact time
        /// was not measured, 2 s is this simulator's choice. `.zero`: dnsmasq alone is
        /// respawned at once and the API stays up (the benchmarks, which count calls).
        public var restartDowntime: Duration = .seconds(2)

        public init(password: String? = "pihole-lab-password", appPassword: String? = nil) {
            self.password = password
            self.appPassword = appPassword
        }

        /// The benchmarks' Pi-hole: no restart downtime, so that wall times compare the
        /// clients' calls as they did before the downtime was simulated (BENCHMARKS.md says a
        /// real restart costs seconds more).
        public static var benchmark: Options {
            var options = Options()
            options.restartDowntime = .zero
            return options
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

    /// One authorised record write (`PUT`/`DELETE /api/config/dns/<array>/<value>`).
    public struct Write: Sendable, Hashable {
        /// Which login's session sent it: 1 for the first login, 2 for the second, …; 0 without a password.
        public var session: Int
        public var method: String
        /// `hosts` or `cnameRecords`.
        public var array: String
        public var value: String
        /// The HTTP status answered (201, 204, or an error such as 400 "Item already present").
        public var status: Int
    }

    let state: PiholeState
    /// The port of the dnsmasq that serves what the API stored, once the simulator runs.
    public var dnsPort: Int { state.dns.port }

    /// Prepares a simulator; `run` or `withRunning` starts its API and its dnsmasq.
    public init(_ options: Options = Options()) throws {
        let folder = options.folder
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("pihole-lab-\(UUID().uuidString.prefix(8))")
        state = PiholeState(options: options, dns: PiholeDNS(folder: folder, fixedPort: options.dnsPort))
    }

    /// Starts dnsmasq, then serves the API on 127.0.0.1:`port` (0: a free port) until the task is
    /// cancelled; calls `onListening` with the port once bound. dnsmasq stops with it.
    public func run(port: Int = 0, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        try await state.startDNS()
        do {
            try await LabHTTP.serve(Self.router(state), name: "pihole", port: port, onListening: onListening)
        } catch {
            await state.stopDNS()
            throw error
        }
        await state.stopDNS()
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
    /// Every authorised record write so far, in order, with the session that sent it.
    public func writes() async -> [Write] { await state.writes }
    public func activeSessions() async -> Int { await state.activeSessions }
    /// Every session id handed out so far (a secret: the agent must never print one).
    public func issuedSessionIDs() async -> [String] { await state.issuedSIDs }
    /// Every session ends, as when the timeout passes or FTL restarts without restoring them (`faults`).
    public func expireSessions() async { await faults.expireSessions() }
    /// Other clients take `count` seats (`faults`).
    public func occupySeats(_ count: Int) async { await faults.occupySeats(count) }

    /// The fault knobs: the one way tests and `netagent lab` break this Pi-hole on purpose.
    /// To take the whole instance down (connections refused), stop serving it: run it under a
    /// `LabServer` and call `stop()`, then `start()` again on the same port.
    public var faults: Faults { Faults(state: state) }

    /// Faults to inject into the simulated Pi-hole; each takes effect at once.
    public struct Faults: Sendable {
        let state: PiholeState

        /// Every session ends, as when the timeout passes or FTL restarts without restoring
        /// them: the next request with an old SID gets 401.
        public func expireSessions() async { await state.expireSessions() }

        /// Other clients take `count` of the `maxSessions` seats and keep them until `freeSeats`;
        /// with every seat taken a login gets 429 `api_seats_exceeded`.
        public func occupySeats(_ count: Int) async { await state.occupySeats(count) }

        /// The clients of `occupySeats` log out.
        public func freeSeats() async { await state.freeSeats() }

        /// The next `times` record writes (PUT or DELETE of a hosts or CNAME line) wait
        /// `duration` before they are applied, then are applied in full, whether or not the
        /// client still waits for the answer.
        public func stall(for duration: Duration, times: Int = 1) async { await state.stallWrites(duration, times: times) }

        /// How many writes a stall has held so far (a held write has arrived and waits).
        public func stallsStarted() async -> Int { await state.stallsStarted }

        /// FTL restarts dnsmasq (same port): queries in that moment go unanswered.
        public func restartResolver() async throws { try await state.restartResolverByHand() }

        /// dnsmasq stops (queries go unanswered) until `startResolver`; the API keeps serving.
        public func stopResolver() async { await state.dns.stop() }

        /// dnsmasq starts again on its port, with what the API stored.
        public func startResolver() async throws { try await state.dns.relaunch() }
    }
    /// A record added in Pi-hole's web interface.
    public func addByHand(host line: String) async throws { try await state.addByHand(host: line) }

    static func router(_ state: PiholeState) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: FTLEnvelope(state: state))
        router.post("/api/auth") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            return Self.response(await state.login(body: Data(buffer: body)))
        }
        // `auth.yaml`: `/auth` get and delete, `/auth/sessions` get, `/auth/session/{id}` delete.
        router.get("/api/auth") { request, _ in Self.response(await state.authStatus(Self.credentials(request))) }
        router.delete("/api/auth") { request, _ in Self.response(await state.logout(Self.credentials(request))) }
        router.get("/api/auth/sessions") { request, _ in Self.response(await state.sessionList(Self.credentials(request))) }
        router.delete("/api/auth/session/:id") { request, context in
            Self.response(await state.deleteSession(context.parameters.get("id") ?? "", Self.credentials(request)))
        }
        router.get("/api/config/dns/:array") { request, context in
            Self.response(await state.list(context.parameters.get("array") ?? "", Self.credentials(request)))
        }
        for method in [HTTPRequest.Method.put, .delete] {
            router.on("/api/config/dns/:array/:value", method: method) { request, context in
                let raw = context.parameters.get("value") ?? ""
                let value = raw.removingPercentEncoding ?? raw
                let restart = request.uri.queryParameters.get("restart").map { $0 != "false" } ?? true
                if let stall = await state.takeStall() { try? await Task.sleep(for: stall) }
                return Self.response(await state.change(
                    method == .put ? "PUT" : "DELETE", array: context.parameters.get("array") ?? "", value: value,
                    restart: restart, Self.credentials(request)))
            }
        }
        router.post("/api/action/restartdns") { request, _ in Self.response(await state.restartDNS(Self.credentials(request))) }
        return router
    }

    /// The SID from the places FTL looks, in its order: header `sid` or `X-FTL-SID`, then the
    /// `sid` cookie (valid only with `X-CSRF-TOKEN`), then `?sid=` (API-FACTS §A.2, `src/api/auth.c`
    /// `check_client_auth()`; `main.yaml` securitySchemes). A `sid` in the JSON body is not simulated.
    static func credentials(_ request: Request) -> PiholeState.Credentials {
        for header in ["sid", "X-FTL-SID"] {
            if let name = HTTPField.Name(header), let value = request.headers[name] { return .init(sid: value) }
        }
        let csrf = HTTPField.Name("X-CSRF-TOKEN").flatMap { request.headers[$0] }
        for cookies in request.headers[values: .cookie] {
            for pair in cookies.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == "sid" { return .init(sid: String(parts[1]), fromCookie: true, csrf: csrf) }
            }
        }
        return .init(sid: request.uri.queryParameters.get("sid").map { String($0) })
    }

    static func response(_ reply: PiholeState.Reply) -> Response {
        var headers: HTTPFields = [:]
        if let cookie = reply.setCookie { headers[.setCookie] = cookie }
        guard let data = reply.body else { return Response(status: .init(code: reply.status), headers: headers) }
        headers[.contentType] = "application/json"
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Two things every request passes through. While the resolver restarts, FTL is away: a
    /// real client gets its connection refused (API-FACTS §A.5). The simulator keeps its port
    /// (cancelling a Swift NIO server while clients connect crashes the process,
    /// apple/swift-nio#2637) and instead closes each connection without an answer — a
    /// deliberate difference; either way the client gets no HTTP reply. And an unknown path
    /// under `/api` gets FTL's JSON 404 envelope with the path as hint (API-FACTS §A.1,
    /// `src/api/api.c`), not the web server's page.
    struct FTLEnvelope: RouterMiddleware {
        let state: PiholeState

        func handle(_ request: Request, context: BasicRequestContext,
                    next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
            if await state.restarting {
                // The body fails before anything is written: the server closes the connection
                // with no status line sent.
                return Response(status: .serviceUnavailable, body: ResponseBody { _ in throw SimulatorError("Pi-hole is restarting") })
            }
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound && request.uri.path.hasPrefix("/api/") {
                return PiholeSimulator.response(await state.notFound(request.uri.path))
            }
        }
    }

}
