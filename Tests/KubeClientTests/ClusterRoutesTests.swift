import DNSCore
import Foundation
import Kube
import Lab
import Testing
import TestSupport

/// The Kubernetes source end to end: informers on the simulator feed RouteSource, which must
/// follow the cluster through adds, edits, deletes, 410 Expired and dropped watches.
@Suite struct ClusterRoutesTests {
    /// The names RouteSource gives for the cluster's objects now.
    static func names(_ routes: ClusterRoutes) async -> [String] {
        let snapshot = await routes.snapshot()
        let result = RouteSource().endpoints(gateways: snapshot.gateways, routes: snapshot.routes, namespaces: snapshot.namespaces)
        return result.endpoints.map { "\($0.name) \($0.type.rawValue) \($0.targets.joined(separator: ","))" }
    }

    @Test func followsTheClusterThroughChangesExpiryAndDrops() async throws {
        let simulator = KubeAPISimulator()
        for namespace in ["network", "apps"] {
            _ = try await simulator.create(.namespaces, json: #"{"metadata":{"name":"\#(namespace)"}}"#)
        }
        _ = try await simulator.create(.gateways, json: GatewayFixtures.gatewayJSON)
        _ = try await simulator.create(.httpRoutes, json: GatewayFixtures.routeJSON("app", hosts: ["app.home.test"]))
        try await simulator.withRunning { url in
            let routes = ClusterRoutes(client: KubeClient(connection: ClusterConnection(server: url)), options: testOptions, clock: FastClock())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await routes.run() }
                defer { group.cancelAll() }
                try await eventually("the first sync") { await routes.isReady() }
                #expect(await Self.names(routes) == ["app.home.test A 198.18.0.50"])

                _ = try await simulator.update(.httpRoutes, json: GatewayFixtures.routeJSON("app", hosts: ["app.home.test", "www.home.test"]))
                try await eventually("an edit") { await Self.names(routes).count == 2 }

                await simulator.setExpiredWatchStyle(.errorEvent)
                await simulator.expireWatches()
                _ = try await simulator.create(.httpRoutes, json: GatewayFixtures.routeJSON("api", hosts: ["api.home.test"]))
                try await eventually("a create after 410 as an ERROR event") { await Self.names(routes).count == 3 }

                await simulator.setExpiredWatchStyle(.httpStatus)
                await simulator.expireWatches()
                await simulator.dropWatches()
                try await simulator.delete(.httpRoutes, namespace: "apps", name: "app")
                try await eventually("a delete after an HTTP 410 and dropped watches") {
                    await Self.names(routes) == ["api.home.test A 198.18.0.50"]
                }
                #expect(await routes.snapshot().problems.isEmpty)
            }
        }
    }

    @Test func missingCRDsAreAProblemNotAFailure() async throws {
        let simulator = KubeAPISimulator()
        _ = try await simulator.create(.namespaces, json: #"{"metadata":{"name":"apps"}}"#)
        await simulator.setGroup("gateway.networking.k8s.io", .missing)
        try await simulator.withRunning { url in
            let snapshot = await ClusterRoutes.listOnce(client: KubeClient(connection: ClusterConnection(server: url)))
            #expect(snapshot.namespaces.map(\.metadata.name) == ["apps"])
            #expect(snapshot.routes.isEmpty)
            #expect(snapshot.problems.contains { $0.contains("gateways") && $0.contains("CRDs") })
        }
    }
}
