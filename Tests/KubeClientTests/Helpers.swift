import Foundation
import Kube
import Lab
import Synchronization
import Testing
import TestSupport

/// A clock whose sleeps are short but remembered: the informer asks for Retry-After and
/// back-off delays, the test checks what it asked for without waiting it out.
final class FastClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias Duration = Swift.Duration
    private let base = ContinuousClock()
    private let asked = Mutex<[Duration]>([])

    var now: Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let wanted = base.now.duration(to: deadline)
        asked.withLock { $0.append(wanted) }
        try await Task.sleep(for: min(max(wanted, .zero), .milliseconds(5)))
    }

    /// Every delay asked for so far.
    var requested: [Duration] { asked.withLock { $0 } }
}

/// Informer options for tests: small pages and back-off (the FastClock shortens sleeps anyway).
let testOptions = InformerOptions(pageSize: 2, initialBackoff: .milliseconds(50), maxBackoff: .seconds(2))

/// Runs the simulator and one informer on it while `body` runs; stops both after.
func withInformer(
    _ simulator: KubeAPISimulator, resource: KubeResource, options: InformerOptions = testOptions,
    connection: (@Sendable (String) -> ClusterConnection)? = nil,
    _ body: @escaping @Sendable (Informer<KubeObject>, FastClock, AsyncStream<InformerChange<KubeObject>>) async throws -> Void
) async throws {
    try await simulator.withRunning { url in
        let client = KubeClient(connection: connection?(url) ?? ClusterConnection(server: url))
        let clock = FastClock()
        let informer = Informer(client: client, resource: resource, options: options, clock: clock)
        let changes = await informer.changes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await informer.run() }
            defer { group.cancelAll() }
            try await body(informer, clock, changes)
        }
    }
}

/// The simulator's objects and the informer's cache, as (key, resourceVersion, spec) triples.
struct Entry: Hashable, CustomStringConvertible {
    var key: String
    var resourceVersion: String
    var spec: JSONValue?
    var description: String { "\(key)@\(resourceVersion)" }
}

func simulatorState(_ simulator: KubeAPISimulator, _ resource: SimulatedResource) async throws -> [Entry] {
    try await simulator.objects(resource).map { object in
        let raw = try JSONDecoder().decode(JSONValue.self, from: object.json)
        let key = object.namespace.isEmpty ? object.name : object.namespace + "/" + object.name
        return Entry(key: key, resourceVersion: object.resourceVersion, spec: raw["spec"])
    }
}

func cacheState(_ informer: Informer<KubeObject>) async -> [Entry] {
    await informer.objects().map { Entry(key: $0.key, resourceVersion: $0.resourceVersion, spec: $0.raw["spec"]) }
}

/// True when the cache holds exactly what the simulator holds.
func inStep(_ informer: Informer<KubeObject>, _ simulator: KubeAPISimulator, _ resource: SimulatedResource) async -> Bool {
    guard let expected = try? await simulatorState(simulator, resource) else { return false }
    return await cacheState(informer) == expected
}

func routeJSON(_ namespace: String, _ name: String, host: String, labels: [String: String] = [:]) -> String {
    let labelText = labels.map { #""\#($0.key)":"\#($0.value)""# }.sorted().joined(separator: ",")
    return #"""
    {"metadata":{"name":"\#(name)","namespace":"\#(namespace)","labels":{\#(labelText)}},
     "spec":{"hostnames":["\#(host)"],"parentRefs":[{"name":"gw","namespace":"network"}]}}
    """#
}

/// Fills the simulator with `count` HTTPRoutes across two namespaces.
func seedRoutes(_ simulator: KubeAPISimulator, count: Int) async throws {
    for index in 0..<count {
        try await simulator.create(.httpRoutes, json: routeJSON(index % 2 == 0 ? "media" : "home", "route-\(index)",
                                                                host: "app\(index).example.com"))
    }
}
