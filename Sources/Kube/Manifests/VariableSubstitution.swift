import Foundation
import Yams

/// Flux `postBuild` substitution: `${NAME}`, `${NAME:=default}` and `${NAME:-default}` in the
/// text of a manifest, with `$${NAME}` kept as the literal `${NAME}`. Names follow Flux
/// (`[_a-zA-Z][_a-zA-Z0-9]*`); anything else after `${` is left alone. Whole-line comments are
/// passed over, as Flux substitutes after kustomize has dropped them.
public enum VariableSubstitution {
    /// A variable that has neither a value nor a default, with the 1-based line it is on.
    public struct Unresolved: Hashable, Sendable {
        public var name: String
        public var line: Int
    }

    /// Substitution stopped because its output passed `limit` bytes, on `line`.
    public struct TooLarge: Error, Hashable, Sendable {
        public var line: Int
        public var limit: Int
    }

    /// `text` with every variable that has a value or default replaced, and those that have neither.
    public static func substitute(_ text: String, variables: [String: String]) -> (text: String, unresolved: [Unresolved]) {
        // Without a bound nothing can be too large.
        (try? substitute(text, variables: variables, maxOutputBytes: .max)) ?? (text, [])
    }

    /// As `substitute(_:variables:)`, but stops as soon as the output would pass
    /// `maxOutputBytes`: a 1 MB file of `${BIG}${BIG}…` never becomes gigabytes in memory.
    public static func substitute(
        _ text: String, variables: [String: String], maxOutputBytes: Int
    ) throws(TooLarge) -> (text: String, unresolved: [Unresolved]) {
        guard text.contains("${") else { return (text, []) }
        var output = ""
        output.reserveCapacity(min(text.utf8.count, maxOutputBytes))
        var unresolved: [Unresolved] = []
        var lineNumber = 0
        var budget = maxOutputBytes
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let piece: String
            if !line.contains("${") || line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") {
                piece = String(line)
            } else {
                piece = try substitute(line: line, number: lineNumber, variables: variables, unresolved: &unresolved,
                                       budget: budget, limit: maxOutputBytes)
            }
            budget -= piece.utf8.count + (lineNumber > 1 ? 1 : 0)
            guard budget >= 0 else { throw TooLarge(line: lineNumber, limit: maxOutputBytes) }
            if lineNumber > 1 { output += "\n" }
            output += piece
        }
        return (output, unresolved)
    }

    private static func substitute(line: Substring, number: Int, variables: [String: String],
                                   unresolved: inout [Unresolved], budget: Int, limit: Int) throws(TooLarge) -> String {
        var result = ""
        var rest = line
        // Checked before each value goes in, so the line never grows far past the budget.
        func check() throws(TooLarge) {
            if result.utf8.count > budget { throw TooLarge(line: number, limit: limit) }
        }
        while let dollar = rest.firstIndex(of: "$") {
            try check()
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("${") {
                // `$${NAME}` is an escaped, literal `${NAME}`.
                result += "$"
                rest = after.dropFirst()
                if let close = rest.firstIndex(of: "}") {
                    result += rest[...close]
                    rest = rest[rest.index(after: close)...]
                }
                continue
            }
            guard after.hasPrefix("{"), let close = after.firstIndex(of: "}"),
                  let (name, fallback) = parse(after[after.index(after: after.startIndex)..<close]) else {
                result += "$"
                rest = after
                continue
            }
            if let value = variables[name] ?? fallback {
                guard result.utf8.count + value.utf8.count <= budget else { throw TooLarge(line: number, limit: limit) }
                result += value
            } else {
                unresolved.append(Unresolved(name: name, line: number))
                result += rest[dollar...close]
            }
            rest = after[after.index(after: close)...]
        }
        result += rest
        return result
    }

    /// `NAME`, `NAME:=default` or `NAME:-default`; nil when NAME is not a variable name.
    private static func parse(_ body: Substring) -> (String, String?)? {
        var name = body
        var fallback: String?
        if let colon = body.firstIndex(of: ":") {
            let op = body[body.index(after: colon)...]
            guard op.hasPrefix("=") || op.hasPrefix("-") else { return nil }
            name = body[..<colon]
            fallback = String(op.dropFirst())
        }
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter),
              name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else { return nil }
        return (String(name), fallback)
    }

    /// `NAME=VALUE` of `--var`; nil when there is no `=` or no name.
    public static func parseAssignment(_ text: String) -> (name: String, value: String)? {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// The variables of a `--vars-file`: a YAML map of scalars, a Secret or ConfigMap manifest
    /// (`stringData`, `data`; a Secret's `data` is base64), or dotenv lines (`NAME=VALUE`,
    /// `export NAME=VALUE`, `#` comments, values optionally quoted).
    public static func parseFile(_ text: String, file: String) throws(ManifestDiagnostic) -> [String: String] {
        if let mapping = (try? Yams.compose(yaml: text))?.flatMap({ $0.mapping }) {
            return try variables(of: mapping, file: file)
        }
        var variables: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let (name, value) = parseAssignment(line) else {
                throw ManifestDiagnostic(location: SourceLocation(file: file, line: index + 1), message: "not NAME=VALUE: \(line)")
            }
            var trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.count >= 2, let quote = trimmed.first, quote == "\"" || quote == "'", trimmed.last == quote {
                trimmed = String(trimmed.dropFirst().dropLast())
            }
            variables[name.trimmingCharacters(in: .whitespaces)] = trimmed
        }
        return variables
    }

    private static func variables(of mapping: Node.Mapping, file: String) throws(ManifestDiagnostic) -> [String: String] {
        let isSecret = mapping["kind"]?.string == "Secret"
        if mapping["kind"]?.string != nil {
            var result: [String: String] = [:]
            for (key, value) in mapping["data"]?.mapping ?? [:] {
                guard let name = key.string, let text = value.string else { continue }
                if isSecret {
                    guard let data = Data(base64Encoded: text) else {
                        throw ManifestDiagnostic(location: SourceLocation(file: file, line: value.mark.map { $0.line }),
                                                 message: "data.\(name) is not base64")
                    }
                    result[name] = String(decoding: data, as: UTF8.self)
                } else {
                    result[name] = text
                }
            }
            for (key, value) in mapping["stringData"]?.mapping ?? [:] {
                if let name = key.string, let text = value.string { result[name] = text }
            }
            return result
        }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string, let text = value.scalar?.string else {
                throw ManifestDiagnostic(location: SourceLocation(file: file, line: key.mark.map { $0.line }),
                                         message: "a variables file maps names to plain values")
            }
            result[name] = text
        }
        return result
    }
}
