/// One problem found in a configuration file: where it is and what is wrong.
///
/// Printed as `FILE:LINE: PATH: message`, the form editors and CI logs link to.
public struct ConfigIssue: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file as it was named when loading.
    public let file: String
    /// 1-based line of the offending key or value; 0 when the problem has no line (an unreadable file).
    public let line: Int
    /// Key path such as `providers[1].policy`; empty for the file as a whole.
    public let path: String
    /// What is wrong and, where it helps, what to write instead.
    public let message: String

    public init(file: String, line: Int, path: String, message: String) {
        self.file = file
        self.line = line
        self.path = path
        self.message = message
    }

    public var description: String {
        var text = line > 0 ? "\(file):\(line):" : "\(file):"
        if !path.isEmpty { text += " \(path):" }
        return text + " " + message
    }
}

/// Every problem found in one configuration file, sorted by line.
///
/// Thrown by ``NetAgentConfig/load(file:)`` and ``NetAgentConfig/parse(yaml:file:baseDirectory:)``;
/// a file with problems yields no configuration at all.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The file as it was named when loading.
    public let file: String
    /// The problems, sorted by line, then path.
    public let issues: [ConfigIssue]

    public init(file: String, issues: [ConfigIssue]) {
        self.file = file
        self.issues = issues.sorted { ($0.line, $0.path, $0.message) < ($1.line, $1.path, $1.message) }
    }

    /// One issue per line, in the `FILE:LINE: PATH: message` form.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
