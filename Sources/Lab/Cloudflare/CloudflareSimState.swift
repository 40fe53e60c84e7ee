import Foundation

/// The simulated account: tokens, zones and their records, tunnels, fault knobs and the
/// request log. Answers each request as the v4 API would (API-FACTS §B, §C).
actor CloudflareSimState {
    struct Reply: Sendable {
        var status: Int
        var body: Data
        var headers: [String: String] = [:]
    }

    let options: CloudflareSimulator.Options
    private var tokens: [String: CloudflareSimulator.Token]
    private var zones: [String: ZoneRecords] = [:]
    private var tunnels: [String: CloudflareSimulator.Tunnel] = [:]
    private(set) var log: [CloudflareSimulator.LoggedRequest] = []
    /// Injected replies still to give, in order (`Faults.respond`): status and Retry-After.
    private var injected: [(status: Int, retryAfter: Int)] = []
    /// Injected stalls still to serve (`Faults.stall`).
    private var stalls: [(duration: Duration, writesOnly: Bool)] = []
    /// Requests a stall has held so far.
    private(set) var stallsStarted = 0
    /// Names whose batches are refused (`Faults.failChunk`).
    private var failingNames: Set<String> = []
    /// Tokens revoked (`Faults.revokeToken`), with what they were and how the API answers them.
    private var revoked: [String: (token: CloudflareSimulator.Token, answering: CloudflareSimulator.Revocation)] = [:]
    private var recent: [ContinuousClock.Instant] = []

    init(options: CloudflareSimulator.Options) {
        self.options = options
        tokens = Dictionary(options.tokens.map { ($0.value, $0) }, uniquingKeysWith: { a, _ in a })
        for zone in options.zones { zones[zone.id] = ZoneRecords(zone: zone, commentLimit: options.commentLimit) }
        for tunnel in options.tunnels { tunnels[tunnel.id] = tunnel }
    }

    // MARK: Knobs

    func inject(status: Int, times: Int, retryAfter: Int) {
        injected += Array(repeating: (status, retryAfter), count: max(times, 0))
    }

    func stall(_ duration: Duration, times: Int, writesOnly: Bool) {
        stalls += Array(repeating: (duration, writesOnly), count: max(times, 0))
    }

    /// The stall a request with `method` waits, if one is due for it.
    func takeStall(method: String) -> Duration? {
        guard let first = stalls.first, !first.writesOnly || method != "GET" else { return nil }
        stalls.removeFirst()
        stallsStarted += 1
        return first.duration
    }

    func failChunks(containing name: String) { failingNames.insert(name.lowercased()) }

    func revoke(_ value: String, answering: CloudflareSimulator.Revocation) {
        if let token = tokens.removeValue(forKey: value) { revoked[value] = (token, answering) }
    }

    func restore(_ value: String) {
        if let entry = revoked.removeValue(forKey: value) { tokens[value] = entry.token }
    }

    func clearFaults() {
        injected = []
        stalls = []
        failingNames = []
        for value in Array(revoked.keys) { restore(value) }
    }
    func resetLog() { log = [] }
    func setTunnel(_ tunnel: CloudflareSimulator.Tunnel) { tunnels[tunnel.id] = tunnel }

    func insert(_ record: SimulatedDNSRecord, zoneID: String) { zones[zoneID]?.insert(record) }
    func remove(_ id: String, zoneID: String) { _ = try? zones[zoneID]?.delete(id) }
    func records(zoneID: String) -> [SimulatedDNSRecord] { zones[zoneID]?.ordered ?? [] }
    func writes(zoneID: String) -> [SimulatedWrite] { zones[zoneID]?.writes ?? [] }

    // MARK: Requests

    func answer(method: String, path: String, query: [String: String], authorization: String?, body: Data) -> Reply {
        let reply = route(method: method, path: path, query: query, authorization: authorization, body: body)
        log.append(.init(method: method, path: path, query: query, status: reply.status))
        return reply
    }

    private func route(method: String, path: String, query: [String: String], authorization: String?, body: Data) -> Reply {
        if !injected.isEmpty {
            let (status, retryAfter) = injected.removeFirst()
            if status == 429 { return Self.tooMany(retryAfter: retryAfter) }
            return Self.failure(status, [(10000 + status, "Internal server error (injected)")])
        }
        if overLimit() { return Self.tooMany(retryAfter: Int(options.rateWindow.components.seconds)) }
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.count > 7 else {
            return Self.failure(400, [(6003, "Invalid request headers")], chain: (6111, "Invalid format for Authorization header"))
        }
        let parts = path.split(separator: "/").map(String.init)
        let userVerify = method == "GET" && parts == ["user", "tokens", "verify"]
        let accountVerify = method == "GET" && parts.count == 4 && parts[0] == "accounts" && parts[1] == options.accountID
            && parts[2...] == ["tokens", "verify"]
        let value = String(authorization.dropFirst(7))
        if revoked[value]?.answering == .authenticationError {
            return userVerify || accountVerify ? Self.invalidAPIToken() : Self.authenticationError()
        }
        guard let token = tokens[value] else { return Self.failure(403, [(9109, "Invalid access token")]) }
        // Token verification answers for any token it knows, active or not, with the token's id
        // and status (the SDK's `TokenVerifyResponse`, types/user/token_verify_response.py and
        // types/accounts/token_verify_response.py; API-FACTS §B.1). The account form needs the
        // account's id in the path. An account-owned token is refused by the user path (401 code
        // 1000, see `Token.accountOwned`); a user-owned token through the account path is not
        // documented: the simulator accepts it.
        if userVerify && token.accountOwned { return Self.invalidAPIToken() }
        if userVerify || accountVerify {
            // `messages` empty, as in the verify example of developers.cloudflare.com/fundamentals/api/troubleshooting.
            return Self.success(["id": token.id, "status": token.status])
        }
        guard token.status == "active" else { return Self.failure(403, [(9109, "Invalid access token")]) }
        if parts.first == "accounts" { return tunnel(parts, token: token) }
        guard parts.first == "zones" else { return Self.noRoute(path) }
        if parts.count == 1 {
            guard method == "GET" else { return Self.noRoute(path) }
            return listZones(query, token: token)
        }
        guard let zone = zones[parts[1]] else { return Self.noRoute(path) }
        let read = token.allows(.zoneRead, zone: zone.zone.name) || token.allows(.dnsRead, zone: zone.zone.name)
            || token.allows(.dnsEdit, zone: zone.zone.name)
        guard read else { return Self.authenticationError() }
        if parts.count == 2, method == "GET" { return Self.success(zoneJSON(zone.zone)) }
        guard parts.count >= 3, parts[2] == "dns_records" else { return Self.noRoute(path) }
        let fields = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        let write = method != "GET"
        guard token.allows(.dnsEdit, zone: zone.zone.name) || (!write && token.allows(.dnsRead, zone: zone.zone.name)) else {
            return Self.authenticationError()
        }
        do {
            switch (method, parts.count > 3 ? parts[3] : nil) {
            case ("GET", nil): return try listRecords(zone, query)
            case ("POST", nil): return Self.success(try zones[zone.zone.id]!.create(fields).json(zone: zone.zone))
            case ("POST", "batch"?):
                if let name = zone.names(in: fields).first(where: failingNames.contains) {
                    return Self.failure(400, [(1004, "DNS Validation Error: \(name) was refused (injected)")])
                }
                return Self.success(try zones[zone.zone.id]!.batch(fields, limit: options.batchLimit))
            case ("GET", let id?): return Self.success(try zone.record(id).json(zone: zone.zone))
            case ("PATCH", let id?): return Self.success(try zones[zone.zone.id]!.update(id, fields, replace: false).json(zone: zone.zone))
            case ("PUT", let id?): return Self.success(try zones[zone.zone.id]!.update(id, fields, replace: true).json(zone: zone.zone))
            case ("DELETE", let id?): return Self.success(["id": try zones[zone.zone.id]!.delete(id).id])
            default: return Self.noRoute(path)
            }
        } catch {
            return Self.failure(error.status, [(error.code, error.message)], pointer: error.pointer)
        }
    }

    private func overLimit() -> Bool {
        guard let limit = options.rateLimit else { return false }
        let now = ContinuousClock.now
        recent.removeAll { now - $0 >= options.rateWindow }
        recent.append(now)
        return recent.count > limit
    }

    private func listZones(_ query: [String: String], token: CloudflareSimulator.Token) -> Reply {
        guard token.permissions.contains(.zoneRead) else { return Self.authenticationError() }
        var visible = zones.values.map(\.zone).filter { token.zones == nil || token.zones!.contains($0.name) }
        if let name = query["name"]?.lowercased() { visible = visible.filter { $0.name == name } }
        return page(visible.sorted { $0.name < $1.name }.map(zoneJSON), query, maxPerPage: 50)
    }

    /// A zone with the fields the SDK's `Zone` model requires (cloudflare 4.3.1
    /// `types/zones/zone.py`: `id`, `account`, `created_on`, `development_mode`, `meta`,
    /// `modified_on`, `name`, `name_servers`, `owner`, `plan`) and API-FACTS §B.3's `status`.
    /// The values other than id, name, account and status are placeholders of the right type.
    private func zoneJSON(_ zone: SimulatedZone) -> [String: Any] {
        let created = SimulatedDNSRecord.timestamp(Date(timeIntervalSince1970: 1_767_225_600))
        return ["id": zone.id, "name": zone.name, "status": "active", "paused": false, "type": "full",
                "account": ["id": options.accountID, "name": "Lab account"], "created_on": created, "modified_on": created,
                "activated_on": created, "development_mode": 0, "meta": ["dns_only": false, "phishing_detected": false],
                "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                "owner": ["id": NSNull(), "name": NSNull(), "type": "user"], "plan": ["id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website"],
                "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"]]
    }

    private func listRecords(_ zone: ZoneRecords, _ query: [String: String]) throws(SimFailure) -> Reply {
        let records = try RecordListFilter(query).apply(zone.ordered)
        return page(records.map { $0.json(zone: zone.zone) }, query, maxPerPage: options.maxPerPage)
    }

    /// One page of `items` with `result_info`; `per_page` beyond the maximum is cut to it.
    private func page(_ items: [[String: Any]], _ query: [String: String], maxPerPage: Int) -> Reply {
        let perPage = min(max(Int(query["per_page"] ?? "") ?? 100, 1), maxPerPage)
        let page = max(Int(query["page"] ?? "") ?? 1, 1)
        let start = min((page - 1) * perPage, items.count)
        let slice = Array(items[start..<min(start + perPage, items.count)])
        let totalPages = items.isEmpty ? 0 : (items.count + perPage - 1) / perPage
        return Self.success(slice, info: ["page": page, "per_page": perPage, "count": slice.count,
                                          "total_count": items.count, "total_pages": totalPages])
    }

    private func tunnel(_ parts: [String], token: CloudflareSimulator.Token) -> Reply {
        guard parts.count >= 4, parts[2] == "cfd_tunnel", parts[1] == options.accountID else { return Self.noRoute(parts.joined(separator: "/")) }
        guard token.permissions.contains(.tunnelRead) else { return Self.authenticationError() }
        guard let tunnel = tunnels[parts[3].lowercased()] else { return Self.noRoute("/" + parts.joined(separator: "/")) }
        // The connectors as the SDK's `Client` model (types/zero_trust/tunnels/cloudflared/client.py:
        // id, arch, version, run_at, conns[id, colo_name, is_pending_reconnect, opened_at, origin_ip,
        // client_id, client_version]); API-FACTS §C.1.
        let started = SimulatedDNSRecord.timestamp(Date(timeIntervalSince1970: 1_767_225_600))
        if parts.count == 5, parts[4] == "connections" {
            return Self.success(tunnel.connectors.map { connector in
                ["id": connector.id, "version": "2026.1.0", "arch": "linux_amd64", "run_at": started,
                 "conns": connector.connections.map {
                     ["id": $0.id, "colo_name": $0.colo, "is_pending_reconnect": $0.pendingReconnect, "opened_at": started,
                      "origin_ip": "198.18.0.10", "client_id": connector.id, "client_version": "2026.1.0"] as [String: Any]
                 }] as [String: Any]
            })
        }
        // The tunnel object's own `connections` is deprecated and empty (API-FACTS §C.1); fields
        // as the SDK's `CloudflareTunnel` model (types/shared/cloudflare_tunnel.py).
        return Self.success(["id": tunnel.id, "account_tag": options.accountID, "name": tunnel.name, "status": tunnel.status,
                             "tun_type": "cfd_tunnel", "config_src": "cloudflare", "connections": [Any](), "created_at": started,
                             "deleted_at": NSNull(), "metadata": [String: Any](), "remote_config": true])
    }

    // MARK: Envelope

    static func success(_ result: Any, info: [String: Any]? = nil) -> Reply {
        var object: [String: Any] = ["success": true, "errors": [Any](), "messages": [Any](), "result": result]
        if let info { object["result_info"] = info }
        return Reply(status: 200, body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    static func failure(_ status: Int, _ errors: [(Int, String)], chain: (Int, String)? = nil, pointer: String? = nil) -> Reply {
        let list: [[String: Any]] = errors.map { code, message in
            var item: [String: Any] = ["code": code, "message": message]
            if let chain { item["error_chain"] = [["code": chain.0, "message": chain.1]] }
            if let pointer { item["source"] = ["pointer": pointer] }
            return item
        }
        let object: [String: Any] = ["success": false, "errors": list, "messages": [Any](), "result": NSNull()]
        return Reply(status: status, body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    static func tooMany(retryAfter seconds: Int) -> Reply {
        var reply = failure(429, [(971, "Please wait and consider throttling your request speed")])
        reply.headers["Retry-After"] = "\(seconds)"
        return reply
    }

    static func authenticationError() -> Reply { failure(403, [(10000, "Authentication error")]) }

    /// A token verify for a token that is not valid (see `Faults.revokeToken`).
    static func invalidAPIToken() -> Reply { failure(401, [(1000, "Invalid API Token")]) }

    static func noRoute(_ path: String) -> Reply {
        failure(404, [(7003, "Could not route to \(path), perhaps your object identifier is invalid?"), (7000, "No route for that URI")])
    }
}
