import Foundation

/// Several clusters in one repository, as GitOps repositories lay them out. One rule, used by
/// `plan --cluster NAME` and by the check that two clusters' objects are not merged:
///
/// a cluster's folder is a folder directly below one named `clusters` (Flux's bootstrap
/// layout: `clusters/NAME/flux-system`), or directly below one named `kubernetes` when it
/// holds an `apps` or `flux` folder (`kubernetes/main/apps` and `kubernetes/utility/apps` in
/// tyriis/home-ops, fixtures/real-world). `kubernetes/apps`, `kubernetes/flux` and
/// `kubernetes/components` of a one-cluster repository (onedr0p/home-ops) are not clusters:
/// they hold no `apps` or `flux` folder of their own.
public enum ClusterFolders {
    /// The folders whose subfolders may be clusters.
    public static let parents = ["clusters", "kubernetes"]
    /// Below `kubernetes`, a cluster's folder holds one of these.
    static let markers = ["apps", "flux"]
    /// How deep below a root `folders(named:under:)` looks, and how many folders at most.
    static let maxDepth = 6
    static let maxFolders = 20_000

    /// The cluster a file or folder belongs to: the deepest cluster folder on its path.
    public static func cluster(of path: String) -> (name: String, folder: String)? {
        let parts = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        guard parts.count >= 3 else { return nil }
        for i in stride(from: parts.count - 2, through: 1, by: -1) where parents.contains(parts[i]) {
            let folder = NSString.path(withComponents: Array(parts[...(i + 1)]))
            if isCluster(folder, parent: parts[i]) { return (parts[i + 1], folder) }
        }
        return nil
    }

    /// Whether `folder` (directly below `parent`) is a cluster's folder by the rule above.
    static func isCluster(_ folder: String, parent: String) -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else { return false }
        if parent == "clusters" { return true }
        return markers.contains { marker in
            var isMarkerFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(marker), isDirectory: &isMarkerFolder)
                && isMarkerFolder.boolValue
        }
    }

    /// The cluster folders at or below `root` (a breadth-first walk, `maxDepth` deep, hidden
    /// folders skipped), by name, in path order; `root` itself, with its cluster's name, when it
    /// is in a cluster (a path inside a cluster is never widened to the whole cluster).
    public static func all(under root: String) -> [(name: String, folder: String)] {
        if let cluster = cluster(of: root) { return [(cluster.name, root)] }
        var found: [(name: String, folder: String)] = []
        var level = [URL(fileURLWithPath: root).standardizedFileURL.path]
        var visited = 0
        for _ in 0..<maxDepth where !level.isEmpty {
            var next: [String] = []
            for folder in level {
                let parent = (folder as NSString).lastPathComponent
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where !name.hasPrefix(".") {
                    let full = (folder as NSString).appendingPathComponent(name)
                    var isFolder: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue else { continue }
                    visited += 1
                    guard visited <= maxFolders else { return found }
                    if parents.contains(parent), isCluster(full, parent: parent) {
                        found.append((name, full))
                    } else {
                        next.append(full)
                    }
                }
            }
            level = next
        }
        return found
    }
}
