import Foundation

/// A cache of one resource kept equal to the API server's by list and watch, as client-go's
/// informers do: list (paged), watch from the list's version with bookmarks, watch again
/// from the last version seen when the server closes the stream, list again on 410 Expired
/// (an HTTP 410 or an ERROR event) and on 504 "Too large resource version", back off with jitter on failures and wait out
/// `Retry-After` on 429. A missing API group (CRDs not installed) or a 403 becomes a
/// `status` and the informer keeps trying; `run()` never ends but by cancellation.
///
/// `Cached` is what the cache keeps of each object: the `KubeObject` itself, or what a reader
/// makes of it once, as it arrives (`ClusterRoutes` keeps the decoded route, not its JSON).
public actor Informer<Cached: Sendable & Equatable> {
    public nonisolated let resource: KubeResource
    /// nil: all namespaces.
    public nonisolated let namespace: String?
    let client: KubeClient
    let options: InformerOptions
    let sleep: @Sendable (Duration) async throws -> Void
    /// Applied to every object before it is cached or published, from lists and watch events
    /// alike (client-go's `SetTransform`): lets a reader keep only what it reads.
    let transform: @Sendable (KubeObject) -> Cached

    /// By the object's key (`KubeObject.key`).
    private var store: [String: Cached] = [:]
    private var subscribers: [UUID: AsyncStream<InformerChange<Cached>>.Continuation] = [:]
    /// True once a full list has filled the cache.
    public private(set) var hasSynced = false
    public private(set) var status = InformerStatus(state: .starting, message: "")
    /// Counts cache changes: a reader that saw version N and sees a larger one knows to look again.
    public private(set) var version: UInt64 = 0
    /// The resource version the cache is at.
    public private(set) var resourceVersion = ""

    /// `clock` times back-off and Retry-After waits (tests pass a fast one); `transform` is
    /// applied to every object the informer receives before it keeps or publishes it.
    public init(client: KubeClient, resource: KubeResource, namespace: String? = nil,
                options: InformerOptions = InformerOptions(), clock: some Clock<Duration> = ContinuousClock(),
                transform: @escaping @Sendable (KubeObject) -> Cached) {
        self.client = client
        self.transform = transform
        self.resource = resource
        self.namespace = namespace
        self.options = options
        sleep = { try await clock.sleep(for: $0) }
    }

    /// The cached objects, sorted by `namespace/name`.
    public func objects() -> [Cached] { store.sorted { $0.key < $1.key }.map(\.value) }

    /// The cached object with key `namespace/name` (or `name` when cluster-scoped).
    public func object(key: String) -> Cached? { store[key] }

    /// Changes from now on, until the informer is gone or the caller stops listening: one per
    /// watch event, one `.relisted` per full list. Keeps at most `buffer` unread changes (the
    /// oldest go first); use `objects()` for state.
    public func changes(buffer: Int = 10_000) -> AsyncStream<InformerChange<Cached>> {
        let (stream, continuation) = AsyncStream<InformerChange<Cached>>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.unsubscribe(id) }
        }
        return stream
    }

    private func unsubscribe(_ id: UUID) { subscribers[id] = nil }

    /// Lists and watches until the task is cancelled.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await checkGroup()
                try await relist()
                failures = 0
                try await watchUntilExpired()
            } catch {
                if Task.isCancelled { break }
                failures += 1
                note(error)
                let delay = error.retryAfter ?? options.backoff(failures: failures)
                do { try await sleep(delay) } catch { break }
            }
        }
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }

    /// Lists the whole collection into the cache. In a function of its own so that the listed
    /// objects are freed once the cache holds what it keeps of them: a local of `run()` would
    /// live through the watch that follows, and a debug build keeps every local to its scope's
    /// end (a heap profile of the debug agent showed every listed object's JSON held for good).
    private func relist() async throws(KubeError) {
        let list = try await client.listAll(resource, namespace: namespace, pageSize: options.pageSize)
        replace(with: list.items, resourceVersion: list.resourceVersion)
    }

    /// For a named group: is it served, in the version asked for?
    private func checkGroup() async throws(KubeError) {
        guard !resource.group.isEmpty else { return }
        let info = try await client.discover(group: resource.group)
        guard info.versions.contains(resource.version) else {
            throw KubeError(code: .http, status: 404, reason: "NotFound",
                            message: "the server serves \(resource.group) in \(info.versions.joined(separator: ", ")), not \(resource.version)",
                            path: "/apis/" + resource.group)
        }
    }

    /// Watches from `resourceVersion` again and again; returns on 410 so the caller relists.
    private func watchUntilExpired() async throws(KubeError) {
        var drops = 0
        while !Task.isCancelled {
            let stream: KubeWatchStream
            do {
                stream = try await client.watch(resource, namespace: namespace, resourceVersion: resourceVersion,
                                                timeoutSeconds: Int.random(in: options.watchTimeoutSeconds))
            } catch where error.isExpired || error.isTooLargeResourceVersion {
                // Relist now: the version is gone, or this server has not reached it yet.
                return
            } catch where error.status == 429 {
                // Throttled: wait as told and ask again; the cache stays good.
                drops += 1
                note(error)
                do { try await sleep(error.retryAfter ?? options.backoff(failures: drops)) } catch { return }
                continue
            }
            let started = ContinuousClock.now
            var events = 0
            do {
                for try await event in stream {
                    events += 1
                    if case .error(let status) = event {
                        if status.isExpired { return }
                        throw KubeError(code: .http, status: status.code, reason: status.reason, message: status.message,
                                        path: resource.path(namespace: namespace))
                    }
                    apply(event)
                    drops = 0
                }
            } catch let error as KubeError where error.code == .transport {
                // A dropped connection: watch again from the last version, after a short pause.
                drops += 1
                note(error)
                do { try await sleep(options.backoff(failures: drops)) } catch { return }
                continue
            } catch let error as KubeError {
                throw error
            } catch {
                throw KubeError(code: .transport, message: "\(error)", path: resource.path(namespace: namespace))
            }
            // A normal close (timeoutSeconds): watch again at once — unless the server keeps
            // closing empty watches straight away, which would make this a busy loop.
            if events == 0 && started.duration(to: .now) < .seconds(1) {
                drops += 1
                do { try await sleep(options.backoff(failures: drops)) } catch { return }
            }
        }
    }

    private func apply(_ event: WatchEvent) {
        switch event {
        case .added(let received), .modified(let received):
            let object = transform(received)
            let old = store.updateValue(object, forKey: received.key)
            publish(old.map { .modified(old: $0, new: object) } ?? .added(object))
            resourceVersion = received.resourceVersion
        case .deleted(let object):
            if let old = store.removeValue(forKey: object.key) { publish(.deleted(old)) }
            resourceVersion = object.resourceVersion
        case .bookmark(let version):
            if !version.isEmpty { resourceVersion = version }
        case .error:
            break
        }
        if status.state != .synced { status = InformerStatus(state: .synced, message: "") }
    }

    /// Replaces the cache with a full list and publishes one `.relisted`, not one change per
    /// object: a relist of 10,000 objects would put 10,000 changes in every subscriber's
    /// stream at once, and a stream's buffer keeps the capacity of its largest burst for as
    /// long as it lives (~140 B a route in issue 22's heap profile of 2,000 routes, BENCHMARKS.md).
    private func replace(with items: [KubeObject], resourceVersion: String) {
        var fresh: [String: Cached] = [:]
        fresh.reserveCapacity(items.count)
        for item in items { fresh[item.key] = transform(item) }
        if fresh != store { version &+= 1 }
        store = fresh
        self.resourceVersion = resourceVersion
        hasSynced = true
        status = InformerStatus(state: .synced, message: "")
        publish(.relisted(resourceVersion: resourceVersion))
    }

    private func publish(_ change: InformerChange<Cached>) {
        if case .relisted = change {} else { version &+= 1 }
        for continuation in subscribers.values { continuation.yield(change) }
    }

    private func note(_ error: KubeError) {
        let what = resource.description
        switch (error.code, error.status) {
        case (.http, 404):
            let group = resource.group.isEmpty ? "the core API" : "the API group \(resource.group)"
            status = InformerStatus(state: .missing, message: "\(group) does not serve \(resource.resource)/\(resource.version) (are its CRDs installed?): \(error)")
        case (.http, 403):
            status = InformerStatus(state: .forbidden, message: "RBAC forbids list/watch of \(what): \(error)")
        case (.transport, _) where status.state == .synced:
            status = InformerStatus(state: .synced, message: "watch reconnecting: \(error)")
        default:
            status = InformerStatus(state: .failing, message: "\(what): \(error)")
        }
    }
}

extension Informer where Cached == KubeObject {
    /// An informer that caches the objects as the API server sends them.
    public init(client: KubeClient, resource: KubeResource, namespace: String? = nil,
                options: InformerOptions = InformerOptions(), clock: some Clock<Duration> = ContinuousClock()) {
        self.init(client: client, resource: resource, namespace: namespace, options: options, clock: clock) { $0 }
    }
}
