import Foundation

/// Removes secrets from a URL before it appears in an error or a log: the user and password,
/// and the values of query parameters whose name suggests a secret.
public enum Redaction {
    static let secretWords = ["token", "password", "passwd", "secret", "key", "sid", "auth", "signature"]

    public static func url(_ raw: String) -> String {
        guard var parts = URLComponents(string: raw) else { return "(unparseable URL)" }
        if parts.user != nil || parts.password != nil {
            parts.user = nil
            parts.password = nil
        }
        if let items = parts.queryItems {
            parts.queryItems = items.map { item in
                let lower = item.name.lowercased()
                guard secretWords.contains(where: { lower.contains($0) }) else { return item }
                return URLQueryItem(name: item.name, value: "REDACTED")
            }
        }
        return parts.string ?? "(unparseable URL)"
    }
}
