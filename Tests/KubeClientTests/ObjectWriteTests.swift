import Foundation
import Kube
import Lab
import Testing
import TestSupport

@Suite("Single objects: Lease and ConfigMap writes")
struct ObjectWriteTests {
    static func lease(holder: String, resourceVersion: String? = nil) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": .string("netagent"), "namespace": .string("network")]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return .object(["metadata": .object(metadata),
                        "spec": .object(["holderIdentity": .string(holder), "leaseDurationSeconds": .int(15)])])
    }

    @Test("create, replace with optimistic concurrency, get, delete")
    func leaseLifecycle() async throws {
        let simulator = KubeAPISimulator()
        try await simulator.withRunning { url in
            let client = KubeClient(connection: ClusterConnection(server: url))
            let created = try await client.create(.leases, namespace: "network", object: Self.lease(holder: "pod-a"))
            #expect(created.key == "network/netagent" && created.kind == "Lease" && !created.uid.isEmpty)

            let taken = await #expect(throws: KubeError.self) {
                _ = try await client.create(.leases, namespace: "network", object: Self.lease(holder: "pod-b"))
            }
            #expect(taken?.isConflict == true && taken?.reason == "AlreadyExists" && taken?.method == "POST")

            let renewed = try await client.replace(.leases, namespace: "network",
                                                   object: Self.lease(holder: "pod-a", resourceVersion: created.resourceVersion))
            #expect(renewed.resourceVersion != created.resourceVersion && renewed.uid == created.uid)

            // pod-b read the lease before the renewal: its write must lose.
            let stale = await #expect(throws: KubeError.self) {
                _ = try await client.replace(.leases, namespace: "network",
                                             object: Self.lease(holder: "pod-b", resourceVersion: created.resourceVersion))
            }
            #expect(stale?.isConflict == true && stale?.reason == "Conflict")
            let current = try await client.get(.leases, namespace: "network", name: "netagent")
            #expect(current.raw["spec"]?["holderIdentity"] == .string("pod-a"))

            try await client.delete(.leases, namespace: "network", name: "netagent")
            let gone = await #expect(throws: KubeError.self) { _ = try await client.get(.leases, namespace: "network", name: "netagent") }
            #expect(gone?.isNotFound == true)
            #expect(await simulator.objects(.leases).isEmpty)
        }
    }

    @Test("an informer on ConfigMaps sees the client's own writes")
    func configMapInformer() async throws {
        let simulator = KubeAPISimulator()
        try await withInformer(simulator, resource: .configMaps) { informer, _, _ in
            try await eventually("synced") { await informer.hasSynced }
            let url = try #require(await simulator.baseURL)
            let client = KubeClient(connection: ClusterConnection(server: url))
            let ledger: JSONValue = .object([
                "metadata": .object(["name": .string("netagent-pihole-ledger")]),
                "data": .object(["records": .string("app.example.com A 198.18.0.10")]),
            ])
            let created = try await client.create(.configMaps, namespace: "network", object: ledger)
            try await eventually("created in cache") { await informer.object(key: "network/netagent-pihole-ledger") != nil }
            var changed = created.raw
            if case .object(var members) = changed {
                members["data"] = .object(["records": .string("")])
                changed = .object(members)
            }
            _ = try await client.replace(.configMaps, namespace: "network", object: changed)
            try await eventually("cache equal") { await inStep(informer, simulator, .configMaps) }
            #expect(await informer.object(key: "network/netagent-pihole-ledger")?.raw["data"]?["records"] == .string(""))
        }
    }
}
