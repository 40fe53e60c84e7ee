import Foundation
import Kube
import Lab
import NetIO
import Testing
import TestSupport

@Suite("Missing CRDs, RBAC, tokens and TLS")
struct ClusterAccessTests {
    @Test("missing Gateway API CRDs are reported, not fatal, and picked up once installed")
    func missingCRDs() async throws {
        let simulator = KubeAPISimulator()
        await simulator.setGroup(SimulatedResource.gatewayGroup, .missing)
        try await seedRoutes(simulator, count: 2)
        try await simulator.create(.namespaces, json: #"{"metadata":{"name":"media","labels":{"team":"a"}}}"#)
        try await withInformer(simulator, resource: .httpRoutes) { routes, _, _ in
            try await eventually("missing reported") { await routes.status.state == .missing }
            let status = await routes.status
            #expect(status.message.contains("gateway.networking.k8s.io") && status.message.contains("CRDs"))
            #expect(await routes.hasSynced == false)
            #expect(await routes.objects().isEmpty)

            // The rest keeps running: a Namespace informer on the same server syncs.
            let url = try #require(await simulator.baseURL)
            let client = KubeClient(connection: ClusterConnection(server: url))
            let namespaces = Informer(client: client, resource: .namespaces, options: testOptions, clock: FastClock())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await namespaces.run() }
                defer { group.cancelAll() }
                try await eventually("namespaces synced") { await namespaces.hasSynced }
                #expect(await namespaces.object(key: "media")?.labels == ["team": "a"])
            }

            await simulator.setGroup(SimulatedResource.gatewayGroup, .served)
            try await eventually("routes synced once the CRDs exist") { await routes.hasSynced }
            #expect(await routes.status.state == .synced)
            #expect(await inStep(routes, simulator, .httpRoutes))
        }
    }

    @Test("RBAC 403 is reported as forbidden and retried")
    func forbidden() async throws {
        let simulator = KubeAPISimulator()
        await simulator.setGroup(SimulatedResource.gatewayGroup, .forbidden)
        try await seedRoutes(simulator, count: 1)
        try await withInformer(simulator, resource: .grpcRoutes) { informer, clock, _ in
            try await eventually("forbidden reported") { await informer.status.state == .forbidden }
            #expect(await informer.status.message.contains("cannot list resource \"grpcroutes\""))
            try await eventually("retried with back-off") { clock.requested.count >= 3 }
            #expect(await informer.hasSynced == false)
            await simulator.setGroup(SimulatedResource.gatewayGroup, .served)
            try await eventually("synced once allowed") { await informer.hasSynced }
        }
    }

    @Test("a rotated token file is read again after a 401")
    func tokenRotation() async throws {
        let simulator = KubeAPISimulator()
        let folder = try Repository.temporaryFolder("sa").path
        let tokenPath = folder + "/token"
        try "token-1\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        await simulator.requireBearerToken("token-1")
        try await seedRoutes(simulator, count: 2)
        try await withInformer(simulator, resource: .httpRoutes,
                               connection: { ClusterConnection(server: $0, credentials: .tokenFile(tokenPath)) }) { informer, _, _ in
            try await eventually("watching with token-1") { await simulator.openWatches() == 1 }
            // The kubelet rotates the projected token; the server accepts only the new one.
            try "token-2\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
            await simulator.requireBearerToken("token-2")
            await simulator.closeWatches()
            try await simulator.create(.httpRoutes, json: routeJSON("media", "after-rotation", host: "r.example.com"))
            try await eventually("cache equal with token-2") { await inStep(informer, simulator, .httpRoutes) }
            let statuses = await simulator.requests().filter(\.isWatch).map(\.status)
            #expect(statuses == [200, 401, 200])
        }
    }

    @Test("kubeconfig client certificate, CA and token reach a TLS server that requires a client certificate",
          arguments: [false, true])
    func clientCertificateTLS(inline: Bool) async throws {
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs, requireClientCertificate: true)
        defer { server.child.stop() }
        func b64(_ path: String) throws -> String { Data(try certs.pem(path).utf8).base64EncodedString() }
        let cluster = inline
            ? "{server: \"https://127.0.0.1:\(server.port)\", tls-server-name: netagent.test, certificate-authority-data: \(try b64(certs.caCertificate))}"
            : "{server: \"https://localhost:\(server.port)\", certificate-authority: ca.crt}"
        let user = inline
            ? "{token: abc, client-certificate-data: \(try b64(certs.clientCertificate)), client-key-data: \(try b64(certs.clientKey))}"
            : "{token: abc, client-certificate: client.crt, client-key: ./client.key}"
        let text = """
        current-context: talos
        clusters: [{name: home, cluster: \(cluster)}]
        users: [{name: admin, user: \(user)}]
        contexts: [{name: talos, context: {cluster: home, user: admin}}, {name: anonymous, context: {cluster: home}}]
        """
        // The kubeconfig sits beside the certificates: the relative paths resolve against its folder.
        try text.write(toFile: certs.folder + "/kubeconfig", atomically: true, encoding: .utf8)
        let connection = try KubeConfig.load(paths: [certs.folder + "/kubeconfig"])
        let echo = try await KubeClient(connection: connection).get("/echo", query: [("watch", "1"), ("continue", "a+b/c=")])
        #expect(echo["headers"]?["authorization"]?.stringValue == "Bearer abc")
        let path = echo["path"]?.stringValue ?? ""
        // `+` would read as a space on the apiserver (Go's query parsing): it must go as %2B.
        #expect(path.hasPrefix("/echo?watch=1&continue=a%2Bb") && !path.contains("+"))

        let anonymous = try KubeConfig.load(paths: [certs.folder + "/kubeconfig"], context: "anonymous")
        let error = await #expect(throws: KubeError.self) { _ = try await KubeClient(connection: anonymous).get("/echo") }
        #expect(error?.code == .transport)
    }
}

