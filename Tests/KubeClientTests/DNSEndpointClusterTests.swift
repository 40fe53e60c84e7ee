import DNSCore
import Foundation
import Kube
import Lab
import Testing
import TestSupport

/// DNSEndpoints from a cluster: the simulator serves external-dns's CRD (present, absent,
/// installed later) with its status subresource; the informer reads the objects, a missing
/// CRD is an unread kind (never "no DNSEndpoints"), and `status.observedGeneration` is
/// written back once per generation, as external-dns's `crd` source writes it.
@Suite struct DNSEndpointClusterTests {
    static func tunnelJSON(target: String = "11111111-2222-3333-4444-555555555555.cfargotunnel.com") -> String {
        #"{"metadata":{"name":"cloudflare-tunnel","namespace":"network"},"spec":{"endpoints":[{"dnsName":"external.home.test","recordType":"CNAME","targets":["\#(target)"]}]}}"#
    }

    static func records(_ snapshot: ClusterSnapshot) -> [String] {
        DNSEndpointSource().endpoints(snapshot.dnsEndpoints).endpoints.map {
            "\($0.name) \($0.type.rawValue) \($0.targets.joined(separator: ",")) \($0.labels.resource ?? "")"
        }
    }

    static func status(_ simulator: KubeAPISimulator) async throws -> (generation: Int?, observed: Int?) {
        let object = try #require(await simulator.objects(.dnsEndpoints).first)
        let json = try #require(try JSONSerialization.jsonObject(with: object.json) as? [String: Any])
        let generation = (json["metadata"] as? [String: Any])?["generation"] as? Int
        let observed = (json["status"] as? [String: Any])?["observedGeneration"] as? Int
        return (generation, observed)
    }

    @Test("present: read, and status.observedGeneration written once per generation")
    func presentCRD() async throws {
        let simulator = KubeAPISimulator()
        _ = try await simulator.create(.dnsEndpoints, json: Self.tunnelJSON())
        #expect(try await Self.status(simulator) == (1, nil))
        try await simulator.withRunning { url in
            let client = KubeClient(connection: ClusterConnection(server: url))
            let routes = ClusterRoutes(client: client, options: testOptions, clock: FastClock())
            let writer = ObservedGenerationWriter(client: client)
            let running = Task { await routes.run() }
            defer { running.cancel() }
            try await eventually("the first sync") { await routes.isReady() }
            let snapshot = await routes.snapshot()
            #expect(Self.records(snapshot) == ["external.home.test CNAME 11111111-2222-3333-4444-555555555555.cfargotunnel.com crd/network/cloudflare-tunnel"])
            #expect(snapshot.unread.isEmpty && snapshot.problems.isEmpty, "\(snapshot.problems)")

            #expect(await writer.acknowledge(snapshot.dnsEndpoints).isEmpty)
            #expect(try await Self.status(simulator) == (1, 1))
            // The same generation again (a cache not yet refreshed): no second write.
            let puts = { await simulator.requests().filter { $0.method == "PUT" && $0.path.hasSuffix("/status") }.count }
            #expect(await writer.acknowledge(snapshot.dnsEndpoints).isEmpty)
            #expect(await puts() == 1)

            // A spec edit is a new generation; the status write does not make one.
            _ = try await simulator.update(.dnsEndpoints, json: Self.tunnelJSON(target: "abc.cfargotunnel.com"))
            #expect(try await Self.status(simulator) == (2, 1))
            try await eventually("the edit is read") { Self.records(await routes.snapshot()).first?.contains("abc.cfargotunnel.com") == true }
            #expect(await writer.acknowledge(await routes.snapshot().dnsEndpoints).isEmpty)
            #expect(try await Self.status(simulator) == (2, 2))
            #expect(await puts() == 2)
        }
    }

    @Test("absent: an unread kind, not an empty one, and the rest still works; installed later: read")
    func absentThenInstalled() async throws {
        let simulator = KubeAPISimulator()
        _ = try await simulator.create(.namespaces, json: #"{"metadata":{"name":"network"}}"#)
        _ = try await simulator.create(.dnsEndpoints, json: Self.tunnelJSON())
        await simulator.setGroup("externaldns.k8s.io", .missing)
        try await simulator.withRunning { url in
            let client = KubeClient(connection: ClusterConnection(server: url))
            let once = await ClusterRoutes.listOnce(client: client)
            #expect(once.unread == [.dnsEndpoints])
            // An optional kind: a note, not a problem (a cluster without external-dns's CRD is no failure).
            #expect(once.problems.isEmpty, "\(once.problems)")
            #expect(once.notes.count == 1 && once.notes[0].hasPrefix("dnsendpoints.externaldns.k8s.io: not served"), "\(once.notes)")
            #expect(once.namespaces.map(\.metadata.name) == ["network"])

            let routes = ClusterRoutes(client: client, options: testOptions, clock: FastClock())
            let running = Task { await routes.run() }
            defer { running.cancel() }
            try await eventually("ready without the CRD") { await routes.isReady() }
            let before = await routes.snapshot()
            #expect(before.unread == [.dnsEndpoints])
            #expect(before.dnsEndpoints.isEmpty)
            #expect(before.problems.isEmpty, "\(before.problems)")
            #expect(before.notes.contains { $0.contains("externaldns.k8s.io") && $0.contains("CRDs") }, "\(before.notes)")

            // The CRD is installed: the informer's next discovery finds it and lists.
            await simulator.setGroup("externaldns.k8s.io", .served)
            try await eventually("read once installed") { await routes.snapshot().unread.isEmpty }
            #expect(Self.records(await routes.snapshot()).count == 1)
        }
    }

    @Test("objects that do not decode are problems of a cluster that was read, not a cluster that gave nothing")
    func undecodableObjectsAreNotAnUnreadCluster() async throws {
        let simulator = KubeAPISimulator()
        // As many bad objects as there are kinds: counting problems took this cluster for an unreachable one.
        for i in 0..<ClusterRoutes.resources.count {
            _ = try await simulator.create(.dnsEndpoints, json: #"{"metadata":{"name":"bad\#(i)","namespace":"network"},"spec":{"endpoints":[{"dnsName":"a.home.test","recordType":"A","targets":["198.18.0.1"],"recordTTL":"ten"}]}}"#)
        }
        try await simulator.withRunning { url in
            let once = await ClusterRoutes.listOnce(client: KubeClient(connection: ClusterConnection(server: url)))
            #expect(once.problems.count == ClusterRoutes.resources.count, "\(once.problems)")
            #expect(once.unread.isEmpty)
            #expect(!once.readNothing)
        }
        var nothing = ClusterSnapshot()
        nothing.unread = Set(ClusterRoutes.resources)
        #expect(nothing.readNothing)
        nothing.unread.remove(.dnsEndpoints)
        #expect(!nothing.readNothing)
    }

    @Test("a plan never deletes what an unread kind gave; it does once the kind is read and the object gone")
    func unreadKindWithholdsItsDeletes() {
        let owned = Endpoint(name: try! DNSName("external.home.test"), type: .cname, targets: ["abc.cfargotunnel.com"],
                             labels: EndpointLabels(owner: "me", resource: "crd/network/cloudflare-tunnel"))
        let route = Endpoint(name: try! DNSName("old.home.test"), type: .a, targets: ["198.18.0.1"],
                             labels: EndpointLabels(owner: "me", resource: "httproute/apps/old"))
        let plan = Plan(changes: Plan.Changes(deletes: [owned, route]))
        let guarded = plan.withholdingDeletes(ofResources: KubeResource.dnsEndpoints.recordResourcePrefixes,
                                              kinds: [KubeResource.dnsEndpoints.description])
        #expect(guarded.changes.deletes == [route])
        #expect(guarded.withheldDeletes == [owned])
        #expect(guarded.guardReason == .sourceUnread(kinds: ["dnsendpoints.externaldns.k8s.io"]))
        #expect(plan.withholdingDeletes(ofResources: [], kinds: []) == plan)
        #expect(KubeResource.gateways.recordResourcePrefixes == ["httproute/", "grpcroute/", "tlsroute/", "tcproute/", "udproute/"])
        #expect(KubeResource.tcpRoutes.recordResourcePrefixes == ["tcproute/"])
    }
}
