import Foundation
import Yams

/// An ApplicationSet generator's parameter value: Argo CD's fasttemplate mode sees them
/// flattened (`cluster.address`, `path[0]`), its Go template mode nested (`.cluster.address`).
indirect enum ArgoParameter: Equatable {
    case string(String)
    case list([ArgoParameter])
    case map([String: ArgoParameter])

    init(_ node: Node) {
        switch node {
        case .mapping(let mapping):
            var entries: [String: ArgoParameter] = [:]
            for (key, value) in mapping { if let key = key.string { entries[key] = ArgoParameter(value) } }
            self = .map(entries)
        case .sequence(let sequence): self = .list(sequence.map(ArgoParameter.init))
        default: self = .string(node.string ?? "")
        }
    }

    var text: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// One parameter set of an ApplicationSet generator, kept nested; `flat` gives fasttemplate's keys.
struct ArgoParameters: Equatable {
    var values: [String: ArgoParameter] = [:]
    /// Keys fasttemplate knows besides the flattened ones (`path[0]`, `path.basename` for the
    /// directory generator), which do not follow from nesting.
    var extraFlat: [String: String] = [:]

    /// Argo CD flattens maps with dots and lists with indices (`flatten.DotStyle`).
    var flat: [String: String] {
        var out: [String: String] = [:]
        func walk(_ prefix: String, _ value: ArgoParameter) {
            switch value {
            case .string(let text): out[prefix] = text
            case .list(let items): for (i, item) in items.enumerated() { walk("\(prefix).\(i)", item) }
            case .map(let entries): for (key, item) in entries { walk(prefix.isEmpty ? key : "\(prefix).\(key)", item) }
            }
        }
        for (key, value) in values { walk(key, value) }
        return out.merging(extraFlat) { $1 }
    }

    func merging(_ other: ArgoParameters) -> ArgoParameters {
        ArgoParameters(values: values.merging(other.values) { $1 }, extraFlat: extraFlat.merging(other.extraFlat) { $1 })
    }
}

/// Argo CD's ApplicationSet template rendering (docs: operator-manual/applicationset/Template.md,
/// GoTemplate.md): fasttemplate replaces `{{ key }}` with a flattened parameter and leaves an
/// unknown key as written; Go template mode evaluates fields (`{{ .path.basename }}`) and the
/// Sprig functions listed at `evaluate` — any other action is reported rather than guessed.
struct ArgoTemplate {
    var goTemplate: Bool
    var parameters: ArgoParameters

    struct Unsupported: Error {
        var action: String
    }

    /// `node` with every scalar rendered; a scalar with an action not evaluated is kept as
    /// written and named in `failures` with its key path (`spec.source.path`).
    func render(_ node: Node, at path: String = "", failures: inout [(path: String, action: String)]) -> Node {
        switch node {
        case .scalar(let scalar):
            guard scalar.string.contains("{{") else { return node }
            do {
                return Node(try render(scalar.string), scalar.tag, scalar.style)
            } catch {
                failures.append((path, error.action))
                return node
            }
        case .mapping(let mapping):
            var pairs: [(Node, Node)] = []
            for (key, value) in mapping {
                let name = key.string ?? "?"
                pairs.append((render(key, at: path, failures: &failures),
                              render(value, at: path.isEmpty ? name : path + "." + name, failures: &failures)))
            }
            return Node(pairs, mapping.tag, mapping.style)
        case .sequence(let sequence):
            var nodes: [Node] = []
            for (index, item) in sequence.enumerated() { nodes.append(render(item, at: "\(path)[\(index)]", failures: &failures)) }
            return Node(nodes, sequence.tag, sequence.style)
        default:
            return node
        }
    }

    func render(_ text: String) throws(Unsupported) -> String {
        let flat = goTemplate ? [:] : parameters.flat
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let action = rest[open.lowerBound..<close.upperBound]
            let body = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if goTemplate {
                guard let value = evaluate(body) else { throw Unsupported(action: String(action)) }
                output += value
            } else {
                output += flat[body] ?? String(action)
            }
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    private enum Token: Equatable {
        case pipe
        case field(String)
        case string(String)
        case number(Int)
        case identifier(String)
    }

    /// The words of an action: `|`, `.a.b`, `"text"` (with Go's `\"` and `\\` escapes), `` `raw` ``,
    /// integers and function names; nil for anything else (parentheses, variables, assignments).
    private static func tokens(_ expression: String) -> [Token]? {
        var tokens: [Token] = []
        var rest = Substring(expression)
        while let first = rest.first {
            if first == " " || first == "\t" { rest = rest.dropFirst(); continue }
            if first == "|" { tokens.append(.pipe); rest = rest.dropFirst(); continue }
            if first == "\"" || first == "`" {
                var text = ""
                var index = rest.index(after: rest.startIndex)
                var closed = false
                while index < rest.endIndex {
                    let character = rest[index]
                    if character == first { closed = true; break }
                    if first == "\"", character == "\\" {
                        index = rest.index(after: index)
                        guard index < rest.endIndex else { return nil }
                        text.append(rest[index])
                    } else {
                        text.append(character)
                    }
                    index = rest.index(after: index)
                }
                guard closed else { return nil }
                tokens.append(.string(text))
                rest = rest[rest.index(after: index)...]
                continue
            }
            let word = rest.prefix { $0 != " " && $0 != "\t" && $0 != "|" }
            rest = rest.dropFirst(word.count)
            if word.hasPrefix(".") {
                tokens.append(.field(String(word)))
            } else if let number = Int(word) {
                tokens.append(.number(number))
            } else if word.allSatisfy({ $0.isLetter || $0.isNumber }) {
                tokens.append(.identifier(String(word)))
            } else {
                return nil
            }
        }
        return tokens
    }

    /// One action: a field, a string, or a pipeline of the Sprig functions ApplicationSets use
    /// (`index`, `lower`, `upper`, `replace`, `trimPrefix`, `trimSuffix`, `regexReplaceAll`,
    /// `default`); a piped value is the last argument, as in Go templates.
    private func evaluate(_ expression: String) -> String? {
        guard let tokens = Self.tokens(expression), !tokens.isEmpty else { return nil }
        var stages: [[Token]] = [[]]
        for token in tokens {
            if token == .pipe { stages.append([]) } else { stages[stages.count - 1].append(token) }
        }
        var value: ArgoParameter?
        for (position, stage) in stages.enumerated() {
            guard let head = stage.first else { return nil }
            var arguments: [ArgoParameter?] = stage.dropFirst().map { token in
                switch token {
                case .field(let path): return lookup(path)
                case .string(let text): return .string(text)
                case .number(let number): return .string(String(number))
                case .pipe, .identifier: return nil
                }
            }
            if position > 0 { arguments.append(value) }
            switch head {
            case .field(let path) where stage.count == 1 && position == 0: value = lookup(path)
            case .string(let text) where stage.count == 1 && position == 0: value = .string(text)
            case .identifier(let name): value = Self.call(name, arguments)
            default: return nil
            }
            if value == nil { return nil }
        }
        return value?.text
    }

    private static func call(_ name: String, _ arguments: [ArgoParameter?]) -> ArgoParameter? {
        let texts = arguments.map { $0?.text }
        func text(_ i: Int) -> String? { i < texts.count ? texts[i] : nil }
        switch (name, arguments.count) {
        case ("index", 2):
            guard case .list(let items)? = arguments[0], let i = text(1).flatMap(Int.init), items.indices.contains(i) else { return nil }
            return items[i]
        case ("lower", 1): return text(0).map { .string($0.lowercased()) }
        case ("upper", 1): return text(0).map { .string($0.uppercased()) }
        case ("replace", 3):
            guard let old = text(0), let new = text(1), let source = text(2) else { return nil }
            return .string(old.isEmpty ? source : source.replacingOccurrences(of: old, with: new))
        case ("trimPrefix", 2):
            guard let prefix = text(0), let source = text(1) else { return nil }
            return .string(source.hasPrefix(prefix) ? String(source.dropFirst(prefix.count)) : source)
        case ("trimSuffix", 2):
            guard let suffix = text(0), let source = text(1) else { return nil }
            return .string(source.hasSuffix(suffix) ? String(source.dropLast(suffix.count)) : source)
        case ("regexReplaceAll", 3):
            guard let pattern = text(0), let source = text(1), let replacement = text(2), pattern.count <= 1024,
                  let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
            let range = NSRange(source.startIndex..., in: source)
            return .string(regex.stringByReplacingMatches(in: source, range: range, withTemplate: replacement))
        case ("default", 2):
            guard let fallback = text(0) else { return nil }
            return .string(text(1).flatMap { $0.isEmpty ? nil : $0 } ?? fallback)
        default:
            return nil
        }
    }

    private func lookup(_ path: String) -> ArgoParameter? {
        guard path.hasPrefix("."), path.count > 1 else { return nil }
        var current: ArgoParameter = .map(parameters.values)
        for key in path.dropFirst().split(separator: ".") {
            guard case .map(let entries) = current, let next = entries[String(key)] else { return nil }
            current = next
        }
        return current
    }
}

/// Glob patterns as Argo CD matches them: `*` within one path segment, `**` across segments,
/// `?`, `[…]` classes and `{a,b}` alternatives (Go's `path.Match` for the directory generator;
/// doublestar for the file generator and a directory source's include/exclude).
enum Glob {
    static func match(_ pattern: String, _ path: String) -> Bool {
        let characters = Array(path)
        for alternative in expand(pattern) {
            // Each (pattern position, path position) is decided once: `a*a*a*…` stays polynomial.
            var memo: [Int: Bool] = [:]
            if match(Array(alternative), 0, characters, 0, &memo) { return true }
        }
        return false
    }

    private static func match(_ p: [Character], _ i: Int, _ s: [Character], _ j: Int, _ memo: inout [Int: Bool]) -> Bool {
        let key = i * (s.count + 1) + j
        if let known = memo[key] { return known }
        let result = step(p, i, s, j, &memo)
        memo[key] = result
        return result
    }

    /// `{a,b}` alternatives expanded, at most `limit` of them (`{a,b}{a,b}…` doubles each time).
    static func expand(_ pattern: String, limit: Int = 256) -> [String] {
        var done: [String] = []
        var work = [pattern]
        while let current = work.popLast() {
            guard let open = current.firstIndex(of: "{"), let close = current[open...].firstIndex(of: "}") else {
                done.append(current)
                continue
            }
            for choice in current[current.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
            where done.count + work.count < limit {
                work.append(String(current[..<open]) + choice + current[current.index(after: close)...])
            }
        }
        return done
    }

    private static func step(_ p: [Character], _ i: Int, _ s: [Character], _ j: Int, _ memo: inout [Int: Bool]) -> Bool {
        if i == p.count { return j == s.count }
        switch p[i] {
        case "*":
            if i + 1 < p.count, p[i + 1] == "*" {
                let next = i + 2
                if next == p.count { return true }
                // `**/` also matches no folder at all.
                if p[next] == "/", match(p, next + 1, s, j, &memo) { return true }
                for k in j...s.count where match(p, next, s, k, &memo) { return true }
                return false
            }
            var k = j
            while true {
                if match(p, i + 1, s, k, &memo) { return true }
                if k == s.count || s[k] == "/" { return false }
                k += 1
            }
        case "?":
            return j < s.count && s[j] != "/" && match(p, i + 1, s, j + 1, &memo)
        case "[":
            guard j < s.count, let end = p[(i + 1)...].firstIndex(of: "]") else { return false }
            var set = Array(p[(i + 1)..<end])
            let negated = set.first == "^" || set.first == "!"
            if negated { set.removeFirst() }
            var found = false
            var k = 0
            while k < set.count {
                if k + 2 < set.count, set[k + 1] == "-" {
                    if set[k] <= s[j] && s[j] <= set[k + 2] { found = true }
                    k += 3
                } else {
                    if set[k] == s[j] { found = true }
                    k += 1
                }
            }
            return found != negated && match(p, end + 1, s, j + 1, &memo)
        case "\\" where i + 1 < p.count:
            return j < s.count && s[j] == p[i + 1] && match(p, i + 2, s, j + 1, &memo)
        default:
            return j < s.count && s[j] == p[i] && match(p, i + 1, s, j + 1, &memo)
        }
    }
}
