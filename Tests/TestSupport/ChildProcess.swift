import Foundation

/// A server process started by a test and ended when the test drops it.
public final class ChildProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is set up once in `init`; `Process` itself is thread-safe
    // for terminate/isRunning, and `output` is guarded by `lock`.
    public let process = Process()
    private let lock = NSLock()
    private var outputText = ""
    private let outputPipe = Pipe()

    /// Starts `executable` with `arguments`; stdout and stderr are collected.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        outputPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.outputText += String(decoding: data, as: UTF8.self)
            self.lock.unlock()
        }
        try process.run()
    }

    deinit { stop() }

    /// Everything the process printed so far.
    public var output: String {
        lock.lock()
        defer { lock.unlock() }
        return outputText
    }

    /// Waits until the output matches `predicate`, up to `timeout`; throws with the output otherwise.
    @discardableResult
    public func waitForOutput(timeout: Duration = .seconds(10), _ predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = output
            if predicate(text) { return text }
            if !process.isRunning {
                throw TestSupportError("\(process.executableURL?.path ?? "?") exited (\(process.terminationStatus)): \(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("timed out waiting for \(process.executableURL?.lastPathComponent ?? "?"): \(output)")
    }

    /// Ends the process with SIGKILL: children started from a Dispatch thread inherit its
    /// blocked signal mask (SIGTERM included), so a polite terminate would never arrive.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        outputPipe.fileHandleForReading.readabilityHandler = nil
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

/// Runs a command to completion and returns its exit code and output.
@discardableResult
public func runCommand(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    if let input {
        let inPipe = Pipe()
        process.standardInput = inPipe
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inPipe.fileHandleForWriting.close()
    }
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether a test that needs `programs` may run: always under CI (a missing program then
/// fails the test), otherwise only when each is installed.
public func installed(_ programs: String...) -> Bool {
    Repository.isCI || programs.allSatisfy { Repository.which($0) != nil || FileManager.default.isExecutableFile(atPath: $0) }
}
