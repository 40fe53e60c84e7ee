import Foundation
public import NetIO

/// A Kubernetes API client on NetIO's HTTPClient: JSON GETs, paged lists, watches and group
/// discovery. Errors are `KubeError`s carrying the server's Status; nothing here retries
/// except one token re-read after a 401 (the informer owns back-off).
public struct KubeClient: Sendable {
    public let connection: ClusterConnection
    let http: HTTPClient
    let tokens: TokenSource

    public init(connection: ClusterConnection, http: HTTPClient = HTTPClient(),
                tokenRefreshInterval: Duration = .seconds(60)) {
        self.connection = connection
        self.http = http
        tokens = TokenSource(credentials: connection.credentials, refreshInterval: tokenRefreshInterval)
    }

    /// GETs `path` with `query` and decodes the JSON answer. Non-2xx answers throw with the
    /// server's Status (reason, message) and `Retry-After`.
    public func get(_ path: String, query: [(String, String)] = []) async throws(KubeError) -> JSONValue {
        let response = try await send(path: path, query: query, timeout: .seconds(60))
        return try decodeJSON(response.body, path: path)
    }

    /// One page of a list. `resourceVersion` of the page is the collection's.
    public func list(_ resource: KubeResource, namespace: String? = nil, limit: Int? = nil,
                     continueToken: String? = nil) async throws(KubeError) -> KubeListPage {
        var query: [(String, String)] = []
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        let path = resource.path(namespace: namespace)
        let json = try await get(path, query: query)
        guard case .array(let items)? = json["items"] else {
            throw KubeError(code: .decoding, message: "list without items", path: path)
        }
        let kind = json["kind"]?.stringValue.map { $0.hasSuffix("List") ? String($0.dropLast(4)) : $0 } ?? resource.kind
        let apiVersion = json["apiVersion"]?.stringValue ?? resource.apiVersion
        let metadata = json["metadata"]
        let next = metadata?["continue"]?.stringValue
        return KubeListPage(
            items: items.map { KubeObject(raw: $0, defaultKind: kind, defaultAPIVersion: apiVersion) },
            resourceVersion: metadata?["resourceVersion"]?.stringValue ?? "",
            continueToken: next.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The whole collection, `pageSize` items a request. An expired continue token (410) starts
    /// the list again from the first page, up to `restarts` times.
    public func listAll(_ resource: KubeResource, namespace: String? = nil, pageSize: Int = 500,
                        restarts: Int = 3) async throws(KubeError) -> KubeListPage {
        var attempt = 0
        while true {
            do {
                var page = try await list(resource, namespace: namespace, limit: pageSize)
                var items = page.items
                while let token = page.continueToken {
                    page = try await list(resource, namespace: namespace, limit: pageSize, continueToken: token)
                    items += page.items
                }
                return KubeListPage(items: items, resourceVersion: page.resourceVersion, continueToken: nil)
            } catch where error.isExpired && attempt < restarts {
                attempt += 1
            }
        }
    }

    /// Starts a watch from `resourceVersion` with bookmarks. The server closes it after
    /// `timeoutSeconds`; a 410 here means the version is too old (relist).
    public func watch(_ resource: KubeResource, namespace: String? = nil, resourceVersion: String,
                      timeoutSeconds: Int? = nil) async throws(KubeError) -> KubeWatchStream {
        var query = [("watch", "1"), ("allowWatchBookmarks", "true")]
        if !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        let path = resource.path(namespace: namespace)
        let response = try await send(path: path, query: query, timeout: nil, streaming: true)
        guard let body = response.stream else {
            throw KubeError(code: .transport, message: "watch answered without a stream", path: path)
        }
        return KubeWatchStream(body: body, resource: resource, path: path)
    }

    /// Asks which versions of an API group the server serves (`GET /apis/<group>`).
    /// A 404 means the group's CRDs are not installed.
    public func discover(group: String) async throws(KubeError) -> APIGroupInfo {
        let path = "/apis/" + group
        let json = try await get(path)
        guard case .array(let versions)? = json["versions"] else {
            throw KubeError(code: .decoding, message: "APIGroup without versions", path: path)
        }
        return APIGroupInfo(name: json["name"]?.stringValue ?? group,
                            versions: versions.compactMap { $0["version"]?.stringValue },
                            preferredVersion: json["preferredVersion"]?["version"]?.stringValue)
    }

    struct Answer {
        var status: Int
        var body: Data
        var stream: HTTPBodyStream?
    }

    func send(method: String = "GET", path: String, query: [(String, String)], body: Data? = nil, timeout: Duration?,
              streaming: Bool = false) async throws(KubeError) -> Answer {
        var retriedAuth = false
        while true {
            var request = try await makeRequest(path: path, query: query, timeout: timeout)
            request.method = method
            // A watch runs as long as the server keeps it open; its framer bounds each event.
            request.maxBodyBytes = streaming ? nil : HTTPBodyLimit.kubernetesList
            if let body {
                request.body = body
                request.headers.append(HTTPHeader(name: "Content-Type", value: "application/json"))
            }
            var answer: Answer
            var headers: [HTTPHeader]
            do {
                if streaming {
                    let response = try await http.stream(request)
                    headers = response.headers
                    answer = Answer(status: response.status, body: Data(), stream: response.body)
                    if response.status >= 300 {
                        // An error answer: read its (small) Status body; the stream ends with it.
                        for try await piece in response.body {
                            answer.body += piece
                            if answer.body.count > HTTPBodyLimit.standard { break }
                        }
                        answer.stream = nil
                    }
                } else {
                    let response = try await http.send(request)
                    headers = response.headers
                    answer = Answer(status: response.status, body: response.body, stream: nil)
                }
            } catch let error as NetIOError {
                throw KubeError(code: .transport, message: error.description, method: method, path: path, underlying: error)
            } catch {
                throw KubeError(code: .transport, message: "\(error)", method: method, path: path)
            }
            if (200..<300).contains(answer.status) { return answer }
            if answer.status == 401, !retriedAuth, await tokens.invalidate() {
                retriedAuth = true
                continue
            }
            var error = statusError(answer.status, body: answer.body, headers: headers, path: path)
            error.method = method
            throw error
        }
    }

    func makeRequest(path: String, query: [(String, String)], timeout: Duration?) async throws(KubeError) -> HTTPRequest {
        var components = URLComponents()
        components.path = path
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        // `+` is legal in a query but Kubernetes reads it as a space; continue tokens are base64.
        let suffix = (components.percentEncodedPath) + (components.percentEncodedQuery.map {
            "?" + $0.replacingOccurrences(of: "+", with: "%2B")
        } ?? "")
        var headers = [HTTPHeader(name: "Accept", value: "application/json")]
        if let token = try await tokens.token() {
            headers.append(HTTPHeader(name: "Authorization", value: "Bearer " + token))
        }
        return HTTPRequest(url: connection.server + suffix, headers: headers, timeout: timeout, tls: connection.tls)
    }

    func statusError(_ status: Int, body: Data, headers: [HTTPHeader], path: String) -> KubeError {
        let json = try? JSONDecoder().decode(JSONValue.self, from: body)
        let parsed = json.flatMap { KubeStatus($0) }
        let retryAfter = headers["Retry-After"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { Duration.seconds($0) }
        return KubeError(code: .http, status: status, reason: parsed?.reason ?? "",
                         message: parsed.map { Redaction.text($0.message) } ?? Redaction.body(body), path: path, retryAfter: retryAfter)
    }

    func decodeJSON(_ body: Data, path: String) throws(KubeError) -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: body) } catch {
            throw KubeError(code: .decoding, message: "not JSON: \(error)", path: path)
        }
    }
}

/// One page of a list, or a whole list from `listAll`.
public struct KubeListPage: Sendable {
    public var items: [KubeObject]
    /// The collection's resource version: watch from here.
    public var resourceVersion: String
    /// Present when more pages follow.
    public var continueToken: String?
}

/// What `GET /apis/<group>` says.
public struct APIGroupInfo: Sendable, Hashable {
    public var name: String
    public var versions: [String]
    public var preferredVersion: String?
}
