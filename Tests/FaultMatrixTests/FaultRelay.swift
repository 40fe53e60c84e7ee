import Foundation
import TestSupport

/// aiosmtpd with Tests/Fixtures/fault_relay.py: the alert relay of the fault matrix. It keeps
/// every mail it takes, and its answer to DATA can be switched (`accept`, `tempfail` 451,
/// `reject` 550, `slow`: 250 three seconds after storing) while it runs; `stop` and `start` play an outage on the same port and folder.
/// With `namespace`, it runs inside that network namespace on 127.0.0.1:2525.
final class FaultRelay: Sendable {
    enum Mode: String { case accept, tempfail, reject, slow }

    let folder: URL
    let port: Int
    let namespace: String?
    private let child: LockedChild

    init(namespace: String? = nil) async throws {
        folder = try Repository.temporaryFolder("fault-relay")
        self.namespace = namespace
        child = LockedChild()
        port = namespace == nil ? try freeLoopbackPort() : 2525
        try await start()
    }

    var url: String { "smtp://127.0.0.1:\(port)" }

    /// Starts aiosmtpd on the relay's port (again, after `stop`).
    func start() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = Repository.root.appendingPathComponent("Tests/Fixtures").path
        let python = ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "fault_relay.Relay", folder.path]
        let command = namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] + python } ?? python
        var lastError: (any Error)?
        for _ in 0..<40 {
            let process = try ChildProcess(command[0], Array(command.dropFirst()), environment: environment)
            do {
                if namespace == nil {
                    try await waitForTCP(port: port, timeout: .seconds(10))
                } else {
                    // Not reachable from here: wait until the handler made its folder and Python settled.
                    try await Task.sleep(for: .milliseconds(500))
                    if let status = process.spawned.exitStatusIfEnded() { throw TestSupportError("aiosmtpd exited \(status): \(process.output)") }
                }
                child.set(process)
                return
            } catch {
                lastError = error
                process.stop()
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError ?? TestSupportError("aiosmtpd did not start")
    }

    /// The relay goes away: connections are refused.
    func stop() { child.set(nil) }

    func setMode(_ mode: Mode) throws {
        try Data(mode.rawValue.utf8).write(to: folder.appendingPathComponent("mode"), options: .atomic)
    }

    /// The mails taken so far, in arrival order.
    func mails() throws -> [RelayedMail] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try JSONDecoder().decode(RelayedMail.self, from: Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    /// Refusals so far: the Message-ID and the code (451, 550) of each.
    func refusals() -> [(messageID: String, code: Int)] {
        let text = (try? String(contentsOf: folder.appendingPathComponent("refused.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let code = Int(parts[1]) else { return nil }
            return (String(parts[0]), code)
        }
    }
}

/// The current child process of a restartable server; replacing it kills the old one.
final class LockedChild: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is only touched under `lock`.
    private let lock = NSLock()
    private var process: ChildProcess?

    func set(_ new: ChildProcess?) {
        lock.lock()
        let old = process
        process = new
        lock.unlock()
        old?.stop()
    }

    var current: ChildProcess? {
        lock.lock()
        defer { lock.unlock() }
        return process
    }
}

/// One alert mail as the relay read it.
struct RelayedMail: Decodable, Sendable {
    var messageID: String
    var subject: String
    /// `X-Netagent-Group`: the alert rule.
    var group: String
    var text: String

    /// The alerts the mail lists, as (state, key): `FIRING`/`RESOLVED` and `rule target`.
    var entries: [(state: String, key: String)] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            for state in ["FIRING ", "RESOLVED "] where line.hasPrefix(state) {
                return (String(state.dropLast()), "\(group) \(line.dropFirst(state.count))")
            }
            return nil
        }
    }
}
