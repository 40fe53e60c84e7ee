import Foundation

/// `labelSelector` and `fieldSelector` of a list or watch, as the apiserver parses and applies
/// them (kubernetes.io/docs/concepts/overview/working-with-objects/labels/ "Label selectors",
/// and .../field-selectors/): labels by `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
/// `k` and `!k`, comma meaning AND; fields by `f=v`, `f==v`, `f!=v`. Custom resources support
/// only `metadata.name` and `metadata.namespace` as fields (field-selectors page: "All custom
/// resource types support the metadata.name and metadata.namespace fields"); the built-in
/// kinds served here add nothing the simulator models, so the same two hold for them.
struct KubeSelector: Sendable {
    private enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    private var labels: [Requirement] = []
    private var fields: [Requirement] = []

    var isEmpty: Bool { labels.isEmpty && fields.isEmpty }

    /// Parses the selectors of `query`; the error is the message of the apiserver's 400.
    init(query: [String: String]) throws(SimulatorError) {
        if let text = query["labelSelector"], !text.isEmpty { labels = try Self.parse(text, labels: true) }
        if let text = query["fieldSelector"], !text.isEmpty {
            fields = try Self.parse(text, labels: false)
            for requirement in fields {
                let key: String
                switch requirement {
                case .equals(let k, _), .notEquals(let k, _): key = k
                default: throw SimulatorError("invalid field selector \"\(text)\"", code: 400, reason: "BadRequest")
                }
                guard key == "metadata.name" || key == "metadata.namespace" else {
                    throw SimulatorError("field label not supported: \(key)", code: 400, reason: "BadRequest")
                }
            }
        }
    }

    /// Whether the object (JSON with metadata) is selected.
    func matches(_ json: Data) -> Bool {
        guard !isEmpty else { return true }
        let metadata = ((try? JSONSerialization.jsonObject(with: json)) as? [String: Any])?["metadata"] as? [String: Any] ?? [:]
        let labelValues = metadata["labels"] as? [String: String] ?? [:]
        let fieldValues = ["metadata.name": metadata["name"] as? String ?? "",
                           "metadata.namespace": metadata["namespace"] as? String ?? ""]
        return labels.allSatisfy { Self.holds($0, labelValues) } && fields.allSatisfy { Self.holds($0, fieldValues) }
    }

    private static func holds(_ requirement: Requirement, _ values: [String: String]) -> Bool {
        switch requirement {
        case .equals(let key, let value): return values[key] == value
        // `!=` also selects objects without the key (labels page: "key!=value … or do not have the key").
        case .notEquals(let key, let value): return values[key] != value
        case .isIn(let key, let set): return values[key].map(set.contains) ?? false
        case .notIn(let key, let set): return values[key].map { !set.contains($0) } ?? true
        case .exists(let key): return values[key] != nil
        case .doesNotExist(let key): return values[key] == nil
        }
    }

    private static func parse(_ text: String, labels: Bool) throws(SimulatorError) -> [Requirement] {
        let bad = SimulatorError("unable to parse requirement: invalid selector \"\(text)\"", code: 400, reason: "BadRequest")
        // Split on commas outside parentheses.
        var parts: [String] = [], current = "", depth = 0
        for character in text {
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
            if character == ",", depth == 0 { parts.append(current); current = "" } else { current.append(character) }
        }
        parts.append(current)
        var requirements: [Requirement] = []
        for raw in parts {
            let part = raw.trimmingCharacters(in: .whitespaces)
            guard !part.isEmpty else { throw bad }
            if let range = part.range(of: "!=") {
                requirements.append(.notEquals(trim(part[..<range.lowerBound]), trim(part[range.upperBound...])))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                requirements.append(.equals(trim(part[..<range.lowerBound]), trim(part[range.upperBound...])))
            } else if labels, let set = setRequirement(part, keyword: " notin ") {
                requirements.append(.notIn(set.0, set.1))
            } else if labels, let set = setRequirement(part, keyword: " in ") {
                requirements.append(.isIn(set.0, set.1))
            } else if labels, part.hasPrefix("!") {
                requirements.append(.doesNotExist(trim(part.dropFirst())))
            } else if labels, !part.contains(" ") {
                requirements.append(.exists(part))
            } else {
                throw bad
            }
        }
        return requirements
    }

    private static func setRequirement(_ part: String, keyword: String) -> (String, Set<String>)? {
        guard let range = part.range(of: keyword) else { return nil }
        let rest = trim(part[range.upperBound...])
        guard rest.hasPrefix("("), rest.hasSuffix(")") else { return nil }
        let values = rest.dropFirst().dropLast().split(separator: ",").map { trim($0) }
        return (trim(part[..<range.lowerBound]), Set(values))
    }

    private static func trim(_ text: Substring) -> String { text.trimmingCharacters(in: .whitespaces) }
    private static func trim(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces) }
}
