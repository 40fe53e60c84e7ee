import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// A Kubernetes API server in memory, on 127.0.0.1, for tests and `netagent lab`: list with
/// `limit`/`continue`, watch with resource versions, bookmarks and chunked streams, API group
/// discovery, Status bodies as the apiserver writes them, and fault knobs (dropped watches,
/// 429 with Retry-After, expired continue tokens and watch versions, missing CRDs, RBAC).
/// Objects change through POST (create), PUT (replace, 409 on a stale resourceVersion) and
/// DELETE, or from tests through `create`, `update` and `delete`.
public final class KubeAPISimulator: Sendable {
    let store: KubeSimStore

    public init(resources: [SimulatedResource] = SimulatedResource.defaults) {
        store = KubeSimStore(resources: resources)
    }

    // MARK: serving

    /// Serves on 127.0.0.1:`port` (0: a free port) until the task is cancelled; calls
    /// `onListening` with the port once bound. Throws when it cannot bind.
    public func run(port: Int = 0, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("**", method: method) { request, _ in await self.respond(request) }
            router.on("/", method: method) { request, _ in await self.respond(request) }
        }
        do {
            try await LabHTTP.serve(router, name: "kubernetes", port: port) { port in
                await self.store.setPort(port)
                await onListening(port)
            }
        } catch {
            await store.closeWatches()
            throw error
        }
        await store.closeWatches()
    }

    /// Runs the simulator for the length of `body`, which gets its base URL
    /// (`http://127.0.0.1:PORT`); stops it afterwards, open watches included.
    public func withRunning<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        try await LabHTTP.withRunning(
            name: "Kubernetes", serve: { onListening in try await self.run(onListening: onListening) },
            cleanup: { await self.store.closeWatches() }
        ) { port in try await body("http://127.0.0.1:\(port)") }
    }

    private func respond(_ request: Request) async -> Response {
        var request = request
        let json: HTTPFields = [.contentType: "application/json"]
        let body: Data
        do { body = Data(try await request.collectBody(upTo: 4 << 20).readableBytesView) } catch {
            let status = KubeWire.status(code: 413, reason: "RequestEntityTooLarge", message: "the request is larger than 4 MiB")
            return Response(status: .init(code: 413), headers: json, body: .init(byteBuffer: ByteBuffer(bytes: status)))
        }
        // A client cut off by a partition: its requests hang unanswered until it is healed.
        while await store.isUnreachable(request.headers[.authorization]) {
            do { try await Task.sleep(for: .milliseconds(20)) } catch { break }
        }
        let simRequest = SimRequest(method: request.method.rawValue, path: request.uri.path,
                                    query: LabHTTP.parseQuery(request.uri.query ?? ""),
                                    authorization: request.headers[.authorization], body: body,
                                    contentType: request.headers[.contentType])
        // A list or watch from a version the server has not reached waits for it, as the watch
        // cache does (up to its blockTimeout), before the 504 the routing gives.
        if request.method == .get, let wanted = await store.unreachedVersion(simRequest.query) {
            let deadline = ContinuousClock.now + (await store.tooLargeWait)
            while deadline > .now, wanted > (await store.revision) {
                do { try await Task.sleep(for: .milliseconds(20)) } catch { break }
            }
        }
        switch await store.answer(simRequest) {
        case .json(let status, let body, let headers):
            var fields = json
            for (name, value) in headers { if let field = HTTPField.Name(name) { fields[field] = value } }
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        case .events(let data):
            return Response(status: .ok, headers: json, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: data))
                try await writer.finish(nil)
            })
        case .watch(let id, let initial, let stream, let timeoutSeconds, let split):
            let store = store
            return Response(status: .ok, headers: json, body: ResponseBody { writer in
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        if let timeoutSeconds {
                            group.addTask {
                                try await Task.sleep(for: .seconds(timeoutSeconds))
                                await store.endWatch(id)
                            }
                        }
                        // Bookmarks every bookmarkInterval to a watch that allowed them.
                        group.addTask {
                            let interval = await store.bookmarkInterval
                            while true {
                                try await Task.sleep(for: interval)
                                await store.sendBookmark(id)
                            }
                        }
                        try await Self.write(initial, split: split, to: &writer)
                        for await message in stream {
                            switch message {
                            case .events(let data): try await Self.write(data, split: split, to: &writer)
                            case .drop: throw SimulatorError("watch dropped on purpose")
                            }
                        }
                        group.cancelAll()
                    }
                } catch {
                    await store.endWatch(id)
                    throw error
                }
                try await writer.finish(nil)
            })
        }
    }

    /// Writes `data` as one chunk, or in chunks of `split` bytes so events span chunks.
    private static func write(_ data: Data, split: Int?, to writer: inout any ResponseBodyWriter) async throws {
        guard !data.isEmpty else { return }
        guard let split else { return try await writer.write(ByteBuffer(bytes: data)) }
        var offset = data.startIndex
        while offset < data.endIndex {
            let end = min(offset + split, data.endIndex)
            try await writer.write(ByteBuffer(bytes: data[offset..<end]))
            offset = end
        }
    }

    // MARK: objects

    /// Creates an object from its JSON (`metadata.name` required, `metadata.namespace`
    /// defaults to `default` for namespaced kinds). Throws when it already exists.
    @discardableResult
    public func create(_ resource: SimulatedResource, json: String) async throws -> SimulatedObject {
        try await store.put(resource, json: Data(json.utf8), mustExist: false)
    }

    /// Replaces an existing object (a MODIFIED event). Throws when it does not exist.
    @discardableResult
    public func update(_ resource: SimulatedResource, json: String) async throws -> SimulatedObject {
        try await store.put(resource, json: Data(json.utf8), mustExist: true)
    }

    /// Creates or replaces.
    @discardableResult
    public func apply(_ resource: SimulatedResource, json: String) async throws -> SimulatedObject {
        try await store.put(resource, json: Data(json.utf8), mustExist: nil)
    }

    /// Deletes an object (a DELETED event with its last state). Throws when it does not exist.
    public func delete(_ resource: SimulatedResource, namespace: String = "", name: String) async throws {
        try await store.delete(resource, namespace: namespace, name: name)
    }

    /// The stored objects of `resource`, sorted by namespace/name.
    public func objects(_ resource: SimulatedResource) async -> [SimulatedObject] { await store.snapshot(resource) }

    /// `http://127.0.0.1:PORT` while serving, nil before.
    public var baseURL: String? { get async { await store.port.map { "http://127.0.0.1:\($0)" } } }

    /// The current global resource version.
    public var resourceVersion: Int { get async { await store.revision } }

    // MARK: fault knobs

    /// The fault knobs in one place, as the other simulators have them. To take the API server
    /// down (connections refused), stop serving it: run it under a `LabServer` and call
    /// `stop()`, then `start()` again on the same port; the objects and versions stay.
    public var faults: Faults { Faults(simulator: self) }

    /// Faults to inject into the simulated API server; each takes effect at once.
    public struct Faults: Sendable {
        let simulator: KubeAPISimulator

        /// Breaks every open watch connection mid-stream (no final chunk).
        public func dropWatches() async { await simulator.dropWatches() }
        /// The versions clients hold become too old: open watches end with an ERROR 410
        /// Expired event and watching again from them gets 410; clients must relist.
        public func expireResourceVersions() async { await simulator.expireWatches() }
        /// Answers the next `times` requests 429 with `Retry-After: retryAfter`.
        public func throttle(times: Int, retryAfter: Int = 1) async {
            await simulator.throttle(next: times, retryAfterSeconds: retryAfter)
        }
        /// The API group is no longer served (its CRDs were removed): 404 for it and all under
        /// it, and open watches of it are dropped, until `showGroup`.
        public func hideGroup(_ group: String) async {
            await simulator.setGroup(group, .missing)
            await simulator.dropWatches()
        }
        /// Serves the group again (its CRDs are back).
        public func showGroup(_ group: String) async { await simulator.setGroup(group, .served) }
    }

    /// Breaks every open watch connection mid-stream (no final chunk).
    public func dropWatches() async { await store.dropWatches() }
    /// Ends every open watch normally, as the server does at `timeoutSeconds`.
    public func closeWatches() async { await store.closeWatches() }
    /// How often an open watch that allowed bookmarks gets a BOOKMARK (default 60 s, as the
    /// apiserver's cacher); applies to watches opened from then on.
    public func setBookmarkInterval(_ interval: Duration) async { await store.setBookmarkInterval(interval) }
    /// How long a list or watch from a resource version not reached yet waits before its 504
    /// "Too large resource version" (default 3 s, as the watch cache).
    public func setTooLargeWait(_ wait: Duration) async { await store.setTooLargeWait(wait) }
    /// Sends a BOOKMARK at the current version to every watch that allowed bookmarks; with
    /// `version`, at that version instead: a version this server has not reached, as a client
    /// sees it when it moves from an up-to-date apiserver replica to a lagging one.
    public func sendBookmarks(at version: Int? = nil) async { await store.sendBookmarks(at: version) }
    /// Forgets the event history: watches from any earlier version get 410 Expired.
    public func compact() async { await store.compact() }
    /// Moves the version on, compacts the history and ends open watches (with an ERROR 410
    /// event in `.errorEvent` style): the client must relist.
    public func expireWatches() async { await store.expireWatches() }
    /// Keeps only the last `limit` events (a ring buffer like the watch cache's).
    public func setHistoryLimit(_ limit: Int) async { await store.setHistoryLimit(limit) }
    /// How a too-old watch is refused: an ERROR event (default) or an HTTP 410.
    public func setExpiredWatchStyle(_ style: ExpiredWatchStyle) async { await store.setExpiredWatchStyle(style) }
    /// Answers the next `count` requests 429 with `Retry-After: retryAfterSeconds`.
    public func throttle(next count: Int, retryAfterSeconds: Int) async {
        await store.setThrottle(next: count, retryAfter: retryAfterSeconds)
    }
    /// The next `count` list requests that carry a continue token get 410 Expired.
    public func expireContinueTokens(next count: Int) async { await store.setExpireContinues(next: count) }
    /// Serves an API group, or answers as if its CRDs were missing (404) or RBAC forbade it (403).
    public func setGroup(_ group: String, _ availability: GroupAvailability) async { await store.setGroup(group, availability) }
    /// Requires `Authorization: Bearer <token>` (401 otherwise); nil accepts anything.
    public func requireBearerToken(_ token: String?) async { await store.setBearerToken(token) }
    /// Cuts every watch write into chunks of `bytes` (events then span chunks); nil: whole writes.
    public func splitWatchWrites(every bytes: Int?) async { await store.setSplitWrites(bytes) }
    /// Cuts off (or, with false, reconnects) the client that sends `Authorization: Bearer <token>`:
    /// its requests hang unanswered, as behind a network partition, until its own timeout.
    public func setUnreachable(bearerToken token: String, _ unreachable: Bool) async {
        await store.setUnreachable("Bearer " + token, unreachable)
    }
    /// Every request answered so far, in order.
    public func requests() async -> [SimulatedRequest] { await store.requests() }
    /// Open watch connections.
    public func openWatches() async -> Int { await store.watchCount() }
}
