public import Config
public import Foundation
import GRDB
public import NetIO
public import State

/// One mail in the outbox.
public struct OutboxEntry: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        /// Not yet taken by the relay; tried again at `nextAttempt`.
        case pending
        /// The relay answered 250.
        case delivered
        /// The relay refused it for good (5xx); kept for a person to read, never retried.
        case rejected
    }

    public var id: Int64
    public var messageID: String
    public var group: String
    public var subject: String
    public var status: Status
    public var attempts: Int
    public var createdAt: Date
    public var nextAttempt: Date
    public var deliveredAt: Date?
    /// The last failure in words (no secrets: SMTP errors carry a redacted URL).
    public var lastError: String?
    /// The relay's last reply code (250 when delivered, 550 when refused, 0 when it was not reached).
    public var replyCode: Int?
}

/// How long a temporary failure waits before the next try: `initial`, doubling per attempt,
/// at most `maximum`. The attempt count lives in the state file, so back-off survives restarts.
public struct RetryPolicy: Hashable, Sendable {
    public var initial: TimeInterval
    public var maximum: TimeInterval

    public init(initial: TimeInterval = 30, maximum: TimeInterval = 1800) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The wait after the `attempts`-th failed try (1-based).
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        min(maximum, initial * pow(2, Double(max(0, min(attempts - 1, 30)))))
    }
}

/// Where mail goes: NetIO's SMTP client, a relay (STARTTLS policy, auth, CA), and the envelope.
public struct AlertMailer: Sendable {
    public var client: SMTPClient
    public var relay: SMTPRelay

    public init(client: SMTPClient = SMTPClient(), relay: SMTPRelay) {
        self.client = client
        self.relay = relay
    }

    /// The relay of `alerting.smtp`, with the password resolved from its file or variable.
    public init(config: AlertingConfig.SMTP, password: Secret?, client: SMTPClient = SMTPClient()) {
        self.init(client: client, relay: SMTPRelay(
            url: config.url.absoluteString, startTLS: config.starttls, username: config.username,
            password: password?.value, tls: TLSOptions(caFile: config.caFile)))
    }
}

/// What one delivery pass did.
public struct DeliveryReport: Hashable, Sendable {
    /// Message-IDs the relay took (250) in this pass.
    public var delivered: [String] = []
    /// Mails that failed for now and wait for their next try.
    public var deferred: [OutboxEntry] = []
    /// Mails the relay refused for good in this pass.
    public var rejected: [OutboxEntry] = []
    /// Why the relay itself failed in this pass (a refused login, TLS): every mail waits for it
    /// to be fixed. nil when the relay took or refused mails on their own merits, or was not tried.
    public var relayProblem: String?
}

/// The alert outbox in the state file (table `outbox`): a mail is written here, in the same
/// transaction as the engine state that decided it, before any attempt to send it; it is
/// marked delivered only after the relay's 250.
///
/// Guarantee: no mail is lost (it is on disk before it is tried, and stays pending through
/// relay outages and restarts) and none is queued twice (queuing and the engine's memory of
/// having notified commit together). Delivery is exactly once except in one window: a crash
/// after the relay's 250 and before the row is marked delivered sends the same bytes again
/// on restart. The copy is byte-identical, with the same Message-ID, which mail stores and
/// clients de-duplicate on; SMTP offers no way to ask a relay whether it already holds a
/// message, so at-least-once with a stable Message-ID is the strongest promise available.
public struct AlertOutbox: Sendable {
    public let store: StateStore

    public init(store: StateStore) { self.store = store }

    /// Every mail with `status` (all when nil), oldest first.
    public func entries(_ status: OutboxEntry.Status? = nil) async throws(StateStoreError) -> [OutboxEntry] {
        try await store.read("read outbox") { db in
            let rows = if let status {
                try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE status = ? ORDER BY id", arguments: [status.rawValue])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id")
            }
            return rows.map(Self.entry)
        }
    }

    /// The newest `limit` mails of any status, newest first (for the status page).
    public func recent(limit: Int) async throws(StateStoreError) -> [OutboxEntry] {
        try await store.read("read outbox") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", arguments: [max(0, limit)]).map(Self.entry)
        }
    }

    /// Queues rendered mails inside the caller's transaction.
    static func enqueue(_ messages: [(AlertMessage, group: String)], policy: AlertPolicy, at now: Date, in db: Database) throws {
        let recipients = policy.to.joined(separator: "\n")
        for (message, group) in messages {
            try db.execute(sql: """
                INSERT INTO outbox (message_id, group_key, subject, sender, recipients, body, status, attempts, created_at, next_attempt)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
                """, arguments: [message.messageID, group, message.subject, policy.from, recipients, Data(message.bytes),
                                 now.timeIntervalSince1970, now.timeIntervalSince1970])
        }
    }

    /// How many mails wait for the relay (`pending`; rejected mail is not counted).
    public func pendingCount() async throws(StateStoreError) -> Int {
        try await store.read("count outbox") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") ?? 0
        }
    }

    /// Sends every pending mail that is due at `now`, oldest first. Mails of one group keep
    /// their order: while an earlier one waits, later ones of its group wait too. A relay that
    /// cannot be reached or fails TLS ends the pass (each try would only fail again).
    public func deliverDue(now: Date, mailer: AlertMailer, retry: RetryPolicy) async throws(StateStoreError) -> DeliveryReport {
        let queue = try await store.read("read outbox") { db in
            try Row.fetchAll(db, sql: """
                SELECT id, group_key, sender, recipients, body, attempts, next_attempt FROM outbox
                WHERE status = 'pending' ORDER BY id
                """).map(Queued.init)
        }
        var report = DeliveryReport()
        var waiting: Set<String> = []
        var relayUnreachable = false
        for mail in queue {
            if relayUnreachable || waiting.contains(mail.group) || mail.next > now.timeIntervalSince1970 {
                waiting.insert(mail.group)
                continue
            }
            let outcome: (status: OutboxEntry.Status, code: Int, error: String?)
            do {
                let receipt = try await mailer.client.send(message: mail.body, from: mail.from, to: mail.to, via: mailer.relay)
                outcome = receipt.code == 250 ? (.delivered, 250, nil)
                    : (.pending, receipt.code, "the relay answered \(receipt.code), not 250")
            } catch {
                let text = Redaction.text(error.description)
                outcome = (error.isPermanent ? .rejected : .pending, error.replyCode, text)
                // No reply about this message (refused connection, a refused login, TLS): the next mail would fare the same.
                relayUnreachable = error.replyCode < 400 || error.isRelayProblem
                if error.isRelayProblem { report.relayProblem = text }
            }
            let attempts = mail.attempts + 1
            let next = now.addingTimeInterval(outcome.status == .pending ? retry.delay(afterAttempts: attempts) : 0)
            let entry = try await store.write("update outbox") { db in
                try db.execute(sql: """
                    UPDATE outbox SET status = ?, attempts = ?, next_attempt = ?, reply_code = ?, last_error = ?,
                    delivered_at = ? WHERE id = ?
                    """, arguments: [outcome.status.rawValue, attempts, next.timeIntervalSince1970, outcome.code, outcome.error,
                                     outcome.status == .delivered ? now.timeIntervalSince1970 : nil, mail.id])
                return try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [mail.id]).map(Self.entry)
            }
            guard let entry else { continue }
            switch outcome.status {
            case .delivered: report.delivered.append(entry.messageID)
            case .rejected: report.rejected.append(entry)
            case .pending:
                report.deferred.append(entry)
                waiting.insert(mail.group)
            }
        }
        return report
    }

    /// A pending mail as the delivery pass needs it.
    private struct Queued: Sendable {
        var id: Int64, group: String, from: String, to: [String], body: [UInt8], attempts: Int, next: Double

        init(_ row: Row) {
            let body: Data = row["body"], recipients: String = row["recipients"]
            (id, group, from) = (row["id"], row["group_key"], row["sender"])
            to = recipients.split(separator: "\n").map(String.init)
            self.body = Array(body)
            (attempts, next) = (row["attempts"], row["next_attempt"])
        }
    }

    /// How long delivered mail stays in the outbox (for `entries` and people reading the file).
    /// Rejected mail stays until someone deletes it.
    public static let deliveredRetention: TimeInterval = 30 * 86400

    /// Deletes delivered mail older than `deliveredRetention`, inside the caller's transaction.
    static func prune(at now: Date, in db: Database) throws {
        try db.execute(sql: "DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?",
                       arguments: [now.timeIntervalSince1970 - deliveredRetention])
    }

    private static func entry(_ row: Row) -> OutboxEntry {
        let delivered: Double? = row["delivered_at"]
        return OutboxEntry(
            id: row["id"], messageID: row["message_id"], group: row["group_key"], subject: row["subject"],
            status: OutboxEntry.Status(rawValue: row["status"]) ?? .pending, attempts: row["attempts"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            nextAttempt: Date(timeIntervalSince1970: row["next_attempt"]),
            deliveredAt: delivered.map(Date.init(timeIntervalSince1970:)), lastError: row["last_error"],
            replyCode: row["reply_code"])
    }
}

extension StateStore {
    /// The alerts the engine has not resolved (pending or firing), read from its saved state.
    package func openAlerts() async throws -> [Alert] {
        let snapshot = try await read("read alert state") { db in
            try Data.fetchOne(db, sql: "SELECT snapshot FROM alert_engine WHERE id = 1")
        }
        guard let snapshot else { return [] }
        let state = try JSONDecoder().decode(AlertEngine.State.self, from: snapshot)
        return state.open
    }
}
