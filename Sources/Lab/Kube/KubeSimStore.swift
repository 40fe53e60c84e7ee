import Foundation

/// What one watch connection receives.
enum WatchMessage: Sendable {
    /// Bytes of one or more whole events.
    case events(Data)
    /// Break the connection without ending the chunked body (a dropped connection).
    case drop
}

/// The simulator's state: objects per resource under one global resource version counter,
/// the event history watches replay from, open watches, continue tokens and fault knobs.
actor KubeSimStore {
    struct Stored {
        var namespace: String
        var name: String
        var resourceVersion: Int
        /// With kind and apiVersion (watch events, GET).
        var full: Data
        /// Without them (list items, as the apiserver writes them).
        var bare: Data
    }

    struct HistoryEntry {
        var resourceVersion: Int
        var resourceID: String
        var namespace: String
        /// ADDED, MODIFIED or DELETED, and the object (for DELETED, its last state).
        var type: String
        var object: Data
        /// The object before this change (MODIFIED, DELETED), for selectors.
        var previous: Data?
        var event: Data
    }

    struct Watcher {
        var resource: SimulatedResource
        var namespace: String?
        var bookmarks: Bool
        var selector: KubeSelector
        var continuation: AsyncStream<WatchMessage>.Continuation

        /// The event this watch sees for a change, as the apiserver's cacher converts it for a
        /// watch with selectors (cacheWatcher.convertToWatchEvent in k8s.io/apiserver): an object
        /// that starts matching is ADDED, one that stops matching is DELETED, one that never
        /// matches is not seen.
        func event(for entry: HistoryEntry) -> Data? { Self.event(for: entry, selector: selector) }

        static func event(for entry: HistoryEntry, selector: KubeSelector) -> Data? {
            guard !selector.isEmpty else { return entry.event }
            let now = selector.matches(entry.object)
            let before = entry.previous.map(selector.matches) ?? false
            switch entry.type {
            case "ADDED": return now ? entry.event : nil
            case "DELETED": return before || now ? entry.event : nil
            default:
                switch (before, now) {
                case (true, true): return entry.event
                case (false, true): return KubeWire.event("ADDED", entry.object)
                case (true, false): return KubeWire.event("DELETED", entry.object)
                case (false, false): return nil
                }
            }
        }
    }

    struct PendingList {
        var resource: SimulatedResource
        var namespace: String?
        var resourceVersion: Int
        var remaining: [Data]
    }

    let resources: [SimulatedResource]
    var revision = 1
    var objects: [String: [String: Stored]] = [:]
    var history: [HistoryEntry] = []
    /// Watches from a resource version below this are too old (410).
    var compactedThrough = 0
    var historyLimit = 10_000
    var watchers: [UUID: Watcher] = [:]
    var pendingLists: [String: PendingList] = [:]
    var continueCounter = 0
    var uidCounter = 0
    /// How often an open watch that allowed bookmarks gets one (the apiserver's cacher sends them
    /// about once a minute: `defaultBookmarkFrequency`, k8s.io/apiserver storage/cacher).
    var bookmarkInterval: Duration = .seconds(60)
    /// How long a list or watch from a resource version the server has not reached waits for it
    /// before the 504 "Too large resource version" (the watch cache's `blockTimeout`, 3 s).
    var tooLargeWait: Duration = .seconds(3)

    // Fault knobs.
    var throttleRemaining = 0
    var throttleRetryAfter = 1
    var expireContinuesRemaining = 0
    var groups: [String: GroupAvailability] = [:]
    var expiredWatchStyle = ExpiredWatchStyle.errorEvent
    var bearerToken: String?
    var splitWritesEvery: Int?
    var log: [SimulatedRequest] = []
    /// Authorization header values whose requests hang (a partitioned client).
    var unreachable: Set<String> = []
    var port: Int?

    init(resources: [SimulatedResource]) {
        self.resources = resources
    }

    func resource(group: String, version: String, plural: String) -> SimulatedResource? {
        resources.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    // MARK: mutations

    /// Creates (`mustExist` false), updates (true) or upserts (nil) an object from JSON text.
    /// `namespace`/`name` come from the request path when it named them; a non-empty
    /// `metadata.resourceVersion` on an update must be the stored one (409 Conflict otherwise).
    func put(_ resource: SimulatedResource, json: Data, mustExist: Bool?, namespace pathNamespace: String? = nil,
             name pathName: String? = nil, statusWrite: Bool = false) throws(SimulatorError) -> SimulatedObject {
        guard var object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              var metadata = object["metadata"] as? [String: Any],
              let name = metadata["name"] as? String, !name.isEmpty
        else { throw SimulatorError("\(resource.kind): not a JSON object with metadata.name", code: 400, reason: "BadRequest") }
        let given = metadata["namespace"] as? String
        if let pathNamespace, let given, !given.isEmpty, given != pathNamespace {
            throw SimulatorError("the namespace of the provided object does not match the namespace sent on the request",
                                 code: 400, reason: "BadRequest")
        }
        if let pathName, pathName != name {
            throw SimulatorError("the name of the object (\(name)) does not match the name on the URL (\(pathName))",
                                 code: 400, reason: "BadRequest")
        }
        let namespace = resource.namespaced ? (pathNamespace ?? given ?? "default") : ""
        let key = namespace.isEmpty ? name : namespace + "/" + name
        let label = resource.group.isEmpty ? resource.plural : resource.plural + "." + resource.group
        let existing = objects[resource.id]?[key]
        if mustExist == true, existing == nil {
            throw SimulatorError("\(label) \"\(name)\" not found", code: 404, reason: "NotFound", resource: resource, name: name)
        }
        if mustExist == false, existing != nil {
            throw SimulatorError("\(label) \"\(name)\" already exists", code: 409, reason: "AlreadyExists", resource: resource, name: name)
        }
        if mustExist != false, let existing, let wanted = metadata["resourceVersion"] as? String, !wanted.isEmpty,
           wanted != String(existing.resourceVersion) {
            throw SimulatorError("Operation cannot be fulfilled on \(label) \"\(name)\": the object has been modified; "
                                 + "please apply your changes to the latest version and try again", code: 409, reason: "Conflict",
                                 resource: resource, name: name)
        }
        if resource == .leases { try LeaseValidation.check(object, name: name) }
        // The stored object, read once for the status it keeps, its generation and its identity.
        let previous = existing.flatMap { try? JSONSerialization.jsonObject(with: $0.bare) as? [String: Any] }
        let previousMetadata = previous?["metadata"] as? [String: Any]
        // With the status subresource a write of the object itself keeps the stored `status`
        // (none at creation): Kubernetes docs, CustomResourceDefinitions, "Status subresource".
        if resource.statusSubresource && !statusWrite { object["status"] = previous?["status"] }
        if !resource.builtIn {
            // Custom resources carry metadata.generation: 1 at creation, one more for each change
            // of anything but metadata and status (CRDs with the status subresource, as the Gateway
            // API's: kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
            // "Status subresource").
            let old = previousMetadata?["generation"] as? Int ?? 0
            metadata["generation"] = previous.map { Self.specChanged(from: $0, to: object) ? old + 1 : old } ?? 1
        }
        revision += 1
        metadata["resourceVersion"] = String(revision)
        if resource.namespaced { metadata["namespace"] = namespace }
        if let previousMetadata {
            metadata["uid"] = previousMetadata["uid"]
            metadata["creationTimestamp"] = previousMetadata["creationTimestamp"]
        } else {
            uidCounter += 1
            metadata["uid"] = String(format: "00000000-0000-4000-8000-%012d", uidCounter)
            metadata["creationTimestamp"] = ISO8601DateFormatter().string(from: Date())
        }
        object["metadata"] = metadata
        object["kind"] = nil
        object["apiVersion"] = nil
        let bare = KubeWire.encode(object)
        object["kind"] = resource.kind
        object["apiVersion"] = resource.apiVersion
        let full = KubeWire.encode(object)
        objects[resource.id, default: [:]][key] = Stored(namespace: namespace, name: name, resourceVersion: revision,
                                                          full: full, bare: bare)
        record(resource, namespace: namespace, type: existing == nil ? "ADDED" : "MODIFIED", object: full, previous: existing?.full)
        return SimulatedObject(namespace: namespace, name: name, resourceVersion: String(revision), json: full)
    }

    /// PUT on `/status`: only the body's `status` is taken; everything else stays as stored.
    /// A non-empty `metadata.resourceVersion` must be the stored one (409 otherwise).
    func putStatus(_ resource: SimulatedResource, json: Data, namespace: String?, name: String) throws(SimulatorError) -> SimulatedObject {
        let key = (namespace.map { $0 + "/" } ?? "") + name
        let label = resource.plural + "." + resource.group
        guard let existing = objects[resource.id]?[key],
              var stored = try? JSONSerialization.jsonObject(with: existing.bare) as? [String: Any] else {
            throw SimulatorError("\(label) \"\(name)\" not found", code: 404, reason: "NotFound", resource: resource, name: name)
        }
        guard let body = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SimulatorError("\(resource.kind): not a JSON object", code: 400, reason: "BadRequest")
        }
        let metadata = body["metadata"] as? [String: Any] ?? [:]
        if let given = metadata["name"] as? String, given != name {
            throw SimulatorError("the name of the object (\(given)) does not match the name on the URL (\(name))",
                                 code: 400, reason: "BadRequest")
        }
        stored["status"] = body["status"]
        var merged = stored["metadata"] as? [String: Any] ?? [:]
        merged["resourceVersion"] = metadata["resourceVersion"] ?? String(existing.resourceVersion)
        stored["metadata"] = merged
        stored["kind"] = resource.kind
        stored["apiVersion"] = resource.apiVersion
        return try put(resource, json: KubeWire.encode(stored), mustExist: true, namespace: namespace, name: name, statusWrite: true)
    }

    func delete(_ resource: SimulatedResource, namespace: String, name: String) throws(SimulatorError) {
        let key = resource.namespaced ? namespace + "/" + name : name
        guard let stored = objects[resource.id]?.removeValue(forKey: key) else {
            let label = resource.group.isEmpty ? resource.plural : resource.plural + "." + resource.group
            throw SimulatorError("\(label) \"\(name)\" not found", code: 404, reason: "NotFound")
        }
        revision += 1
        // The DELETED event carries the last state at the deletion's resource version.
        var last = stored.full
        if var object = try? JSONSerialization.jsonObject(with: stored.full) as? [String: Any],
           var metadata = object["metadata"] as? [String: Any] {
            metadata["resourceVersion"] = String(revision)
            object["metadata"] = metadata
            last = KubeWire.encode(object)
        }
        record(resource, namespace: stored.namespace, type: "DELETED", object: last, previous: stored.full)
    }

    /// Whether anything but metadata and status differs. With the status subresource `put` has
    /// already put the stored status back, so there only the rest can differ, as in the
    /// apiserver (apiextensions-apiserver's customresource strategy compares all but metadata
    /// after restoring status). The simulator's Gateway API kinds, which real clusters serve with
    /// the status subresource, are served without it but counted here as if they had it.
    static func specChanged(from old: [String: Any], to new: [String: Any]) -> Bool {
        func rest(_ object: [String: Any]) -> Data {
            var object = object
            for key in ["metadata", "status", "kind", "apiVersion"] { object[key] = nil }
            return KubeWire.encode(object)
        }
        return rest(old) != rest(new)
    }

    private func record(_ resource: SimulatedResource, namespace: String, type: String, object: Data, previous: Data?) {
        let entry = HistoryEntry(resourceVersion: revision, resourceID: resource.id, namespace: namespace, type: type,
                                 object: object, previous: previous, event: KubeWire.event(type, object))
        history.append(entry)
        if history.count > historyLimit {
            let excess = history.count - historyLimit
            compactedThrough = max(compactedThrough, history[excess - 1].resourceVersion)
            history.removeFirst(excess)
        }
        for watcher in watchers.values where watcher.resource == resource && (watcher.namespace ?? namespace) == namespace {
            if let event = watcher.event(for: entry) { watcher.continuation.yield(.events(event)) }
        }
    }

    func snapshot(_ resource: SimulatedResource) -> [SimulatedObject] {
        (objects[resource.id] ?? [:]).sorted { $0.key < $1.key }.map {
            SimulatedObject(namespace: $0.value.namespace, name: $0.value.name,
                            resourceVersion: String($0.value.resourceVersion), json: $0.value.full)
        }
    }

    // MARK: knobs

    /// Forgets all history: a watch from any version before now gets 410.
    func compact() {
        history.removeAll()
        compactedThrough = revision
    }

    /// The cluster moved on (writes elsewhere bumped the version) and the history was
    /// compacted: open watches end — with an ERROR 410 event in `.errorEvent` style, normally
    /// otherwise — and watching again from any version seen so far gets 410.
    func expireWatches() {
        revision += 1
        compact()
        let message = "too old resource version: \(revision - 1) (\(revision))"
        for watcher in watchers.values {
            if expiredWatchStyle == .errorEvent {
                watcher.continuation.yield(.events(KubeWire.event("ERROR", KubeWire.expired(message))))
            }
            watcher.continuation.finish()
        }
        watchers.removeAll()
    }

    func dropWatches() {
        for watcher in watchers.values {
            watcher.continuation.yield(.drop)
            watcher.continuation.finish()
        }
        watchers.removeAll()
    }

    /// Ends every watch normally (the server's timeout) and refuses none.
    func closeWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers.removeAll()
    }

    func sendBookmarks(at version: Int? = nil) {
        for id in watchers.keys { sendBookmark(id, at: version) }
    }

    /// A BOOKMARK at the current version (or `version`) to one watch, if it allowed bookmarks.
    func sendBookmark(_ id: UUID, at version: Int? = nil) {
        guard let watcher = watchers[id], watcher.bookmarks else { return }
        watcher.continuation.yield(.events(KubeWire.bookmark(watcher.resource, resourceVersion: version ?? revision)))
    }

    func setBookmarkInterval(_ interval: Duration) { bookmarkInterval = interval }
    func setTooLargeWait(_ wait: Duration) { tooLargeWait = wait }

    func endWatch(_ id: UUID) {
        watchers.removeValue(forKey: id)?.continuation.finish()
    }

    func setThrottle(next count: Int, retryAfter: Int) {
        throttleRemaining = count
        throttleRetryAfter = retryAfter
    }

    func setExpireContinues(next count: Int) { expireContinuesRemaining = count }
    func setGroup(_ group: String, _ availability: GroupAvailability) { groups[group] = availability }
    func setExpiredWatchStyle(_ style: ExpiredWatchStyle) { expiredWatchStyle = style }
    func setBearerToken(_ token: String?) { bearerToken = token }
    func setSplitWrites(_ bytes: Int?) { splitWritesEvery = bytes.map { max($0, 1) } }
    func setHistoryLimit(_ limit: Int) { historyLimit = max(limit, 1) }
    func requests() -> [SimulatedRequest] { log }
    func setUnreachable(_ authorization: String, _ on: Bool) {
        if on { unreachable.insert(authorization) } else { unreachable.remove(authorization) }
    }
    func isUnreachable(_ authorization: String?) -> Bool { authorization.map { unreachable.contains($0) } ?? false }
    func setPort(_ port: Int) { self.port = port }
    func watchCount() -> Int { watchers.count }
}
