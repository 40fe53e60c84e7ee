import Foundation

/// external-dns's `--fqdn-template` (`source/fqdn/fqdn.go`): a Go text/template evaluated on
/// the route object, whose output is split on commas, each name trimmed of spaces and one
/// trailing dot, empty names dropped. netagent reads the part of the template language such
/// templates use, and refuses the rest when the configuration is loaded:
/// - fields `.Name`, `.Namespace`, `.Kind`, `.Labels.KEY`, `.Annotations.KEY` (a missing key
///   prints `<no value>`, as Go's default does);
/// - `index .Labels "KEY"` / `index .Annotations "KEY"` (a missing key prints nothing);
/// - string literals, and the functions external-dns adds: `toLower`, `trim`, `trimPrefix`,
///   `trimSuffix`, `replace`, each also after `|` (the piped value is the last argument).
///
/// The values come from route authors (a label or annotation may hold up to 256 KiB), and
/// `replace` multiplies them: every value the template computes is held to
/// `maxOutputBytes`, checked before a `replace` is carried out, and an object whose names would
/// exceed it gets none (`hosts` throws, naming the object).
public struct FQDNTemplate: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let parts: [Part]

    private enum Part: Sendable, Hashable {
        case literal(String)
        case action([Command])
    }

    /// One command of a pipeline: a value or a function with its arguments.
    private enum Command: Sendable, Hashable {
        case field([String])
        case string(String)
        case call(String, [Command])
    }

    /// The most UTF-8 bytes any value of an evaluation may hold, the output included: room for
    /// over 250 names of 253 characters, far beyond any template's honest use.
    public static let maxOutputBytes = 64 * 1024

    private static let functions: [String: Int] = ["toLower": 1, "trim": 1, "trimPrefix": 2, "trimSuffix": 2, "replace": 3, "index": 2]

    public init(parsing text: String) throws(TemplateError) {
        self.text = text
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw TemplateError("unclosed {{ in \(text)") }
            var body = rest[open.upperBound..<close.lowerBound]
            if body.hasPrefix("-") { body = body.dropFirst() }
            if body.hasSuffix("-") { body = body.dropLast() }
            parts.append(.action(try Self.pipeline(String(body))))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    public var description: String { text }

    /// The names the template gives for an object of `kind` with `metadata`; throws when a value
    /// it computes would exceed `maxOutputBytes`.
    public func hosts(kind: String, metadata: ObjectMeta) throws(TemplateError) -> [String] {
        var output = ""
        for part in parts {
            switch part {
            case .literal(let text): output += text
            case .action(let commands): output += try Self.run(commands, kind: kind, metadata: metadata)
            }
            try Self.bound(output.utf8.count, kind: kind, metadata: metadata)
        }
        return output.split(separator: ",").compactMap { raw in
            var name = raw.trimmingSpaces()
            if name.hasSuffix(".") { name.removeLast() }
            return name.isEmpty ? nil : name
        }
    }

    // MARK: parsing

    private static func pipeline(_ text: String) throws(TemplateError) -> [Command] {
        var commands: [Command] = []
        for stage in try split(text, on: "|") {
            let words = try tokens(stage)
            guard let first = words.first else { throw TemplateError("empty command in {{\(text)}}") }
            if let arity = functions[first] {
                let args = try words.dropFirst().map { word throws(TemplateError) in try value(word) }
                let piped = commands.isEmpty ? 0 : 1
                guard args.count + piped == arity else {
                    throw TemplateError("\(first) takes \(arity) arguments in {{\(text)}}")
                }
                commands.append(.call(first, args))
            } else {
                guard words.count == 1, commands.isEmpty else {
                    throw TemplateError("'\(first)' is not a function netagent knows (\(functions.keys.sorted().joined(separator: ", "))) in {{\(text)}}")
                }
                commands.append(try value(first))
            }
        }
        return commands
    }

    private static func value(_ word: String) throws(TemplateError) -> Command {
        if word.hasPrefix("\"") {
            guard word.count >= 2, word.hasSuffix("\""), !word.dropFirst().dropLast().contains("\"") else {
                throw TemplateError("'\(word)' is not one string literal")
            }
            return .string(String(word.dropFirst().dropLast()))
        }
        guard word.hasPrefix(".") else { throw TemplateError("'\(word)' is neither a field (.Name) nor a string") }
        let path = word.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch (path.first, path.count) {
        case ("Name"?, 1), ("Namespace"?, 1), ("Kind"?, 1), ("Labels"?, 1...2), ("Annotations"?, 1...2):
            return .field(path)
        default:
            throw TemplateError("field \(word) is not one netagent knows (.Name, .Namespace, .Kind, .Labels.KEY, .Annotations.KEY)")
        }
    }

    /// Splits on `separator` outside string literals.
    private static func split(_ text: String, on separator: Character) throws(TemplateError) -> [String] {
        var result: [String] = [], current = "", quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if c == separator && !quoted { result.append(current); current = "" } else { current.append(c) }
        }
        guard !quoted else { throw TemplateError("unterminated string in {{\(text)}}") }
        result.append(current)
        return result
    }

    private static func tokens(_ text: String) throws(TemplateError) -> [String] {
        var result: [String] = [], current = "", quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if (c == " " || c == "\t") && !quoted {
                if !current.isEmpty { result.append(current); current = "" }
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    // MARK: evaluation

    private enum Value {
        case text(String)
        case map([String: String])

        var string: String {
            switch self {
            case .text(let text): text
            case .map(let map): "map[" + map.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ") + "]"
            }
        }
    }

    private static func run(_ commands: [Command], kind: String, metadata: ObjectMeta) throws(TemplateError) -> String {
        var piped: Value?
        var output = ""
        for command in commands {
            let value = try evaluate(command, piped: piped, kind: kind, metadata: metadata)
            output = value.string
            try bound(output.utf8.count, kind: kind, metadata: metadata)
            piped = value
        }
        return output
    }

    private static func bound(_ bytes: Int, kind: String, metadata: ObjectMeta) throws(TemplateError) {
        guard bytes > maxOutputBytes else { return }
        throw TemplateError("the template's output for \(kind) \(metadata.namespace)/\(metadata.name) would exceed \(maxOutputBytes) bytes")
    }

    private static func evaluate(_ command: Command, piped: Value?, kind: String, metadata: ObjectMeta) throws(TemplateError) -> Value {
        switch command {
        case .string(let text): return .text(text)
        case .field(let path):
            switch path[0] {
            case "Name": return .text(metadata.name)
            case "Namespace": return .text(metadata.namespace)
            case "Kind": return .text(kind)
            default:
                let map = path[0] == "Labels" ? metadata.labels : metadata.annotations
                return path.count == 1 ? .map(map) : .text(map[path[1]] ?? "<no value>")
            }
        case .call(let name, let argCommands):
            var args: [Value] = []
            for arg in argCommands { args.append(try evaluate(arg, piped: nil, kind: kind, metadata: metadata)) }
            if let piped { args.append(piped) }
            // Text arguments only: `index` picks one key of a map, whatever the map's size.
            for case .text(let text) in args { try bound(text.utf8.count, kind: kind, metadata: metadata) }
            let s = args.map(\.string)
            switch name {
            case "toLower": return .text(s[0].lowercased())
            case "trim": return .text(Substring(s[0]).trimmingSpaces())
            case "trimPrefix": return .text(s[1].hasPrefix(s[0]) && !s[0].isEmpty ? String(s[1].dropFirst(s[0].count)) : s[1])
            case "trimSuffix": return .text(s[1].hasSuffix(s[0]) && !s[0].isEmpty ? String(s[1].dropLast(s[0].count)) : s[1])
            case "replace":
                guard !s[0].isEmpty else { return .text(s[2]) }
                // The size of the result, known before it is made: each occurrence grows it by the difference.
                let growth = s[1].utf8.count - s[0].utf8.count
                if growth > 0 { try bound(s[2].utf8.count + s[2].ranges(of: s[0]).count * growth, kind: kind, metadata: metadata) }
                return .text(s[2].replacingOccurrences(of: s[0], with: s[1]))
            default:  // index MAP KEY
                guard case .map(let map) = args[0] else { return .text("") }
                return .text(map[s[1]] ?? "")
            }
        }
    }
}

/// A template netagent cannot read, in words.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
