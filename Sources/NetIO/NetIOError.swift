/// An I/O failure in NetIO, with what a person needs to act on it.
public struct NetIOError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A handle or option could not be set up (a bug or out of memory).
        case setup
        /// The transfer failed at the transport level (connect, TLS, timeout, …): see `code`.
        case transfer
        /// The caller cancelled the operation.
        case cancelled
        /// The request itself is malformed (a URL without scheme, an address that is not an IP).
        case invalidRequest
        /// The peer sent a body (after decompression) above the request's `maxBodyBytes`:
        /// the transfer was stopped there. See `HTTPBodyLimit`.
        case responseTooLarge
    }

    public let kind: Kind
    /// libcurl's `CURLcode` for transfers (7 = could not connect, 28 = timeout, 60 = bad
    /// certificate, 64 = STARTTLS refused), 0 otherwise.
    public let code: Int
    public let message: String
    /// The URL concerned with user, password and secret query values removed.
    public let url: String?

    public init(kind: Kind, code: Int = 0, message: String, url: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.url = url
    }

    public var isTimeout: Bool { kind == .transfer && code == 28 }

    public var description: String {
        var text = url.map { "\($0): " } ?? ""
        text += message
        if kind == .transfer || kind == .responseTooLarge { text += " (curl code \(code))" }
        return text
    }
}
