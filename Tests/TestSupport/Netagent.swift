import Foundation

/// The `netagent` executable of the build the tests run in, and a way to run it as a person would.
public enum Netagent {
    /// The built `netagent` beside the running test bundle (same build folder), or nil.
    public static let binary: URL? = {
        let candidates = [
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map(URL.init(fileURLWithPath:)),
            Bundle.main.executableURL,
            URL(fileURLWithPath: CommandLine.arguments[0]),
        ]
        for case let url? in candidates {
            var folder = url.deletingLastPathComponent()
            for _ in 0..<3 {
                let binary = folder.appendingPathComponent("netagent")
                if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
                folder = folder.deletingLastPathComponent()
            }
        }
        return nil
    }()

    /// How one run ended and what it printed.
    public struct Outcome: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs `binary` with `arguments` to completion, stdout and stderr kept apart. It goes through
    /// `Spawned` (posix_spawn), not Foundation's `Process`, which hangs parallel tests here.
    public static func run(_ binary: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
        let spawned = try Spawned.start(binary.path, arguments, environment: environment, separateStderr: true)
        let status = spawned.wait()
        defer { spawned.removeFiles() }
        return Outcome(status: status, stdout: spawned.output, stderr: spawned.errorOutput)
    }

    /// `run` for async tests: the wait happens on a Dispatch thread, because a blocking wait on
    /// one of the cooperative pool's few threads starves the simulators that must answer the run.
    public static func run(_ binary: URL, _ arguments: [String], environment: [String: String]? = nil) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(binary, arguments, environment: environment) as Outcome })
            }
        }
    }
}
