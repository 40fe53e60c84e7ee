import Foundation
import Testing
@testable import Kube

/// A temporary folder laid out like a GitOps repository, removed when dropped.
final class TemporaryTree {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-gitops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Writes `text` at `relative`, creating its folders.
    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }
}

/// How the repositories of the real-world fixtures set namespaces, to rebuild their layout
/// around the fixture files (which are kept flattened, without most kustomizations).
enum RepositoryLayout {
    /// kustomize and Argo CD: `<namespace folder>/kustomization.yaml` says `namespace:`.
    case kustomize
    /// Flux: `<ns>/kustomization.yaml` lists `<app>/ks.yaml`, whose Kustomizations point at
    /// `<ns>/<app>/<unit>` with `targetNamespace: <ns>`.
    case flux
}

extension TemporaryTree {
    /// Copies every YAML file of fixture `repo` to its original path (`a__b.yaml` → `a/b.yaml`)
    /// and writes the kustomizations and Flux Kustomizations `layout` implies, keeping any the
    /// fixture has. `namespaceIndex` is the path component that names the namespace.
    static func fixture(_ repo: String, layout: RepositoryLayout, namespaceIndex: Int,
                        raw: [String: String] = [:]) throws -> TemporaryTree {
        let tree = try TemporaryTree()
        let folder = try Fixtures.folder().appendingPathComponent(repo)
        var folders: [String: Set<String>] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".yaml") {
            let relative = name.replacingOccurrences(of: "__", with: "/")
            let source = raw[name].map { folder.appendingPathComponent("_raw").appendingPathComponent($0) }
                ?? folder.appendingPathComponent(name)
            try tree.write(relative, String(decoding: try Data(contentsOf: source), as: UTF8.self))
            var parts = relative.split(separator: "/").map(String.init)
            while parts.count > 1 {
                let child = parts.removeLast()
                folders[parts.joined(separator: "/"), default: []].insert(child)
            }
        }
        for (dir, children) in folders {
            let depth = dir.split(separator: "/").count - 1
            guard depth >= namespaceIndex, !GitOpsTree.kustomizationNames.contains(where: { children.contains($0) }) else { continue }
            let namespace = String(dir.split(separator: "/")[namespaceIndex])
            switch (layout, depth - namespaceIndex) {
            case (.flux, 0):
                try tree.write(dir + "/kustomization.yaml", kustomization(namespace: namespace, resources: children.sorted().map { "./\($0)/ks.yaml" }))
            case (.flux, 1):
                let documents = children.sorted().map { unit in
                    """
                    apiVersion: kustomize.toolkit.fluxcd.io/v1
                    kind: Kustomization
                    metadata:
                      name: \((dir as NSString).lastPathComponent)-\(unit)
                    spec:
                      interval: 1h
                      path: ./\(dir)/\(unit)
                      postBuild:
                        substituteFrom:
                          - name: cluster-secrets
                            kind: Secret
                      prune: true
                      sourceRef:
                        kind: GitRepository
                        name: flux-system
                        namespace: flux-system
                      targetNamespace: \(namespace)

                    """
                }
                try tree.write(dir + "/ks.yaml", "---\n" + documents.joined(separator: "---\n"))
            default:
                let own = layout == .kustomize && depth == namespaceIndex ? namespace : nil
                try tree.write(dir + "/kustomization.yaml", kustomization(namespace: own, resources: children.sorted().map { "./\($0)" }))
            }
        }
        return tree
    }

    static func kustomization(namespace: String?, resources: [String]) -> String {
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            + (namespace.map { "namespace: \($0)\n" } ?? "")
            + "resources:\n" + resources.map { "  - \($0)\n" }.joined()
    }
}

/// Loads `paths` as `netagent plan --manifests` would and runs the route source.
func planTree(_ paths: [String], variables: [String: String] = [:], repoRoot: String? = nil,
              configure: (inout RouteSourceOptions) -> Void = { _ in }) -> (RouteSourceResult, ManifestSet) {
    var manifest = ManifestOptions()
    manifest.variables = variables
    manifest.repoRoot = repoRoot
    let set = ManifestLoader.load(paths: paths, options: manifest)
    var options = RouteSourceOptions()
    options.explain = true
    configure(&options)
    return (RouteSource(options: options).endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces), set)
}
