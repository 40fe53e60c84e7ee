public import Config
public import DNSCore
import Foundation
import Probes
import NetIO

/// The causes of a plan: in sync, the changes pending, or why it could not be made (from the
/// typed error). A probe result's cause is `ProbeResult.cause` (ProbeCauses.swift), which
/// `check`, the status page and the alert mails share. Every cause is in docs/troubleshooting.md.
public enum CheckCauses {
    // MARK: plans

    /// Who holds a provider's records, for people.
    public static func holder(_ config: ProviderConfig) -> String {
        switch config.kind {
        case .pihole: "Pi-hole"
        case .cloudflare: "Cloudflare"
        }
    }

    /// One planned change in words: `+ a.example.com A 198.18.0.5`, or for an update
    /// `app.example.com: Pi-hole has 198.18.0.9, plan says 198.18.0.10`.
    public static func change(_ update: Plan.Update, holder: String) -> String {
        "\(update.new.name) \(update.new.type.rawValue): \(holder) has \(update.old.targets.joined(separator: ", ")), plan says \(update.new.targets.joined(separator: ", "))"
    }

    /// The cause for a plan: in sync, or the changes pending with the first `shown` named.
    public static func plan(_ plan: Plan, holder: String, desired: Int, shown: Int = 3) -> (ok: Bool, reason: String) {
        let c = plan.changes
        var notes: [String] = []
        if let reason = plan.guardReason {
            notes.append("the delete guard would withhold \(plan.withheldDeletes.count) deletes (\(reason))")
        }
        if !plan.conflicts.isEmpty { notes.append("\(plan.conflicts.count) name(s) claimed twice: \(plan.conflicts[0])") }
        if c.isEmpty {
            let base = "in sync (\(desired) desired record\(desired == 1 ? "" : "s"))"
            // A lost claim is a route whose record is not written: not all is well.
            return (notes.isEmpty, ([base] + notes).joined(separator: "; "))
        }
        let named = c.updates.map { change($0, holder: holder) }
            + c.creates.map { "missing \($0.name) \($0.type.rawValue) \($0.targets.joined(separator: ","))" }
            + c.deletes.map { "left over \($0.name) \($0.type.rawValue) \($0.targets.joined(separator: ","))" }
        let more = named.count > shown ? "; … \(named.count - shown) more" : ""
        let summary = "\(c.count) change\(c.count == 1 ? "" : "s") pending: " + named.prefix(shown).joined(separator: "; ") + more
        return (false, ([summary] + notes).joined(separator: "; ") + " — the next reconcile (`netagent run`) makes them")
    }

    /// Why a target could not be planned, with where to look, from its typed error: the
    /// transport failure in a few words when the API could not be reached at all (the whole
    /// message stays in the `error` fact), the token's state for a Cloudflare 403, else the
    /// provider's own message, which carries its advice when it has one.
    public static func planFailure(_ failure: PlanFailure, holder: String, url: String) -> String {
        let message = failure.message
        let setting = holder == "Cloudflare" ? "apiURL" : "url"
        if let transport = failure.transport, transport.kind == .transfer {
            let words: String? = switch transport.code {
            case 7: "connection refused — nothing listens there: \(holder) down, or a wrong \(setting)?"
            case 28: "no answer in time — the host down, or a firewall drops the port?"
            case 6: "the host name does not resolve — a typo in \(setting), or this machine's DNS?"
            case 35, 51, 58, 60: "TLS failed (\(ProbeCauses.curlWords(transport))) — a certificate this machine does not trust, or http/https mixed up?"
            default: nil
            }
            if let words { return "cannot read \(holder) at \(url): \(words)" }
        }
        if let token = failure.token { return "cannot read \(holder) at \(url): \(tokenCause(token))" }
        // The providers' errors end in their own advice (`— check the password …`) when they know it.
        if failure.hasAdvice { return "cannot read \(holder) at \(url): \(message)" }
        return "cannot read \(holder) at \(url): \(message) — the password/token refused, or the API answered something unexpected?"
    }

    /// The token's cause, from what the token verify said after a 403.
    static func tokenCause(_ token: PlanFailure.TokenProblem) -> String {
        switch token {
        case .invalid(let verify):
            return "token invalid or revoked (\(verify)) — create a new API token and give it through apiTokenFile/apiTokenEnv"
        case .lacks(let permission, let scope):
            return "token valid but lacks \(permission) on \(scope) — add the permission to the token (Zone:Read and DNS:Edit on every zone)"
        }
    }
}
