import Foundation
import Glibc

/// The end of a helper program run by `CommandRunner`.
public struct CommandOutput: Sendable, Hashable {
    /// Exit code; 128 + signal when killed (also when the deadline killed it).
    public var status: Int32
    /// stdout and stderr together.
    public var output: String
    public var timedOut: Bool
}

/// A program could not be started.
public struct CommandError: Error, Sendable, Hashable, CustomStringConvertible {
    public var program: String
    public var message: String
    public var description: String { "\(program): \(message)" }
}

/// Runs a helper program (Debian's `arping`, `ip`) as a `SpawnedProcess` on its own thread,
/// waits for its end in 2 ms steps and interrupts it at the deadline.
public enum CommandRunner {
    /// Runs `executable` with `arguments`; when `timeout` runs out the child gets SIGINT, then
    /// SIGKILL 300 ms later, and the output so far is returned with `timedOut` set.
    public static func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws(CommandError) -> CommandOutput {
        let result = await Blocking.run("netagent-cmd") { () -> Result<CommandOutput, CommandError> in
            Result { () throws(CommandError) in try runBlocking(executable, arguments, timeout: timeout) }
        }
        return try result.get()
    }

    /// The first executable found for `name` in the usual system folders.
    public static func find(_ name: String) -> String? {
        for folder in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = "\(folder)/\(name)"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    /// The whole environment a helper program gets: a fixed PATH and the C locale (stable output
    /// to parse). Never the agent's own, which holds secrets (`passwordEnv`, `apiTokenEnv`).
    static let helperEnvironment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]

    static func runBlocking(_ executable: String, _ arguments: [String], timeout: Duration) throws(CommandError) -> CommandOutput {
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess.start(executable, arguments, environment: helperEnvironment)
        } catch {
            throw CommandError(program: executable, message: error.message)
        }
        defer { process.removeFiles() }
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        var status = process.exitStatusIfEnded()
        while status == nil {
            if ContinuousClock.now >= deadline {
                // SIGINT first: arping then prints what it has and exits, flushing its output.
                timedOut = true
                process.kill(SIGINT)
                let grace = ContinuousClock.now + .milliseconds(300)
                status = process.exitStatusIfEnded()
                while status == nil && ContinuousClock.now < grace {
                    usleep(2000)
                    status = process.exitStatusIfEnded()
                }
                if status == nil {
                    process.kill(SIGKILL)
                    status = process.wait()
                }
                break
            }
            usleep(2000)
            status = process.exitStatusIfEnded()
        }
        return CommandOutput(status: status ?? -1, output: process.output, timedOut: timedOut)
    }
}
