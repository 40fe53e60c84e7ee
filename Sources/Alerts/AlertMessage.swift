import Foundation
import NetIO

/// An alert mail ready for the relay: RFC 5322 headers and a multipart/alternative body
/// (text and HTML, quoted-printable), CRLF line ends, every line ASCII and short.
public struct AlertMessage: Hashable, Sendable {
    /// The decoded subject (`[FIRING:2] home: nodes unreachable (k8s-6, k8s-7)`).
    public var subject: String
    /// The Message-ID without angle brackets.
    public var messageID: String
    /// The whole message as sent.
    public var bytes: [UInt8]

    /// Renders one notification under `policy` (cluster name, From, To).
    public init(_ mail: AlertNotification, policy: AlertPolicy) {
        // Every alert text through the one redactor before it is queued and mailed.
        subject = Redaction.text(Self.subject(mail, cluster: policy.cluster))
        messageID = mail.messageID
        let boundary = "=_netagent_\(String(UInt64(bitPattern: Int64(mail.messageID.hashValue)), radix: 16))"
        var headers = [
            MIME.header("Date", MIME.date(mail.at)),
            MIME.header("From", policy.from),
            MIME.header("To", policy.to.joined(separator: ", ")),
            MIME.header("Subject", subject),
            MIME.header("Message-ID", "<\(mail.messageID)>"),
        ]
        if let parent = mail.inReplyTo ?? mail.threadRoot {
            headers.append(MIME.header("In-Reply-To", "<\(parent)>"))
            let references = [mail.threadRoot, mail.inReplyTo].compactMap { $0 }
            headers.append(MIME.header("References", references.reduce(into: [String]()) { list, id in
                if !list.contains(id) { list.append(id) }
            }.map { "<\($0)>" }.joined(separator: " ")))
        }
        headers += [
            "Auto-Submitted: auto-generated",
            "X-Netagent-Group: \(mail.group.rawValue)",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
        ]
        let parts = [
            ("text/plain", Redaction.text(Self.text(mail, cluster: policy.cluster))),
            ("text/html", Redaction.text(Self.html(mail, cluster: policy.cluster))),
        ]
        var lines = headers + ["", "This is a MIME message: a text and an HTML part."]
        for (type, body) in parts {
            lines += ["--\(boundary)", "Content-Type: \(type); charset=utf-8",
                      "Content-Transfer-Encoding: quoted-printable", "", MIME.quotedPrintable(body)]
        }
        lines.append("--\(boundary)--")
        bytes = Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// `[FIRING:N] cluster: title (targets)` or `[RESOLVED] cluster: title (targets)`.
    public static func subject(_ mail: AlertNotification, cluster: String) -> String {
        let alerts = mail.status == .firing ? mail.firing : mail.resolved
        let tag = mail.status == .firing ? "[FIRING:\(mail.firing.count)]" : "[RESOLVED]"
        let targets = alerts.map(\.key.target)
        let shown = targets.prefix(5).joined(separator: ", ") + (targets.count > 5 ? ", +\(targets.count - 5) more" : "")
        return "\(tag) \(cluster): \(mail.group.title) (\(shown))"
    }

    /// One entry per alert: target, state, summary, since, duration and facts.
    private static func entries(_ mail: AlertNotification) -> [(state: String, alert: Alert, timing: String)] {
        let firing = mail.firing.map { alert in
            let since = alert.since
            return ("FIRING", alert, "since \(MIME.timestamp(since)), for \(MIME.duration(mail.at.timeIntervalSince(since)))")
        }
        let resolved = mail.resolved.map { alert in
            let end = alert.resolvedAt ?? mail.at
            return ("RESOLVED", alert, "since \(MIME.timestamp(alert.since)), resolved \(MIME.timestamp(end))"
                + " after \(MIME.duration(end.timeIntervalSince(alert.since)))")
        }
        return firing + resolved
    }

    static func text(_ mail: AlertNotification, cluster: String) -> String {
        var lines = [headline(mail, cluster: cluster), ""]
        for entry in entries(mail) {
            lines.append("\(entry.state) \(entry.alert.key.target)")
            lines.append("  \(entry.alert.signal.summary)")
            lines.append("  \(entry.timing)")
            for (name, value) in entry.alert.signal.facts.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(name): \(value)")
            }
            lines.append("")
        }
        lines.append("-- netagent, rule \(mail.group.rawValue)")
        return lines.joined(separator: "\n")
    }

    static func html(_ mail: AlertNotification, cluster: String) -> String {
        let e = MIME.escapeHTML
        var html = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"><title>\(e(subject(mail, cluster: cluster)))</title></head>",
                    "<body style=\"font-family: sans-serif\">", "<h2>\(e(headline(mail, cluster: cluster)))</h2>"]
        for entry in entries(mail) {
            let color = entry.state == "FIRING" ? "#b00020" : "#2e7d32"
            html.append("<h3><span style=\"color: \(color)\">\(entry.state)</span> \(e(entry.alert.key.target))</h3>")
            html.append("<p>\(e(entry.alert.signal.summary))<br><small>\(e(entry.timing))</small></p>")
            if !entry.alert.signal.facts.isEmpty {
                html.append("<table>")
                for (name, value) in entry.alert.signal.facts.sorted(by: { $0.key < $1.key }) {
                    html.append("<tr><th align=\"left\">\(e(name))</th><td>\(e(value))</td></tr>")
                }
                html.append("</table>")
            }
        }
        html += ["<p><small>netagent, rule \(e(mail.group.rawValue))</small></p>", "</body></html>"]
        return html.joined(separator: "\n")
    }

    private static func headline(_ mail: AlertNotification, cluster: String) -> String {
        switch mail.status {
        case .firing:
            let resolved = mail.resolved.isEmpty ? "" : ", \(mail.resolved.count) resolved"
            return "\(cluster): \(mail.group.title): \(mail.firing.count) firing\(resolved)"
        case .resolved:
            return "\(cluster): \(mail.group.title): resolved"
        }
    }
}
