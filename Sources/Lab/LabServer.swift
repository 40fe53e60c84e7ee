import Foundation
import NetIO
import Synchronization

/// A simulator served in a task of its own that can be stopped and started again on the same
/// port: the way to take a whole peer down (connections refused) and bring it back with its
/// state, for fault tests and `netagent lab`.
///
///     let server = LabServer(name: "Pi-hole") { port, ready in try await pihole.run(port: port, onListening: ready) }
///     let port = try await server.start()    // a free port the first time (LoopbackPort.free)
///     await server.stop()                    // refused from now on
///     _ = try await server.start()           // the same port again
public final class LabServer: Sendable {
    public typealias Serve = @Sendable (_ port: Int, _ onListening: @escaping @Sendable (Int) async -> Void) async throws -> Void

    private let name: String
    private let serve: Serve
    private let running = Mutex<(task: Task<Void, Never>?, port: Int)>((nil, 0))

    public init(name: String, serve: @escaping Serve) {
        self.name = name
        self.serve = serve
    }

    /// The port it serves on (0 before the first start).
    public var port: Int { running.withLock { $0.port } }

    /// Starts serving (on the port of the last start, else a free one from `LoopbackPort`) and returns the port
    /// once bound; throws when it could not bind. Does nothing but return the port when running.
    @discardableResult
    public func start() async throws -> Int {
        if let port = running.withLock({ $0.task == nil ? nil : $0.port }) { return port }
        if port != 0 {
            // The port just given up may take a moment to be free again (connections closing).
            var attempt = 0
            while true {
                attempt += 1
                do { return try await serveOnce(port) } catch where attempt < 50 {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        // The first port comes from `LoopbackPort.free`: below the kernel's ephemeral range (a
        // client retrying a connection to a port in that range while nothing listens there can be
        // given that very port as its own source port, connect to itself and hold it), and never
        // one this process has handed to anything else — a port picked at random here was once
        // taken between a test choosing it for an agent and the agent binding it.
        var attempt = 0
        while true {
            attempt += 1
            do { return try await serveOnce(try LoopbackPort.free()) } catch where attempt < 20 {}
        }
    }

    private func serveOnce(_ wanted: Int) async throws -> Int {
        let (ports, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
        let serve = serve
        let task = Task {
            do {
                try await serve(wanted) { port in continuation.yield(.success(port)) }
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        switch await iterator.next() {
        case .success(let port)?:
            running.withLock { $0 = (task, port) }
            return port
        case .failure(let error)?:
            throw error
        case nil:
            throw SimulatorError("the \(name) simulator did not start")
        }
    }

    /// Stops serving: the listener closes (new connections are refused) and the serving task
    /// ends, with whatever cleanup the simulator's `run` does. The port is kept for `start`.
    public func stop() async {
        guard let task = running.withLock({ state -> Task<Void, Never>? in defer { state.task = nil }; return state.task }) else { return }
        task.cancel()
        await task.value
    }
}
