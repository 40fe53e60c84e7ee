import Foundation
import HTTPTypes
import Hummingbird

/// The Cloudflare v4 API on a loopback port, below `/client/v4`: the envelope, tokens
/// (verify, 9109 for an unknown token, 10000 for a missing permission), zones, DNS records
/// (list with page/per_page/result_info and `name`/`type` filters, create, PUT, PATCH, delete,
/// and the batch endpoint in its real order as one transaction), conflict errors 81053/81054,
/// duplicate 81057, bad ids 7003, tunnels with status and connections, rate limiting (429 with
/// Retry-After), latency, the fault knobs of `faults`, and a request log tests read to count calls. It
/// follows the API facts, not netagent's client.
public final class CloudflareSimulator: Sendable {
    /// What a token may do.
    public enum Permission: String, Sendable, Hashable {
        case zoneRead, dnsRead, dnsEdit, tunnelRead
    }

    /// An API token: its value, status (`active`, `disabled`, `expired`), permissions, and
    /// the zones (by name) it is limited to (nil: every zone of the account).
    public struct Token: Sendable, Hashable {
        public var value: String
        public var id: String
        public var status: String
        public var permissions: Set<Permission>
        public var zones: Set<String>?
        /// An account-owned token: only `/accounts/{id}/tokens/verify` verifies it; the user path
        /// answers 401 code 1000 "Invalid API Token" for it (Cloudflare's API reference lists the
        /// two verify operations, one per owner; the user path refusing an account token is what
        /// people report of the real API).
        public var accountOwned: Bool

        public init(_ value: String, status: String = "active",
                    permissions: Set<Permission> = [.zoneRead, .dnsEdit, .tunnelRead], zones: Set<String>? = nil,
                    accountOwned: Bool = false) {
            self.accountOwned = accountOwned
            self.value = value
            id = SimulatedDNSRecord.newID()
            self.status = status
            self.permissions = permissions
            self.zones = zones
        }

        func allows(_ permission: Permission, zone: String) -> Bool {
            permissions.contains(permission) && (zones?.contains(zone) ?? true)
        }
    }

    /// A Cloudflare Tunnel and its connectors.
    public struct Tunnel: Sendable, Hashable {
        public struct Connection: Sendable, Hashable {
            public var id = UUID().uuidString.lowercased()
            public var colo: String
            public var pendingReconnect: Bool
            public init(colo: String = "fra08", pendingReconnect: Bool = false) {
                self.colo = colo
                self.pendingReconnect = pendingReconnect
            }
        }

        public struct Connector: Sendable, Hashable {
            public var id = UUID().uuidString.lowercased()
            public var connections: [Connection]
            public init(connections: [Connection]) { self.connections = connections }
        }

        public var id: String
        public var name: String
        /// `healthy`, `degraded`, `down` or `inactive`.
        public var status: String
        public var connectors: [Connector]

        public init(id: String, name: String = "home", status: String = "healthy", connectors: [Connector] = []) {
            self.id = id.lowercased()
            self.name = name
            self.status = status
            self.connectors = connectors
        }
    }

    /// How the API answers a revoked token (`Faults.revokeToken`).
    public enum Revocation: Sendable, Hashable {
        /// 403 code 9109 "Invalid access token" for everything.
        case invalidAccessToken
        /// 403 code 10000 "Authentication error" for API calls; the verify says 401 code 1000.
        case authenticationError
    }

    public struct Options: Sendable {
        public var tokens: [Token]
        public var zones: [SimulatedZone]
        public var accountID: String
        public var tunnels: [Tunnel] = []
        /// Records per batch: 200 (Free), 3,500 on paid plans.
        public var batchLimit = 200
        /// The longest record comment, in characters: 100 on the Free plan, 500 on paid plans
        /// (error 9313 "DNS record comment exceeds the maximum length of 100 characters.", as
        /// quoted in STRRL/cloudflare-tunnel-ingress-controller#139 and #168; 500 on paid
        /// plans per its PR #275 citing Cloudflare's record-attributes page).
        public var commentLimit = 100
        /// The largest `per_page` honoured for DNS records; a larger one is cut to it.
        public var maxPerPage = 5000
        /// Requests allowed per `rateWindow` before every request is answered 429 (nil: no limit).
        public var rateLimit: Int?
        public var rateWindow: Duration = .seconds(300)
        /// Added before every reply.
        public var latency: Duration = .zero

        public init(tokens: [Token] = [Token("lab-token")], zones: [SimulatedZone] = [SimulatedZone(name: "example.test")],
                    accountID: String = "0123456789abcdef0123456789abcdef") {
            self.tokens = tokens
            self.zones = zones
            self.accountID = accountID
        }
    }

    /// One request as served.
    public struct LoggedRequest: Sendable, Hashable {
        public var method: String
        /// Below `/client/v4`, e.g. `/zones/ID/dns_records/batch`.
        public var path: String
        public var query: [String: String]
        public var status: Int
        /// When it was answered.
        public var at: ContinuousClock.Instant = .now

        public var isBatch: Bool { method == "POST" && path.hasSuffix("/dns_records/batch") }
        public var isRecordList: Bool { method == "GET" && path.hasSuffix("/dns_records") }
        /// Whether it could change records (every method but GET).
        public var isWrite: Bool { method != "GET" }
    }

    let state: CloudflareSimState
    public let options: Options

    public init(_ options: Options = Options()) {
        self.options = options
        state = CloudflareSimState(options: options)
    }

    /// Serves on 127.0.0.1:`port` (0: a free port) until the task is cancelled; calls
    /// `onListening` with the port once bound.
    public func run(port: Int = 0, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("**", method: method) { request, _ in await self.respond(request) }
        }
        try await LabHTTP.serve(router, name: "cloudflare", port: port, onListening: onListening)
    }

    /// Runs the simulator for the length of `body`, which gets the API base URL
    /// (`http://127.0.0.1:PORT/client/v4`).
    public func withRunning<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        try await LabHTTP.withRunning(name: "Cloudflare", serve: { onListening in try await self.run(onListening: onListening) }) { port in
            try await body("http://127.0.0.1:\(port)/client/v4")
        }
    }

    // MARK: Reading and knobs

    /// Every request served so far, in order.
    public func requests() async -> [LoggedRequest] { await state.log }
    public func resetLog() async { await state.resetLog() }
    /// Every record write a zone accepted (batch items and single calls), in order.
    public func writes(zoneID: String) async -> [SimulatedWrite] { await state.writes(zoneID: zoneID) }
    /// The records of a zone, in creation order.
    public func records(zoneID: String) async -> [SimulatedDNSRecord] { await state.records(zoneID: zoneID) }
    /// A record made by hand in the dashboard (no checks).
    public func insert(_ record: SimulatedDNSRecord, zoneID: String) async { await state.insert(record, zoneID: zoneID) }
    /// A record deleted by hand in the dashboard.
    public func remove(recordID: String, zoneID: String) async { await state.remove(recordID, zoneID: zoneID) }
    /// The next `count` requests are answered 429 with `Retry-After: seconds` (`faults.respond`).
    public func throttle(next count: Int, retryAfter seconds: Int = 1) async { await faults.respond(status: 429, times: count, retryAfter: seconds) }
    /// The next `count` requests are answered with `status` (a 5xx) (`faults.respond`).
    public func fail(next count: Int, status: Int = 502) async { await faults.respond(status: status, times: count) }
    public func setTunnel(_ tunnel: Tunnel) async { await state.setTunnel(tunnel) }

    /// The fault knobs: the one way tests and `netagent lab` break this API on purpose.
    public var faults: Faults { Faults(state: state) }

    /// Faults to inject into the simulated API. Each call queues or sets one fault; they apply
    /// to requests from then on, in the order they were queued, and `clear()` ends them all.
    /// Requests a fault answered are logged like any other, with the status they got.
    public struct Faults: Sendable {
        let state: CloudflareSimState

        /// The next `times` requests are answered `status` in Cloudflare's error envelope,
        /// whatever they asked: 429 is code 971 with `Retry-After: retryAfter` seconds (a rate
        /// limit storm), anything else code 10000+status (a 5xx from Cloudflare's edge).
        public func respond(status: Int, times: Int = 1, retryAfter: Int = 1) async {
            await state.inject(status: status, times: times, retryAfter: retryAfter)
        }

        /// The next `times` requests (with `writesOnly`, the next writes) wait `duration` before
        /// they are served, then are served in full: a write whose client timed out still
        /// lands, as on a slow Cloudflare.
        public func stall(for duration: Duration, times: Int = 1, writesOnly: Bool = false) async {
            await state.stall(duration, times: times, writesOnly: writesOnly)
        }

        /// How many requests a stall has held so far (a held request has arrived and waits).
        public func stallsStarted() async -> Int { await state.stallsStarted }

        /// Every batch that creates, replaces, patches or deletes a record named `name` is
        /// refused whole (400, code 1004), as a batch is one transaction, until `clear()`.
        public func failChunk(containing name: String) async { await state.failChunks(containing: name) }

        /// The token is revoked until `restoreToken`. `.invalidAccessToken`: every request with it
        /// gets 403 code 9109 "Invalid access token" (API-FACTS §B.7), token verification included.
        /// `.authenticationError`: API calls get 403 code 10000 "Authentication error", the code
        /// Cloudflare gives for a bad token and for a missing permission alike (API-FACTS §B.7,
        /// favonia/cloudflare-ddns#897), and the token verify tells them apart: 401 code 1000
        /// "Invalid API Token", the reply public Cloudflare clients record for a token that is
        /// not valid (their verify tests; Cloudflare's API reference gives the error envelope).
        public func revokeToken(_ value: String, answering: Revocation = .invalidAccessToken) async {
            await state.revoke(value, answering: answering)
        }

        /// Gives a revoked token back.
        public func restoreToken(_ value: String) async { await state.restore(value) }

        /// Ends every fault: queued replies and stalls are dropped, refused names and revoked tokens restored.
        public func clear() async { await state.clearFaults() }
    }

    private func respond(_ request: Request) async -> Response {
        var request = request
        let body = (try? await request.collectBody(upTo: 64 << 20)).map { Data(buffer: $0) } ?? Data()
        if options.latency > .zero { try? await Task.sleep(for: options.latency) }
        if let stall = await state.takeStall(method: request.method.rawValue) { try? await Task.sleep(for: stall) }
        var path = request.uri.path
        if path.hasPrefix("/client/v4") { path.removeFirst("/client/v4".count) }
        // Form-encoded as the SDK's httpx writes it (a space as `+`), decoded once.
        let query = LabHTTP.parseQuery(request.uri.query ?? "")
        let reply = await state.answer(method: request.method.rawValue, path: path, query: query,
                                       authorization: request.headers[.authorization], body: body)
        var headers: HTTPFields = [.contentType: "application/json"]
        for (name, value) in reply.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
