import Foundation
import Synchronization
import Testing

/// One row of the fault matrix, as RELIABILITY.md shows it. A scenario's test is named after
/// its `id`; `run` times the body and, when `FAULT_MATRIX_REPORT` names a file, appends one
/// JSON line with the row and what recovery looked like (scripts/reliability reads it and
/// takes pass/fail from swift test's own output).
struct Scenario: Sendable {
    var id: String
    var area: String
    var fault: String
    var assertions: String

    /// Runs `body`, which returns what recovery looked like in words, and records the row.
    func run(_ body: () async throws -> String) async throws {
        let started = ContinuousClock.now
        var recovery = "did not recover (see the test's failure)"
        defer {
            let elapsed = ContinuousClock.now - started
            Self.append(["id": id, "area": area, "fault": fault, "assertions": assertions, "recovery": recovery,
                         "seconds": String(format: "%.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)])
        }
        recovery = try await body()
    }

    private static let lock = Mutex(())

    private static func append(_ row: [String: String]) {
        guard let path = ProcessInfo.processInfo.environment["FAULT_MATRIX_REPORT"],
              let data = try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]) else { return }
        lock.withLock { _ in
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: path) else { return }
            handle.seekToEndOfFile()
            handle.write(data + Data("\n".utf8))
            handle.closeFile()
        }
    }
}
