public import Yams

/// Bounds on YAML input, checked before and after composing a document, for the
/// configuration and for manifests alike. Every value is listed in docs/security.md.
///
/// - Depth: Yams composes nodes recursively, a call per level; its libyaml stops at 1000
///   levels (`MAX_NESTING_LEVEL`, a parse error). This bound is lower, and is
///   measured on the text first, without recursion, naming the line and the depth.
/// - Nodes: aliases are shared when composed but walked again by every reader, so ten
///   nested `*a` aliases (a "billion laughs") make a small file read as 10^9 nodes. The
///   composed tree is counted, aliases expanded, up to a bound.
public enum YAMLLimits {
    /// The deepest nesting of mappings and sequences accepted. Kubernetes objects nest about
    /// 15 deep, the configuration 6.
    public static let maxDepth = 100
    /// The most nodes, aliases expanded, in the configuration file.
    public static let maxConfigNodes = 100_000
    /// The most nodes, aliases expanded, in one manifest document (a `List` from
    /// `kubectl get -o yaml` of ~100,000 routes has ~10 million).
    public static let maxManifestNodes = 20_000_000

    /// The first line whose nesting (block indentation levels, `- ` entries opened on one
    /// line, and open `[`/`{`) passes `maxDepth`, with that depth; nil when none does.
    /// A scan of the text, never recursive; it may count a bracket inside a plain scalar,
    /// so it errs towards a deeper count, never a shallower one for real structure.
    public static func tooDeep(_ text: Substring, maxDepth: Int = maxDepth) -> (line: Int, depth: Int)? {
        var indents: [Int] = []
        var flow = 0
        var line = 1
        var bytes = text.utf8[...]
        while !bytes.isEmpty {
            let end = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let content = bytes[..<end]
            bytes = end == bytes.endIndex ? bytes[end...] : bytes[bytes.index(after: end)...]
            defer { line += 1 }
            let indent = content.prefix { $0 == UInt8(ascii: " ") }.count
            var rest = content.dropFirst(indent)
            guard let first = rest.first, first != UInt8(ascii: "#") else { continue }
            if flow == 0 {
                while let last = indents.last, last > indent { indents.removeLast() }
                if indents.last.map({ $0 < indent }) ?? true { indents.append(indent) }
            }
            // `- - - x` opens a sequence per dash.
            var dashes = 0
            while rest.starts(with: "- ".utf8) || rest.elementsEqual("-".utf8) {
                dashes += 1
                rest = rest.dropFirst(2)
                while rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
            }
            var deepest = flow
            var quote: UInt8?
            var previous: UInt8 = UInt8(ascii: " ")
            var escaped = false
            for byte in rest {
                defer { previous = byte }
                if let open = quote {
                    if open == UInt8(ascii: "\""), byte == UInt8(ascii: "\\"), !escaped { escaped = true; continue }
                    if byte == open, !escaped { quote = nil }
                    escaped = false
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    // A quote opens a scalar only where a token starts.
                    if previous == UInt8(ascii: " ") || previous == UInt8(ascii: "[") || previous == UInt8(ascii: "{")
                        || previous == UInt8(ascii: ",") || previous == UInt8(ascii: ":") { quote = byte }
                case UInt8(ascii: "#") where previous == UInt8(ascii: " "):
                    break
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    flow += 1
                    deepest = max(deepest, flow)
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    flow = max(0, flow - 1)
                default:
                    continue
                }
                if byte == UInt8(ascii: "#"), previous == UInt8(ascii: " ") { break }
            }
            let depth = indents.count + dashes + deepest
            if depth > maxDepth { return (line, depth) }
        }
        return nil
    }

    /// The number of nodes under `node`, aliases expanded, counted up to `limit`: nil when
    /// there are more. Iterative, so its own depth is no concern.
    public static func nodeCount(_ node: Node, limit: Int) -> Int? {
        var count = 0
        var stack = [node]
        while let next = stack.popLast() {
            count += 1
            if count > limit { return nil }
            switch next {
            case .scalar, .alias:
                continue
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            case .sequence(let sequence):
                stack.append(contentsOf: sequence)
            }
        }
        return count
    }
}
