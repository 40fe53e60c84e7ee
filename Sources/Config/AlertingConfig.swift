public import Foundation
public import NetIO

/// Alert mail through an SMTP relay (`alerting:`).
public struct AlertingConfig: Hashable, Sendable {
    public var smtp: SMTP
    /// A condition must hold this long before it fires (default 2m).
    public var forDuration: Duration
    /// A firing group is mailed again after this long (default 4h).
    public var repeatInterval: Duration
    /// Silences written in the configuration.
    public var silences: [Silence]
    /// A new group waits this long so alerts firing together share a mail (default 30s).
    public var groupWait: Duration
    /// A mailed group waits this long before a mail about a change to it (default 5m).
    public var groupInterval: Duration
    /// The first wait before mail the relay did not take is tried again; it doubles per try up to 30m (default 30s).
    public var retryDelay: Duration

    public init(smtp: SMTP, forDuration: Duration = .seconds(120), repeatInterval: Duration = .seconds(4 * 3600),
                silences: [Silence] = [], groupWait: Duration = .seconds(30), groupInterval: Duration = .seconds(300),
                retryDelay: Duration = .seconds(30)) {
        self.smtp = smtp
        self.forDuration = forDuration
        self.repeatInterval = repeatInterval
        self.silences = silences
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.retryDelay = retryDelay
    }

    /// The relay and the envelope (`alerting.smtp`).
    public struct SMTP: Hashable, Sendable {
        /// `smtp://HOST[:PORT][/EHLO-NAME]` or `smtps://` (implicit TLS).
        public var url: URL
        public var from: String
        public var to: [String]
        /// STARTTLS on `smtp://` (default `opportunistic`, `required` when a password is set).
        public var starttls: STARTTLSPolicy
        /// CA bundle to verify the relay with; nil means the system's.
        public var caFile: String?
        /// User name for SMTP AUTH; nil means no authentication.
        public var username: String?
        /// Where the SMTP password is read from (`passwordFile` / `passwordEnv`).
        public var password: SecretSource?
    }

    /// Mutes alerts matching `rule` and/or `target` until `until`.
    public struct Silence: Hashable, Sendable {
        /// Alert rule such as `node-unreachable`; nil matches every rule.
        public var rule: String?
        /// Alert target such as `k8s-6`; nil matches every target.
        public var target: String?
        /// End of the silence (RFC 3339 timestamp).
        public var until: Date
        /// Why, for people.
        public var comment: String?

        /// A silence of `rule` and/or `target` (nil matches all) until `until`.
        public init(rule: String?, target: String?, until: Date, comment: String? = nil) {
            self.rule = rule
            self.target = target
            self.until = until
            self.comment = comment
        }
    }
}

extension AlertingConfig {
    static func read(_ field: Field) -> AlertingConfig? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let smtp = map.required("smtp").flatMap(readSMTP)
        let forDuration = map.optional("for")?.duration(minimum: .zero) ?? .seconds(120)
        let repeatInterval = map.optional("repeatInterval")?.duration(minimum: .seconds(60)) ?? .seconds(4 * 3600)
        let silences = map.optional("silences")?.list(readSilence) ?? []
        let groupWait = map.optional("groupWait")?.duration(minimum: .zero) ?? .seconds(30)
        let groupInterval = map.optional("groupInterval")?.duration(minimum: .zero) ?? .seconds(300)
        let retryDelay = map.optional("retryDelay")?.duration(minimum: .seconds(1)) ?? .seconds(30)
        guard let smtp else { return nil }
        return AlertingConfig(smtp: smtp, forDuration: forDuration, repeatInterval: repeatInterval, silences: silences,
                              groupWait: groupWait, groupInterval: groupInterval, retryDelay: retryDelay)
    }

    private static func readSMTP(_ field: Field) -> SMTP? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let url = map.required("url")?.url(schemes: ["smtp", "smtps"])
        let from = map.required("from")?.mailbox()
        let to = map.required("to")?.list { $0.mailbox() }
        if to?.isEmpty == true { map.fail("'to' lists no recipient") }
        let caFile = map.optional("caFile")?.filePath()
        let username = map.optional("username")?.string()
        let password = map.secret("password", required: false)
        // With a password, a relay that does not offer STARTTLS must not get it in clear text:
        // the default is then `required`; `none` or `opportunistic` must be asked for.
        let starttls = map.optional("starttls")?.choice(STARTTLSPolicy.self) ?? (password == nil ? .opportunistic : .required)
        if password != nil && username == nil { map.fail("a password needs a 'username'") }
        guard let url, let from, let to else { return nil }
        return SMTP(url: url, from: from, to: to, starttls: starttls, caFile: caFile, username: username,
                    password: password)
    }

    private static func readSilence(_ field: Field) -> Silence? {
        guard let map = field.mapping() else { return nil }
        defer { map.finish() }
        let rule = map.optional("rule")?.string()
        let target = map.optional("target")?.string()
        if !map.has("rule") && !map.has("target") { map.fail("a silence needs 'rule', 'target' or both") }
        let until = map.required("until")?.parsed { text throws(ConfigValueError) in
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw ConfigValueError("'\(text)' is not an RFC 3339 time such as 2026-12-24T18:00:00Z")
            }
            return date
        }
        let comment = map.optional("comment")?.string()
        guard let until else { return nil }
        return Silence(rule: rule, target: target, until: until, comment: comment)
    }
}

extension Field {
    /// A bare address `local@domain` (no display name).
    func mailbox() -> String? {
        guard let text = string() else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        let plain = !text.contains { $0.isWhitespace || "<>,;\"".contains($0) }
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), plain else {
            fail("'\(text)' is not a mail address like name@example.com")
            return nil
        }
        return text
    }
}
