import Foundation

/// Single objects: read, create, replace, delete — what the daemon needs for its Lease and the
/// Pi-hole ledger ConfigMap. The daemon uses only get, create and replace (RBAC verbs get,
/// create, update); `error.refusal` tells not-found, already-exists and a stale version apart.
extension KubeClient {
    /// GETs one object. Throws `isNotFound` when it does not exist.
    /// `timeout` bounds the whole request (a leader election renewal must not outlive its deadline).
    public func get(_ resource: KubeResource, namespace: String? = nil, name: String,
                    timeout: Duration = .seconds(60)) async throws(KubeError) -> KubeObject {
        let path = objectPath(resource, namespace: namespace, name: name)
        let response = try await send(path: path, query: [], timeout: timeout)
        let json = try decodeJSON(response.body, path: path)
        return KubeObject(raw: json, defaultKind: resource.kind, defaultAPIVersion: resource.apiVersion)
    }

    /// Creates `object` (its metadata names it). Throws `isConflict` (AlreadyExists) when the
    /// name is taken.
    public func create(_ resource: KubeResource, namespace: String? = nil, object: JSONValue,
                       timeout: Duration = .seconds(60)) async throws(KubeError) -> KubeObject {
        try await write("POST", resource.path(namespace: namespace), object: object, resource: resource, timeout: timeout)
    }

    /// Replaces the object named by `object`'s metadata. With `metadata.resourceVersion` set the
    /// server refuses a stale write with `isConflict` (optimistic concurrency: leases rely on it).
    public func replace(_ resource: KubeResource, namespace: String? = nil, object: JSONValue,
                        timeout: Duration = .seconds(60)) async throws(KubeError) -> KubeObject {
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw KubeError(code: .configuration, message: "replace \(resource): the object has no metadata.name",
                            method: "PUT", path: resource.path(namespace: namespace))
        }
        return try await write("PUT", objectPath(resource, namespace: namespace, name: name), object: object, resource: resource,
                               timeout: timeout)
    }

    /// Replaces the `status` subresource of the object `object`'s metadata names (RBAC: update
    /// on `<resource>/status`). The API server takes only `status` from the body; with
    /// `metadata.resourceVersion` set a stale write is refused with `isConflict`.
    public func replaceStatus(_ resource: KubeResource, namespace: String? = nil, object: JSONValue,
                              timeout: Duration = .seconds(60)) async throws(KubeError) -> KubeObject {
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw KubeError(code: .configuration, message: "replace \(resource) status: the object has no metadata.name",
                            method: "PUT", path: resource.path(namespace: namespace))
        }
        return try await write("PUT", objectPath(resource, namespace: namespace, name: name) + "/status", object: object,
                               resource: resource, timeout: timeout)
    }

    /// Deletes one object. Throws `isNotFound` when it is already gone.
    public func delete(_ resource: KubeResource, namespace: String? = nil, name: String) async throws(KubeError) {
        _ = try await send(method: "DELETE", path: objectPath(resource, namespace: namespace, name: name), query: [],
                           timeout: .seconds(60))
    }

    private func objectPath(_ resource: KubeResource, namespace: String?, name: String) -> String {
        resource.path(namespace: namespace) + "/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)
    }

    private func write(_ method: String, _ path: String, object: JSONValue, resource: KubeResource,
                       timeout: Duration) async throws(KubeError) -> KubeObject {
        var members: [String: JSONValue] = [:]
        if case .object(let given) = object { members = given }
        members["kind"] = members["kind"] ?? .string(resource.kind)
        members["apiVersion"] = members["apiVersion"] ?? .string(resource.apiVersion)
        let body: Data
        do { body = try JSONValue.object(members).jsonData() } catch {
            throw KubeError(code: .decoding, message: "cannot encode the object: \(error)", method: method, path: path)
        }
        let answer = try await send(method: method, path: path, query: [], body: body, timeout: timeout)
        let json = try decodeJSON(answer.body, path: path)
        return KubeObject(raw: json, defaultKind: resource.kind, defaultAPIVersion: resource.apiVersion)
    }
}
