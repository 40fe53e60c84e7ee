internal import CCurl
import Foundation

/// How a plain `smtp://` connection treats STARTTLS. (`smtps://` is TLS from the first byte.)
public enum STARTTLSPolicy: String, Sendable, Hashable, CaseIterable {
    /// Never upgrade.
    case none
    /// Upgrade when the relay offers it, go on in clear text otherwise.
    case opportunistic
    /// Upgrade or fail (curl code 64) — the relay must offer STARTTLS.
    case required
}

/// Where and how to hand mail to a relay.
public struct SMTPRelay: Sendable, Hashable {
    /// `smtp://host[:port][/ehlo-name]` or `smtps://host[:port]`.
    public var url: String
    public var startTLS: STARTTLSPolicy
    public var username: String?
    public var password: String?
    public var tls: TLSOptions
    public var timeout: Duration

    public init(
        url: String, startTLS: STARTTLSPolicy = .opportunistic, username: String? = nil, password: String? = nil,
        tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(30)
    ) {
        self.url = url
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.tls = tls
        self.timeout = timeout
    }
}

/// What the relay said when it took a message.
public struct SMTPReceipt: Sendable, Hashable {
    /// The relay's last reply code (250 when accepted).
    public var code: Int
}

/// Why a message was not delivered to the relay.
public struct SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public var underlying: NetIOError
    /// The relay's last reply code, 0 when no reply came (connection refused, timeout).
    public var replyCode: Int

    /// About the relay, not the message: it refused netagent's login (535, 534, 530, 538, curl's
    /// "login denied"), refused the connection's terms (STARTTLS missing, a bad certificate,
    /// TLS failed), or refused the client outright. Fixing the relay or its configuration
    /// makes the same message go through, so it stays queued.
    public var isRelayProblem: Bool {
        Self.authenticationReplies.contains(replyCode) || Self.relayCurlCodes.contains(underlying.code)
    }

    /// A 5xx about this message itself (its recipients, size or content): sending it again
    /// fails again. A 5xx about the relay (`isRelayProblem`) is not.
    public var isPermanent: Bool { (500..<600).contains(replyCode) && !isRelayProblem }

    /// RFC 4954 §6: authentication required (530), mechanism too weak (534), credentials invalid
    /// (535), encryption required (538); 454 is a temporary authentication failure.
    static let authenticationReplies: Set<Int> = [454, 530, 534, 535, 538]
    /// libcurl: 9 access denied (EHLO/HELO refused), 35 TLS connect, 53/54/58/59/66/80/82/83/90/91/98
    /// TLS engine, certificate and pinning failures, 60 peer certificate, 64 STARTTLS refused, 67 login denied,
    /// 77 CA file.
    static let relayCurlCodes: Set<Int> = [9, 35, 53, 54, 58, 59, 60, 64, 66, 67, 77, 80, 82, 83, 90, 91, 98]

    public var description: String {
        replyCode > 0 ? "\(underlying) — relay replied \(replyCode)" : underlying.description
    }
}

/// Sends RFC 5322 messages through an SMTP relay with libcurl, on a `CurlLoop`.
public struct SMTPClient: Sendable {
    public let loop: CurlLoop

    public init(loop: CurlLoop = .shared) {
        self.loop = loop
    }

    /// Greets the relay without sending mail: connect, EHLO (STARTTLS and AUTH as `relay` says),
    /// NOOP, QUIT. Returns the reply code to NOOP (250 from a relay that is ready).
    public func greet(_ relay: SMTPRelay) async throws(SMTPError) -> SMTPReceipt {
        let display = Redaction.url(relay.url)
        let transfer: CurlTransfer
        do {
            transfer = try Self.transfer(relay, display: display)
            // No MAIL FROM, no RCPT, no upload: libcurl sends the custom command instead of a mail.
            try transfer.easy.set(CURLOPT_CUSTOMREQUEST, "NOOP")
            // Close the connection after the command, so QUIT is sent now rather than left in the cache.
            try transfer.easy.set(CURLOPT_FORBID_REUSE, 1)
        } catch {
            throw SMTPError(underlying: error, replyCode: 0)
        }
        return try await perform(transfer)
    }

    /// Sends one message. `message` holds its headers and body with CRLF line ends; libcurl
    /// does the dot-stuffing. Returns only when the relay accepted it (250).
    public func send(message: [UInt8], from: String, to recipients: [String], via relay: SMTPRelay)
        async throws(SMTPError) -> SMTPReceipt
    {
        let display = Redaction.url(relay.url)
        func setupError(_ error: NetIOError) -> SMTPError { SMTPError(underlying: error, replyCode: 0) }
        guard !recipients.isEmpty else {
            throw setupError(NetIOError(kind: .invalidRequest, message: "no recipients", url: display))
        }
        let transfer: CurlTransfer
        do {
            transfer = try Self.transfer(relay, display: display)
            let easy = transfer.easy
            try easy.set(CURLOPT_MAIL_FROM, "<\(from)>")
            try easy.set(CURLOPT_MAIL_RCPT, list: recipients.map { "<\($0)>" })
            try easy.set(CURLOPT_UPLOAD, 1)
            try easy.set(CURLOPT_INFILESIZE_LARGE, message.count)
            try transfer.setUpload(message)
        } catch {
            throw setupError(error)
        }
        return try await perform(transfer)
    }

    /// A transfer to `relay` with its URL, time limits, STARTTLS policy, credentials and TLS settings.
    private static func transfer(_ relay: SMTPRelay, display: String) throws(NetIOError) -> CurlTransfer {
        guard let scheme = URLComponents(string: relay.url)?.scheme?.lowercased(), scheme == "smtp" || scheme == "smtps" else {
            throw NetIOError(kind: .invalidRequest, message: "not an smtp:// or smtps:// URL", url: display)
        }
        let easy = try CurlEasy()
        let transfer = try CurlTransfer(easy: easy, displayURL: display)
        try easy.set(CURLOPT_URL, relay.url)
        try easy.set(CURLOPT_TIMEOUT_MS, max(1, relay.timeout.milliseconds))
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, min(relay.timeout, .seconds(10)).milliseconds))
        let useSSL: curl_usessl = switch relay.startTLS {
        case .none: CURLUSESSL_NONE
        case .opportunistic: CURLUSESSL_TRY
        case .required: CURLUSESSL_ALL
        }
        try easy.set(CURLOPT_USE_SSL, Int(useSSL.rawValue))
        if let username = relay.username { try easy.set(CURLOPT_USERNAME, username) }
        if let password = relay.password { try easy.set(CURLOPT_PASSWORD, password) }
        if let caFile = relay.tls.caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        if let caPEM = relay.tls.caPEM { try easy.set(CURLOPT_CAINFO_BLOB, blob: caPEM) }
        try easy.set(CURLOPT_SSL_VERIFYPEER, relay.tls.verify ? 1 : 0)
        try easy.set(CURLOPT_SSL_VERIFYHOST, relay.tls.verify ? 2 : 0)
        return transfer
    }

    /// Runs `transfer` on the loop; the relay's last reply code goes with the result either way.
    private func perform(_ transfer: CurlTransfer) async throws(SMTPError) -> SMTPReceipt {
        do {
            try await loop.perform(transfer) { (continuation: CheckedContinuation<Void, any Error>) in
                transfer.onFinish = { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                }
            }
        } catch {
            throw SMTPError(underlying: error, replyCode: transfer.easy.info(CURLINFO_RESPONSE_CODE))
        }
        return SMTPReceipt(code: transfer.easy.info(CURLINFO_RESPONSE_CODE))
    }
}
