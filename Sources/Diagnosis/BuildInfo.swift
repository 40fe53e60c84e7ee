/// The agent's own version, printed by `netagent version` and sent as the HTTP user agent.
public enum BuildInfo {
    public static let version = "0.1.0"
    public static let userAgent = "netagent/\(version)"
}
