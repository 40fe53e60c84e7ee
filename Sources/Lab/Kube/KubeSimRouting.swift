import Foundation

/// A request as the simulator's routing sees it.
struct SimRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var authorization: String?
    var body = Data()
    /// The Content-Type header (PATCH: which patch the body is).
    var contentType: String?
}

/// The simulator's answer to one request.
enum SimAnswer: Sendable {
    case json(status: Int, body: Data, headers: [String: String])
    /// A watch: `initial` events first (several to a write), then whatever `stream` brings.
    case watch(id: UUID, initial: Data, stream: AsyncStream<WatchMessage>, timeoutSeconds: Int?, splitWrites: Int?)
    /// 200, then these events (an ERROR), then the end.
    case events(Data)

    var status: Int {
        if case .json(let status, _, _) = self { return status }
        return 200
    }
}

extension KubeSimStore {
    func answer(_ request: SimRequest) -> SimAnswer {
        let answer = route(request)
        log.append(SimulatedRequest(method: request.method, path: request.path, query: request.query, status: answer.status))
        return answer
    }

    private func route(_ request: SimRequest) -> SimAnswer {
        if let token = bearerToken, request.authorization != "Bearer " + token {
            return .json(status: 401, body: KubeWire.status(code: 401, reason: "Unauthorized", message: "Unauthorized"), headers: [:])
        }
        if throttleRemaining > 0 {
            throttleRemaining -= 1
            let body = KubeWire.status(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                       details: ["retryAfterSeconds": throttleRetryAfter])
            return .json(status: 429, body: body, headers: ["Retry-After": String(throttleRetryAfter)])
        }
        let parts = request.path.split(separator: "/").map(String.init)
        if request.method == "GET", let discovery = discovery(parts) { return discovery }
        var group = ""
        let version: String
        let rest: ArraySlice<String>
        if parts.first == "api", parts.count >= 3 {
            version = parts[1]
            rest = parts[2...]
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            guard resources.contains(where: { $0.group == group }), groups[group] != .missing else { return notFound }
            version = parts[2]
            rest = parts[3...]
        } else {
            return notFound
        }
        let items = Array(rest)
        var namespace: String?
        var plural: String
        var name: String?
        var subresource: String?
        switch items.count {
        case 1: plural = items[0]
        case 2: plural = items[0]; name = items[1]
        case 3 where items[0] == "namespaces": namespace = items[1]; plural = items[2]
        case 3: plural = items[0]; name = items[1]; subresource = items[2]
        case 4 where items[0] == "namespaces": namespace = items[1]; plural = items[2]; name = items[3]
        case 5 where items[0] == "namespaces": namespace = items[1]; plural = items[2]; name = items[3]; subresource = items[4]
        default: return notFound
        }
        guard let resource = resource(group: group, version: version, plural: plural),
              namespace == nil || resource.namespaced,
              subresource == nil || (subresource == "status" && resource.statusSubresource)
        else { return notFound }
        if groups[group] == .forbidden {
            let verbs = ["POST": "create", "PUT": "update", "DELETE": "delete"]
            let verb = verbs[request.method] ?? (name != nil ? "get" : request.query["watch"] != nil ? "watch" : "list")
            let plural = subresource.map { plural + "/" + $0 } ?? plural
            let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
            let message = "\(plural).\(group) is forbidden: User \"system:serviceaccount:network:netagent\" cannot \(verb) "
                + "resource \"\(plural)\" in API group \"\(group)\" \(scope)"
            return .json(status: 403, body: KubeWire.status(code: 403, reason: "Forbidden", message: message,
                                                            details: ["group": group, "kind": plural]), headers: [:])
        }
        switch (request.method, name) {
        case ("GET", _): break
        case ("PUT", .some) where subresource != nil:
            do throws(SimulatorError) {
                let object = try putStatus(resource, json: request.body, namespace: namespace, name: name ?? "")
                return .json(status: 200, body: object.json, headers: [:])
            } catch {
                return .json(status: error.code, body: error.statusBody, headers: [:])
            }
        case (_, _) where subresource != nil:
            // PATCH on /status, which the apiserver serves, is not modelled (docs/lab.md).
            return .json(status: 405, body: KubeWire.status(code: 405, reason: "MethodNotAllowed",
                                                            message: "\(request.method) is not served on \(request.path)"), headers: [:])
        case ("POST", nil), ("PUT", .some), ("DELETE", .some):
            return write(request, resource, namespace: namespace, name: name)
        case ("PATCH", let name?):
            return patch(request, resource, namespace: namespace, name: name)
        default:
            return .json(status: 405, body: KubeWire.status(code: 405, reason: "MethodNotAllowed",
                                                            message: "\(request.method) is not served on \(request.path)"), headers: [:])
        }
        if let name {
            let key = namespace.map { $0 + "/" + name } ?? name
            guard let stored = objects[resource.id]?[key] else {
                let label = group.isEmpty ? plural : plural + "." + group
                return .json(status: 404, body: KubeWire.status(code: 404, reason: "NotFound", message: "\(label) \"\(name)\" not found",
                                                                details: ["name": name, "kind": plural]), headers: [:])
            }
            return .json(status: 200, body: stored.full, headers: [:])
        }
        let selector: KubeSelector
        do throws(SimulatorError) { selector = try KubeSelector(query: request.query) } catch {
            return .json(status: error.code, body: error.statusBody, headers: [:])
        }
        if let tooLarge = tooLargeResourceVersion(request.query) { return tooLarge }
        if let watch = request.query["watch"], watch == "1" || watch == "true" {
            return startWatch(resource, namespace: namespace, query: request.query, selector: selector)
        }
        return list(resource, namespace: namespace, query: request.query, selector: selector)
    }

    /// A list or watch from a resource version the server has not reached yet (after the
    /// waiting KubeAPISimulator does first): 504 Timeout "Too large resource version", with
    /// the cause `ResourceVersionTooLarge` and Retry-After 1 (k8s.io/apiserver
    /// storage.NewTooLargeResourceVersionError, returned by the watch cache's
    /// waitUntilFreshAndBlock after its 3 s blockTimeout).
    private func tooLargeResourceVersion(_ query: [String: String]) -> SimAnswer? {
        guard let requested = unreachedVersion(query) else { return nil }
        let body = KubeWire.status(code: 504, reason: "Timeout", message: "Too large resource version: \(requested), current: \(revision)",
                                   details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]],
                                             "retryAfterSeconds": 1])
        return .json(status: 504, body: body, headers: ["Retry-After": "1"])
    }

    /// The resource version a list or watch (not the page of a paged list) asks for, when the
    /// server has not reached it yet.
    func unreachedVersion(_ query: [String: String]) -> Int? {
        guard query["continue"] == nil, let requested = query["resourceVersion"].flatMap({ Int($0) }), requested > revision
        else { return nil }
        return requested
    }

    /// Discovery (kubernetes.io/docs/concepts/overview/kubernetes-api/ "Discovery API",
    /// the aggregated-less form): `/version`, `/api` (APIVersions), `/api/v1` and
    /// `/apis/GROUP/VERSION` (APIResourceList), `/apis` (APIGroupList), `/apis/GROUP` (APIGroup);
    /// the shapes are the Kubernetes Python client's models (V1APIVersions, V1APIResourceList,
    /// V1APIGroupList, V1APIGroup, VersionInfo). nil: not a discovery path.
    private func discovery(_ parts: [String]) -> SimAnswer? {
        let served = resources.filter { $0.group.isEmpty || groups[$0.group] != .missing }
        switch parts.count {
        case 1 where parts[0] == "version":
            return .json(status: 200, body: KubeWire.version, headers: [:])
        case 1 where parts[0] == "api":
            return .json(status: 200, body: KubeWire.encode([
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:\(port ?? 0)"]],
            ]), headers: [:])
        case 2 where parts[0] == "api" && parts[1] == "v1":
            return .json(status: 200, body: KubeWire.resourceList("v1", served.filter { $0.group.isEmpty && $0.version == "v1" }), headers: [:])
        case 1 where parts[0] == "apis":
            var names: [String] = []
            for resource in served where !resource.group.isEmpty && !names.contains(resource.group) { names.append(resource.group) }
            let list = names.map { name in KubeWire.groupObject(name, versions: versions(of: name, in: served)) }
            return .json(status: 200, body: KubeWire.encode(["kind": "APIGroupList", "apiVersion": "v1", "groups": list]), headers: [:])
        case 2 where parts[0] == "apis":
            let versions = versions(of: parts[1], in: served)
            guard !versions.isEmpty else { return notFound }
            return .json(status: 200, body: KubeWire.encode(KubeWire.groupObject(parts[1], versions: versions, kind: true)), headers: [:])
        case 3 where parts[0] == "apis":
            let list = served.filter { $0.group == parts[1] && $0.version == parts[2] }
            guard !list.isEmpty else { return notFound }
            return .json(status: 200, body: KubeWire.resourceList(parts[1] + "/" + parts[2], list), headers: [:])
        default:
            return nil
        }
    }

    private func versions(of group: String, in served: [SimulatedResource]) -> [String] {
        var versions: [String] = []
        for resource in served where resource.group == group && !versions.contains(resource.version) { versions.append(resource.version) }
        return versions
    }

    private func write(_ request: SimRequest, _ resource: SimulatedResource, namespace: String?, name: String?) -> SimAnswer {
        do throws(SimulatorError) {
            switch request.method {
            case "POST":
                let object = try put(resource, json: request.body, mustExist: false, namespace: namespace)
                return .json(status: 201, body: object.json, headers: [:])
            case "PUT":
                // As the apiserver's registry strategies: a Lease may be created by PUT and must name
                // the resourceVersion it replaces; a ConfigMap must exist and may be replaced blindly.
                let key = (namespace.map { $0 + "/" } ?? "") + (name ?? "")
                let exists = objects[resource.id]?[key] != nil
                if resource == .leases, exists, Self.resourceVersion(in: request.body) == nil {
                    throw SimulatorError(
                        "\(resource.kind).\(resource.group) \"\(name ?? "")\" is invalid: metadata.resourceVersion: Invalid value: "
                            + "0x0: must be specified for an update", code: 422, reason: "Invalid", resource: resource, name: name ?? "",
                        causes: [("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
                }
                let creates = resource == .leases && !exists
                let object = try put(resource, json: request.body, mustExist: creates ? false : true, namespace: namespace, name: name)
                return .json(status: creates ? 201 : 200, body: object.json, headers: [:])
            default:
                try delete(resource, namespace: namespace ?? "", name: name ?? "")
                let details: [String: Any] = ["name": name ?? "", "group": resource.group, "kind": resource.plural]
                return .json(status: 200, body: KubeWire.encode([
                    "kind": "Status", "apiVersion": "v1", "metadata": [String: Any](), "status": "Success", "details": details,
                ]), headers: [:])
            }
        } catch {
            return .json(status: error.code, body: error.statusBody, headers: [:])
        }
    }

    /// `metadata.resourceVersion` of a request body, nil when absent or empty.
    static func resourceVersion(in body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let version = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String, !version.isEmpty
        else { return nil }
        return version
    }

    private var notFound: SimAnswer { .json(status: 404, body: KubeWire.notFound(), headers: [:]) }

    private func list(_ resource: SimulatedResource, namespace: String?, query: [String: String], selector: KubeSelector) -> SimAnswer {
        let limit = query["limit"].flatMap { Int($0) } ?? 0
        var items: [Data]
        var listVersion = revision
        if let token = query["continue"], !token.isEmpty {
            if expireContinuesRemaining > 0 {
                expireContinuesRemaining -= 1
                pendingLists[token] = nil
            }
            guard let pending = pendingLists.removeValue(forKey: token),
                  pending.resource == resource, pending.namespace == namespace
            else { return .json(status: 410, body: KubeWire.expired(KubeWire.expiredContinue), headers: [:]) }
            items = pending.remaining
            listVersion = pending.resourceVersion
        } else {
            // Items of a custom resource's list carry kind and apiVersion (they are served as
            // unstructured objects); a built-in kind's list items do not (issue 16; the
            // apiserver's typed lists, e.g. `kubectl get --raw /api/v1/configmaps`).
            items = (objects[resource.id] ?? [:])
                .filter { (namespace == nil || $0.value.namespace == namespace) && selector.matches($0.value.full) }
                .sorted { $0.key < $1.key }
                .map { resource.builtIn ? $0.value.bare : $0.value.full }
        }
        var token: String?
        if limit > 0, items.count > limit {
            continueCounter += 1
            // Like the apiserver's: base64 of a small JSON; its `+`, `/` and `=` test the client's query encoding.
            let text = #"{"v":"meta.k8s.io/v1","rv":\#(listVersion),"start":"page>?\#(continueCounter)"}"#
            let next = Data(text.utf8).base64EncodedString()
            pendingLists[next] = PendingList(resource: resource, namespace: namespace, resourceVersion: listVersion,
                                             remaining: Array(items[limit...]))
            items = Array(items[..<limit])
            token = next
        }
        let body = KubeWire.list(kind: resource.kind, apiVersion: resource.apiVersion, resourceVersion: listVersion,
                                 continueToken: token, items: items)
        return .json(status: 200, body: body, headers: [:])
    }

    private func startWatch(_ resource: SimulatedResource, namespace: String?, query: [String: String], selector: KubeSelector) -> SimAnswer {
        let requested = query["resourceVersion"] ?? ""
        var initial = Data()
        if requested.isEmpty || requested == "0" {
            // No version: the current state as ADDED events, then changes.
            for (_, stored) in (objects[resource.id] ?? [:]).sorted(by: { $0.key < $1.key })
            where (namespace == nil || stored.namespace == namespace) && selector.matches(stored.full) {
                initial.append(KubeWire.event("ADDED", stored.full))
            }
        } else {
            guard let version = Int(requested) else {
                return .json(status: 400, body: KubeWire.status(code: 400, reason: "BadRequest",
                                                                message: "invalid resourceVersion \"\(requested)\""), headers: [:])
            }
            if version < compactedThrough {
                let body = KubeWire.expired("too old resource version: \(version) (\(compactedThrough + 1))")
                switch expiredWatchStyle {
                case .httpStatus: return .json(status: 410, body: body, headers: [:])
                case .errorEvent: return .events(KubeWire.event("ERROR", body))
                }
            }
            for entry in history where entry.resourceVersion > version && entry.resourceID == resource.id
                && (namespace == nil || entry.namespace == namespace) {
                if let event = Watcher.event(for: entry, selector: selector) { initial.append(event) }
            }
        }
        let (stream, continuation) = AsyncStream<WatchMessage>.makeStream()
        let id = UUID()
        let watcher = Watcher(resource: resource, namespace: namespace, bookmarks: query["allowWatchBookmarks"] == "true",
                              selector: selector, continuation: continuation)
        watchers[id] = watcher
        return .watch(id: id, initial: initial, stream: stream,
                      timeoutSeconds: query["timeoutSeconds"].flatMap { Int($0) }, splitWrites: splitWritesEvery)
    }
}
