public import Glibc
import Foundation

/// A program started with posix_spawn (the Lab's dnsmasq, the tests' servers), rather than
/// with Foundation's `Process`, whose shared reaper thread on Linux blocked in wait4 and hung
/// parallel tests here. The child gets an empty signal mask (Dispatch threads block SIGTERM,
/// and a mask is inherited, so SIGTERM would never arrive) and writes stdout and stderr to a
/// file that the parent reads.
public struct SpawnedProcess: Sendable {
    public let pid: pid_t
    public let outputFile: String
    /// Where stderr went when it was kept apart from stdout.
    public let errorFile: String?

    /// - Parameter separateStderr: keep stderr in its own file (`errorOutput`).
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                             stdin: String? = nil, separateStderr: Bool = false) throws(NetIOError) -> SpawnedProcess {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("spawn-\(UUID().uuidString.prefix(12)).log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let input = stdin ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let errorFile = separateStderr ? output + ".err" : nil
        if let errorFile {
            posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Only 0, 1 and 2 go to the child. A descriptor the parent holds without FD_CLOEXEC
        // (a simulator's listening socket) would otherwise stay open in the child for its whole
        // life, so a server stopped here could not bind its port again while the child runs.
        // glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np, declared only under _GNU_SOURCE.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        if let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = [executable] + arguments
        var pid: pid_t = 0
        let status = withCStrings(argv) { argvPointers in
            withCStrings(env) { envPointers in
                posix_spawn(&pid, executable, &actions, &attributes, argvPointers, envPointers)
            }
        }
        guard status == 0 else {
            throw NetIOError(kind: .setup, code: Int(status), message: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return SpawnedProcess(pid: pid, outputFile: output, errorFile: errorFile)
    }

    /// What the process wrote so far (stdout, and stderr unless kept apart).
    public var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    /// What the process wrote to stderr, when kept apart.
    public var errorOutput: String { errorFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }

    /// Removes the output files.
    public func removeFiles() {
        try? FileManager.default.removeItem(atPath: outputFile)
        if let errorFile { try? FileManager.default.removeItem(atPath: errorFile) }
    }

    /// The exit status if the process has ended (reaping it), nil while it runs.
    public func exitStatusIfEnded() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        return Self.decode(status)
    }

    /// Waits for the end; returns the exit code (128 + signal when killed).
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return Self.decode(status)
    }

    public func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(pid, signal) }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}
