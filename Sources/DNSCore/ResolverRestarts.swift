import Synchronization

/// Which DNS servers are restarting on netagent's own request, and until when at the latest:
/// a Pi-hole provider says so around the resolver restart its run asks for (the API and DNS
/// are away for seconds then), and the DNS-truth probe reads it, so an answer missing in that
/// window is reported as "restarting", not as drift. Keyed by the provider's name in the
/// configuration, which is also the name of its `probes.dns.servers` entry.
public final class ResolverRestarts: Sendable {
    private let windows = Mutex<[String: ContinuousClock.Instant]>([:])

    public init() {}

    /// `name` is restarting, or answering from stale state, until `until` at the latest.
    public func restarting(_ name: String, until: ContinuousClock.Instant) {
        windows.withLock { $0[name] = until }
    }

    /// `name` is done restarting.
    public func ended(_ name: String) {
        windows.withLock { $0[name] = nil }
    }

    /// When `name`'s restart window ends, if it is in one at `now`.
    public func restartingUntil(_ name: String, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        windows.withLock { windows in
            guard let until = windows[name] else { return nil }
            return until > now ? until : nil
        }
    }
}
