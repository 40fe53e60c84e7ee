public import Foundation
import Synchronization

/// The one redactor: every text netagent shows (logs, metrics labels, `/readyz`, `/status`,
/// the alert outbox and mail) passes through it where it leaves a peer's hands, so a URL
/// with a secret, a peer that echoes request headers, or an error body holding a configured
/// secret puts none of them in any output.
///
/// It lives in NetIO because every module that shows text imports NetIO (providers, Kube,
/// NetAgent, the CLI) and NetIO is where peers' bytes first arrive; DNSCore stays pure.
public enum Redaction {
    /// What stands in for a removed value.
    public static let mask = "REDACTED"

    /// Header names whose value is a credential; a line or JSON member naming one loses its value.
    static let secretHeaders = [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-key", "x-auth-email",
        "x-auth-user-service-key", "x-auth-token", "x-auth", "x-ftl-sid", "x-api-key", "sid",
    ]

    /// Secrets shorter than this are not searched for in text: a one-letter password would
    /// otherwise mask every occurrence of that letter.
    public static let minimumSecretLength = 4

    /// Registered secrets, longest first (so a secret that contains another is masked whole):
    /// kept in that order here, once per registration, not sorted again for every log line.
    private static let secrets = Mutex<[String]>([])

    /// Makes `secret` (a token, a password, a session id) one the redactor removes from every
    /// text, as is and in base64. Called when a secret is read or handed out by a peer.
    public static func register(secret: String) {
        guard secret.count >= minimumSecretLength else { return }
        let forms = [secret, Data(secret.utf8).base64EncodedString()]
        secrets.withLock { known in
            known = Set(known).union(forms).sorted { $0.count > $1.count }
        }
    }

    /// The URL without its user, password and query values (each value, whatever its name:
    /// `?token=`, `?key=`, `?sig=` all look alike to a reader of a log).
    public static func url(_ raw: String) -> String {
        guard var parts = URLComponents(string: raw) else { return "(unparseable URL)" }
        if parts.user != nil || parts.password != nil {
            parts.user = nil
            parts.password = nil
        }
        if let items = parts.queryItems {
            parts.queryItems = items.map { URLQueryItem(name: $0.name, value: $0.value == nil ? nil : mask) }
        }
        if parts.fragment != nil { parts.fragment = mask }
        return parts.string ?? "(unparseable URL)"
    }

    /// `text` as it may be shown: credential headers' values (as `Name: value` lines or JSON
    /// members, as an echoing peer or proxy sends them), `Bearer`/`Basic` credentials, the
    /// userinfo and query values of every URL in it, and every registered secret, masked.
    public static func text(_ text: String) -> String {
        let lower = text.lowercased()
        var out = maskHeaders(text, lower: lower)
        out = maskCredentials(out, lower: lower)
        out = maskURLs(out)
        for secret in secrets.withLock({ $0 }) where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: mask)
        }
        return out
    }

    /// A peer's body as it may be quoted in an error: at most `limit` bytes, redacted.
    public static func body(_ data: Data, limit: Int = 200) -> String {
        text(String(decoding: data.prefix(limit), as: UTF8.self))
    }

    // MARK: - The passes

    // Compiled once (the log handler runs every line through `text`); NSRegularExpression is
    // immutable and Sendable, so the constants are shared between threads as they are.
    // A header as a line or a JSON member: the name (any `X-Auth-…` too, Cloudflare's legacy key
    // headers and their kin), a colon or equals sign, the value up to the end of the line or a quote.
    private static let headerPattern: NSRegularExpression? = {
        let names = (secretHeaders.map { NSRegularExpression.escapedPattern(for: $0) } + [#"x-auth-[a-z0-9-]+"#]).joined(separator: "|")
        return try? NSRegularExpression(pattern: #"(?i)(["']?\b(?:"# + names + #")\b["']?\s*[:=]\s*\[?\s*["']?)([^"'\r\n\],}]+)"#)
    }()
    private static let credentialWords = ["bearer", "basic", "token"]
    private static let credentialPattern =
        try? NSRegularExpression(pattern: #"(?i)\b(bearer|basic|token)(\s+)([A-Za-z0-9._~+/=-]{4,})"#)
    private static let urlPattern = try? NSRegularExpression(pattern: #"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+"#)

    /// `Name: value` (to the end of the line) and `"Name": "value"` / `'Name': ['value']`.
    private static func maskHeaders(_ text: String, lower: String) -> String {
        guard secretHeaders.contains(where: { lower.contains($0) }) || lower.contains("x-auth"), let regex = headerPattern else { return text }
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1" + mask)
    }

    /// `Bearer x`, `Basic x`, `Token x` wherever they stand. `lower` is the text before the
    /// header pass, which masks only values: a word this pass looks for is in it if it is in `text`.
    private static func maskCredentials(_ text: String, lower: String) -> String {
        // Most lines (every log line) hold none of the words: no regex run for them.
        guard credentialWords.contains(where: { lower.contains($0) }), let regex = credentialPattern else { return text }
        let range = NSRange(text.startIndex..., in: text)
        return regex.stringByReplacingMatches(in: text, range: range, withTemplate: "$1$2" + mask)
    }

    /// Every `scheme://…` in the text, through `url(_:)`.
    private static func maskURLs(_ text: String) -> String {
        guard text.contains("://"), let regex = urlPattern else { return text }
        var out = ""
        var last = text.startIndex
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range, in: text) else { continue }
            out += text[last..<range.lowerBound]
            let found = String(text[range])
            out += (found.contains("?") || found.contains("@") || found.contains("#")) ? url(found) : found
            last = range.upperBound
        }
        out += text[last...]
        return out
    }
}
