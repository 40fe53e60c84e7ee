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

/// Runs a helper program (Debian's `arping`, `ip`) with posix_spawn on its own thread,
/// reads its output through a pipe and kills it at the deadline. posix_spawn rather than
/// Foundation's `Process`, whose shared reaper thread blocks under parallel use on Linux.
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

    static func runBlocking(_ executable: String, _ arguments: [String], timeout: Duration) throws(CommandError) -> CommandOutput {
        var fds: [Int32] = [0, 0]
        // A socket pair made close-on-exec atomically: a child spawned at the same moment by
        // another thread cannot inherit the write end and hold our EOF back.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw CommandError(program: executable, message: "socketpair: \(errnoText(errno))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(writeEnd)
        guard spawned == 0 else { throw CommandError(program: executable, message: errnoText(spawned)) }

        let deadline = ContinuousClock.now + timeout
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var timedOut = false
        var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        // At the deadline: SIGINT (arping then prints what it has and exits, flushing its
        // buffered output), and SIGKILL if it is still there a moment later.
        var limit = deadline
        var interrupted = false
        while true {
            let ready = poll(&entry, 1, pollMilliseconds(until: limit))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                timedOut = true
                if interrupted { kill(pid, SIGKILL); break }
                kill(pid, SIGINT)
                interrupted = true
                limit = .now + .milliseconds(300)
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return CommandOutput(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
                             output: String(decoding: output, as: UTF8.self), timedOut: timedOut)
    }
}
