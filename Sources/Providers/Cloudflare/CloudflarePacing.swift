import Foundation

/// How the client tells time, waits and draws jitter. Injected so tests neither sleep nor
/// depend on chance: a test clock advances `now` when `sleep` is called.
public struct CloudflarePacing: Sendable {
    /// Time since an arbitrary origin; only differences are used.
    public var now: @Sendable () -> Duration
    /// Waits `duration` (throws when the task is cancelled).
    public var sleep: @Sendable (Duration) async throws -> Void
    /// A number in 0..<1 for back-off jitter.
    public var random: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void,
                random: @escaping @Sendable () -> Double) {
        self.now = now
        self.sleep = sleep
        self.random = random
    }

    /// The real clock, real sleeps, system randomness.
    public static var live: CloudflarePacing {
        let origin = ContinuousClock.now
        return CloudflarePacing(
            now: { ContinuousClock.now - origin }, sleep: { try await Task.sleep(for: $0) },
            random: { Double.random(in: 0..<1) })
    }
}

/// Retries and the client-side request budget.
///
/// Cloudflare allows 1,200 requests per 5 minutes per token and then blocks every call for
/// 5 minutes (API-FACTS §B.6), so the client keeps its own count below that (`budget` per
/// `window`, a sliding window) and waits rather than being blocked. On 429 it waits
/// `Retry-After`; on 5xx and transport failures it backs off exponentially with jitter.
public struct CloudflareRetryPolicy: Hashable, Sendable {
    /// Requests allowed in any `window` (default 1,100: headroom under 1,200 for the dashboard).
    public var budget: Int
    public var window: Duration
    /// Attempts per request, the first included.
    public var attempts: Int
    /// First back-off, doubled per attempt up to `maxDelay`; each wait is scaled by 0.5–1.0.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// The longest `Retry-After` honoured; a longer one fails the request as rate limited.
    public var maxRetryAfter: Duration

    public init(budget: Int = 1100, window: Duration = .seconds(300), attempts: Int = 5,
                baseDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(30),
                maxRetryAfter: Duration = .seconds(300)) {
        self.budget = max(1, budget)
        self.window = window
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait before retry number `retry` (1 = the first retry), with jitter from `random`.
    func backoff(retry: Int, random: Double) -> Duration {
        var delay = baseDelay
        for _ in 1..<max(1, retry) where delay < maxDelay { delay *= 2 }
        let capped = min(delay, maxDelay)
        return capped * (0.5 + 0.5 * min(max(random, 0), 1))
    }

    /// `Retry-After` as seconds or an HTTP date (RFC 9110), relative to `date`.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }
}

/// The sliding window of recent request times behind the budget.
struct RequestWindow {
    private var times: [Duration] = []
    private var head = 0

    /// How long to wait before one more request fits in `policy`'s budget at `now`.
    mutating func wait(at now: Duration, policy: CloudflareRetryPolicy) -> Duration {
        while head < times.count, now - times[head] >= policy.window { head += 1 }
        if head > 1024 { times.removeFirst(head); head = 0 }
        guard times.count - head >= policy.budget else { return .zero }
        return times[times.count - policy.budget] + policy.window - now
    }

    mutating func record(_ now: Duration) { times.append(now) }
}
