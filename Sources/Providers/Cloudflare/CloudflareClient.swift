package import Foundation
public import NetIO

/// What a client sent, for tests, logs and the benchmark.
public struct CloudflareCallCounts: Hashable, Sendable {
    /// HTTP requests sent, retries included.
    public var requests = 0
    public var retries = 0
    /// Requests answered 429.
    public var throttled = 0
    /// Time spent waiting: for the budget, Retry-After and back-off.
    public var waited = Duration.zero
}

/// The subset of the Cloudflare v4 API netagent uses, with the token in the `Authorization`
/// header only (never in a URL, a log or an error), a client-side request budget, and
/// retries: 429 after `Retry-After`, 5xx and transport failures with back-off and jitter;
/// other 4xx are returned at once as `CloudflareError` with Cloudflare's codes.
public actor CloudflareClient {
    /// The API base, e.g. `https://api.cloudflare.com/client/v4`.
    public nonisolated let baseURL: String
    private let token: String
    private let http: HTTPClient
    private let policy: CloudflareRetryPolicy
    private let pacing: CloudflarePacing
    private let timeout: Duration
    private var window = RequestWindow()
    private let onCall: @Sendable (_ status: Int?) -> Void
    /// The account, for verifying an account-owned token (`accountID` in the configuration).
    private let accountID: String?
    public private(set) var counts = CloudflareCallCounts()

    /// - Parameter onCall: told of every HTTP request sent, retries included: the reply's
    ///   status, or nil when none came (refused, timed out). The agent's metrics count them.
    public init(baseURL: String, token: String, http: HTTPClient = HTTPClient(),
                policy: CloudflareRetryPolicy = CloudflareRetryPolicy(), pacing: CloudflarePacing = .live,
                timeout: Duration = .seconds(30), accountID: String? = nil,
                onCall: @escaping @Sendable (_ status: Int?) -> Void = { _ in }) {
        self.accountID = accountID
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.http = http
        self.policy = policy
        self.pacing = pacing
        self.timeout = timeout
        self.onCall = onCall
    }

    /// `GET /user/tokens/verify`, or for an account-owned token `GET /accounts/{id}/tokens/verify`:
    /// throws `.invalidToken` unless the token is active.
    public func verifyToken(accountID: String? = nil) async throws(CloudflareError) -> CloudflareTokenStatus {
        let path = accountID.map { "/accounts/\(Self.segment($0))/tokens/verify" } ?? "/user/tokens/verify"
        let reply = try await call("GET", path, operation: .verifyToken, as: CloudflareTokenStatus.self)
        guard let status = reply.result else { throw invalid(.verifyToken, "no result") }
        guard status.status == "active" else {
            throw CloudflareError(kind: .invalidToken, operation: .verifyToken, status: 200,
                                  detail: "the token's status is '\(status.status)'")
        }
        return status
    }

    /// `GET /zones?name=NAME`: the zones of that exact name the token can see (zero or one).
    public func zones(named name: String) async throws(CloudflareError) -> [CloudflareZone] {
        let reply = try await call("GET", "/zones", query: [("name", name), ("per_page", "50")],
                                   operation: .listZones, as: [CloudflareZone].self)
        // `result: null` is not "no such zone": a listing Cloudflare did not give is an error.
        guard let zones = reply.result else { throw invalid(.listZones, "the reply's result is null", status: 200) }
        return zones
    }

    /// `GET /zones/{id}`, for zone-scoped tokens that cannot list zones.
    public func zone(id: String) async throws(CloudflareError) -> CloudflareZone {
        let reply = try await call("GET", "/zones/\(Self.segment(id))", operation: .listZones, as: CloudflareZone.self)
        guard let zone = reply.result else { throw invalid(.listZones, "no zone in the reply") }
        return zone
    }

    /// Every DNS record of a zone that could be read (see `listing`).
    public func records(zoneID: String, perPage: Int = 5000) async throws(CloudflareError) -> [CloudflareRecord] {
        try await listing(zoneID: zoneID, perPage: perPage).records
    }

    /// Every DNS record of a zone, `perPage` at a time, following `result_info` to the last page.
    /// A page whose `result` is null or not a list is an error (never an empty zone); a record
    /// that cannot be read (`content: null`, a wrong type) is set aside in `unreadable`, with
    /// whatever of its id, name and type could be read, and the rest of the zone goes on.
    /// A page made only of records already listed is an error: the peer ignores `page` (a cache
    /// or proxy in the way), and following its `total_pages` would read without end.
    public func listing(zoneID: String, perPage: Int = 5000) async throws(CloudflareError) -> CloudflareListing {
        var all = CloudflareListing()
        var seen: Set<String> = []
        var page = 1
        while true {
            let reply = try await call(
                "GET", "/zones/\(Self.segment(zoneID))/dns_records", query: [("page", "\(page)"), ("per_page", "\(perPage)")],
                operation: .listRecords, as: [CloudflareListedRecord].self)
            guard let items = reply.result else { throw invalid(.listRecords, "the reply's result is null", status: 200) }
            var new = false
            for item in items {
                let id: String?
                switch item {
                case .read(let record): all.records.append(record); id = record.id
                case .unreadable(let record): all.unreadable.append(record); id = record.id
                }
                // A record without a readable id cannot be told apart: counted as new.
                if let id { new = seen.insert(id).inserted || new } else { new = true }
            }
            guard items.isEmpty || new else {
                throw invalid(.listRecords, "page \(page) holds only records already listed: the server does not page", status: 200)
            }
            let totalPages = reply.result_info?.total_pages ?? page
            if items.isEmpty || page >= totalPages { return all }
            page += 1
        }
    }

    /// `POST /zones/{id}/dns_records/batch`: one transaction; when Cloudflare refuses any item
    /// nothing is applied and the error (`.refused`, with its code) is thrown.
    public func batch(zoneID: String, _ batch: CloudflareBatch) async throws(CloudflareError) -> CloudflareBatchResult {
        let body: Data
        do { body = try JSONEncoder().encode(batch) } catch { throw invalid(.writeRecords, "cannot encode the batch: \(error)") }
        let reply = try await call("POST", "/zones/\(Self.segment(zoneID))/dns_records/batch", body: body,
                                   operation: .writeRecords, as: CloudflareBatchResult.self)
        guard let result = reply.result else {
            // Without the records touched nothing proves the batch applied: not counted as done.
            guard batch.count == 0 else { throw invalid(.writeRecords, "the batch reply's result is null", status: 200) }
            return CloudflareBatchResult()
        }
        return result
    }

    /// A generic GET for the tunnel client: the decoded `result`.
    func get<T: Decodable & Sendable>(_ path: String, operation: CloudflareOperation, as type: T.Type) async throws(CloudflareError) -> T {
        let reply = try await call("GET", path, operation: operation, as: type)
        guard let result = reply.result else { throw invalid(operation, "no result") }
        return result
    }

    // MARK: - One request, with budget and retries

    private func call<T: Decodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        operation: CloudflareOperation, as type: T.Type
    ) async throws(CloudflareError) -> CloudflareEnvelope<T> {
        var url = baseURL + path
        if !query.isEmpty { url += "?" + query.map { "\($0.0)=\(Self.queryValue($0.1))" }.joined(separator: "&") }
        var headers = [HTTPHeader(name: "Authorization", value: "Bearer \(token)")]
        if body != nil { headers.append(HTTPHeader(name: "Content-Type", value: "application/json")) }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout,
                                  maxBodyBytes: HTTPBodyLimit.cloudflare)
        var attempt = 0
        while true {
            attempt += 1
            try await waitForBudget(operation)
            counts.requests += 1
            let response: HTTPResponse
            do {
                response = try await http.send(request)
                onCall(response.status)
            } catch {
                onCall(nil)
                // Nothing was answered: a read, or a write that never reached Cloudflare, is tried
                // again; a write that may have been applied is not (see `mayRepeat`).
                guard attempt < policy.attempts, Self.mayRepeat(method, after: error) else {
                    throw CloudflareError(kind: .unreachable, operation: operation, detail: error.description, transport: error)
                }
                try await pause(policy.backoff(retry: attempt, random: pacing.random()), operation)
                continue
            }
            switch response.status {
            case 200..<300:
                let reply: CloudflareEnvelope<T>
                do { reply = try Self.decodeReply(response.body, as: type) } catch {
                    throw invalid(operation, "cannot read the reply: \(Redaction.text("\(error)"))", status: response.status)
                }
                // The envelope is checked before any field of it is trusted (API-FACTS §B.2):
                // `success: false` inside a 2xx is a failure, whatever `result` holds.
                guard reply.success else { throw Self.unsuccessful(status: response.status, errors: reply.errors, operation) }
                return reply
            case 429:
                counts.throttled += 1
                let wait = CloudflareRetryPolicy.retryAfter(response.headers["Retry-After"])
                    ?? policy.backoff(retry: attempt, random: pacing.random())
                guard attempt < policy.attempts, wait <= policy.maxRetryAfter else {
                    throw Self.error(status: response.status, body: response.body, operation)
                }
                try await pause(wait, operation)
            case 500...599:
                guard attempt < policy.attempts else { throw Self.error(status: response.status, body: response.body, operation) }
                try await pause(policy.backoff(retry: attempt, random: pacing.random()), operation)
            default:
                let error = Self.error(status: response.status, body: response.body, operation)
                // 10000 means a bad token or a missing permission: the token verify tells which.
                if error.kind == .missingPermission, error.code == 10000, operation != .verifyToken {
                    throw await explained(error)
                }
                throw error
            }
        }
    }

    /// A 403 code 10000 with what the token verify says: `invalidToken` when the token is not
    /// valid, else the missing permission, confirmed. A user-owned token verifies at
    /// `/user/tokens/verify`; an account-owned one only at `/accounts/{id}/tokens/verify`
    /// (API-FACTS §B.1), so that one is asked too when the account is known and the first says no.
    private func explained(_ error: CloudflareError) async -> CloudflareError {
        var explained = error
        var verdict: CloudflareError.TokenVerify
        do {
            _ = try await verifyToken()
            verdict = .active
        } catch let refused where refused.kind == .invalidToken {
            verdict = .invalid(refused.cloudflareMessage)
            if let accountID {
                do {
                    _ = try await verifyToken(accountID: accountID)
                    verdict = .active
                } catch {
                    // Both doors say no: the user verify's words stand.
                }
            }
        } catch {
            // The verify itself could not be made (an outage, a rate limit): the 403 stays unexplained.
            return explained
        }
        explained.tokenVerify = verdict
        if case .invalid = verdict { explained.kind = .invalidToken }
        return explained
    }

    /// Whether a request that failed with `error` before any answer may be sent again at once.
    /// A read may. A write only when the connection was never made (curl 5, 6, 7: proxy or host
    /// not resolved, connection refused): after a timeout or a broken connection Cloudflare may
    /// have applied it, and a repeated batch then fails whole on the records it already wrote
    /// (81057, each then found alone by halving: thousands of requests for one 3,500-record batch).
    /// The write is reported failed instead; the next cycle lists the zone again and plans from
    /// what is there.
    static func mayRepeat(_ method: String, after error: NetIOError) -> Bool {
        guard error.kind == .transfer else { return false }
        return method == "GET" || [5, 6, 7].contains(error.code)
    }

    private func waitForBudget(_ operation: CloudflareOperation) async throws(CloudflareError) {
        while true {
            let wait = window.wait(at: pacing.now(), policy: policy)
            if wait <= .zero { break }
            counts.waited += wait
            do { try await pacing.sleep(wait) } catch { throw cancelled(operation) }
        }
        window.record(pacing.now())
    }

    private func pause(_ duration: Duration, _ operation: CloudflareOperation) async throws(CloudflareError) {
        counts.retries += 1
        counts.waited += duration
        do { try await pacing.sleep(duration) } catch { throw cancelled(operation) }
    }

    private func cancelled(_ operation: CloudflareOperation) -> CloudflareError {
        CloudflareError(kind: .unreachable, operation: operation, detail: "cancelled while waiting to retry")
    }

    private func invalid(_ operation: CloudflareOperation, _ detail: String, status: Int = 0) -> CloudflareError {
        CloudflareError(kind: .invalidResponse, operation: operation, status: status, detail: detail)
    }

    /// Reads a successful reply's envelope (the fuzz harness feeds this any bytes).
    package static func decodeReply<T: Decodable>(_ body: Data, as type: T.Type) throws -> CloudflareEnvelope<T> {
        try JSONDecoder().decode(CloudflareEnvelope<T>.self, from: body)
    }

    /// A 2xx reply whose envelope says `success: false`: classified by its codes as a 4xx would
    /// be (an invalid token, a refused record), never taken as done.
    package static func unsuccessful(status: Int, errors: [CloudflareAPIMessage], _ operation: CloudflareOperation) -> CloudflareError {
        var error = classify(status: status, errors: errors.map(\.redacted), operation)
        if error.kind == .serverError || error.kind == .rateLimited { error.kind = .refused }
        error.detail = "success: false in an HTTP \(status) reply"
        return error
    }

    /// Classifies a failed reply by status and Cloudflare code (API-FACTS §B.7).
    package static func error(status: Int, body: Data, _ operation: CloudflareOperation) -> CloudflareError {
        let errors = ((try? JSONDecoder().decode(CloudflareErrorEnvelope.self, from: body))?.errors ?? []).map(\.redacted)
        var error = classify(status: status, errors: errors, operation)
        // A peer's words, quoted only once the redactor has removed credentials from them.
        if errors.isEmpty { error.detail = Redaction.body(body) }
        return error
    }

    private static func classify(status: Int, errors: [CloudflareAPIMessage], _ operation: CloudflareOperation) -> CloudflareError {
        let codes = Set(errors.map(\.code))
        let invalidToken = errors.contains { $0.code == 9109 && $0.message.lowercased().contains("invalid") }
        let kind: CloudflareError.Kind
        switch status {
        case 429: kind = .rateLimited
        case 500...599: kind = .serverError
        case 401: kind = .invalidToken
        case _ where invalidToken || !codes.isDisjoint(with: [6003, 6111, 1000]): kind = .invalidToken
        case 403: kind = operation == .verifyToken ? .invalidToken : .missingPermission
        case _ where operation == .listZones && !codes.isDisjoint(with: [7003, 7000]): kind = .zoneNotFound
        default: kind = .refused
        }
        return CloudflareError(kind: kind, operation: operation, status: status, errors: errors)
    }

    private static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
    }

    private static func queryValue(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
