import ArgumentParser
import Config
import DNSCore
import Foundation
import Kube
import Logging
import NetAgent
import PlanOutput

/// `netagent plan --manifests ROOT --against BASE` (or `--against-git REV`): each tree's
/// desired records per target, computed exactly as `plan` computes them, and the difference.
/// Without `--config` there is one target, the records the flags select; with it, one per
/// provider, with the provider's `select:` and configured records (its secrets are not read,
/// no provider and no cluster is contacted: a desired-versus-desired comparison).
struct PlanComparison {
    let command: PlanCommand

    func run() async throws {
        let logger = Logger(label: "netagent.plan")
        let providers = try command.config.map(Self.providers) ?? nil
        let headPaths = try command.clusterPaths(command.manifests)
        let head = try tree(paths: headPaths, displayRoot: command.repoRoot ?? Self.displayRoot(of: command.manifests[0]), providers: providers, side: "head")
        let base: (tree: PlanDiff.Tree, set: ManifestSet)
        let baseName = command.againstGit ?? command.against.joined(separator: " ")
        if let revision = command.againstGit {
            let extracted: GitBaseTree
            do {
                extracted = try GitBaseTree.extract(revision: revision, manifests: command.manifests)
            } catch {
                logger.error("\(error)")
                throw ExitCode(1)
            }
            defer { extracted.remove() }
            base = try tree(paths: try command.clusterPaths(extracted.paths), displayRoot: extracted.root, providers: providers,
                            side: "base", baseName: baseName, repoRoot: extracted.root)
        } else {
            for path in command.against where !FileManager.default.fileExists(atPath: path) {
                logger.error("--against \(path): no such file or folder")
                throw ExitCode(1)
            }
            let root = baseRepoRoot()
            base = try tree(paths: try command.clusterPaths(command.against), displayRoot: root ?? Self.displayRoot(of: command.against[0]),
                            providers: providers, side: "base", baseName: baseName, repoRoot: root)
        }
        let diff = PlanDiff(base: base.tree, head: head.tree)
        let text: String
        switch command.output {
        case .table: text = diff.table()
        case .json: text = diff.json()
        case .markdown: text = diff.markdown(base: baseName, head: command.manifests.joined(separator: " "))
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        // The comparison is the answer whether or not records change; errors in the head tree
        // (what the pull request would merge) fail it. The base's errors are reported, not held against it.
        if head.set.hasErrors { throw ExitCode(1) }
    }

    /// Reads one tree and computes its desired records per target; its problems go to stderr
    /// as `plan` reports them, the base's marked as such.
    /// `repoRoot`: the base tree's repository root, for Flux's `spec.path` and Argo CD's source
    /// paths (the head's `--repo-root` names a folder of the head tree).
    private func tree(paths: [String], displayRoot: String, providers: Providers?, side: String, baseName: String = "",
                      repoRoot: String? = nil) throws -> (tree: PlanDiff.Tree, set: ManifestSet) {
        var options = try command.manifestOptions()
        if side == "base" { options.repoRoot = repoRoot }
        let set = ManifestLoader.load(paths: paths, options: options)
        var targets: [(name: String, records: [Endpoint])] = []
        var warnings: [SourceWarning] = []
        if let providers {
            var objects = SourceObjects()
            objects.add(set)
            for provider in providers.list {
                let result = try Self.desired(objects, for: provider, annotationPrefixes: providers.annotationPrefixes)
                targets.append(("\(provider.name) (\(provider.kind.typeName))", result.endpoints))
                warnings += result.warnings
            }
        } else {
            let result = RouteSource(options: try command.sourceOptions())
                .endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces, dnsEndpoints: set.dnsEndpoints,
                           listenerSets: set.listenerSets)
            targets.append(("records", result.endpoints))
            warnings = result.warnings
        }
        if side == "base" {
            let logger = Logger(label: "netagent.plan.base")
            for diagnostic in set.diagnostics where !diagnostic.isNote {
                let location = SourceLocation(file: PlanDiff.relative(diagnostic.location.file, to: displayRoot), line: diagnostic.location.line)
                logger.warning("base tree \(baseName): \(location): \(diagnostic.message)")
            }
        } else {
            command.report(set, warnings: warnings)
        }
        // Named in the tree, like the records' files, so that a CI comment shows no runner's path.
        let unexpanded = set.unexpanded.map { entry in
            var entry = entry
            entry.location = SourceLocation(file: PlanDiff.relative(entry.location.file, to: displayRoot), line: entry.location.line)
            return entry
        }
        return (PlanDiff.Tree(targets: targets, files: PlanDiff.Tree.files(of: set, relativeTo: displayRoot), unexpanded: unexpanded), set)
    }

    /// With `--repo-root`, the base's root: the first `--against` path less what the first
    /// `--manifests` path adds to `--repo-root` (`ROOT/kubernetes/flux` against
    /// `BASE/kubernetes/flux` gives `BASE`). Nil otherwise: the `.git` walk-up finds it.
    private func baseRepoRoot() -> String? {
        guard let repoRoot = command.repoRoot else { return nil }
        let standard = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
        let root = standard(repoRoot), head = standard(command.manifests[0]), base = standard(command.against[0])
        guard head == root || head.hasPrefix(root + "/") else { return nil }
        let added = head.dropFirst(root.count)
        guard base.hasSuffix(added) else { return nil }
        return String(base.dropLast(added.count))
    }

    struct Providers {
        var list: [ProviderConfig]
        var annotationPrefixes: [String]
    }

    /// The providers of `--config` (validated as `config validate` does; secrets are not needed).
    static func providers(_ path: String) throws -> Providers {
        do {
            let config = try NetAgentConfig.load(file: path)
            return Providers(list: config.providers, annotationPrefixes: config.sources.annotationPrefixes)
        } catch {
            FileHandle.standardError.write(Data(error.issues.map { $0.description + "\n" }.joined().utf8))
            throw ExitCode(2)
        }
    }

    private static func desired(_ objects: SourceObjects, for provider: ProviderConfig, annotationPrefixes: [String]) throws -> RouteSourceResult {
        do {
            return try objects.desired(for: provider, annotationPrefixes: annotationPrefixes)
        } catch {
            throw ValidationError("provider \(provider.name): \(error)")
        }
    }

    /// The folder paths are shown relative to when no `--repo-root` names it: the repository
    /// root `path` is in, by the rule the manifests are read with (so that a Flux chain's files
    /// outside `path` are named alike in both trees), else `path` itself when it is a folder,
    /// else its folder.
    static func displayRoot(of path: String) -> String {
        var folder = URL(fileURLWithPath: path).standardizedFileURL
        var isFolder: ObjCBool = false
        if !(FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue) {
            folder.deleteLastPathComponent()
        }
        return ManifestLoader.repositoryRoot(of: folder.path) ?? folder.path
    }
}
