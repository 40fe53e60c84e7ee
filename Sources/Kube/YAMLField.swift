import Yams

/// A node of a composed YAML document together with the key it was found under, so that a
/// type error can say which field and which line. Reading never copies the tree.
struct Field {
    let node: Node
    let key: String

    var line: Int? { node.mark?.line }

    func fail(_ problem: String) -> DecodeError {
        DecodeError(key: key, line: line, problem: problem)
    }

    /// Whether the node is YAML null (`~`, `null`, or nothing at all).
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    /// The value under `name` in this mapping; nil when absent or null. Follows `<<` merge keys.
    func child(_ name: String) throws(DecodeError) -> Field? {
        guard case .mapping(let mapping) = node else {
            if isNull { return nil }
            throw fail("expected a mapping")
        }
        var merged: [Node] = []
        for (k, v) in mapping {
            guard case .scalar(let scalar) = k else { continue }
            if scalar.string == name {
                let found = Field(node: v, key: name)
                return found.isNull ? nil : found
            }
            if scalar.string == "<<" { merged.append(v) }
        }
        for source in merged {
            let sources: [Node]
            if case .sequence(let list) = source { sources = Array(list) } else { sources = [source] }
            for node in sources {
                if let found = try Field(node: node, key: key).child(name) { return found }
            }
        }
        return nil
    }

    /// Calls `body` with each key of this mapping and its value (null values included), in
    /// document order, following `<<` merge keys after the mapping's own keys. One pass over
    /// the mapping, for objects whose fields are all wanted.
    func forEachEntry(_ body: (String, Field) throws(DecodeError) -> Void) throws(DecodeError) {
        guard case .mapping(let mapping) = node else {
            if isNull { return }
            throw fail("expected a mapping")
        }
        var merged: [Node] = []
        for (k, v) in mapping {
            guard case .scalar(let scalar) = k else { continue }
            if scalar.string == "<<" {
                merged.append(v)
            } else {
                try body(scalar.string, Field(node: v, key: scalar.string))
            }
        }
        guard !merged.isEmpty else { return }
        // Merged keys count only where the mapping does not set them itself.
        var seen: Set<String> = []
        for (k, _) in mapping { if case .scalar(let scalar) = k { seen.insert(scalar.string) } }
        for source in merged {
            let sources: [Node]
            if case .sequence(let list) = source { sources = Array(list) } else { sources = [source] }
            for node in sources {
                try Field(node: node, key: key).forEachEntry { name, field throws(DecodeError) in
                    guard !seen.contains(name) else { return }
                    seen.insert(name)
                    try body(name, field)
                }
            }
        }
    }

    /// The value under `name`, which must be present.
    func required(_ name: String) throws(DecodeError) -> Field {
        guard let found = try child(name) else { throw fail("missing required field '\(name)'") }
        return found
    }

    /// The scalar's text.
    func string() throws(DecodeError) -> String {
        guard case .scalar(let scalar) = node else { throw fail("expected a scalar") }
        return scalar.string
    }

    /// The scalar as an integer (decimal, or any YAML 1.1 integer form).
    func int() throws(DecodeError) -> Int {
        guard case .scalar(let scalar) = node else { throw fail("expected an integer") }
        if let value = Int(scalar.string) ?? node.int { return value }
        throw fail("'\(scalar.string)' is not an integer")
    }

    /// The sequence's items; null counts as empty.
    func items() throws(DecodeError) -> [Field] {
        if isNull { return [] }
        guard case .sequence(let list) = node else { throw fail("expected a sequence") }
        return list.map { Field(node: $0, key: key) }
    }

    /// A mapping of strings to strings (labels, annotations, matchLabels).
    func stringMap() throws(DecodeError) -> [String: String] {
        if isNull { return [:] }
        guard case .mapping(let mapping) = node else { throw fail("expected a mapping of strings") }
        var result: [String: String] = [:]
        result.reserveCapacity(mapping.count)
        for (k, v) in mapping {
            guard case .scalar(let name) = k else { throw fail("a key is not a string") }
            let field = Field(node: v, key: "\(key).\(name.string)")
            result[name.string] = field.isNull ? "" : try field.string()
        }
        return result
    }

    /// The optional string under `name`.
    func string(_ name: String) throws(DecodeError) -> String? {
        try child(name)?.string()
    }

    /// The optional integer under `name`.
    func int(_ name: String) throws(DecodeError) -> Int? {
        try child(name)?.int()
    }

    /// The items under `name` (empty when absent).
    func items(_ name: String) throws(DecodeError) -> [Field] {
        try child(name)?.items() ?? []
    }

    /// The strings under `name` (empty when absent): hostnames, targets, selector values.
    func strings(_ name: String) throws(DecodeError) -> [String] {
        var result: [String] = []
        for item in try items(name) { result.append(try item.string()) }
        return result
    }
}
