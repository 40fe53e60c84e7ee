public import NetIO

/// A failed Kubernetes API call, with what a person needs to act on it.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The request never got an HTTP answer (connection refused, TLS, timeout).
        case transport
        /// The API server answered with an error status.
        case http
        /// The answer was not the JSON expected.
        case decoding
        /// The configuration (kubeconfig, in-cluster files) is unusable.
        case configuration
    }

    public var code: Code
    /// The HTTP status, 0 when there was none.
    public var status: Int
    /// The Status object's reason (`Expired`, `Forbidden`, `NotFound`, …) when the server sent one.
    public var reason: String
    public var message: String
    /// The request's method and path (no credentials).
    public var method: String
    public var path: String
    /// The server's `Retry-After` on a 429 or 503.
    public var retryAfter: Duration?
    /// The NetIO error underneath a transport failure.
    public var underlying: NetIOError?

    public init(code: Code, status: Int = 0, reason: String = "", message: String, method: String = "GET",
                path: String = "", retryAfter: Duration? = nil, underlying: NetIOError? = nil) {
        self.code = code
        self.method = method
        self.status = status
        self.reason = reason
        self.message = message
        self.path = path
        self.retryAfter = retryAfter
        self.underlying = underlying
    }

    /// A resource version or continue token too old to serve: relist from scratch.
    public var isExpired: Bool { code == .http && (status == 410 || reason == "Expired" || reason == "Gone") }
    /// 504 "Too large resource version": the server has not reached the version asked for (a
    /// lagging apiserver replica, or one restored from a backup). client-go's reflector relists
    /// on it as on 410 (apiserver storage.IsTooLargeResourceVersion: a Timeout whose cause is
    /// ResourceVersionTooLarge, or older servers' message).
    public var isTooLargeResourceVersion: Bool {
        code == .http && status == 504 && message.contains("Too large resource version")
    }
    /// 409: an update from a stale resourceVersion (reason Conflict) or a create of an existing
    /// name (reason AlreadyExists). Read again and retry, or lose the race (leader election).
    public var isConflict: Bool { code == .http && status == 409 }
    public var isNotFound: Bool { code == .http && status == 404 }

    /// The refusals a writer branches on, as the API server tells them apart.
    public enum Refusal: Sendable, Hashable {
        /// 404: the object (or its namespace) does not exist.
        case notFound
        /// 409 AlreadyExists: a create of a name that is taken.
        case alreadyExists
        /// 409 Conflict: a replace from a stale `metadata.resourceVersion`.
        case conflict
    }

    /// Which refusal this is; nil for every other failure (transport, 403, 422, 5xx, …).
    public var refusal: Refusal? {
        guard code == .http else { return nil }
        switch status {
        case 404: return .notFound
        case 409: return reason == "AlreadyExists" ? .alreadyExists : .conflict
        default: return nil
        }
    }

    public var description: String {
        var text = path.isEmpty ? "" : "\(method) \(path): "
        switch code {
        case .http: text += "\(status)" + (reason.isEmpty ? "" : " \(reason)") + (message.isEmpty ? "" : ": \(message)")
        case .transport, .decoding, .configuration: text += message
        }
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }
}
