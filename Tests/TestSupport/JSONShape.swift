import Foundation

/// A small JSON Schema checker for the shapes documented in docs/*.schema.json: `type` (one or a
/// list), `enum`, `required`, `properties`, `additionalProperties` (false or a schema), `items`,
/// `minLength`, `minimum`. Any other keyword in a schema is refused, so a schema cannot claim
/// more than this checks.
public enum JSONShape {
    /// Every place `value` breaks `schema`, as `$.path: problem`; empty when it conforms.
    public static func problems(_ value: Any, schema: [String: Any], path: String = "$") -> [String] {
        let known: Set<String> = ["$schema", "$id", "title", "description", "type", "enum", "required", "properties",
                                  "additionalProperties", "items", "minLength", "minimum"]
        if let unknown = schema.keys.first(where: { !known.contains($0) }) {
            return ["\(path): schema keyword '\(unknown)' is not supported by JSONShape"]
        }
        var problems: [String] = []
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [(type as? String) ?? ""]
            guard allowed.contains(where: { Self.matches(value, $0) }) else {
                return ["\(path): expected \(allowed.joined(separator: " or ")), found \(Self.typeName(value))"]
            }
        }
        if let choices = schema["enum"] as? [Any], !choices.contains(where: { ($0 as? NSObject)?.isEqual(value) == true }) {
            problems.append("\(path): \(value) is not one of \(choices)")
        }
        if let minLength = schema["minLength"] as? Int, let text = value as? String, text.count < minLength {
            problems.append("\(path): shorter than \(minLength)")
        }
        if let minimum = schema["minimum"] as? Double, let number = value as? NSNumber, !Self.isBool(number), number.doubleValue < minimum {
            problems.append("\(path): \(number) is below \(minimum)")
        }
        if let object = value as? [String: Any] {
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
                problems.append("\(path): missing '\(key)'")
            }
            let properties = (schema["properties"] as? [String: [String: Any]]) ?? [:]
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                if let property = properties[key] {
                    problems += Self.problems(member, schema: property, path: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    if let allowed = additional as? Bool, !allowed {
                        problems.append("\(path): unexpected key '\(key)'")
                    } else if let nested = additional as? [String: Any] {
                        problems += Self.problems(member, schema: nested, path: "\(path).\(key)")
                    }
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() {
                problems += Self.problems(element, schema: items, path: "\(path)[\(index)]")
            }
        }
        return problems
    }

    /// The schema file at `path` (relative to the repository root).
    public static func schema(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Repository.root.appendingPathComponent(path))
        guard let schema = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestSupportError("\(path) is not a JSON object")
        }
        return schema
    }

    /// JSONSerialization gives booleans as NSNumbers of type `c` (char); numbers have other types.
    static func isBool(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    static func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": value is [String: Any]
        case "array": value is [Any]
        case "string": value is String
        case "null": value is NSNull
        case "boolean": (value as? NSNumber).map(isBool) ?? false
        case "number": (value as? NSNumber).map { !isBool($0) } ?? false
        case "integer": (value as? NSNumber).map { !isBool($0) && $0.doubleValue.rounded() == $0.doubleValue } ?? false
        default: false
        }
    }

    static func typeName(_ value: Any) -> String {
        for type in ["null", "boolean", "number", "string", "array", "object"] where matches(value, type) { return type }
        return "\(Swift.type(of: value))"
    }
}
