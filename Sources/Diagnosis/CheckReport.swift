import Foundation
public import Probes
import DNSCore

/// The areas `netagent check` looks at, in the order the table shows them; the raw values are
/// the names `--only` takes and the `kind` of each JSON check.
public enum CheckArea: String, CaseIterable, Sendable, Hashable, Comparable {
    /// A read-only plan per provider instance, and each desired record asked of its DNS server
    /// (`probes.dnsRecords`).
    case records
    /// The DNS servers of `probes.dns`.
    case dns
    case nodes
    case mtu
    case vip
    case tunnel
    /// The SMTP relay (greeted, nothing sent) and, from the state file, the outbox and open alerts.
    case alerts

    public var title: String {
        switch self {
        case .records: "DNS records"
        case .dns: "DNS servers"
        case .nodes: "Nodes"
        case .mtu: "MTU"
        case .vip: "VIP"
        case .tunnel: "Tunnel"
        case .alerts: "Alerts"
        }
    }

    /// The area a probe kind's results belong to.
    public init(_ kind: ProbeKind) {
        switch kind {
        case .dnsServer: self = .dns
        case .dnsRecords: self = .records
        case .nodes: self = .nodes
        case .mtu: self = .mtu
        case .vip: self = .vip
        case .tunnel: self = .tunnel
        }
    }

    public static func < (lhs: CheckArea, rhs: CheckArea) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One thing `check` looked at: a target and its verdict, with a cause a person can act on.
public struct CheckItem: Sendable, Hashable {
    public var area: CheckArea
    public var target: String
    public var ok: Bool
    /// One line: what is wrong and what to look at (or what is fine).
    public var reason: String
    public var latencyMs: Double?
    /// What was observed; for probe results the probe's facts plus `probe`, `status`, `fault`, `phase`.
    public var facts: [String: String]
    /// What the line is about, typed: what the causal order (`CausalOrder`) reads.
    public var subject: Subject = .other
    /// For a failing line that is a consequence: the root line it follows from.
    public var followsFrom: Reference?

    /// What a line is about, for the causal order.
    public enum Subject: Sendable, Hashable {
        case other
        /// A probe's result (a desired record's with the provider that holds it).
        case probe(ProbeResult, provider: String? = nil)
        /// A provider instance's read-only plan, and the token's problem when a verify told it.
        case plan(provider: String, token: PlanFailure.TokenProblem?)
    }

    /// A line by area and target.
    public struct Reference: Sendable, Hashable {
        public var area: CheckArea
        public var target: String

        public init(area: CheckArea, target: String) {
            self.area = area
            self.target = target
        }
    }

    public var reference: Reference { Reference(area: area, target: target) }

    public init(area: CheckArea, target: String, ok: Bool, reason: String, latencyMs: Double? = nil, facts: [String: String] = [:]) {
        self.area = area
        self.target = target
        self.ok = ok
        self.reason = reason
        self.latencyMs = latencyMs
        self.facts = facts
    }

    /// A probe result with its cause (`CheckCauses`).
    public init(_ result: ProbeResult) {
        var facts = result.facts
        facts["probe"] = result.kind.rawValue
        facts["status"] = result.status.rawValue
        if let fault = result.fault { facts["fault"] = fault.rawValue }
        if let phase = result.phase { facts["phase"] = phase }
        self.init(area: CheckArea(result.kind), target: result.target, ok: result.ok, reason: result.cause,
                  latencyMs: result.latencyMs, facts: facts)
        subject = .probe(result)
    }

    /// A target the configuration marks offline: probed, never a failure.
    var isKnownOffline: Bool {
        if case .probe(let result, _) = subject { result.status == .knownOffline } else { false }
    }
}

/// Everything one `check` round found.
public struct CheckReport: Sendable {
    public var items: [CheckItem]
    /// The areas that ran (selected and configured).
    public var areas: [CheckArea]
    /// Selected areas the configuration does not set up, with the key that would.
    public var notConfigured: [CheckArea: String]

    /// The items are put in causal order (`CausalOrder.arrange`): each failing line that follows
    /// from another is marked so, and the roots come first.
    public init(items: [CheckItem], areas: [CheckArea], notConfigured: [CheckArea: String] = [:]) {
        self.items = CausalOrder.arrange(items)
        self.areas = areas
        self.notConfigured = notConfigured
    }

    public var ok: Bool { items.allSatisfy(\.ok) }
    public var failures: [CheckItem] { items.filter { !$0.ok } }

    /// `{"ok": bool, "checks": [{"kind", "target", "ok", "reason", "latencyMs", "facts", "followsFrom"?}]}`
    /// on one line, keys sorted, the root causes first (docs/check.md, docs/check.schema.json).
    public func json() -> String {
        let checks: [[String: Any]] = items.map { item in
            var check: [String: Any] = ["kind": item.area.rawValue, "target": item.target, "ok": item.ok, "reason": item.reason,
                                        "latencyMs": item.latencyMs.map { $0 as Any } ?? NSNull(), "facts": item.facts]
            if let root = item.followsFrom { check["followsFrom"] = ["kind": root.area.rawValue, "target": root.target] }
            return check
        }
        let object: [String: Any] = ["ok": ok, "checks": checks]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"ok":false,"checks":[]}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The table for people: one block per area, one line per target; `colour` adds ANSI colours.
    public func table(colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        let width = min(40, (items.map { TerminalText.escaped($0.target).count }.max() ?? 0))
        var out = ""
        for area in CausalOrder.areas(items) {
            if let key = notConfigured[area] {
                out += paint(area.title, "1") + paint("  not configured (\(key))", "2") + "\n"
                continue
            }
            guard areas.contains(area) else { continue }
            let rows = items.filter { $0.area == area }
            let failed = rows.filter { !$0.ok }.count
            let summary = rows.isEmpty ? "nothing to check" : failed == 0 ? "ok" : "\(failed) of \(rows.count) failing"
            out += paint(area.title, "1") + "  " + paint(summary, failed == 0 ? "32" : "31") + "\n"
            for item in rows {
                let mark = item.isKnownOffline ? paint("off ", "33") : item.ok ? paint("ok  ", "32") : paint("FAIL", "1;31")
                let latency = item.latencyMs.map { paint(String(format: "  %.1fms", $0), "2") } ?? ""
                let escaped = TerminalText.escaped(item.target)
                let target = escaped.count > width ? String(escaped.prefix(width - 1)) + "…" : escaped
                out += "  \(mark)  \(target.padding(toLength: width, withPad: " ", startingAt: 0))  \(TerminalText.escaped(item.reason))\(latency)\n"
            }
        }
        let failed = failures.count
        out += "\n" + (failed == 0
            ? paint("all \(items.count) checks ok", "32")
            : paint("\(failed) of \(items.count) checks failed", "1;31")) + "\n"
        return out
    }
}
