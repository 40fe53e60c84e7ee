/// Why a route produced fewer records than it names (`netagent plan --explain`).
public struct Explanation: Hashable, Sendable, CustomStringConvertible {
    /// The route, as its resource label: `httproute/NS/NAME`.
    public var resource: String
    public var reason: String

    public init(resource: String, reason: String) {
        self.resource = resource
        self.reason = reason
    }

    public var description: String { "\(resource): \(reason)" }
}

/// Something in the input that was ignored or only partly used: an invalid TTL, an invalid
/// hostname, an annotation placed where it has no effect. Reported, never fatal.
public struct SourceWarning: Hashable, Sendable, CustomStringConvertible {
    public var resource: String
    public var message: String

    public init(resource: String, message: String) {
        self.resource = resource
        self.message = message
    }

    public var description: String { "\(resource): \(message)" }
}

/// Collects explanation lines for one route, and builds none when explaining is off, so the
/// common path pays nothing for `--explain`.
struct RouteNotes {
    let enabled: Bool
    private(set) var lines: [String] = []

    init(enabled: Bool) {
        self.enabled = enabled
    }

    mutating func add(_ line: @autoclosure () -> String) {
        guard enabled else { return }
        let text = line()
        if !lines.contains(text) { lines.append(text) }
    }

    mutating func removeAll() {
        lines.removeAll()
    }
}
