import Foundation

/// `plan --against-git REV`: the base tree of a pull request, read from the repository the
/// `--manifests` paths are in. `git archive REV` writes the commit's tree (as `git archive`
/// exports it: files with `export-ignore` left out) to a tar file, `tar -x` unpacks it into a
/// temporary folder, and `remove()` deletes that folder; the repository itself (its index,
/// worktrees and refs) is left as it was. Each step is bounded in time, the archive in size.
struct GitBaseTree {
    /// The unpacked tree: the repository's root at REV.
    let root: String
    /// The `--manifests` paths, as paths in the unpacked tree.
    let paths: [String]
    private let temporary: String

    /// A repository whose tree at REV is larger than this is refused.
    static let maxArchiveBytes = 2 << 30
    /// The longest any git or tar step may run.
    static let timeout: Duration = .seconds(300)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Unpacks REV of the repository that holds `manifests` (all of them in one repository).
    static func extract(revision: String, manifests: [String]) throws(Failure) -> GitBaseTree {
        guard !revision.isEmpty, !revision.hasPrefix("-"), !revision.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw Failure(description: "--against-git '\(revision)' is not a revision")
        }
        var top: String?
        var relative: [String] = []
        for path in manifests {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder) else {
                throw Failure(description: "\(path): no such file or folder")
            }
            let folder = isFolder.boolValue ? absolute : (absolute as NSString).deletingLastPathComponent
            let root = try run(["git", "-C", folder, "rev-parse", "--show-toplevel"], what: "\(path) is not in a git repository")
                .trimmingCharacters(in: .newlines)
            let resolvedRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
            guard top == nil || top == resolvedRoot else {
                throw Failure(description: "--against-git: \(path) is in repository \(resolvedRoot), not \(top!); give paths of one repository")
            }
            top = resolvedRoot
            relative.append(absolute == resolvedRoot ? "" : String(absolute.dropFirst(resolvedRoot.count + 1)))
        }
        guard let top else { throw Failure(description: "--against-git needs --manifests") }
        let commit = try run(["git", "-C", top, "rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"],
                             what: "--against-git \(revision): no such commit in \(top)").trimmingCharacters(in: .newlines)
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-base-\(UUID().uuidString)").path
        let tree = (temporary as NSString).appendingPathComponent("tree")
        do {
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot make a temporary folder \(temporary): \(error)")
        }
        let base = GitBaseTree(root: tree, paths: relative.map { $0.isEmpty ? tree : (tree as NSString).appendingPathComponent($0) },
                               temporary: temporary)
        do throws(Failure) {
            let archive = (temporary as NSString).appendingPathComponent("base.tar")
            _ = try run(["git", "-C", top, "archive", "--format=tar", "-o", archive, commit], what: "git archive \(revision)",
                        watch: archive)
            _ = try run(["tar", "-x", "-f", archive, "-C", tree], what: "unpacking git archive \(revision)")
            try? FileManager.default.removeItem(atPath: archive)
            // A `.git` file naming the repository's git folder (the form of a linked worktree's):
            // the tree's root is found as in a checkout, and Argo CD `repoURL`s are compared with
            // the repository's remotes. Nothing reads the repository through it but its config.
            let gitDir = try run(["git", "-C", top, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                 what: "git rev-parse --git-common-dir").trimmingCharacters(in: .newlines)
            guard FileManager.default.createFile(atPath: (tree as NSString).appendingPathComponent(".git"),
                                                 contents: Data("gitdir: \(gitDir)\n".utf8)) else {
                throw Failure(description: "cannot write \(tree)/.git")
            }
        } catch {
            base.remove()
            throw error
        }
        return base
    }

    /// Deletes the unpacked tree.
    func remove() {
        try? FileManager.default.removeItem(atPath: temporary)
    }

    /// Runs `arguments` (found on PATH), waiting at most `timeout`, and gives its standard output;
    /// throws with its standard error when it fails. `watch`: a file the command writes, killed
    /// when that file grows past `maxArchiveBytes`.
    private static func run(_ arguments: [String], what: String, watch: String? = nil) throws(Failure) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "\(what): cannot run \(arguments[0]): \(error)")
        }
        // Both pipes are drained while the process runs, so that a full pipe never stalls it.
        let collected = PipeReader(output: output, errors: errors)
        let deadline = ContinuousClock.now + timeout
        var refused: String?
        while process.isRunning {
            if ContinuousClock.now > deadline {
                refused = "took longer than \(timeout); stopped"
            } else if let watch, let size = (try? FileManager.default.attributesOfItem(atPath: watch))?[.size] as? Int, size > maxArchiveBytes {
                refused = "the archive is above the \(maxArchiveBytes)-byte bound; stopped"
            }
            if refused != nil {
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        let (stdout, stderr) = collected.finish()
        if let refused { throw Failure(description: "\(what): \(refused)") }
        guard process.terminationStatus == 0 else {
            let detail = String(stderr.prefix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "\(what)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return stdout
    }
}

/// Reads a process's standard output and error on threads of their own until both close
/// (each kept to its first MiB).
private final class PipeReader: @unchecked Sendable {
    private let group = DispatchGroup()
    private var out = Data()
    private var err = Data()

    init(output: Pipe, errors: Pipe) {
        read(output.fileHandleForReading) { self.out = $0 }
        read(errors.fileHandleForReading) { self.err = $0 }
    }

    private func read(_ handle: FileHandle, into store: @escaping @Sendable (Data) -> Void) {
        group.enter()
        DispatchQueue.global().async { [group] in
            var data = Data()
            while case let chunk = handle.availableData, !chunk.isEmpty {
                if data.count < 1 << 20 { data.append(chunk.prefix((1 << 20) - data.count)) }
            }
            store(data)
            group.leave()
        }
    }

    func finish() -> (String, String) {
        group.wait()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
