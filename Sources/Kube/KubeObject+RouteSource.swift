import Foundation
import Yams

extension KubeObject {
    /// This object as `RouteSource` takes it — a Gateway, an HTTPRoute or GRPCRoute, a Namespace,
    /// or `.skipped` for any other kind — read by the same decoder as manifests (JSON is YAML).
    /// `apiVersion` and `kind` come from the object's fields, so list items that omit them work.
    /// Throws `DecodeError` naming the field when the object does not fit its kind.
    public func routeSourceObject() throws(DecodeError) -> DecodedObject {
        let root: Node?
        do {
            root = try Yams.compose(yaml: String(decoding: json, as: UTF8.self), .default, .default, .utf8)
        } catch {
            throw DecodeError(key: "(object)", line: nil, problem: "not readable as JSON: \(error)")
        }
        guard let root else { throw DecodeError(key: "(object)", line: nil, problem: "empty object") }
        return try ObjectDecoder.object(Field(node: root, key: "(object)"), apiVersion: apiVersion, kind: kind)
    }
}
