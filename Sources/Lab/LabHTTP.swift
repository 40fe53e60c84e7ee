import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// How every simulator serves its router: on 127.0.0.1, a port the caller names (0: a free
/// one), until the task that runs it is cancelled, which stops it by a graceful shutdown.
enum LabHTTP {
    /// Parses a query string as Go's `url.ParseQuery` does (`+` is a space), as the apiserver reads it
    /// and as form encoding writes it (both the Kubernetes and the Cloudflare simulators read theirs so).
    static func parseQuery(_ raw: String) -> [String: String] {
        var query: [String: String] = [:]
        for pair in raw.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if query[key] == nil { query[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return query
    }

    /// Serves `router` and calls `onListening` with the port once bound; throws when it cannot bind.
    static func serve(
        _ router: Router<BasicRequestContext>, name: String, port: Int,
        onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        var logger = Logger(label: "lab.\(name)")
        // .critical: at shutdown Hummingbird logs cancelled connections (open watches) as errors.
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: name),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
        // Cancelling a Hummingbird server while connections it accepted still wait in its accept
        // stream traps the process in NIO ("Deinited NIOAsyncWriter without calling finish()",
        // apple/swift-nio#2637 and #3481; seen here in the test suite under load). So the server
        // runs in a task the caller's cancellation does not reach, and a cancellation becomes a
        // graceful shutdown: the listener closes and the connections already accepted are taken
        // and closed. Responses that never end (open watches) are cut `hardStopAfter` later.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let server = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await server.value
        } onCancel: {
            Task {
                await group.triggerGracefulShutdown()
                try? await Task.sleep(for: hardStopAfter)
                server.cancel()
            }
        }
    }

    /// How long a stopping simulator lets open responses (watch streams) run after its listener
    /// closed, before it cuts them.
    static let hardStopAfter: Duration = .milliseconds(300)

    /// Runs `serve` for the length of `body`, which gets the bound port; then cancels it and
    /// runs `cleanup` (close open streams, stop child processes).
    static func withRunning<T: Sendable>(
        name: String,
        serve: @escaping @Sendable (_ onListening: @escaping @Sendable (Int) async -> Void) async throws -> Void,
        cleanup: @escaping @Sendable () async -> Void = {},
        _ body: (Int) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (ports, portContinuation) = AsyncStream<Int>.makeStream()
            group.addTask {
                defer { portContinuation.finish() }
                try await serve { port in portContinuation.yield(port) }
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                try await group.next()
                throw SimulatorError("the \(name) simulator did not start")
            }
            do {
                let result = try await body(port)
                await cleanup()
                group.cancelAll()
                return result
            } catch {
                await cleanup()
                group.cancelAll()
                throw error
            }
        }
    }
}
