import Foundation
import NetIO

/// Pi-hole v6's API behaviour (API-FACTS §A), kept in memory: sessions and seats, the login
/// rate limit, the two record arrays with FTL's validation, and restarts.
actor PiholeState {
    struct Session {
        var validUntil: ContinuousClock.Instant
        let app: Bool
        /// The seat: FTL keeps a fixed table of `webserver.api.max_sessions` slots and names a
        /// session by its slot (`src/api/auth.c`; `auth.yaml` `/auth/session/{id}`).
        var slot = 0
        /// The CSRF token handed out with the SID; a request authenticated by the `sid` cookie
        /// must carry it in `X-CSRF-TOKEN` (API-FACTS §A.2, `auth.c` `check_client_auth()`).
        var csrf = ""
        var loginAt = Date()
        var lastActive = Date()
    }

    /// How a request named its session: FTL reads the `sid`/`X-FTL-SID` header, then the
    /// `sid` cookie (which needs `X-CSRF-TOKEN`), then `?sid=` (API-FACTS §A.2).
    struct Credentials: Sendable {
        var sid: String?
        /// The SID came from the cookie: only valid with a matching CSRF token.
        var fromCookie = false
        var csrf: String?
    }

    /// A reply: status and JSON body (nil for 204), with FTL's `took` added.
    struct Reply: Sendable {
        let status: Int
        let body: Data?
        var setCookie: String?

        init(status: Int, json: [String: Any]?) {
            self.status = status
            guard var json else {
                body = nil
                return
            }
            json["took"] = 0.0003
            body = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        }
    }

    let options: PiholeSimulator.Options
    let dns: PiholeDNS
    private(set) var hosts: [String]
    private(set) var cnames: [String]
    private var sessions: [String: Session] = [:]
    /// Seats taken by `occupySeats`.
    private var foreignSessions: [String] = []
    /// Holds for the next record writes (`Faults.stall`), and how many were served.
    private var stalls: [Duration] = []
    private(set) var stallsStarted = 0
    private var passwordChecks: (second: Int, count: Int) = (0, 0)
    private var lastTOTPStep: UInt64?
    private(set) var counters = PiholeSimulator.Counters()
    /// Every authorised PUT and DELETE of a record, with the session that sent it.
    private(set) var writes: [PiholeSimulator.Write] = []
    /// Which login made each SID (1, 2, …), so writes can be told apart by client.
    private var sessionNumbers: [String: Int] = [:]
    /// Every session id handed out, ended or not: secrets a test can look for in logs.
    private(set) var issuedSIDs: [String] = []

    init(options: PiholeSimulator.Options, dns: PiholeDNS) {
        self.options = options
        self.dns = dns
        hosts = options.hosts
        cnames = options.cnames
    }

    func startDNS() async throws {
        serving = true
        try await dns.start(hosts: hosts, cnames: cnames)
    }

    // MARK: Authentication

    func login(body: Data) -> Reply {
        counters.calls += 1
        guard let password = options.password else {
            return Reply(status: 200, json: ["session": sessionObject(sid: nil, valid: true, message: "no password set")])
        }
        let now = Int(Date().timeIntervalSince1970)
        passwordChecks = passwordChecks.second == now ? (now, passwordChecks.count + 1) : (now, 1)
        if passwordChecks.count > 3 {
            return error(429, "rate_limiting", "Rate-limiting login attempts", nil)
        }
        let fields = (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        let given = fields["password"] as? String
        let app = given != nil && given == options.appPassword
        guard given == password || app else {
            return Reply(status: 401, json: ["session": sessionObject(sid: nil, valid: false, message: "password incorrect")])
        }
        if let secret = options.totpSecret, !app {
            if let refusal = checkTOTP(fields["totp"], secret: secret) { return refusal }
        }
        let clock = ContinuousClock.now
        sessions = sessions.filter { $0.value.validUntil > clock }
        guard sessions.count < options.maxSessions else {
            return error(429, "api_seats_exceeded", "API seats exceeded", "increase webserver.api.max_sessions")
        }
        let sid = Self.newSID()
        let csrf = Self.newSID()
        sessions[sid] = Session(validUntil: clock + options.sessionTimeout, app: app, slot: freeSlot(), csrf: csrf)
        issuedSIDs.append(sid)
        counters.logins += 1
        sessionNumbers[sid] = counters.logins
        var reply = Reply(status: 200, json: ["session": sessionObject(
            sid: sid, csrf: csrf, valid: true, message: app ? "app-password correct" : "password correct")])
        // FTL also sets the SID as a cookie (`src/api/auth.h` `FTL_SET_COOKIE`; API-FACTS §A.2).
        reply.setCookie = "sid=\(sid); SameSite=Lax; Path=/; Max-Age=\(options.sessionTimeout.components.seconds); HttpOnly"
        return reply
    }

    /// The lowest seat no valid session holds.
    private func freeSlot() -> Int {
        let taken = Set(sessions.values.map(\.slot))
        return (0...).first { !taken.contains($0) } ?? 0
    }

    /// `GET /api/auth`: is this client authenticated, and for how long still. Shapes from
    /// `auth.yaml` `/auth` get (200 `auth_okay`, `no_login_required`; 401 `login_required`).
    /// The 401's message for a missing or unknown SID is not given by the spec; "no SID
    /// provided" is its `login_failed` example's wording, used for both.
    func authStatus(_ credentials: Credentials) -> Reply {
        counters.calls += 1
        guard options.password != nil else {
            return Reply(status: 200, json: ["session": sessionObject(sid: nil, valid: true, message: "no password set")])
        }
        guard let session = authorise(credentials) else {
            return Reply(status: 401, json: ["session": sessionObject(sid: nil, valid: false, message: "no SID provided")])
        }
        var object = sessionObject(sid: nil, valid: true, message: nil)
        object["validity"] = Int((session.validUntil - .now).components.seconds)
        object["totp"] = options.totpSecret != nil
        return Reply(status: 200, json: ["session": object])
    }

    /// `GET /api/auth/sessions`: every seat in use (`auth.yaml` `sessions_list`).
    func sessionList(_ credentials: Credentials) -> Reply {
        counters.calls += 1
        guard let current = authorise(credentials) else { return unauthorized() }
        let now = ContinuousClock.now
        let list: [[String: Any]] = sessions.values.sorted { $0.slot < $1.slot }.map { session in
            let remaining = session.validUntil > now ? (session.validUntil - now).components.seconds : 0
            return [
                "id": session.slot, "current_session": session.slot == current.slot && options.password != nil,
                "valid": session.validUntil > now, "tls": ["login": false, "mixed": false],
                "app": session.app, "cli": false,
                "login_at": Int(session.loginAt.timeIntervalSince1970),
                "last_active": Int(session.lastActive.timeIntervalSince1970),
                "valid_until": Int(Date().timeIntervalSince1970) + Int(remaining),
                "remote_addr": "127.0.0.1", "user_agent": NSNull(), "x_forwarded_for": NSNull(),
            ]
        }
        return Reply(status: 200, json: ["sessions": list])
    }

    /// `DELETE /api/auth/session/{id}`: ends the session in seat `id` (`auth.yaml` `session`
    /// delete: 204, or 400 "Missing or invalid session ID" / "Session ID out of bounds" /
    /// "Session ID not in use").
    func deleteSession(_ rawID: String, _ credentials: Credentials) -> Reply {
        counters.calls += 1
        guard authorise(credentials) != nil else { return unauthorized() }
        guard let id = Int(rawID) else { return error(400, "bad_request", "Missing or invalid session ID", nil) }
        guard (0..<options.maxSessions).contains(id) else { return error(400, "bad_request", "Session ID out of bounds", nil) }
        guard let sid = sessions.first(where: { $0.value.slot == id })?.key else {
            return error(400, "bad_request", "Session ID not in use", nil)
        }
        sessions[sid] = nil
        foreignSessions.removeAll { $0 == sid }
        counters.logouts += 1
        return Reply(status: 204, json: nil)
    }

    /// FTL's 2FA check: the previous, current and next 30-second code are accepted, once each.
    private func checkTOTP(_ value: Any?, secret: [UInt8]) -> Reply? {
        guard let code = value as? Int else {
            return error(400, "bad_request", "No 2FA token found in JSON payload", nil)
        }
        let now = TOTP.step(unixTime: Date().timeIntervalSince1970)
        guard let step = [now &- 1, now, now + 1].first(where: { TOTP.code(secret: secret, step: $0) == code }) else {
            return error(401, "unauthorized", "Invalid 2FA token", nil)
        }
        if let last = lastTOTPStep, step <= last {
            return error(401, "unauthorized", "Reused 2FA token", "wait for new token")
        }
        lastTOTPStep = step
        return nil
    }

    func logout(_ credentials: Credentials) -> Reply {
        counters.calls += 1
        guard options.password != nil else { return error(404, "not_found", "No active session", nil) }
        guard authorise(credentials) != nil, let sid = credentials.sid else { return unauthorized() }
        sessions[sid] = nil
        counters.logouts += 1
        return Reply(status: 204, json: nil)
    }

    /// The session for `sid` if it is valid, refreshing its sliding expiry; nil means 401.
    private func authorise(_ credentials: Credentials) -> Session? {
        if options.password == nil { return Session(validUntil: .now, app: false) }
        guard let sid = credentials.sid, var session = sessions[sid], session.validUntil > .now else { return nil }
        if credentials.fromCookie && credentials.csrf != session.csrf { return nil }
        session.validUntil = .now + options.sessionTimeout
        session.lastActive = Date()
        sessions[sid] = session
        return session
    }

    // MARK: Records

    func list(_ array: String, _ credentials: Credentials) -> Reply {
        counters.calls += 1
        guard authorise(credentials) != nil else { return unauthorized() }
        guard let lines = lines(array) else { return notFound("/api/config/dns/\(array)") }
        return Reply(status: 200, json: ["config": ["dns": [array: lines]]])
    }

    func change(_ method: String, array: String, value: String, restart: Bool, _ credentials: Credentials) async -> Reply {
        counters.calls += 1
        guard let session = authorise(credentials) else { return unauthorized() }
        let reply = await change(method, array: array, value: value, restart: restart, session: session)
        writes.append(PiholeSimulator.Write(session: credentials.sid.flatMap { sessionNumbers[$0] } ?? 0, method: method, array: array,
                                            value: value, status: reply.status))
        return reply
    }

    private func change(_ method: String, array: String, value: String, restart: Bool, session: Session) async -> Reply {
        guard lines(array) != nil else { return notFound("/api/config/dns/\(array)/\(value)") }
        if session.app && !options.appSudo {
            return error(403, "forbidden", "Unable to change configuration (read-only)",
                         "The current app session is not allowed to modify Pi-hole config settings (webserver.api.app_sudo is false)")
        }
        if method == "PUT", let invalid = array == "hosts" ? Self.invalidHost(value) : Self.invalidCNAME(value) {
            return error(400, "bad_request", "Invalid value", invalid)
        }
        let applied = apply(method, value, to: array)
        guard case .success(var updated) = applied else { return applied.failure }
        do {
            if array == "cnameRecords" {
                // FTL tests the would-be dnsmasq configuration before it keeps a change of
                // `dns.cnameRecords` (FLAG_RESTART_FTL), with `restart=false` or not, and answers
                // 400 "Invalid configuration" with dnsmasq's complaint as the hint
                // (`src/api/config.c` `api_config_put_delete()`; README of
                // ../shared/reference/pihole-ftl-openapi). A `dns.hosts` change is tested only when
                // `dns.hostsLocal` puts its names into that configuration (same function; not
                // modelled): hosts go to `hostsdir`, which `dnsmasq --test` does not read, so the
                // test could not fail there.
                if let complaint = try await dns.test(cnames: updated) {
                    return error(400, "bad_request", "Invalid configuration", complaint)
                }
                // Other writes may have been served during the test: apply to the lines as they are now.
                let again = apply(method, value, to: array)
                guard case .success(let now) = again else { return again.failure }
                updated = now
                cnames = updated
                if restart { try await restartResolver() }
            } else {
                hosts = updated
                try await dns.writeHosts(hosts)
            }
        } catch {
            return self.error(500, "internal_error", "\(error)", nil)
        }
        return Reply(status: method == "PUT" ? 201 : 204, json: method == "PUT" ? [:] : nil)
    }

    enum Applied {
        case success([String])
        case failure(Reply)

        var failure: Reply {
            if case .failure(let reply) = self { return reply }
            return Reply(status: 500, json: nil)
        }
    }

    /// `array`'s lines with `value` added (PUT) or removed (DELETE), or FTL's answer when the
    /// value is already there (400 "Item already present") or absent (404 with only `took`).
    private func apply(_ method: String, _ value: String, to array: String) -> Applied {
        guard var lines = lines(array) else { return .failure(notFound("/api/config/dns/\(array)/\(value)")) }
        if method == "PUT" {
            guard !lines.contains(value) else {
                return .failure(error(400, "bad_request", "Item already present", "Uniqueness of items is enforced"))
            }
            lines.append(value)
        } else {
            guard let index = lines.firstIndex(of: value) else { return .failure(Reply(status: 404, json: [:])) }
            lines.remove(at: index)
        }
        return .success(lines)
    }

    func restartDNS(_ credentials: Credentials) async -> Reply {
        counters.calls += 1
        guard authorise(credentials) != nil else { return unauthorized() }
        do { try await restartResolver() } catch { return self.error(500, "internal_error", "\(error)", nil) }
        // `action.yaml` restartdns: 200 with `common.yaml` `success` (example status "success").
        return Reply(status: 200, json: ["status": "success"])
    }

    /// A resolver restart as FTL does it after answering a restarting write: with a downtime
    /// (`Options.restartDowntime`), the API (see `PiholeSimulator.FTLEnvelope`) and dnsmasq go
    /// away together for that long, then come back with what was stored (API-FACTS §A.5; the
    /// request that asked for it gets its answer first, as FTL restarts after replying);
    /// without one, dnsmasq alone is respawned at once.
    private func restartResolver() async throws {
        counters.restarts += 1
        guard options.restartDowntime > .zero else { return try await dns.restart(cnames: cnames) }
        guard !restarting else { return }
        restarting = true
        Task { await self.comeBack() }
    }

    /// True from a restarting write until the API and dnsmasq serve again.
    private(set) var restarting = false

    private func comeBack() async {
        await dns.stop()
        try? await Task.sleep(for: options.restartDowntime)
        // dnsmasq with the stored CNAMEs, unless the simulator stopped meanwhile; a failure to
        // start shows in the DNS answers.
        if serving { try? await dns.restart(cnames: cnames) }
        restarting = false
    }

    /// Between `startDNS` and `stopDNS`: what a restart may bring back.
    private var serving = false

    func stopDNS() async {
        serving = false
        await dns.stop()
    }

    private func lines(_ array: String) -> [String]? {
        switch array {
        case "hosts": hosts
        case "cnameRecords": cnames
        default: nil
        }
    }

    // MARK: Knobs for tests and the lab

    func expireSessions() { sessions.removeAll() }

    /// Other clients take `count` seats and hold them until `freeSeats`.
    func occupySeats(_ count: Int) {
        for _ in 0..<count {
            let sid = Self.newSID()
            sessions[sid] = Session(validUntil: .now + options.sessionTimeout, app: false, slot: freeSlot())
            foreignSessions.append(sid)
        }
    }

    func stallWrites(_ duration: Duration, times: Int) { stalls += Array(repeating: duration, count: max(times, 0)) }

    /// The hold the next record write waits, if one is due.
    func takeStall() -> Duration? {
        guard !stalls.isEmpty else { return nil }
        stallsStarted += 1
        return stalls.removeFirst()
    }

    /// The other clients log out.
    func freeSeats() {
        for sid in foreignSessions { sessions[sid] = nil }
        foreignSessions = []
    }

    /// FTL restarts its resolver on its own (as after `pihole restartdns`).
    func restartResolverByHand() async throws {
        counters.restarts += 1
        try await dns.restart(cnames: cnames)
    }

    func addByHand(host line: String) async throws {
        hosts.append(line)
        try await dns.writeHosts(hosts)
    }

    var activeSessions: Int { sessions.values.filter { $0.validUntil > .now }.count }

    // MARK: FTL's validation and replies

    static func invalidHost(_ value: String) -> String? {
        let fields = value.split(separator: "#", maxSplits: 1).first?.split(whereSeparator: { $0 == " " || $0 == "\t" }) ?? []
        guard fields.count >= 2 else { return "missing hostname" }
        guard IPAddress(String(fields[0])) != nil else { return "neither a valid IPv4 nor IPv6 address" }
        for name in fields.dropFirst() where !validName(name, wildcard: false) { return "invalid hostname" }
        return nil
    }

    static func invalidCNAME(_ value: String) -> String? {
        let fields = value.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 2 || fields.count == 3 else { return "expected NAME,TARGET[,TTL]" }
        guard validName(fields[0], wildcard: true) else { return "invalid domain: \(fields[0])" }
        guard validName(fields[1], wildcard: false) else { return "invalid target: \(fields[1])" }
        if fields.count == 3, Int(fields[2]) == nil { return "invalid TTL: \(fields[2])" }
        return nil
    }

    static func validName(_ name: Substring, wildcard: Bool) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        for (index, label) in labels.enumerated() {
            if wildcard && index == 0 && label == "*" { continue }
            guard (1...63).contains(label.utf8.count),
                  label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { return false }
        }
        return true
    }

    private func sessionObject(sid: String?, csrf: String? = nil, valid: Bool, message: String?) -> [String: Any] {
        ["valid": valid, "totp": false, "sid": sid ?? NSNull(), "csrf": csrf ?? NSNull(),
         "validity": valid && sid != nil ? Int(options.sessionTimeout.components.seconds) : -1, "message": message ?? NSNull()]
    }

    private func error(_ status: Int, _ key: String, _ message: String, _ hint: String?) -> Reply {
        Reply(status: status, json: ["error": ["key": key, "message": message, "hint": hint.map { $0 as Any } ?? NSNull()]])
    }

    private func unauthorized() -> Reply { error(401, "unauthorized", "Unauthorized", nil) }
    /// FTL's answer to an unknown `/api` path: 404 with its error envelope, the path as the
    /// hint (API-FACTS §A.1, `src/api/api.c`).
    func notFound(_ uri: String) -> Reply { error(404, "not_found", "Not found", uri) }

    private static func newSID() -> String {
        Data((0..<18).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }
}
