import Foundation
import NetIO

/// Pi-hole v6's API behaviour (API-FACTS §A), kept in memory: sessions and seats, the login
/// rate limit, the two record arrays with FTL's validation, and restarts.
actor PiholeState {
    struct Session {
        var validUntil: ContinuousClock.Instant
        let app: Bool
    }

    /// A reply: status and JSON body (nil for 204), with FTL's `took` added.
    struct Reply: Sendable {
        let status: Int
        let body: Data?

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
        sessions[sid] = Session(validUntil: clock + options.sessionTimeout, app: app)
        issuedSIDs.append(sid)
        counters.logins += 1
        sessionNumbers[sid] = counters.logins
        return Reply(status: 200, json: ["session": sessionObject(
            sid: sid, valid: true, message: app ? "app-password correct" : "password correct")])
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

    func logout(sid: String?) -> Reply {
        counters.calls += 1
        guard options.password != nil else { return error(404, "not_found", "No active session", nil) }
        guard let sid, let session = sessions[sid], session.validUntil > .now else { return unauthorized() }
        sessions[sid] = nil
        counters.logouts += 1
        return Reply(status: 204, json: nil)
    }

    /// The session for `sid` if it is valid, refreshing its sliding expiry; nil means 401.
    private func authorise(_ sid: String?) -> Session? {
        if options.password == nil { return Session(validUntil: .now, app: false) }
        guard let sid, var session = sessions[sid], session.validUntil > .now else { return nil }
        session.validUntil = .now + options.sessionTimeout
        sessions[sid] = session
        return session
    }

    // MARK: Records

    func list(_ array: String, sid: String?) -> Reply {
        counters.calls += 1
        guard authorise(sid) != nil else { return unauthorized() }
        guard let lines = lines(array) else { return notFound("/api/config/dns/\(array)") }
        return Reply(status: 200, json: ["config": ["dns": [array: lines]]])
    }

    func change(_ method: String, array: String, value: String, restart: Bool, sid: String?) async -> Reply {
        counters.calls += 1
        guard let session = authorise(sid) else { return unauthorized() }
        let reply = await change(method, array: array, value: value, restart: restart, session: session)
        writes.append(PiholeSimulator.Write(session: sid.flatMap { sessionNumbers[$0] } ?? 0, method: method, array: array,
                                            value: value, status: reply.status))
        return reply
    }

    private func change(_ method: String, array: String, value: String, restart: Bool, session: Session) async -> Reply {
        guard var lines = lines(array) else { return notFound("/api/config/dns/\(array)/\(value)") }
        if session.app && !options.appSudo {
            return error(403, "forbidden", "Unable to change configuration (read-only)",
                         "The current app session is not allowed to modify Pi-hole config settings (webserver.api.app_sudo is false)")
        }
        if method == "PUT" {
            if let invalid = array == "hosts" ? Self.invalidHost(value) : Self.invalidCNAME(value) {
                return error(400, "bad_request", "Invalid value", invalid)
            }
            guard !lines.contains(value) else {
                return error(400, "bad_request", "Item already present", "Uniqueness of items is enforced")
            }
            lines.append(value)
        } else {
            guard let index = lines.firstIndex(of: value) else { return Reply(status: 404, json: [:]) }
            lines.remove(at: index)
        }
        do {
            if array == "hosts" {
                hosts = lines
                try await dns.writeHosts(hosts)
            } else {
                cnames = lines
                if restart { try await restartResolver() }
            }
        } catch {
            return self.error(500, "internal_error", "\(error)", nil)
        }
        return Reply(status: method == "PUT" ? 201 : 204, json: method == "PUT" ? [:] : nil)
    }

    func restartDNS(sid: String?) async -> Reply {
        counters.calls += 1
        guard authorise(sid) != nil else { return unauthorized() }
        do { try await restartResolver() } catch { return self.error(500, "internal_error", "\(error)", nil) }
        return Reply(status: 200, json: ["status": "restarted"])
    }

    private func restartResolver() async throws {
        counters.restarts += 1
        try await dns.restart(cnames: cnames)
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
            sessions[sid] = Session(validUntil: .now + options.sessionTimeout, app: false)
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
    func restartResolverByHand() async throws { try await restartResolver() }

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

    private func sessionObject(sid: String?, valid: Bool, message: String) -> [String: Any] {
        ["valid": valid, "totp": false, "sid": sid ?? NSNull(), "csrf": sid.map { _ in Self.newSID() } ?? NSNull(),
         "validity": valid && sid != nil ? Int(options.sessionTimeout.components.seconds) : -1, "message": message]
    }

    private func error(_ status: Int, _ key: String, _ message: String, _ hint: String?) -> Reply {
        Reply(status: status, json: ["error": ["key": key, "message": message, "hint": hint.map { $0 as Any } ?? NSNull()]])
    }

    private func unauthorized() -> Reply { error(401, "unauthorized", "Unauthorized", nil) }
    private func notFound(_ uri: String) -> Reply { error(404, "not_found", "Not found", uri) }

    private static func newSID() -> String {
        Data((0..<18).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }
}
