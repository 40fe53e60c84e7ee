import Foundation
import Kube
import Lab
import Testing
import TestSupport

@Suite("Informer against the Kubernetes API simulator")
struct InformerTests {
    @Test("the cache follows adds, edits and deletes and notifies each; a list is one relisted, not one change per object")
    func followsChanges() async throws {
        let simulator = KubeAPISimulator()
        try await seedRoutes(simulator, count: 5)
        try await withInformer(simulator, resource: .httpRoutes) { informer, _, changes in
            try await eventually("first sync") { await informer.hasSynced }
            #expect(await inStep(informer, simulator, .httpRoutes))

            try await simulator.create(.httpRoutes, json: routeJSON("media", "new", host: "new.example.com"))
            try await simulator.update(.httpRoutes, json: routeJSON("media", "route-0", host: "changed.example.com"))
            try await simulator.delete(.httpRoutes, namespace: "home", name: "route-1")
            try await eventually("cache equal to the simulator") { await inStep(informer, simulator, .httpRoutes) }
            let cached = await informer.object(key: "media/route-0")
            #expect(cached?.raw["spec"]?["hostnames"] == .array([.string("changed.example.com")]))
            #expect(cached?.kind == "HTTPRoute")
            #expect(await informer.object(key: "home/route-1") == nil)

            var seen: [String] = []
            for await change in changes {
                switch change {
                case .added(let object): seen.append("added \(object.key)")
                case .modified(_, let new): seen.append("modified \(new.key)")
                case .deleted(let object): seen.append("deleted \(object.key)")
                case .relisted: seen.append("relisted")
                }
                if seen.count == 4 { break }
            }
            // The first list's five objects are in the cache (inStep above) but not in the stream.
            #expect(seen == ["relisted", "added media/new", "modified media/route-0", "deleted home/route-1"])

            // Paged list (pageSize 2), then one watch from the list's version with bookmarks.
            let requests = await simulator.requests()
            #expect(requests.filter { !$0.isWatch && $0.query["continue"] != nil }.count == 2)
            let watch = try #require(requests.first { $0.isWatch })
            #expect(watch.query["allowWatchBookmarks"] == "true")
            #expect(watch.query["resourceVersion"] == "6")
            #expect(watch.query["timeoutSeconds"].flatMap { Int($0) }.map { (300...600).contains($0) } == true)
        }
    }

    @Test("410 Expired relists, as an ERROR event or as HTTP 410", arguments: [ExpiredWatchStyle.errorEvent, .httpStatus])
    func expiredRelists(style: ExpiredWatchStyle) async throws {
        let simulator = KubeAPISimulator()
        await simulator.setExpiredWatchStyle(style)
        try await seedRoutes(simulator, count: 4)
        try await withInformer(simulator, resource: .httpRoutes) { informer, _, changes in
            try await eventually("first sync") { await informer.hasSynced }
            await simulator.expireWatches()
            try await simulator.delete(.httpRoutes, namespace: "media", name: "route-2")
            try await simulator.create(.httpRoutes, json: routeJSON("home", "late", host: "late.example.com"))
            try await eventually("cache equal after relist") { await inStep(informer, simulator, .httpRoutes) }
            var relists = 0
            for await change in changes {
                if case .relisted = change { relists += 1 }
                if relists == 2 { break }
            }
            #expect(relists == 2)
            let requests = await simulator.requests()
            let lists = requests.filter { isFirstPage($0) }
            #expect(lists.count >= 2)
            if style == .httpStatus { #expect(requests.contains { $0.isWatch && $0.status == 410 }) }
        }
    }

    @Test("a dropped watch is resumed from the last version without a relist")
    func droppedConnections() async throws {
        let simulator = KubeAPISimulator()
        try await seedRoutes(simulator, count: 3)
        try await withInformer(simulator, resource: .httpRoutes) { informer, _, _ in
            try await eventually("first sync") { await informer.hasSynced }
            try await eventually("watching") { await simulator.openWatches() == 1 }
            for round in 0..<3 {
                let before = await simulator.resourceVersion
                await simulator.dropWatches()
                try await simulator.create(.httpRoutes, json: routeJSON("media", "after-drop-\(round)", host: "d\(round).example.com"))
                try await eventually("cache equal after drop \(round)") { await inStep(informer, simulator, .httpRoutes) }
                let watches = await simulator.requests().filter(\.isWatch)
                #expect(watches.last?.query["resourceVersion"] == String(before))
                try await eventually("watching again") { await simulator.openWatches() == 1 }
            }
            let all = await simulator.requests()
            let lists = all.filter { isFirstPage($0) }
            #expect(lists.count == 1)
        }
    }

    @Test("429 answers are waited out for their Retry-After, at list and at watch")
    func throttled() async throws {
        let simulator = KubeAPISimulator()
        try await seedRoutes(simulator, count: 3)
        await simulator.throttle(next: 2, retryAfterSeconds: 3)
        try await withInformer(simulator, resource: .httpRoutes) { informer, clock, _ in
            try await eventually("sync after two 429s") { await informer.hasSynced }
            #expect(clock.requested.filter { $0 > .milliseconds(2900) && $0 <= .seconds(3) }.count == 2)

            try await eventually("watching") { await simulator.openWatches() == 1 }
            await simulator.throttle(next: 1, retryAfterSeconds: 7)
            await simulator.closeWatches()
            try await simulator.create(.httpRoutes, json: routeJSON("home", "throttled", host: "t.example.com"))
            try await eventually("cache equal after throttled re-watch") { await inStep(informer, simulator, .httpRoutes) }
            #expect(clock.requested.contains { $0 > .milliseconds(6900) && $0 <= .seconds(7) })
            let requests = await simulator.requests()
            #expect(requests.filter { $0.status == 429 }.count == 3)
            #expect(requests.filter { isFirstPage($0) && $0.status == 200 }.count == 1)
        }
    }

    @Test("bookmarks advance the version the next watch starts from")
    func bookmarks() async throws {
        let simulator = KubeAPISimulator()
        try await seedRoutes(simulator, count: 2)
        try await withInformer(simulator, resource: .httpRoutes) { informer, _, _ in
            try await eventually("watching") { await simulator.openWatches() == 1 }
            // Writes to another resource move the global version; only a bookmark tells the route watch.
            try await simulator.create(.namespaces, json: #"{"metadata":{"name":"media"}}"#)
            try await simulator.create(.namespaces, json: #"{"metadata":{"name":"home"}}"#)
            let current = String(await simulator.resourceVersion)
            #expect(await informer.resourceVersion != current)
            await simulator.sendBookmarks()
            try await eventually("bookmark applied") { await informer.resourceVersion == current }
            await simulator.closeWatches()
            try await eventually("watching again") { await simulator.openWatches() == 1 }
            #expect(await simulator.requests().filter(\.isWatch).last?.query["resourceVersion"] == current)
            #expect(await inStep(informer, simulator, .httpRoutes))
        }
    }

    @Test("504 Too large resource version relists at once, as 410 does, without a failure or a wait")
    func tooLargeResourceVersionRelists() async throws {
        let simulator = KubeAPISimulator()
        await simulator.setTooLargeWait(.milliseconds(50))
        try await seedRoutes(simulator, count: 2)
        try await withInformer(simulator, resource: .httpRoutes) { informer, clock, _ in
            try await eventually("watching") { await simulator.openWatches() == 1 }
            // The client moves to a replica that has not reached the version it holds.
            let ahead = await simulator.resourceVersion + 1000
            await simulator.sendBookmarks(at: ahead)
            try await eventually("bookmark applied") { await informer.resourceVersion == String(ahead) }
            await simulator.closeWatches()
            try await eventually("relisted and watching") {
                let lists = await simulator.requests().filter { isFirstPage($0) }.count
                let watches = await simulator.openWatches()
                return lists == 2 && watches == 1
            }
            let requests = await simulator.requests()
            #expect(requests.contains { $0.isWatch && $0.status == 504 })
            #expect(clock.requested.isEmpty, "waited \(clock.requested) as after a failure")
            #expect(await informer.status.state == .synced)
            #expect(await inStep(informer, simulator, .httpRoutes))
        }
    }

    @Test("events split across chunks decode")
    func splitChunks() async throws {
        let simulator = KubeAPISimulator()
        await simulator.splitWatchWrites(every: 7)
        try await seedRoutes(simulator, count: 2)
        try await withInformer(simulator, resource: .httpRoutes) { informer, _, _ in
            try await eventually("watching") { await simulator.openWatches() == 1 }
            for index in 0..<5 {
                try await simulator.create(.httpRoutes, json: routeJSON("media", "split-\(index)", host: "s\(index).example.com"))
            }
            try await simulator.delete(.httpRoutes, namespace: "media", name: "split-3")
            try await eventually("cache equal") { await inStep(informer, simulator, .httpRoutes) }
        }
    }

    @Test("a list whose continue token expired starts again from the first page")
    func expiredContinue() async throws {
        let simulator = KubeAPISimulator()
        try await seedRoutes(simulator, count: 7)
        try await simulator.withRunning { url in
            let client = KubeClient(connection: ClusterConnection(server: url))
            await simulator.expireContinueTokens(next: 1)
            let list = try await client.listAll(.httpRoutes, pageSize: 3)
            let expected = try await simulatorState(simulator, .httpRoutes).map(\.key)
            #expect(list.items.map(\.key) == expected)
            #expect(list.items.allSatisfy { $0.kind == "HTTPRoute" && $0.apiVersion == "gateway.networking.k8s.io/v1" })
            #expect(list.resourceVersion == String(await simulator.resourceVersion))
            let statuses = await simulator.requests().map { ($0.query["continue"] == nil ? "first" : "next") + " \($0.status)" }
            #expect(statuses == ["first 200", "next 410", "first 200", "next 200", "next 200"])

            await simulator.expireContinueTokens(next: 10)
            await #expect(throws: KubeError.self) { _ = try await client.listAll(.httpRoutes, pageSize: 3) }
        }
    }
}

/// A list request for the first page of HTTPRoutes (not discovery, not a watch, no continue).
func isFirstPage(_ request: SimulatedRequest) -> Bool {
    request.path.hasSuffix("/httproutes") && !request.isWatch && request.query["continue"] == nil
}
