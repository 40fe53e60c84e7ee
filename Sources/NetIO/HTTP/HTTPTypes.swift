public import Foundation

/// One header line; names compare case-insensitively through `HTTPHeaders`.
public struct HTTPHeader: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension [HTTPHeader] {
    /// The first value of the header `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// TLS settings for one request. Verification is on unless `verify` is false.
public struct TLSOptions: Hashable, Sendable {
    /// A CA bundle file to trust instead of the system's.
    public var caFile: String?
    /// CA certificates as PEM text (a Kubernetes `certificate-authority-data`, decoded).
    public var caPEM: String?
    /// A client certificate and its key as PEM text (Talos kubeconfigs use these).
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    /// The name to verify the server's certificate against when it differs from the URL's host
    /// (kubeconfig `tls-server-name`). The request then connects to the URL's host but speaks
    /// to `serverName`, through CURLOPT_CONNECT_TO.
    public var serverName: String?
    /// Verify the server's certificate and name. Turn off only for one endpoint, on purpose.
    public var verify: Bool

    public init(
        caFile: String? = nil, caPEM: String? = nil, clientCertificatePEM: String? = nil,
        clientKeyPEM: String? = nil, serverName: String? = nil, verify: Bool = true
    ) {
        self.caFile = caFile
        self.caPEM = caPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.serverName = serverName
        self.verify = verify
    }
}

/// An HTTP request. `pinnedAddress` sends it to one IP address whatever the URL's host
/// resolves to (probing one node behind a VIP or a name).
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: Data?
    /// The whole transfer's time limit; `nil` for none (watches).
    public var timeout: Duration?
    public var connectTimeout: Duration
    public var tls: TLSOptions
    /// Connect to this IP address instead of resolving the URL's host. Implemented with
    /// CURLOPT_CONNECT_TO rather than CURLOPT_RESOLVE, because RESOLVE entries land in the
    /// loop's shared DNS cache and would leak into other requests for the same host.
    public var pinnedAddress: String?
    /// The most body bytes (decoded) a response may have; a larger one ends the transfer with
    /// `NetIOError.Kind.responseTooLarge`. For `HTTPClient.stream` it bounds the whole
    /// stream; nil there for a stream as long as the server keeps it open (a watch), whose
    /// reader bounds each event instead. See `HTTPBodyLimit`.
    public var maxBodyBytes: Int?

    public init(
        method: String = "GET", url: String, headers: [HTTPHeader] = [], body: Data? = nil,
        timeout: Duration? = .seconds(30), connectTimeout: Duration = .seconds(10),
        tls: TLSOptions = TLSOptions(), pinnedAddress: String? = nil, maxBodyBytes: Int? = HTTPBodyLimit.standard
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.pinnedAddress = pinnedAddress
        self.maxBodyBytes = maxBodyBytes
    }
}

/// A complete response: status, headers, body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: Data
    /// Time from start to the last byte.
    public var duration: Duration
}

/// A response whose body arrives in pieces (a Kubernetes watch). Stop iterating `body`, or
/// cancel the task that iterates it, and the transfer is removed at once.
public struct HTTPStreamingResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: HTTPBodyStream
}

/// The body of a streaming response, piece by piece. One consumer; when its iterator is
/// dropped (the loop left) or its task cancelled, the transfer is removed.
public struct HTTPBodyStream: AsyncSequence, Sendable {
    public typealias Element = Data

    let pieces: AsyncThrowingStream<Data, any Error>
    let stop: @Sendable () -> Void
    /// Told how many bytes the reader took, so that unread bytes stay bounded.
    let consumed: @Sendable (Int) -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Data, any Error>.AsyncIterator
        let stopper: StopOnDeinit
        let consumed: @Sendable (Int) -> Void

        public mutating func next() async throws -> Data? {
            let piece = try await base.next()
            if let piece { consumed(piece.count) }
            return piece
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: pieces.makeAsyncIterator(), stopper: StopOnDeinit(stop), consumed: consumed)
    }
}

/// Runs `stop` when the last reference goes: an iterator left behind ends its transfer.
final class StopOnDeinit: Sendable {
    let stop: @Sendable () -> Void
    init(_ stop: @escaping @Sendable () -> Void) { self.stop = stop }
    deinit { stop() }
}

extension Duration {
    /// Whole milliseconds, saturating at `Int.max` rather than trapping on absurd durations.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let (whole, overflow) = Int(seconds).multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? Int.min : Int.max }
        return whole.addingReportingOverflow(Int(attoseconds / 1_000_000_000_000_000)).overflow
            ? Int.max : whole + Int(attoseconds / 1_000_000_000_000_000)
    }
}
