public import Foundation

/// Any JSON value, Sendable and Codable: how the client carries Kubernetes objects without
/// knowing their types. Typed decoders (Gateway, HTTPRoute, …) take it through
/// `KubeObject.decode(_:)`.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    /// A number written without a fraction or exponent that fits 64 bits.
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object; nil for anything else or a missing key.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The text of a string value.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer value (also a whole double such as `410.0`).
    public var intValue: Int? {
        switch self {
        case .int(let value): return Int(exactly: value)
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// A `{"k": "v"}` object as a dictionary of its string members (labels, annotations).
    public var stringMap: [String: String] {
        guard case .object(let members) = self else { return [:] }
        return members.compactMapValues(\.stringValue)
    }

    /// The value as JSON text, keys sorted so equal values give equal bytes.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// Which parts of a JSON value to keep (`JSONValue.keeping(_:)`): an informer's transform uses
/// one to cache only the fields its reader decodes.
public indirect enum JSONShape: Sendable {
    /// The whole value.
    case whole
    /// Of an object, only these members, each kept to its own shape.
    case members([String: JSONShape])
    /// Of an object, every member but these.
    case allBut(Set<String>)
    /// Of an array, every item kept to this shape.
    case items(JSONShape)
}

extension JSONValue {
    /// This value cut down to `shape`. A value of another type than the shape expects (a
    /// string where an object should be) is kept whole, so a decoder reading the result fails
    /// on it exactly as on the original.
    public func keeping(_ shape: JSONShape) -> JSONValue {
        switch (shape, self) {
        case (.whole, _):
            return self
        case (.members(let shapes), .object(let members)):
            var kept: [String: JSONValue] = [:]
            for (key, shape) in shapes {
                if let value = members[key] { kept[key] = value.keeping(shape) }
            }
            return .object(kept)
        case (.allBut(let dropped), .object(let members)):
            return .object(members.filter { !dropped.contains($0.key) })
        case (.items(let shape), .array(let items)):
            return .array(items.map { $0.keeping(shape) })
        default:
            return self
        }
    }
}
