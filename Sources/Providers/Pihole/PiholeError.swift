public import NetIO

/// A Pi-hole instance refused or could not serve a request, with what to change where known.
public struct PiholeError: Error, Hashable, Sendable, CustomStringConvertible, CarriesTransportError {
    public enum Kind: String, Sendable, Hashable {
        /// The instance could not be reached (connection refused, timeout, TLS).
        case unreachable
        /// The password (or app password) was refused.
        case wrongPassword
        /// Every API seat is taken (`webserver.api.max_sessions`, 16 by default).
        case seatsExceeded
        /// More than three password checks in one second on that Pi-hole.
        case rateLimited
        /// The session may read but not change the configuration (an app password without `app_sudo`).
        case readOnly
        /// The main password needs a 2FA code, which an unattended agent cannot give.
        case twoFactor
        /// The instance speaks Pi-hole v5's PHP API, which netagent does not support.
        case version5
        /// FTL refused the value (400 "Invalid value" / "Item already present", 404 on delete).
        case refused
        /// Anything else FTL answered with its error envelope.
        case other
    }

    public var kind: Kind
    /// The instance's base URL (no secrets: Pi-hole takes its password in the body).
    public var instance: String
    public var status: Int
    /// FTL's machine key (`bad_request`, `api_seats_exceeded`, …) and its words.
    public var key: String?
    public var message: String
    public var hint: String?
    /// The transport failure when the instance could not be reached (`unreachable`).
    public var transport: NetIOError? = nil

    public var description: String {
        var text = "Pi-hole \(instance): "
        text += status > 0 ? "\(status) \(key ?? "") \(message)" : message
        if let hint, !hint.isEmpty { text += " (\(hint))" }
        if let advice { text += " — \(advice)" }
        return text
    }

    /// What a person should change, for the failures that have one answer.
    public var advice: String? {
        switch kind {
        case .seatsExceeded:
            "every API seat is in use: raise webserver.api.max_sessions, or stop the clients that log in without logging out (external-dns never gives its seat back)"
        case .rateLimited: "Pi-hole allows 3 password checks a second; netagent backs off and retries"
        case .readOnly: "the app password cannot change settings: set webserver.api.app_sudo=true on the Pi-hole, or use the main password"
        case .version5: "this looks like Pi-hole v5 (no /api/auth); upgrade to Pi-hole v6, v5 is end of life"
        case .wrongPassword: "check the password given by passwordFile/passwordEnv"
        case .twoFactor: "2FA is on for the main password: create an app password (Settings > Web interface / API) with webserver.api.app_sudo=true and give netagent that one; app passwords skip 2FA"
        default: nil
        }
    }
}
