import Foundation
import Glibc
import NetIO

/// The tests' name for NetIO's posix_spawn wrapper.
public typealias Spawned = SpawnedProcess

/// A server process started by a test and ended (SIGKILL) when the test drops it.
public final class ChildProcess: Sendable {
    public let spawned: Spawned
    public let executable: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        self.executable = executable
        spawned = try Spawned.start(executable, arguments, environment: environment)
    }

    deinit { stop() }

    /// Everything the process printed so far.
    public var output: String { spawned.output }

    /// Waits until the output matches `predicate`, up to `timeout`; throws with the output otherwise.
    @discardableResult
    public func waitForOutput(timeout: Duration = .seconds(10), _ predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Checked once more after the deadline: on a busy machine this task may wake late.
            let text = output
            if predicate(text) { return text }
            if let status = spawned.exitStatusIfEnded() {
                throw TestSupportError("\(executable) exited (\(status)): \(text)")
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("timed out waiting for \(executable): \(output)")
    }

    public func stop() {
        spawned.kill(SIGKILL)
        _ = spawned.wait()
        spawned.removeFiles()
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where the repository's files are, found from this source file.
public enum Repository {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func fixture(_ name: String) -> String {
        root.appendingPathComponent("Tests/Fixtures/\(name)").path
    }

    /// Whether the tests run under CI, where a missing tool is a failure rather than a skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The path of an installed program, or nil.
    public static func which(_ program: String) -> String? {
        if program.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
            let path = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// A new empty temporary folder.
    public static func temporaryFolder(_ prefix: String = "netagent-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Whether a test that needs `programs` may run: always under CI (a missing program then
/// fails the test), otherwise only when each is installed.
public func installed(_ programs: String...) -> Bool {
    Repository.isCI || programs.allSatisfy { Repository.which($0) != nil }
}

/// Runs a command to completion and returns its exit code and combined output.
@discardableResult
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let spawned = try Spawned.start(executable, arguments, environment: environment)
    let status = spawned.wait()
    defer { spawned.removeFiles() }
    return (status, spawned.output)
}
