import Foundation
import DNSCore
import NetIO
import Yams

/// Collects the problems of one file while its node tree is walked, so every problem is
/// reported at once instead of stopping at the first.
final class ConfigIssueLog {
    let file: String
    /// Folder that relative paths in the file are resolved against.
    let baseDirectory: String
    private(set) var issues: [ConfigIssue] = []

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    func report(line: Int, path: String, _ message: String) {
        issues.append(ConfigIssue(file: file, line: line, path: path, message: message))
    }
}

/// Key paths as users read them: `providers[1].select.gatewayName`.
enum KeyPathText {
    static func child(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }
    static func index(_ parent: String, _ index: Int) -> String { "\(parent)[\(index)]" }
}

/// One value in the tree with its path and line; the parse helpers report problems and return nil.
struct Field {
    let node: Node
    let path: String
    let diag: ConfigIssueLog

    var line: Int { node.mark?.line ?? 0 }

    func fail(_ message: String) { diag.report(line: line, path: path, message) }

    /// The scalar text, or nil (reported) for a mapping or a sequence.
    func scalar(_ what: String = "a value") -> String? {
        guard let scalar = node.scalar else {
            fail("expected \(what), found a \(node.mapping != nil ? "mapping" : "list")")
            return nil
        }
        // Names, URLs and paths reach logs, tables and the status page: a NUL, ESC or line
        // break in one (written as "\e", "\0" or "\r\n" in a quoted YAML string) is refused.
        if let bad = scalar.string.unicodeScalars.first(where: { $0 != "\t" && TerminalText.isControl($0) }) {
            fail("the value holds a control character (U+\(String(format: "%04X", bad.value))); names, URLs and paths may not")
            return nil
        }
        return scalar.string
    }

    func string() -> String? {
        guard let text = scalar("a string") else { return nil }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { fail("must not be empty"); return nil }
        return text
    }

    func bool() -> Bool? {
        guard let text = scalar("true or false") else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: fail("'\(text)' is not a boolean (true or false)"); return nil
        }
    }

    func int(in range: ClosedRange<Int>) -> Int? {
        guard let text = scalar("a whole number") else { return nil }
        guard let value = Int(text) else { fail("'\(text)' is not a whole number"); return nil }
        guard range.contains(value) else {
            fail("\(value) is out of range \(range.lowerBound)…\(range.upperBound)")
            return nil
        }
        return value
    }

    func fraction() -> Double? {
        guard let text = scalar("a number") else { return nil }
        guard let value = Double(text), value.isFinite else { fail("'\(text)' is not a number"); return nil }
        guard (0...1).contains(value) else { fail("\(text) must be between 0 and 1"); return nil }
        return value
    }

    func duration(minimum: Duration = .milliseconds(1)) -> Duration? {
        guard let text = scalar("a duration") else { return nil }
        do {
            let value = try ConfigDuration.parse(text)
            guard value >= minimum else {
                fail("\(text) is too short (at least \(ConfigDuration.format(minimum)))")
                return nil
            }
            return value
        } catch { fail(error.message); return nil }
    }

    func parsed<T>(_ parse: (String) throws(ConfigValueError) -> T) -> T? {
        guard let text = scalar() else { return nil }
        do { return try parse(text) } catch { fail(error.message); return nil }
    }

    func ip() -> IPAddress? {
        parsed { text throws(ConfigValueError) in
            guard let address = IPAddress(text) else { throw ConfigValueError("'\(text)' is not an IP address") }
            return address
        }
    }

    func choice<E: RawRepresentable & CaseIterable>(_: E.Type) -> E? where E.RawValue == String {
        guard let text = scalar() else { return nil }
        guard let value = E(rawValue: text) else {
            fail("'\(text)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// A URL with one of `schemes` and a host.
    func url(schemes: [String]) -> URL? {
        guard let text = string() else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else {
            fail("'\(text)' is not a URL with a scheme (\(schemes.map { "\($0)://" }.joined(separator: " or ")))")
            return nil
        }
        guard schemes.contains(scheme) else {
            fail("scheme '\(scheme)' is not allowed here; use \(schemes.joined(separator: " or "))")
            return nil
        }
        guard let host = url.host, !host.isEmpty else { fail("'\(text)' has no host"); return nil }
        // A URL is printed in logs, metrics labels and the status page; credentials have their own keys.
        guard url.user == nil && url.password == nil else {
            fail("a user or password in the URL would show in logs and metrics; use the secret keys (…File / …Env) instead")
            return nil
        }
        return url
    }

    /// A file path; relative paths are made absolute against the configuration's folder, `~/` against $HOME.
    func filePath() -> String? {
        guard let text = string() else { return nil }
        if text.hasPrefix("/") { return text }
        if text == "~" || text.hasPrefix("~/") {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? "/"
            return home + text.dropFirst()
        }
        return diag.baseDirectory + "/" + text
    }

    func envName() -> String? {
        guard let text = string() else { return nil }
        let valid = text.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard valid else { fail("'\(text)' is not an environment variable name"); return nil }
        return text
    }

    /// The elements of a list, each with its `[i]` path; nil (reported) when not a list.
    func list() -> [Field]? {
        guard let sequence = node.sequence else { fail("expected a list"); return nil }
        return sequence.enumerated().map { Field(node: $1, path: KeyPathText.index(path, $0), diag: diag) }
    }

    /// Parses each element; elements that fail are reported and left out.
    func list<T>(_ parse: (Field) -> T?) -> [T]? { list()?.compactMap(parse) }

    func mapping() -> MappingReader? { MappingReader(self) }
}

/// Reads the keys of one mapping, remembering which were asked for, so that `finish()` can
/// report the rest as unknown and point a plain secret at its `*File`/`*Env` form.
final class MappingReader {
    let path: String
    let line: Int
    let diag: ConfigIssueLog
    private var entries: [(key: String, line: Int, value: Node)] = []
    private var asked: [String] = []

    init?(_ field: Field) {
        guard let mapping = field.node.mapping else {
            field.fail("expected a mapping of keys")
            return nil
        }
        path = field.path
        line = field.line
        diag = field.diag
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                diag.report(line: key.mark?.line ?? line, path: path, "keys must be plain strings")
                continue
            }
            entries.append((name, key.mark?.line ?? line, value))
        }
    }

    /// The value at `key`, or nil when absent or null (`~`, `null`, empty).
    func optional(_ key: String) -> Field? {
        asked.append(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        if let scalar = entry.value.scalar, scalar.style == .plain,
           ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            return nil
        }
        return Field(node: entry.value, path: KeyPathText.child(path, key), diag: diag)
    }

    /// The value at `key`; reports a missing key at this mapping's line.
    func required(_ key: String) -> Field? {
        guard let field = optional(key) else {
            diag.report(line: line, path: path, "missing required key '\(key)'")
            return nil
        }
        return field
    }

    /// Whether `key` is written (even as null).
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Reports a problem with this mapping as a whole.
    func fail(_ message: String) { diag.report(line: line, path: path, message) }

    /// Reads a secret written as `<base>File` or `<base>Env`; reports both being set, or
    /// neither when `required`.
    func secret(_ base: String, required: Bool) -> SecretSource? {
        let file = optional(base + "File")
        let env = optional(base + "Env")
        switch (file, env) {
        case (let file?, nil): return file.filePath().map(SecretSource.file)
        case (nil, let env?): return env.envName().map(SecretSource.env)
        case (.some, .some):
            fail("set only one of '\(base)File' and '\(base)Env'")
        case (nil, nil):
            if required { fail("missing '\(base)File' or '\(base)Env'") }
        }
        return nil
    }

    private static let secretNames: Set<String> = ["password", "apiToken", "token", "secret", "apiKey"]

    /// Reports every key that was never asked for.
    func finish() {
        for entry in entries where !asked.contains(entry.key) {
            let keyPath = KeyPathText.child(path, entry.key)
            if asked.contains(entry.key + "File") {
                diag.report(line: entry.line, path: keyPath,
                            "secrets are never written in the configuration; use '\(entry.key)File' (a file) or '\(entry.key)Env' (an environment variable)")
            } else if Self.secretNames.contains(entry.key) {
                diag.report(line: entry.line, path: keyPath,
                            "secrets are never written in the configuration, and '\(entry.key)' is not a key here; secrets go in *File or *Env keys")
            } else {
                let known = asked.joined(separator: ", ")
                diag.report(line: entry.line, path: keyPath, "unknown key '\(entry.key)' (known here: \(known))")
            }
        }
    }
}
