/// Why a YAML or JSON value could not be read as the field it should be: the field's key, the
/// line it sits on (1-based, within the text that was parsed), and what was wrong.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The object being read, as `Kind name` when known.
    public var object = ""
    public var key: String
    public var line: Int?
    public var problem: String

    public init(key: String, line: Int?, problem: String) {
        self.key = key
        self.line = line
        self.problem = problem
    }

    public var description: String { (object.isEmpty ? "" : "\(object): ") + "\(key): \(problem)" }
}
