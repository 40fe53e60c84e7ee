import Foundation

/// PATCH of a stored object (kubernetes.io/docs/reference/using-api/api-concepts/ "Patch
/// requests" and kubectl's "Update API objects in place using kubectl patch"):
/// - `application/merge-patch+json`: RFC 7386 JSON merge patch, for every kind;
/// - `application/strategic-merge-patch+json`: built-in kinds only. The kinds served here
///   (Namespace, ConfigMap, Lease) have no list field with a patch merge key among what the
///   simulator stores, so for them it merges as a JSON merge patch does. For a custom resource
///   it is refused 415 with the apiserver's message (CRDs do not support strategic merge);
/// - `application/json-patch+json`: RFC 6902 operations `add`, `remove`, `replace`, `test`
///   (`move` and `copy` are not modeled: 415 from the simulator, which the real server does not give);
/// - server-side apply (`application/apply-patch+yaml`) is not modeled: 415 from the simulator.
/// Any other media type is 415 UnsupportedMediaType, as the apiserver answers it.
/// A resourceVersion in the patched object is a precondition (409 Conflict when stale).
extension KubeSimStore {
    func patch(_ request: SimRequest, _ resource: SimulatedResource, namespace: String?, name: String) -> SimAnswer {
        do throws(SimulatorError) {
            let key = (namespace.map { $0 + "/" } ?? "") + name
            let label = resource.group.isEmpty ? resource.plural : resource.plural + "." + resource.group
            guard let stored = objects[resource.id]?[key],
                  let current = try? JSONSerialization.jsonObject(with: stored.full) as? [String: Any]
            else { throw SimulatorError("\(label) \"\(name)\" not found", code: 404, reason: "NotFound", resource: resource, name: name) }
            let mediaType = (request.contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let patched: [String: Any]
            switch mediaType {
            case "application/merge-patch+json":
                patched = try Self.mergePatch(current, request.body)
            case "application/strategic-merge-patch+json" where resource.builtIn:
                patched = try Self.mergePatch(current, request.body)
            case "application/json-patch+json":
                patched = try Self.jsonPatch(current, request.body)
            default:
                let accepted = resource.builtIn
                    ? "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
                    : "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                let gvk = "\(resource.apiVersion), Kind=\(resource.kind)"
                throw SimulatorError("\(mediaType.isEmpty ? "the media type" : mediaType) is not supported by \(gvk): the body of the "
                                     + "request was in an unknown format - accepted media types include: \(accepted)",
                                     code: 415, reason: "UnsupportedMediaType")
            }
            let object = try put(resource, json: KubeWire.encode(patched), mustExist: true, namespace: namespace, name: name)
            return .json(status: 200, body: object.json, headers: [:])
        } catch {
            return .json(status: error.code, body: error.statusBody, headers: [:])
        }
    }

    private static func badPatch(_ message: String) -> SimulatorError {
        SimulatorError("the server rejected our request due to an error in our request: \(message)", code: 422, reason: "Invalid")
    }

    static func mergePatch(_ target: [String: Any], _ body: Data) throws(SimulatorError) -> [String: Any] {
        guard let patch = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw SimulatorError("error decoding patch: the patch is not a JSON object", code: 400, reason: "BadRequest")
        }
        return merge(target, patch)
    }

    /// RFC 7386: null removes, objects merge recursively, anything else replaces.
    private static func merge(_ target: [String: Any], _ patch: [String: Any]) -> [String: Any] {
        var result = target
        for (key, value) in patch {
            if value is NSNull {
                result[key] = nil
            } else if let object = value as? [String: Any] {
                result[key] = merge(result[key] as? [String: Any] ?? [:], object)
            } else {
                result[key] = value
            }
        }
        return result
    }

    static func jsonPatch(_ target: [String: Any], _ body: Data) throws(SimulatorError) -> [String: Any] {
        guard let operations = try? JSONSerialization.jsonObject(with: body) as? [[String: Any]] else {
            throw SimulatorError("error decoding patch: a JSON patch is a list of operations", code: 400, reason: "BadRequest")
        }
        var document: Any = target
        for operation in operations {
            guard let op = operation["op"] as? String, let path = operation["path"] as? String else {
                throw badPatch("an operation needs op and path")
            }
            let tokens = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            }
            guard !tokens.isEmpty else { throw badPatch("the path \"\(path)\" names the whole object") }
            switch op {
            case "add", "replace", "remove":
                document = try apply(op, tokens[...], operation["value"], to: document, path: path)
            case "test":
                guard let found = value(at: tokens[...], in: document),
                      KubeWire.encode(["v": found]) == KubeWire.encode(["v": operation["value"] ?? NSNull()])
                else { throw badPatch("testing value \(path) failed") }
            default:
                throw SimulatorError("the simulator does not model the JSON patch operation \"\(op)\"", code: 415, reason: "UnsupportedMediaType")
            }
        }
        guard let result = document as? [String: Any] else { throw badPatch("the patch did not leave an object") }
        return result
    }

    private static func value(at tokens: ArraySlice<String>, in document: Any) -> Any? {
        guard let first = tokens.first else { return document }
        if let object = document as? [String: Any] { return object[first].flatMap { value(at: tokens.dropFirst(), in: $0) } }
        if let array = document as? [Any], let index = Int(first), array.indices.contains(index) {
            return value(at: tokens.dropFirst(), in: array[index])
        }
        return nil
    }

    private static func apply(_ op: String, _ tokens: ArraySlice<String>, _ newValue: Any?, to document: Any,
                              path: String) throws(SimulatorError) -> Any {
        let key = tokens.first!
        let last = tokens.count == 1
        if var object = document as? [String: Any] {
            if last {
                switch op {
                case "add": object[key] = newValue ?? NSNull()
                case "replace":
                    guard object[key] != nil else { throw badPatch("replace operation does not apply: doc is missing key: \(path)") }
                    object[key] = newValue ?? NSNull()
                default:
                    guard object[key] != nil else { throw badPatch("remove operation does not apply: doc is missing path: \(path)") }
                    object[key] = nil
                }
            } else {
                guard let child = object[key] else { throw badPatch("doc is missing path: \(path)") }
                object[key] = try apply(op, tokens.dropFirst(), newValue, to: child, path: path)
            }
            return object
        }
        if var array = document as? [Any] {
            let index = key == "-" ? array.count : Int(key) ?? -1
            if last {
                switch op {
                case "add":
                    guard (0...array.count).contains(index) else { throw badPatch("add operation index out of range: \(path)") }
                    array.insert(newValue ?? NSNull(), at: index)
                case "replace":
                    guard array.indices.contains(index) else { throw badPatch("replace operation index out of range: \(path)") }
                    array[index] = newValue ?? NSNull()
                default:
                    guard array.indices.contains(index) else { throw badPatch("remove operation index out of range: \(path)") }
                    array.remove(at: index)
                }
            } else {
                guard array.indices.contains(index) else { throw badPatch("doc is missing path: \(path)") }
                array[index] = try apply(op, tokens.dropFirst(), newValue, to: array[index], path: path)
            }
            return array
        }
        throw badPatch("doc is missing path: \(path)")
    }
}
