import Alerts
import Foundation
import Probes

/// Renders a `StatusSnapshot` as one self-contained HTML page: inline CSS, no scripts, no
/// external assets; it refreshes itself every `refreshSeconds` through a meta refresh. Every
/// text from outside (node names, probe words, alert summaries, mail subjects) goes through
/// `escape`. Each state is said in words as well as in colour.
public enum StatusPageHTML {
    public static func render(_ snapshot: StatusSnapshot, refreshSeconds: Int = 15) -> String {
        var html = Builder(now: snapshot.generatedAt)
        html.raw("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="\(max(1, refreshSeconds))">
            <title>netagent · \(escape(snapshot.cluster))</title>
            <style>\(css)</style></head><body>
            """)
        header(&html, snapshot)
        for problem in snapshot.problems { html.raw("<p class=\"problem\">\(escape(problem))</p>") }
        nodes(&html, snapshot)
        vip(&html, snapshot)
        dns(&html, snapshot)
        alerts(&html, snapshot)
        mail(&html, snapshot)
        checks(&html, snapshot)
        html.raw("<footer id=\"build\">netagent \(escape(snapshot.version)) · generated \(html.time(snapshot.generatedAt))"
            + " · refreshes every \(max(1, refreshSeconds))s</footer></body></html>\n")
        return html.text
    }

    /// `text` safe inside an element or a quoted attribute (the mails' rule).
    public static func escape(_ text: String) -> String { MIME.escapeHTML(text) }

    // MARK: sections

    private static func header(_ html: inout Builder, _ s: StatusSnapshot) {
        let down = s.nodes.filter { $0.cells.contains { $0.state == .failed } }.count
        let offline = s.nodes.filter { $0.offline != nil }.count
        let firing = s.alerts.filter { $0.state == .firing && !$0.muted }.count
        let failingTargets = s.dns.filter { $0.state.lastError != nil }.count
        html.raw("<header><h1>netagent · \(escape(s.cluster))</h1><div class=\"summary\">")
        html.raw(badge(down == 0 ? .ok : .failed, down == 0 ? "all nodes ok" : "\(down) node(s) failing"))
        if offline > 0 { html.raw(badge(.offline, "\(offline) offline")) }
        if s.alerting { html.raw(badge(firing == 0 ? .ok : .failed, firing == 0 ? "no alerts firing" : "\(firing) alert(s) firing")) }
        if !s.dns.isEmpty {
            html.raw(badge(failingTargets == 0 ? .ok : .failed,
                           failingTargets == 0 ? "DNS targets ok" : "\(failingTargets) DNS target(s) failing"))
        }
        html.raw("</div></header><main>")
    }

    private static func nodes(_ html: inout Builder, _ s: StatusSnapshot) {
        html.raw("<section id=\"nodes\"><h2>Nodes</h2>")
        guard !s.nodes.isEmpty else {
            html.raw("<p class=\"empty\">No nodes in <code>cluster.nodes</code>.</p></section>")
            return
        }
        if s.columns.isEmpty { html.raw("<p class=\"empty\">No node probe is configured (<code>probes.nodes</code>, <code>probes.mtu</code>, <code>probes.vip</code>).</p>") }
        html.raw("<table class=\"grid\"><thead><tr><th>Node</th>")
        for column in s.columns { html.raw("<th>\(escape(column.title))</th>") }
        html.raw("</tr></thead><tbody>")
        for row in s.nodes {
            html.raw("<tr\(row.offline == nil ? "" : " class=\"offline\"")><th scope=\"row\"><span class=\"node\">\(escape(row.name))</span>"
                + "<span class=\"sub\">\(escape(row.address)) · \(row.role == .controlplane ? "control plane" : "worker")</span>")
            if let offline = row.offline { html.raw("<span class=\"tag offline\">offline: \(escape(offline))</span>") }
            html.raw("</th>")
            for cell in row.cells { html.raw(td(cell)) }
            html.raw("</tr>")
        }
        html.raw("</tbody></table></section>")
    }

    private static func vip(_ html: inout Builder, _ s: StatusSnapshot) {
        guard let vip = s.vip else { return }
        html.raw("<section id=\"vip\"><h2>VIP \(escape(vip.target))</h2>")
        html.raw("<p class=\"current \(vip.current.state.rawValue)\">\(mark(vip.current.state)) \(escape(vip.current.text))</p>")
        if let first = vip.segments.first {
            let end = max(s.generatedAt, vip.segments.last?.end ?? s.generatedAt)
            let span = max(end.timeIntervalSince(first.start), 0.001)
            var palette: [String: Int] = [:]
            html.raw("<div class=\"timeline\" role=\"img\" aria-label=\"VIP holder over time\">")
            for (index, segment) in vip.segments.enumerated() {
                let until = index + 1 < vip.segments.count ? vip.segments[index + 1].start : end
                let length = until.timeIntervalSince(segment.start)
                let share = max(length / span * 100, 0.4)
                let style = segmentStyle(segment, palette: &palette)
                let label = share >= 9 ? escape(segment.label) : ""
                html.raw("<div class=\"seg \(style)\" style=\"flex-grow:\(String(format: "%.3f", share))\" "
                    + "title=\"\(escape(segment.label)) from \(html.plainTime(segment.start)) for \(duration(length))\">\(label)</div>")
            }
            html.raw("</div><div class=\"axis\"><span>\(html.time(first.start))</span><span>now</span></div>")
            html.raw("<ul class=\"legend\">")
            var seen: Set<String> = []
            for segment in vip.segments where seen.insert(segment.label).inserted {
                html.raw("<li><span class=\"swatch \(segmentStyle(segment, palette: &palette))\"></span>\(escape(segment.label))</li>")
            }
            html.raw("</ul>")
            if let holder = vip.segments.last(where: { $0.state == .held }), holder == vip.segments.last {
                html.raw("<p>Held by <b>\(escape(holder.label))</b> since \(html.time(holder.start))</p>")
            }
        } else {
            html.raw("<p class=\"empty\">No VIP round yet.</p>")
        }
        if vip.events.isEmpty {
            html.raw("<p class=\"empty\">No failover, outage or split brain in the kept history.</p>")
        } else {
            html.raw("<table><thead><tr><th>When</th><th>Event</th><th>Holder</th><th>Outage</th></tr></thead><tbody>")
            for event in vip.events {
                let what: String, holders: String
                switch event.kind {
                case .failover:
                    what = "failover"
                    holders = "\(event.oldHolder ?? "?") → \(event.newHolder ?? "?")"
                case .outage:
                    what = "outage"
                    holders = event.newHolder ?? "?"
                case .splitBrain:
                    what = "split brain"
                    holders = event.holders.joined(separator: ", ")
                }
                let outage = event.durationSeconds.map(duration) ?? "ongoing"
                let note = event.kind == .failover && !event.outageObserved ? " (between rounds)" : ""
                html.raw("<tr><td>\(html.time(event.start))</td><td>\(what)</td><td>\(escape(holders))</td>"
                    + "<td>\(outage)\(note)</td></tr>")
            }
            html.raw("</tbody></table>")
        }
        html.raw("</section>")
    }

    private static func dns(_ html: inout Builder, _ s: StatusSnapshot) {
        html.raw("<section id=\"dns\"><h2>DNS records</h2>")
        guard !s.dns.isEmpty else {
            html.raw("<p class=\"empty\">No DNS provider is configured.</p></section>")
            return
        }
        html.raw("<table><thead><tr><th>Target</th><th>Owned records</th><th>State</th><th>Last reconcile</th><th>Error</th></tr></thead><tbody>")
        for row in s.dns {
            let state = row.state
            let cell: StatusSnapshot.Cell = if state.cycles == 0 {
                StatusSnapshot.Cell(.unknown, "not reconciled yet")
            } else if let pending = state.pending, state.lastError == nil {
                pending == 0 ? StatusSnapshot.Cell(.ok, "in sync") : StatusSnapshot.Cell(.warning, "\(pending) change(s) pending")
            } else {
                StatusSnapshot.Cell(.failed, state.pending.map { "failing; \($0) pending before" } ?? "failing")
            }
            let error = state.lastError.map { "<span class=\"error\">\(escape(StatusPage.withoutUserInfo($0)))</span>" } ?? "—"
            html.raw("<tr><th scope=\"row\"><span class=\"node\">\(escape(StatusPage.withoutUserInfo(row.instance)))</span>"
                + "<span class=\"sub\">\(escape(row.type)) · provider \(escape(row.provider))</span></th>"
                + "<td class=\"num\">\(state.owned.map(String.init) ?? "—")</td>\(td(cell))"
                + "<td>\(state.lastCycleAt.map { html.time($0) } ?? "—")</td><td>\(error)</td></tr>")
        }
        html.raw("</tbody></table></section>")
    }

    private static func alerts(_ html: inout Builder, _ s: StatusSnapshot) {
        html.raw("<section id=\"alerts\"><h2>Open alerts</h2>")
        guard s.alerting else {
            html.raw("<p class=\"empty\">Alerting is off (no <code>alerting:</code> in the configuration).</p></section>")
            return
        }
        guard !s.alerts.isEmpty else {
            html.raw("<p class=\"empty\">None: nothing is firing or pending.</p></section>")
            return
        }
        html.raw("<table><thead><tr><th>State</th><th>Alert</th><th>Target</th><th>Since</th><th>Why</th></tr></thead><tbody>")
        for alert in s.alerts {
            let state: StatusSnapshot.CellState = alert.muted ? .offline : alert.state == .firing ? .failed : .warning
            let words = alert.state.rawValue + (alert.muted ? ", muted" : "")
            html.raw("<tr>\(td(StatusSnapshot.Cell(state, words)))<td>\(escape(alert.title))<span class=\"sub\">\(escape(alert.rule))</span></td>"
                + "<td>\(escape(alert.target))</td><td>\(html.time(alert.since))</td><td>\(escape(alert.summary))</td></tr>")
        }
        html.raw("</tbody></table></section>")
    }

    private static func mail(_ html: inout Builder, _ s: StatusSnapshot) {
        guard s.alerting else { return }
        html.raw("<section id=\"mail\"><h2>Recent mail</h2>")
        guard !s.mail.isEmpty else {
            html.raw("<p class=\"empty\">No mail sent yet.</p></section>")
            return
        }
        html.raw("<table><thead><tr><th>State</th><th>Time</th><th>Subject</th><th>Attempts</th><th>Last error</th></tr></thead><tbody>")
        for entry in s.mail {
            let state: StatusSnapshot.CellState = switch entry.status {
            case .delivered: .ok
            case .pending: .warning
            case .rejected: .failed
            }
            html.raw("<tr>\(td(StatusSnapshot.Cell(state, entry.status.rawValue)))<td>\(html.time(entry.deliveredAt ?? entry.createdAt))</td>"
                + "<td>\(escape(entry.subject))</td><td class=\"num\">\(entry.attempts)</td>"
                + "<td>\(entry.lastError.map { "<span class=\"error\">\(escape($0))</span>" } ?? "—")</td></tr>")
        }
        html.raw("</tbody></table></section>")
    }

    private static func checks(_ html: inout Builder, _ s: StatusSnapshot) {
        guard !s.checks.isEmpty else { return }
        html.raw("<section id=\"checks\"><h2>Other checks</h2><table><thead><tr><th>Check</th><th>Target</th><th>Result</th><th>Latency</th><th>At</th></tr></thead><tbody>")
        for result in s.checks {
            let state: StatusSnapshot.CellState = switch result.status {
            case .ok: .ok
            case .failed: .failed
            case .knownOffline: .offline
            }
            html.raw("<tr><td>\(escape(result.kind.rawValue))</td><td>\(escape(result.target))</td>"
                + td(StatusSnapshot.Cell(state, result.cause))
                + "<td class=\"num\">\(result.latencyMs.map { String(format: "%.1f ms", $0) } ?? "—")</td><td>\(html.time(result.at))</td></tr>")
        }
        html.raw("</tbody></table></section>")
    }

    // MARK: pieces

    private static func td(_ cell: StatusSnapshot.Cell) -> String {
        let title = cell.detail.map { " title=\"\(escape($0))\"" } ?? ""
        return "<td class=\"cell \(cell.state.rawValue)\"\(title)>\(mark(cell.state)) \(escape(cell.text))</td>"
    }

    private static func badge(_ state: StatusSnapshot.CellState, _ text: String) -> String {
        "<span class=\"badge \(state.rawValue)\">\(mark(state)) \(escape(text))</span>"
    }

    /// A sign beside the words, so a state reads without colour.
    private static func mark(_ state: StatusSnapshot.CellState) -> String {
        switch state {
        case .ok: "✔"
        case .failed: "✘"
        case .warning: "▲"
        case .offline: "⊘"
        case .unknown: "?"
        case .idle: ""
        }
    }

    /// The timeline's colour class: one hue per holder (stable in order of appearance), red for down.
    private static func segmentStyle(_ segment: VIPHolderLog.Segment, palette: inout [String: Int]) -> String {
        switch segment.state {
        case .down: return "down"
        case .splitBrain: return "split"
        case .unknownHolder: return "unknown"
        case .held:
            let index = palette[segment.label] ?? palette.count
            palette[segment.label] = index
            return "h\(index % 6)"
        }
    }

    /// `850ms`, `3.2s`, `4m 05s`, `2h 03m`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds)
        if whole < 3600 { return String(format: "%dm %02ds", whole / 60, whole % 60) }
        if whole < 86400 { return String(format: "%dh %02dm", whole / 3600, whole % 3600 / 60) }
        return "\(whole / 86400)d \(whole % 86400 / 3600)h"
    }

    /// The page being written, with UTC times and their age against the page's time.
    private struct Builder {
        var text = ""
        let now: Date
        let formatter: DateFormatter
        let iso = ISO8601DateFormatter()

        init(now: Date) {
            self.now = now
            formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        }

        mutating func raw(_ piece: String) { text += piece }

        /// The UTC time as text, for an attribute.
        func plainTime(_ date: Date) -> String { formatter.string(from: date) }

        /// `<time>` with the UTC time and, when in the past, how long ago.
        func time(_ date: Date) -> String {
            let age = now.timeIntervalSince(date)
            let ago = age >= 1 ? " (\(StatusPageHTML.duration(age)) ago)" : ""
            return "<time datetime=\"\(iso.string(from: date))\">\(formatter.string(from: date))\(ago)</time>"
        }
    }

    private static let css = """
        :root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;background:#f6f8fa}
        body{margin:0}header{background:#24292f;color:#fff;padding:12px 24px;display:flex;flex-wrap:wrap;align-items:center;gap:16px}
        h1{font-size:20px;margin:0;font-weight:600}h2{font-size:16px;margin:0 0 10px}
        main{padding:16px 24px;display:grid;gap:16px;max-width:1400px}
        section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:14px 16px;overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-size:13px}
        th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
        thead th{font-size:12px;color:#57606a;font-weight:600;border-bottom:1px solid #d0d7de}
        tbody th{font-weight:600;white-space:nowrap}
        .sub{display:block;font-weight:400;font-size:11px;color:#57606a}
        .num{text-align:right;font-variant-numeric:tabular-nums}
        .cell{white-space:nowrap;border-left:2px solid #fff}
        .ok{background:#dafbe1;color:#116329}.failed{background:#ffebe9;color:#a40e26;font-weight:600}
        .warning{background:#fff8c5;color:#7d4e00}.offline{background:#eaeef2;color:#57606a}
        .unknown{background:#f6f8fa;color:#57606a;font-style:italic}.idle{color:#8c959f}
        tr.offline th{color:#57606a}tr.offline{background:repeating-linear-gradient(135deg,#fff,#fff 6px,#f6f8fa 6px,#f6f8fa 12px)}
        .tag{display:inline-block;margin-top:3px;font-size:11px;font-weight:400;padding:1px 6px;border-radius:10px}
        .summary{display:flex;gap:8px;flex-wrap:wrap}.badge{padding:3px 10px;border-radius:12px;font-size:13px;font-weight:600}
        .current{display:inline-block;padding:4px 10px;border-radius:6px;margin:0 0 10px}
        .timeline{display:flex;height:28px;border-radius:4px;overflow:hidden;border:1px solid #d0d7de}
        .seg{min-width:2px;color:#fff;font-size:12px;line-height:28px;padding:0 4px;overflow:hidden;white-space:nowrap;text-overflow:clip}
        .h0{background:#0969da}.h1{background:#8250df}.h2{background:#1a7f37}.h3{background:#bf8700}.h4{background:#0a7b83}.h5{background:#6e7781}
        .seg.down,.swatch.down{background:#cf222e}.seg.split,.swatch.split{background:repeating-linear-gradient(45deg,#cf222e,#cf222e 4px,#8250df 4px,#8250df 8px)}
        .seg.unknown,.swatch.unknown{background:#afb8c1}
        .axis{display:flex;justify-content:space-between;font-size:11px;color:#57606a;margin-top:2px}
        .legend{list-style:none;padding:0;margin:8px 0;display:flex;gap:14px;flex-wrap:wrap;font-size:13px}
        .swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
        .empty{color:#57606a;font-style:italic;margin:4px 0}.error{color:#a40e26}.problem{background:#ffebe9;padding:8px 24px;margin:0}
        code{font-size:12px;background:#f6f8fa;padding:1px 4px;border-radius:3px}td time{white-space:nowrap}
        footer{padding:8px 24px 24px;font-size:12px;color:#57606a}
        """
}
