package import Foundation
public import NetIO

/// The two config arrays that hold local DNS records.
public enum PiholeArray: String, Sendable, Hashable {
    /// `dns.hosts`: `"IP NAME [NAME…]"` lines, applied at once (dnsmasq watches the file).
    case hosts
    /// `dns.cnameRecords`: `"NAME,TARGET[,TTL]"` lines; each change restarts the resolver
    /// unless sent with `restart=false`.
    case cnameRecords
}

/// Counts of what a client did, for reports and the benchmark.
public struct PiholeCallCounts: Hashable, Sendable {
    public var calls = 0
    public var logins = 0
    public var logouts = 0
    public var restarts = 0
}

/// The Pi-hole v6 API of one instance, with one session: `POST /api/auth` once, the SID in
/// `X-FTL-SID` on every call, one re-login on 401, and `DELETE /api/auth` at the end, since a
/// Pi-hole has only 16 API seats. A Pi-hole without a password needs no session.
public actor PiholeClient {
    public nonisolated let baseURL: String
    private let password: String?
    private let tls: TLSOptions
    private let http: HTTPClient
    private let timeout: Duration
    private let sleep: @Sendable (Duration) async throws -> Void
    private var sid: String?
    private var authenticated = false
    private let onCall: @Sendable (_ status: Int?) -> Void
    public private(set) var counts = PiholeCallCounts()

    /// - Parameters:
    ///   - url: the instance, e.g. `http://pihole.network.svc.cluster.local` (`/api` is added).
    ///   - sleep: how back-off waits; tests pass one that does not.
    ///   - onCall: told of every HTTP request sent (logins and logouts included): the reply's
    ///     status, or nil when none came. The agent's metrics count them.
    public init(
        url: String, password: String?, tls: TLSOptions = TLSOptions(), http: HTTPClient = HTTPClient(),
        timeout: Duration = .seconds(10),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        onCall: @escaping @Sendable (_ status: Int?) -> Void = { _ in }
    ) {
        baseURL = Self.normalizedBaseURL(url)
        self.password = password.flatMap { $0.isEmpty ? nil : $0 }
        self.tls = tls
        self.http = http
        self.timeout = timeout
        self.sleep = sleep
        self.onCall = onCall
    }

    /// The instance's base URL as the client uses it: `url` without trailing slashes or `/api`.
    public static func normalizedBaseURL(_ url: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/api") { base.removeLast(4) }
        return base
    }

    /// The lines of one array, exactly as stored.
    public func lines(_ array: PiholeArray) async throws(PiholeError) -> [String] {
        let (status, body) = try await call("GET", "/config/dns/\(array.rawValue)")
        guard status == 200 else { throw error(status, body) }
        guard let lines = Self.lines(array, in: body) else {
            throw PiholeError(kind: .other, instance: baseURL, status: status, message: "unexpected reply to GET \(array.rawValue)")
        }
        return lines
    }

    /// The array's lines in a `GET /api/config/dns/<array>` reply; nil when the reply is not one.
    package static func lines(_ array: PiholeArray, in body: Data) -> [String]? {
        struct Reply: Decodable {
            struct Config: Decodable { let dns: [String: [String]] }
            let config: Config
        }
        return (try? JSONDecoder().decode(Reply.self, from: body))?.config.dns[array.rawValue]
    }

    /// Adds `line` to `array` (a line already present counts as added). `restart: false` stores a CNAME change without restarting the resolver.
    /// Returns false when the line was already there: FTL then changed nothing and restarted nothing.
    @discardableResult
    public func add(_ line: String, to array: PiholeArray, restart: Bool = true) async throws(PiholeError) -> Bool {
        let (status, body) = try await call("PUT", "/config/dns/\(array.rawValue)/\(Self.encode(line))", restart: restart)
        // "Item already present": the line is there, which is what was asked.
        let present = status == 400 && body.contains(Data("Item already present".utf8))
        guard status == 201 || status == 200 || present else { throw error(status, body) }
        if array == .cnameRecords && restart && !present { counts.restarts += 1 }
        return !present
    }

    /// Removes exactly `line` (byte for byte as read) from `array`; a line already gone counts as removed.
    /// Returns false when it was already gone: FTL then changed nothing and restarted nothing.
    @discardableResult
    public func remove(_ line: String, from array: PiholeArray, restart: Bool = true) async throws(PiholeError) -> Bool {
        let (status, body) = try await call("DELETE", "/config/dns/\(array.rawValue)/\(Self.encode(line))", restart: restart)
        // 404: the line is already gone, which is what was asked.
        guard status == 204 || status == 200 || status == 404 else { throw error(status, body) }
        if array == .cnameRecords && restart && status != 404 { counts.restarts += 1 }
        return status != 404
    }

    /// Restarts the resolver so stored CNAME changes take effect (`POST /api/action/restartdns`).
    public func restartDNS() async throws(PiholeError) {
        let (status, body) = try await call("POST", "/action/restartdns")
        guard status == 200 else { throw error(status, body) }
        counts.restarts += 1
    }

    /// Waits until the API answers again after a resolver restart: FTL answers the restarting
    /// write, then neither the API nor DNS answers for a few seconds (API-FACTS §A.5). Polls
    /// `GET /api/auth` until FTL answers it (200 or 401, `auth.yaml`; a proxy's 502 or 503 in
    /// front of an FTL still away does not count) with back-off from 100 ms to 1 s, on the real
    /// clock (a process is coming back), for at most `limit`; throws `.unreachable` after that.
    public func waitUntilAnswering(within limit: Duration) async throws(PiholeError) {
        let deadline = ContinuousClock.now + limit
        var delay = Duration.milliseconds(100)
        var last = "no answer"
        while true {
            do {
                try await Task.sleep(for: delay)
            } catch {
                // Cancelled: without this the loop would poll with no pause until the deadline.
                throw PiholeError(kind: .unreachable, instance: baseURL, status: 0,
                                  message: "stopped waiting for the API after the resolver restart: the run was cancelled")
            }
            var headers: [HTTPHeader] = []
            if let sid { headers.append(HTTPHeader(name: "X-FTL-SID", value: sid)) }
            do {
                let response = try await exchange(HTTPRequest(method: "GET", url: baseURL + "/api/auth", headers: headers,
                                                              timeout: min(timeout, .seconds(2)), tls: tls))
                if response.status == 200 || response.status == 401 { return }
                last = "HTTP \(response.status) from GET /api/auth"
            } catch {
                last = error.description
            }
            guard ContinuousClock.now < deadline else {
                throw PiholeError(kind: .unreachable, instance: baseURL, status: 0,
                                  message: "the API did not answer within \(limit) of the resolver restart: \(last)")
            }
            delay = min(delay * 2, .seconds(1))
        }
    }

    /// Gives the API seat back (`DELETE /api/auth`). Safe to call without a session.
    public func logout() async {
        guard let sid else { return }
        self.sid = nil
        authenticated = false
        counts.logouts += 1
        _ = try? await exchange(HTTPRequest(
            method: "DELETE", url: baseURL + "/api/auth", headers: [HTTPHeader(name: "X-FTL-SID", value: sid)],
            timeout: timeout, tls: tls, maxBodyBytes: HTTPBodyLimit.pihole))
    }

    /// Every request goes out here: counted, and reported to `onCall`.
    private func exchange(_ request: HTTPRequest) async throws(NetIOError) -> HTTPResponse {
        counts.calls += 1
        do {
            let response = try await http.send(request)
            onCall(response.status)
            return response
        } catch {
            onCall(nil)
            throw error
        }
    }

    /// Percent-encodes a whole config element for the path: everything but RFC 3986's unreserved characters.
    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    private func call(_ method: String, _ path: String, restart: Bool? = nil) async throws(PiholeError) -> (Int, Data) {
        if !authenticated { try await login() }
        var (status, body) = try await send(method, path, restart: restart)
        if status == 401 {
            // The session expired (or FTL restarted without restoring it): log in once more.
            sid = nil
            authenticated = false
            try await login()
            (status, body) = try await send(method, path, restart: restart)
        }
        return (status, body)
    }

    private func send(_ method: String, _ path: String, restart: Bool?) async throws(PiholeError) -> (Int, Data) {
        var url = baseURL + "/api" + path
        if let restart { url += "?restart=\(restart)" }
        var headers: [HTTPHeader] = []
        if let sid { headers.append(HTTPHeader(name: "X-FTL-SID", value: sid)) }
        do {
            let response = try await exchange(HTTPRequest(method: method, url: url, headers: headers, timeout: timeout, tls: tls, maxBodyBytes: HTTPBodyLimit.pihole))
            return (response.status, response.body)
        } catch {
            throw PiholeError(kind: .unreachable, instance: baseURL, status: 0, message: error.description, transport: error)
        }
    }

    /// FTL hashes the password before it answers a login, which takes seconds on a small Pi.
    /// A login the client gave up on may still have taken a seat whose SID never arrived; that
    /// seat is only freed when the session expires (`webserver.session.timeout`, 30 min by
    /// default). So logins wait longer than other calls.
    static let loginTimeoutFloor = Duration.seconds(30)

    private func login() async throws(PiholeError) {
        var delay = Duration.milliseconds(400)
        for attempt in 1...4 {
            let body = try? JSONSerialization.data(withJSONObject: ["password": password ?? ""])
            counts.logins += 1
            let response: HTTPResponse
            do {
                response = try await exchange(HTTPRequest(
                    method: "POST", url: baseURL + "/api/auth",
                    headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: body,
                    timeout: max(timeout, Self.loginTimeoutFloor), tls: tls, maxBodyBytes: HTTPBodyLimit.pihole))
            } catch {
                throw PiholeError(kind: .unreachable, instance: baseURL, status: 0, message: error.description, transport: error)
            }
            if response.status == 200, let session = Self.session(response.body) {
                sid = session.sid
                if let sid = session.sid { Redaction.register(secret: sid) }
                authenticated = true
                return
            }
            if response.status == 404 {
                throw PiholeError(kind: .version5, instance: baseURL, status: 404, message: "no /api/auth")
            }
            let failure = error(response.status, response.body)
            guard failure.kind == .rateLimited, attempt < 4 else { throw failure }
            try? await sleep(delay)
            delay *= 2
        }
    }

    package struct Session: Decodable {
        package let valid: Bool
        package let sid: String?
    }

    /// The session of a valid `POST /api/auth` reply.
    package static func session(_ body: Data) -> Session? {
        struct Reply: Decodable { let session: Session }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: body), reply.session.valid else { return nil }
        return reply.session
    }

    private func error(_ status: Int, _ body: Data) -> PiholeError {
        Self.error(status, body, instance: baseURL)
    }

    /// Reads FTL's error envelope (or the auth reply) into a `PiholeError`.
    package static func error(_ status: Int, _ body: Data, instance: String) -> PiholeError {
        struct Envelope: Decodable {
            struct Detail: Decodable { let key: String; let message: String; let hint: String? }
            let error: Detail
        }
        let detail = (try? JSONDecoder().decode(Envelope.self, from: body))?.error
        let kind: PiholeError.Kind = switch (status, detail?.key) {
        case (429, "api_seats_exceeded"): .seatsExceeded
        case (429, _): .rateLimited
        case (400, _) where detail?.message.contains("2FA") == true, (401, _) where detail?.message.contains("2FA") == true: .twoFactor
        case (401, _) where session(body) == nil && body.contains(Data("password incorrect".utf8)): .wrongPassword
        case (403, _): .readOnly
        case (400, _), (404, _): .refused
        default: .other
        }
        return PiholeError(
            kind: kind, instance: instance, status: status, key: detail?.key,
            message: detail.map { Redaction.text($0.message) } ?? Redaction.body(body), hint: detail?.hint.map(Redaction.text))
    }
}

extension Data {
    fileprivate func contains(_ other: Data) -> Bool { range(of: other) != nil }
}
