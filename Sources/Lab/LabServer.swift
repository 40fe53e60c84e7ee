public import Hummingbird
import Logging

/// A simulator's HTTP server on 127.0.0.1 and a port the system picks; `stop()` (or dropping
/// the value) shuts it down.
public final class LabServer: Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    /// Starts serving `router`; returns once the port is bound.
    public static func start(_ router: Router<BasicRequestContext>, name: String) async throws -> LabServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "lab.\(name)")
        // Stopping cancels the server, which Hummingbird logs as errors: only critical ones matter here.
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: name),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let task = Task { try await app.run() }
        var bound = 0
        for await port in ports { bound = port }
        guard bound > 0 else {
            task.cancel()
            throw LabError("\(name): the server did not start")
        }
        return LabServer(port: bound, task: task)
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    deinit { task.cancel() }

    /// `http://127.0.0.1:PORT`
    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// A simulator could not do what it was asked.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
