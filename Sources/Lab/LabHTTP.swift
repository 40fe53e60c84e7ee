import Hummingbird
import Logging
import Synchronization

/// How every simulator serves its router: on 127.0.0.1, a port the caller names (0: a free
/// one), until the task that runs it is cancelled.
enum LabHTTP {
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
        try await app.run()
    }

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

/// A simulator's slow-write knob: every write waits `delay` before it is applied, so a test
/// can catch a client in the middle of an apply (`started` counts the writes that began).
final class WriteDelay: Sendable {
    private let state = Mutex<(delay: Duration, started: Int)>((.zero, 0))

    func set(_ delay: Duration) { state.withLock { $0.delay = delay } }
    var started: Int { state.withLock { $0.started } }

    /// Waits out the delay; the write is then applied whatever the client did meanwhile.
    func wait() async {
        let delay = state.withLock { state in
            state.started += 1
            return state.delay
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
    }
}
