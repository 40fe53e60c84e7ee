import Foundation
import Config
import Diagnosis
import Glibc
import Logging
import NetAgent
import NetIO
import Prometheus
import ServiceLifecycle
import Testing
import TestSupport

/// Issue 20, defect 8: the status server against hostile clients — idle and half-sent
/// connections, more of them than the cap, and `/status`, `/metrics` behind a bearer token.
@Suite struct StatusServerHardeningTests {
    /// Runs the status server with `settings` on a free loopback port until `body` returns.
    static func withServer(_ settings: ServerConfig, token: String? = nil,
                           _ body: @Sendable (Int) async throws -> Void) async throws {
        let status = DaemonStatus(instances: [])
        status.setSourcesReady(true)
        let port = try freeLoopbackPort()
        let listen = try ListenAddress("127.0.0.1:\(port)")
        let page = StatusPage(cluster: "test", nodes: [], columns: [], vipTarget: nil, targets: [], status: status, alerts: nil)
        let service = StatusServer.service(listen: listen, status: status, metrics: PrometheusCollectorRegistry(), page: page,
                                           settings: settings, token: token, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Stopped by a graceful shutdown that is waited out, never by cancelling the server's
            // task: cancelled mid-shutdown, Hummingbird can drop a connection's writer unfinished.
            do {
                // Long: a full test run on 2 cores can keep a new task from starting for many seconds.
                try await waitForTCP(port: port, timeout: .seconds(60))
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func connect(_ port: Int, sending text: String = "") -> Int32 { idleConnection(to: port, sending: text) }

    /// Whether the server closed `fd` (a read returns 0 or fails) within `timeout`.
    static func closedByServer(_ fd: Int32, within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pollfd, 1, 0) > 0 {
                var byte: UInt8 = 0
                let read = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
                if read <= 0 { return true }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    static func get(_ port: Int, _ path: String, headers: [HTTPHeader] = []) async throws -> Int {
        // Generous: a lockout never answers; a full test run on 2 cores can be slow to.
        try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)\(path)", headers: headers, timeout: .seconds(30))).status
    }

    @Test("idle and half-sent connections are closed after the header timeout")
    func slowClientsAreClosed() async throws {
        let settings = ServerConfig(listen: try ListenAddress("127.0.0.1:1"), headerTimeout: .milliseconds(500), idleTimeout: .seconds(1))
        try await Self.withServer(settings) { port in
            let idle = Self.connect(port)
            let halfSent = Self.connect(port, sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n")
            defer { close(idle); close(halfSent) }
            #expect(await Self.closedByServer(idle, within: .seconds(10)))
            #expect(await Self.closedByServer(halfSent, within: .seconds(10)))
        }
    }

    @Test("a flood of idle connections past the cap does not lock out /healthz")
    func floodOfIdleConnections() async throws {
        // The header timeout is long: only the cap and the closing of the quietest connection keep room.
        let settings = ServerConfig(listen: try ListenAddress("127.0.0.1:1"), maxConnections: 16, headerTimeout: .seconds(120))
        try await Self.withServer(settings) { port in
            let flood = (0..<200).map { _ in Self.connect(port) }
            defer { flood.forEach { close($0) } }
            try await Task.sleep(for: .milliseconds(500))
            for _ in 0..<5 {
                let status = try await Self.get(port, "/healthz")
                #expect(status == 200)
            }
            // The flood's connections beyond the cap were closed, not held.
            var closed = 0
            for fd in flood where await Self.closedByServer(fd, within: .milliseconds(20)) { closed += 1 }
            #expect(closed >= 200 - 16, "\(closed) of 200 closed")
        }
    }

    @Test("with server.authTokenFile, /status and /metrics ask for the bearer token; /healthz and /readyz do not")
    func bearerToken() async throws {
        let settings = ServerConfig(listen: try ListenAddress("127.0.0.1:1"))
        try await Self.withServer(settings, token: "status-token-Kq7") { port in
            let bare = try await Self.get(port, "/metrics")
            let wrong = try await Self.get(port, "/metrics", headers: [HTTPHeader(name: "Authorization", value: "Bearer wrong")])
            let right = try await Self.get(port, "/metrics", headers: [HTTPHeader(name: "Authorization", value: "Bearer status-token-Kq7")])
            let health = try await Self.get(port, "/healthz")
            let ready = try await Self.get(port, "/readyz")
            let statuses: [Int] = [bare, wrong, right, health, ready]
            #expect(statuses == [401, 401, 200, 200, 200])
            // The page the test's name promises, not only /metrics.
            let page = try await Self.get(port, "/status")
            let pageRight = try await Self.get(port, "/status", headers: [HTTPHeader(name: "Authorization", value: "Bearer status-token-Kq7")])
            let pages: [Int] = [page, pageRight]
            #expect(pages == [401, 200])
        }
    }

    @Test func theCapLeavesDescriptorsToTheAgent() throws {
        let settings = ServerConfig(listen: try ListenAddress("127.0.0.1:1"))
        #expect(settings.connectionCap(openFiles: 1024) == 64)
        #expect(settings.connectionCap(openFiles: 300) == 300 - ServerConfig.reservedDescriptors)
        #expect(settings.connectionCap(openFiles: 100) == 1)
    }
}
