import Foundation
import Yams

/// Flux `postBuild` substitution, as Flux performs it: kustomize-controller evaluates the built
/// manifests with drone/envsubst (github.com/drone/envsubst, `parse/parse.go`, `parse/scan.go`,
/// `template.go`, `funcs.go`), whose forms are modelled here:
///
/// - `${NAME}`; `${NAME=word}`, `${NAME:=word}`, `${NAME:-word}` (also `:?`, `:+`, which envsubst
///   maps to the same function): the word when the value is *empty or unset* (`toDefault`);
///   the word may hold further `${...}`;
/// - `${NAME/pattern/string}` (first), `${NAME//pattern/string}` (all), `${NAME/#pattern/string}`
///   (prefix), `${NAME/%pattern/string}` (suffix): literal substrings, `\/` and `\\` escaped;
///   a missing string removes the pattern;
/// - `${NAME^}`, `${NAME^^}`, `${NAME,}`, `${NAME,,}` (case), `${#NAME}` (length in bytes),
///   `${NAME:offset}`, `${NAME:offset:length}`, and `${NAME#glob}`, `${NAME##glob}`, `${NAME%glob}`,
///   `${NAME%%glob}` (trims, with Go `path.Match` globs: `*` and `?` never match `/`, as
///   `fnmatch(3)` with `FNM_PATHNAME`).
///
/// Names are envsubst's identifiers (letters, digits, `_` and `-`). `$${NAME}` is kept as the
/// literal `${NAME}`. Where Flux gives an unset variable without a default the empty string
/// (or fails, with `strict`), this reports it instead: a record is never made from a guess.
/// Anything envsubst would refuse as a bad substitution is left as it stands. Whole-line
/// comments are passed over, as Flux substitutes after kustomize has dropped them.
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
    /// `literal` holds the 1-based line ranges left as they are (the objects that say
    /// `kustomize.toolkit.fluxcd.io/substitute: disabled`).
    public static func substitute(
        _ text: String, variables: [String: String], maxOutputBytes: Int, literal: [Range<Int>] = []
    ) throws(TooLarge) -> (text: String, unresolved: [Unresolved]) {
        guard hasReference(text) else { return (text, []) }
        var output = ""
        output.reserveCapacity(min(text.utf8.count, maxOutputBytes))
        var unresolved: [Unresolved] = []
        var lineNumber = 0
        var budget = maxOutputBytes
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let piece: String
            if !hasReference(line) || line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#")
                || literal.contains(where: { $0.contains(lineNumber) }) {
                piece = String(line)
            } else {
                var evaluator = Evaluator(line: Array(line.unicodeScalars), variables: variables, budget: budget)
                guard let result = evaluator.text(until: []) else { throw TooLarge(line: lineNumber, limit: maxOutputBytes) }
                piece = result
                unresolved += evaluator.unresolved.map { Unresolved(name: $0, line: lineNumber) }
            }
            budget -= piece.utf8.count + (lineNumber > 1 ? 1 : 0)
            guard budget >= 0 else { throw TooLarge(line: lineNumber, limit: maxOutputBytes) }
            if lineNumber > 1 { output += "\n" }
            output += piece
        }
        return (output, unresolved)
    }

    /// Whether `text` holds `${`, looked for byte by byte: Foundation's `contains` bridges each
    /// line to an NSString (a profile of a 2,000-app repository spent 5 % of its CPU there).
    static func hasReference<Text: StringProtocol>(_ text: Text) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "$"), byte == UInt8(ascii: "{") { return true }
            previous = byte
        }
        return false
    }

    /// One line evaluated as envsubst's parser reads it.
    private struct Evaluator {
        let line: [Unicode.Scalar]
        let variables: [String: String]
        /// The most bytes one piece of output may reach; past it evaluation stops (nil).
        let budget: Int
        var at = 0
        var unresolved: [String] = []
        /// `${A:=${B:=${...}}}` nests; past this depth the rest is left as text.
        static let maxDepth = 32
        var depth = 0

        init(line: [Unicode.Scalar], variables: [String: String], budget: Int) {
            self.line = line
            self.variables = variables
            self.budget = budget
        }

        private func peek(_ offset: Int = 0) -> Unicode.Scalar? { at + offset < line.count ? line[at + offset] : nil }

        /// Text with its `${...}` evaluated, up to (not past) a scalar of `stops` at this level;
        /// `escapes` takes `\/` and `\\` as literal (envsubst's `scanEscape` in replace arguments).
        /// nil when the output passes the budget.
        mutating func text(until stops: Set<Unicode.Scalar>, escapes: Bool = false) -> String? {
            var result = ""
            while let scalar = peek(), !stops.contains(scalar) {
                if result.utf8.count > budget { return nil }
                if scalar == "$", peek(1) == "$", peek(2) == "{", stops.isEmpty {
                    // `$${NAME}`: the literal `${NAME}`.
                    result += "${"
                    at += 3
                    continue
                }
                if escapes, scalar == "\\", let next = peek(1), next == "/" || next == "\\" {
                    result.unicodeScalars.append(next)
                    at += 2
                    continue
                }
                if scalar == "$", peek(1) == "{", depth < Self.maxDepth {
                    let start = at
                    at += 2
                    depth += 1
                    let value = expression()
                    depth -= 1
                    switch value {
                    case .value(let text): result += text
                    case .tooLarge: return nil
                    case .unresolved(let name):
                        unresolved.append(name)
                        result += String(String.UnicodeScalarView(line[start..<at]))
                    case .notAnExpression:
                        at = start + 1
                        result += "$"
                    }
                    continue
                }
                result.unicodeScalars.append(scalar)
                at += 1
            }
            return result.utf8.count > budget ? nil : result
        }

        enum Outcome { case value(String), unresolved(String), notAnExpression, tooLarge }

        private mutating func name() -> String {
            var name = ""
            while let scalar = peek(), scalar == "_" || scalar == "-" || scalar.properties.isAlphabetic
                    || scalar.properties.numericType == .decimal {
                name.unicodeScalars.append(scalar)
                at += 1
            }
            return name
        }

        /// Reads one scalar if it is `scalar`.
        private mutating func take(_ scalar: Unicode.Scalar) -> Bool {
            guard peek() == scalar else { return false }
            at += 1
            return true
        }

        /// After `${`: the expression up to and past its `}`.
        private mutating func expression() -> Outcome {
            if take("#") {
                let name = name()
                guard !name.isEmpty, take("}") else { return .notAnExpression }
                guard let value = variables[name] else { return .unresolved(name) }
                return .value(String(value.utf8.count))
            }
            let name = name()
            guard !name.isEmpty, let next = peek() else { return .notAnExpression }
            let value = variables[name]
            switch next {
            case "}":
                at += 1
                return value.map { .value($0) } ?? .unresolved(name)
            case _ where next == "=" || (next == ":" && peek(1).map({ "=-?+".unicodeScalars.contains($0) }) == true):
                at += next == "=" ? 1 : 2
                guard let word = text(until: ["}"]) else { return .tooLarge }
                guard take("}") else { return .notAnExpression }
                // toDefault: the word when the value is empty, unset or not.
                return .value(value.flatMap { $0.isEmpty ? nil : $0 } ?? word)
            case ":":
                at += 1
                guard let offset = text(until: [":", "}"]) else { return .tooLarge }
                var length: String?
                if take(":") {
                    guard let text = text(until: ["}"]) else { return .tooLarge }
                    length = text
                }
                guard take("}") else { return .notAnExpression }
                guard let value else { return .unresolved(name) }
                return .value(VariableSubstitution.substring(value, offset: offset, length: length))
            case ",", "^":
                at += 1
                let twice = take(next)
                guard take("}") else { return .notAnExpression }
                guard let value else { return .unresolved(name) }
                let first = value.first.map(String.init) ?? ""
                switch (next, twice) {
                case (",", true): return .value(value.lowercased())
                case (",", false): return .value(first.lowercased() + value.dropFirst())
                case (_, true): return .value(value.uppercased())
                default: return .value(first.uppercased() + value.dropFirst())
                }
            case "/":
                at += 1
                var op = "/"
                if let mode = peek(), mode == "/" || mode == "#" || mode == "%" {
                    op.unicodeScalars.append(mode)
                    at += 1
                }
                guard let pattern = text(until: ["/", "}"], escapes: true) else { return .tooLarge }
                guard take("/") else { return .notAnExpression }
                var replacement: String?
                if !take("}") {
                    guard let text = text(until: ["}"], escapes: true) else { return .tooLarge }
                    guard take("}") else { return .notAnExpression }
                    replacement = text
                }
                guard let value else { return .unresolved(name) }
                return .value(VariableSubstitution.replace(value, op: op, pattern: pattern, replacement: replacement))
            case "#", "%":
                at += 1
                let longest = take(next)
                guard let pattern = text(until: ["}"]) else { return .tooLarge }
                guard take("}") else { return .notAnExpression }
                guard let value else { return .unresolved(name) }
                return .value(VariableSubstitution.trim(value, pattern: pattern, fromEnd: next == "%", longest: longest))
            default:
                return .notAnExpression
            }
        }
    }

    /// envsubst's `toSubstr`: byte offsets as Go slices strings; a bad number leaves the value.
    static func substring(_ value: String, offset: String, length: String?) -> String {
        let bytes = Array(value.utf8)
        guard var position = Int(offset) else { return value }
        if position < 0 { position = max(0, bytes.count + position) }
        guard let length else { return position < bytes.count ? String(decoding: bytes[position...], as: UTF8.self) : "" }
        guard let count = Int(length) else { return value }
        if position + count >= bytes.count { return position < bytes.count ? String(decoding: bytes[position...], as: UTF8.self) : "" }
        guard count >= 0 else { return value }
        return String(decoding: bytes[position..<(position + count)], as: UTF8.self)
    }

    /// envsubst's `replaceFirst`, `replaceAll`, `replacePrefix`, `replaceSuffix` (literal substrings;
    /// the prefix and suffix forms need both arguments, or leave the value).
    static func replace(_ value: String, op: String, pattern: String, replacement: String?) -> String {
        switch op {
        case "//": return value.replacingOccurrences(of: pattern, with: replacement ?? "")
        case "/#":
            guard let replacement, value.hasPrefix(pattern) else { return value }
            return replacement + value.dropFirst(pattern.count)
        case "/%":
            guard let replacement, value.hasSuffix(pattern) else { return value }
            return value.dropLast(pattern.count) + replacement
        default:
            // Go's strings.Replace(s, "", r, 1) puts r before s, as this does.
            guard let range = pattern.isEmpty ? value.startIndex..<value.startIndex : value.range(of: pattern) else { return value }
            return value.replacingCharacters(in: range, with: replacement ?? "")
        }
    }

    /// envsubst's trims: the shortest or longest prefix (suffix) matching `pattern`.
    static func trim(_ value: String, pattern: String, fromEnd: Bool, longest: Bool) -> String {
        let scalars = Array(value.unicodeScalars)
        guard !scalars.isEmpty else { return value }
        for cut in longest ? Array((1...scalars.count).reversed()) : Array(1...scalars.count) {
            let part = fromEnd ? scalars[(scalars.count - cut)...] : scalars[..<cut]
            if fnmatch(pattern, String(String.UnicodeScalarView(part)), FNM_PATHNAME) == 0 {
                let rest = fromEnd ? scalars[..<(scalars.count - cut)] : scalars[cut...]
                return String(String.UnicodeScalarView(rest))
            }
        }
        return value
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
        if let mapping = (try? Yams.compose(yaml: text, .default, .default, .utf8))?.flatMap({ $0.mapping }) {
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
