public import Foundation
import Config

/// The configuration: any text is a config or a `ConfigError` whose every issue names the
/// file and a line inside it (0 only for the whole file).
public enum ConfigFuzz {
    public static func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        // YAML breaks lines at CR, LF, CRLF and (1.1) NEL, LS and PS too: count as many as it might.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
        do {
            let config = try NetAgentConfig.parse(yaml: text, file: "fuzz.yaml", baseDirectory: "/nonexistent/netagent-fuzz")
            _ = config.hashValue
        } catch {
            fuzzCheck(!error.issues.isEmpty, "ConfigError without an issue")
            for issue in error.issues {
                fuzzCheck(issue.file == "fuzz.yaml", "issue names \(issue.file)")
                fuzzCheck(issue.line >= 0 && issue.line <= lines + 1, "issue on line \(issue.line) of \(lines): \(issue.message)")
                _ = issue.description
            }
            _ = error.description
        }
    }
}
