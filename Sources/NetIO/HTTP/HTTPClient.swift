internal import CCurl
import Foundation
import Synchronization

/// An async HTTP client on libcurl's multi interface. Every request runs on one `CurlLoop`
/// thread, connections are reused, and cancelling the awaiting task removes the transfer.
///
/// Failure modes: transport errors (refused, timeout, TLS) throw `NetIOError` with the curl code
/// and the URL with secrets removed; an HTTP error status is not thrown but returned.
public struct HTTPClient: Sendable {
    public let loop: CurlLoop
    public var userAgent: String

    public init(loop: CurlLoop = .shared, userAgent: String = "netagent") {
        self.loop = loop
        self.userAgent = userAgent
    }

    /// Sends `request` and returns the whole response.
    public func send(_ request: HTTPRequest) async throws(NetIOError) -> HTTPResponse {
        let transfer = try makeTransfer(request)
        let start = ContinuousClock.now
        // Only the loop thread appends to `body`, before `onFinish` reads it.
        let body = UncheckedBox(Data())
        transfer.onData = { bytes in body.value.append(contentsOf: bytes); return true }
        return try await loop.perform(transfer) { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
            transfer.onFinish = { error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: HTTPResponse(
                        status: transfer.status, headers: transfer.headers, body: body.value,
                        duration: ContinuousClock.now - start))
                }
            }
        }
    }

    /// Starts `request` and returns once the response head has arrived; the body then arrives
    /// piece by piece. The transfer ends when the server closes, on an error (thrown from the
    /// stream), or when the consumer stops iterating (the transfer is removed at once).
    public func stream(_ request: HTTPRequest) async throws(NetIOError) -> HTTPStreamingResponse {
        let transfer = try makeTransfer(request)
        let (body, bodyContinuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        bodyContinuation.onTermination = { [loop] _ in loop.cancel(transfer) }
        // Bytes handed over and not yet read: a peer that sends faster than the reader reads
        // (a flood of small watch events) would otherwise pile them up without end.
        let unread = Mutex(0)
        transfer.onData = { bytes in
            let piled = unread.withLock { value in value += bytes.count; return value }
            guard piled <= HTTPBodyLimit.streamUnread else {
                transfer.refusal = "more than \(HTTPBodyLimit.streamUnread) bytes arrived and were not yet read; stream stopped"
                return false
            }
            bodyContinuation.yield(Data(bytes))
            return true
        }
        return try await loop.perform(transfer) { (continuation: CheckedContinuation<HTTPStreamingResponse, any Error>) in
            // Resumed once: by the head, or by an error before any head arrived.
            let headPending = Mutex(true)
            transfer.onHead = { status, headers in
                guard headPending.withLock({ pending in defer { pending = false }; return pending }) else { return }
                continuation.resume(returning: HTTPStreamingResponse(
                    status: status, headers: headers,
                    body: HTTPBodyStream(pieces: body, stop: { [loop] in loop.cancel(transfer) },
                                         consumed: { count in unread.withLock { $0 -= count } })))
            }
            transfer.onFinish = { error in
                if headPending.withLock({ pending in defer { pending = false }; return pending }) {
                    continuation.resume(throwing: error ?? NetIOError(
                        kind: .transfer, message: "the server closed without a response", url: transfer.displayURL))
                }
                bodyContinuation.finish(throwing: error)
            }
        }
    }

    func makeTransfer(_ request: HTTPRequest) throws(NetIOError) -> CurlTransfer {
        guard var parts = URLComponents(string: request.url), let scheme = parts.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parts.host, !host.isEmpty
        else {
            throw NetIOError(kind: .invalidRequest, message: "not an http(s) URL", url: Redaction.url(request.url))
        }
        let port = parts.port ?? (scheme == "https" ? 443 : 80)
        var connectTo: [String] = []
        if let serverName = request.tls.serverName, serverName != host {
            // Speak TLS (SNI, certificate check, Host) to serverName, connect to the real host.
            connectTo.append("\(serverName):\(port):\(Self.bracketed(host)):\(port)")
            parts.host = serverName
        }
        if let pinned = request.pinnedAddress {
            guard IPAddress.isValid(pinned) else {
                throw NetIOError(kind: .invalidRequest, message: "pinned address '\(pinned)' is not an IP address",
                                 url: Redaction.url(request.url))
            }
            connectTo = ["\(parts.host ?? host):\(port):\(Self.bracketed(pinned)):\(port)"]
        }
        let url = parts.string ?? request.url
        for header in request.headers {
            if let problem = HTTPHeaderCheck.problem(header) {
                throw NetIOError(kind: .invalidRequest, message: problem, url: Redaction.url(request.url))
            }
        }
        let easy = try CurlEasy()
        let transfer = try CurlTransfer(easy: easy, displayURL: Redaction.url(request.url))
        transfer.maxBodyBytes = request.maxBodyBytes
        if let limit = request.maxBodyBytes {
            // A Content-Length above the bound fails before any body byte is read.
            try easy.set(CURLOPT_MAXFILESIZE_LARGE, limit)
        }
        try easy.set(CURLOPT_URL, url)
        try easy.set(CURLOPT_USERAGENT, userAgent)
        try easy.set(CURLOPT_ACCEPT_ENCODING, "")
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
        if let timeout = request.timeout { try easy.set(CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)) }
        try easy.set(CURLOPT_CONNECT_TO, list: connectTo)
        try setMethod(request, on: easy)
        // An empty Expect header stops libcurl waiting for "100 Continue" on larger bodies.
        let headerLines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" } + ["Expect:"]
        try easy.set(CURLOPT_HTTPHEADER, list: headerLines)
        try setTLS(request.tls, on: easy)
        return transfer
    }

    private func setMethod(_ request: HTTPRequest, on easy: CurlEasy) throws(NetIOError) {
        let method = request.method.uppercased()
        if let body = request.body {
            try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, body.count)
            var bytes = [UInt8](body)
            let code = bytes.withUnsafeMutableBytes { ccurl_setopt_ptr(easy.handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            guard code == CURLE_OK else {
                throw NetIOError(kind: .setup, code: Int(code.rawValue), message: "could not set the request body")
            }
            if method != "POST" { try easy.set(CURLOPT_CUSTOMREQUEST, method) }
        } else {
            switch method {
            case "GET": try easy.set(CURLOPT_HTTPGET, 1)
            case "HEAD": try easy.set(CURLOPT_NOBODY, 1)
            case "POST":
                try easy.set(CURLOPT_POST, 1)
                try easy.set(CURLOPT_POSTFIELDSIZE, 0)
            default: try easy.set(CURLOPT_CUSTOMREQUEST, method)
            }
        }
    }

    private func setTLS(_ tls: TLSOptions, on easy: CurlEasy) throws(NetIOError) {
        if let caFile = tls.caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        if let caPEM = tls.caPEM { try easy.set(CURLOPT_CAINFO_BLOB, blob: caPEM) }
        if let certificate = tls.clientCertificatePEM {
            try easy.set(CURLOPT_SSLCERTTYPE, "PEM")
            try easy.set(CURLOPT_SSLCERT_BLOB, blob: certificate)
        }
        if let key = tls.clientKeyPEM {
            try easy.set(CURLOPT_SSLKEYTYPE, "PEM")
            try easy.set(CURLOPT_SSLKEY_BLOB, blob: key)
        }
        try easy.set(CURLOPT_SSL_VERIFYPEER, tls.verify ? 1 : 0)
        try easy.set(CURLOPT_SSL_VERIFYHOST, tls.verify ? 2 : 0)
    }

    static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}

/// A mutable box handed to callbacks that run on one thread.
///
/// `@unchecked Sendable`: only used where one thread (the loop's) writes and the reader reads
/// after a happens-before edge (the continuation resume).
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
