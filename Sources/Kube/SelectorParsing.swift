/// A selector string that could not be parsed, with the part that was wrong.
public struct SelectorSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var selector: String
    public var reason: String
    public var description: String { "invalid selector '\(selector)': \(reason)" }
}

extension LabelSelector {
    /// Parses Kubernetes' selector syntax, as `--label-filter`, `--annotation-filter` and
    /// `--gateway-label-filter` take it: comma-separated terms `key`, `!key`, `key=value`,
    /// `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`. An empty string selects
    /// everything. Throws `SelectorSyntaxError` naming the offending part.
    public init(parsing text: String) throws(SelectorSyntaxError) {
        self.init()
        var scanner = SelectorScanner(text: Array(text.unicodeScalars))
        func fail(_ reason: String) -> SelectorSyntaxError { SelectorSyntaxError(selector: text, reason: reason) }
        scanner.skipSpaces()
        if scanner.atEnd { return }
        while true {
            scanner.skipSpaces()
            if scanner.consume("!") {
                let key = scanner.word()
                guard !key.isEmpty else { throw fail("'!' must be followed by a key") }
                matchExpressions.append(.init(key: key, op: .doesNotExist))
            } else {
                let key = scanner.word()
                guard !key.isEmpty else { throw fail("expected a key at position \(scanner.position + 1)") }
                scanner.skipSpaces()
                if scanner.atEnd || scanner.peek(",") {
                    matchExpressions.append(.init(key: key, op: .exists))
                } else if scanner.consume("!=") {
                    scanner.skipSpaces()
                    matchExpressions.append(.init(key: key, op: .notIn, values: [scanner.word()]))
                } else if scanner.consume("==") || scanner.consume("=") {
                    scanner.skipSpaces()
                    matchExpressions.append(.init(key: key, op: .in, values: [scanner.word()]))
                } else {
                    let op = scanner.word()
                    guard op == "in" || op == "notin" else { throw fail("unknown operator after '\(key)'") }
                    scanner.skipSpaces()
                    guard scanner.consume("(") else { throw fail("'\(op)' must be followed by '('") }
                    var values: [String] = []
                    repeat {
                        scanner.skipSpaces()
                        values.append(scanner.word())
                        scanner.skipSpaces()
                    } while scanner.consume(",")
                    guard scanner.consume(")") else { throw fail("missing ')' after the values of '\(key)'") }
                    matchExpressions.append(.init(key: key, op: op == "in" ? .in : .notIn, values: values))
                }
            }
            scanner.skipSpaces()
            if scanner.atEnd { return }
            guard scanner.consume(",") else { throw fail("expected ',' at position \(scanner.position + 1)") }
        }
    }
}

private struct SelectorScanner {
    let text: [Unicode.Scalar]
    var position = 0

    var atEnd: Bool { position >= text.count }

    mutating func skipSpaces() {
        while position < text.count, text[position] == " " || text[position] == "\t" { position += 1 }
    }

    func peek(_ token: String) -> Bool {
        let scalars = Array(token.unicodeScalars)
        guard position + scalars.count <= text.count else { return false }
        return Array(text[position..<position + scalars.count]) == scalars
    }

    mutating func consume(_ token: String) -> Bool {
        guard peek(token) else { return false }
        position += token.unicodeScalars.count
        return true
    }

    /// A key, value or operator: everything up to a space, comma, parenthesis, `=` or `!`.
    mutating func word() -> String {
        var scalars = String.UnicodeScalarView()
        while position < text.count {
            let c = text[position]
            if c == " " || c == "\t" || c == "," || c == "(" || c == ")" || c == "=" || c == "!" { break }
            scalars.append(c)
            position += 1
        }
        return String(scalars)
    }
}
