/// How an informer is doing, in words a person can act on.
public struct InformerStatus: Sendable, Hashable, CustomStringConvertible {
    public enum State: String, Sendable, Hashable {
        /// Not listed yet.
        case starting
        /// Listed, and watching or about to watch again.
        case synced
        /// The API group or resource is not served (CRDs not installed): 404.
        case missing
        /// RBAC forbids reading it: 403.
        case forbidden
        /// Something else failed (unreachable, 5xx, 429, bad answer); retrying with back-off.
        case failing
    }

    public var state: State
    public var message: String

    public init(state: State, message: String) {
        self.state = state
        self.message = message
    }

    public var description: String { message.isEmpty ? state.rawValue : "\(state.rawValue): \(message)" }
}

/// A change to an informer's cache. Subscribers get them in order; the cache itself
/// (`Informer.objects()`) is the truth, these are notifications.
public enum InformerChange<Cached: Sendable & Equatable>: Sendable, Equatable {
    case added(Cached)
    case modified(old: Cached, new: Cached)
    case deleted(Cached)
    /// A full list replaced the cache (first sync or relist after 410). What it added, changed
    /// or removed is not published object by object: read `Informer.objects()`.
    case relisted(resourceVersion: String)
}

extension InformerChange: Hashable where Cached: Hashable {}

/// Informer tuning: page size, back-off, watch length.
public struct InformerOptions: Sendable {
    /// Items a list page asks for.
    public var pageSize: Int
    /// First delay after a failure; doubles per failure in a row up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Share of a delay taken off at random (0.5: between half and all of it).
    public var jitter: Double
    /// `timeoutSeconds` for each watch, picked at random in this range (client-go: 300...600).
    public var watchTimeoutSeconds: ClosedRange<Int>

    public init(pageSize: Int = 500, initialBackoff: Duration = .milliseconds(800), maxBackoff: Duration = .seconds(30),
                jitter: Double = 0.5, watchTimeoutSeconds: ClosedRange<Int> = 300...600) {
        self.pageSize = pageSize
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.jitter = jitter
        self.watchTimeoutSeconds = watchTimeoutSeconds
    }

    /// The delay before retry number `failures` (1 for the first), jittered.
    func backoff(failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 30)
        var delay = initialBackoff * (1 << exponent)
        if delay > maxBackoff { delay = maxBackoff }
        let factor = 1 - Double.random(in: 0...min(max(jitter, 0), 1))
        return delay * factor
    }
}
