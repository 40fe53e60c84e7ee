import Foundation
import NetIO
import YAMLInput
import Yams

/// What the kustomizations and the Flux `Kustomization` above a file give its objects.
struct FileContext: Sendable, Equatable {
    /// The outermost kustomization's `namespace` (kustomize's outer transforms apply last).
    var kustomizeNamespace: String?
    /// The Flux Kustomization's `targetNamespace`.
    var fluxNamespace: String?
    var labels: [String: String] = [:]
    var annotations: [String: String] = [:]
    /// The variables to substitute; nil when no substitution applies to the file.
    var variables: [String: String]?
    /// The namespace of objects that name none and get none from above (an Argo CD
    /// Application's `destination.namespace`), before `ManifestOptions.defaultNamespace`.
    var defaultNamespace: String?
    /// An Argo CD kustomize source's `namePrefix`/`nameSuffix` for the objects' names.
    var namePrefix = ""
    var nameSuffix = ""
}

/// A Flux `Kustomization` (kustomize.toolkit.fluxcd.io) read from the tree.
struct FluxKustomization {
    var location: SourceLocation
    /// The folder its `path` names, found above the file that defines it.
    var folder: String
    var targetNamespace: String?
    var substitute: [String: String]
    var hasPostBuild: Bool
}

/// The files that manifests paths stand for, read the way kustomize and Flux would read a
/// GitOps repository: a folder with a kustomization lists its `resources` in order, a folder
/// without one contributes its YAML files and subfolders, and each Flux Kustomization's `path`
/// gets its `targetNamespace` and `postBuild` variables.
struct GitOpsTree {
    static let kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
    /// The most folders one read of a tree walks. Symlinks may join folders into a graph that
    /// walks to exponentially many paths without any loop; past this bound the walk stops with
    /// a diagnostic rather than running for hours.
    static let maxFolderVisits = 100_000
    /// A kustomization file above this size is not read (they list resources: a few KiB).
    static let maxKustomizationBytes = 1 << 20

    private(set) var files: [(path: String, context: FileContext)] = []
    private(set) var diagnostics: [ManifestDiagnostic] = []
    private var index: [String: Int] = [:]
    /// The real paths (symlinks resolved) of the folders being walked, outermost first.
    private var walking: [String] = []
    private var folderVisits = 0
    private let globals: [String: String]
    /// The manifest file bound (`ManifestOptions.maxFileBytes`), for the Flux discovery's read.
    private let maxFileBytes: Int
    private let manager = FileManager.default

    init(paths: [String], variables: [String: String], maxFileBytes: Int) {
        globals = variables
        self.maxFileBytes = maxFileBytes
        let base = FileContext(variables: variables.isEmpty ? nil : variables)
        for path in paths { walk(path, context: base, stack: [], top: true) }
        let fluxes = discoverFlux(in: ManifestLoader.files(in: paths).files)
        // Shallower paths first, so that the deepest Flux Kustomization of a file decides.
        for flux in fluxes.sorted(by: { $0.folder.count < $1.folder.count }) {
            var context = FileContext(fluxNamespace: flux.targetNamespace)
            if flux.hasPostBuild || !globals.isEmpty { context.variables = globals.merging(flux.substitute) { $1 } }
            walk(flux.folder, context: context, stack: [], top: true, replace: true)
        }
    }

    private mutating func note(_ file: String, _ line: Int?, _ message: String, isNote: Bool = false) {
        diagnostics.append(ManifestDiagnostic(location: SourceLocation(file: file, line: line), message: message, isNote: isNote))
    }

    private mutating func add(_ file: String, _ context: FileContext, replace: Bool) {
        let key = URL(fileURLWithPath: file).standardizedFileURL.path
        if let existing = index[key] {
            if replace { files[existing].context = context }
            return
        }
        index[key] = files.count
        files.append((file, context))
    }

    /// `stack` holds the kustomization files being read, to refuse a cycle.
    private mutating func walk(_ path: String, context: FileContext, stack: [String], top: Bool = false, replace: Bool = false) {
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
            if top { note(path, nil, "no such file or folder") }
            return
        }
        guard isFolder.boolValue else { return add(path, context, replace: replace) }
        // A symlink to a folder above (`ln -s .. loop`) would be walked forever.
        let kustomization = Self.kustomizationNames.lazy.map({ (path as NSString).appendingPathComponent($0) })
            .first(where: { manager.fileExists(atPath: $0) })
        let real = Self.realPath(path)
        // A kustomization met again is a kustomization cycle, reported as one below.
        let isCycle = kustomization.map { stack.contains(URL(fileURLWithPath: $0).standardizedFileURL.path) } ?? false
        if walking.contains(real), !isCycle {
            return note(path, nil, "symlink loop refused: \(path) leads back to \(real), a folder already being read; not followed")
        }
        folderVisits += 1
        guard folderVisits <= Self.maxFolderVisits else {
            if folderVisits == Self.maxFolderVisits + 1 {
                note(path, nil, "more than \(Self.maxFolderVisits) folders walked (symlinks joining folders?); the rest is not read")
            }
            return
        }
        walking.append(real)
        defer { walking.removeLast() }
        if let kustomization {
            return read(kustomization: kustomization, context: context, stack: stack, replace: replace)
        }
        let entries = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).sorted()
        for name in entries where !name.hasPrefix(".") {
            let full = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                walk(full, context: context, stack: stack, replace: replace)
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                add(full, context, replace: replace)
            }
        }
    }

    private mutating func read(kustomization file: String, context: FileContext, stack: [String], replace: Bool) {
        let key = URL(fileURLWithPath: file).standardizedFileURL.path
        if let start = stack.firstIndex(of: key) {
            let cycle = (stack[start...] + [key]).joined(separator: " → ")
            return note(file, nil, "kustomization cycle refused: \(cycle)")
        }
        let text: String
        do {
            text = String(decoding: try BoundedFile.read(file, maxBytes: Self.maxKustomizationBytes).data, as: UTF8.self)
        } catch {
            return note(file, nil, "cannot be read: \(error.description)")
        }
        if let (line, depth) = YAMLLimits.tooDeep(text[...]) {
            return note(file, line, "YAML nested \(depth) deep, above the \(YAMLLimits.maxDepth)-level bound; not read")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let (line, message) = ManifestLoader.describe(error)
            return note(file, line, "malformed YAML: \(message)")
        }
        guard let mapping = root?.mapping else { return }
        var inner = context
        if inner.kustomizeNamespace == nil, let namespace = mapping["namespace"]?.string, !namespace.isEmpty {
            inner.kustomizeNamespace = namespace
        }
        var labels = Self.strings(mapping["commonLabels"])
        for entry in mapping["labels"]?.sequence ?? [] { labels.merge(Self.strings(entry["pairs"])) { $1 } }
        inner.labels = labels.merging(context.labels) { $1 }
        inner.annotations = Self.strings(mapping["commonAnnotations"]).merging(context.annotations) { $1 }
        let folder = (file as NSString).deletingLastPathComponent
        for field in ["resources", "bases"] {
            for entry in mapping[field]?.sequence ?? [] {
                let line = entry.mark.map { $0.line }
                guard let resource = entry.string, !resource.isEmpty else {
                    note(file, line, "\(field): an entry that is not a path; passed over")
                    continue
                }
                if Self.isRemote(resource) {
                    note(file, line, "\(field): remote resource \(resource) skipped (not read offline)", isNote: true)
                    continue
                }
                let full = Self.joined(folder, resource)
                guard manager.fileExists(atPath: full) else {
                    note(file, line, "\(field): \(resource) does not exist")
                    continue
                }
                walk(full, context: inner, stack: stack + [key], replace: replace)
            }
        }
    }

    /// `path` with every symlink resolved, or `path` itself when it cannot be resolved.
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `folder/relative` with `.` and `..` taken out lexically, so that messages name files plainly.
    static func joined(_ folder: String, _ relative: String) -> String {
        let absolute = relative.hasPrefix("/")
        var parts: [Substring] = absolute ? [] : folder.split(separator: "/")
        for part in relative.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        let path = parts.joined(separator: "/")
        return absolute || folder.hasPrefix("/") ? "/" + path : (path.isEmpty ? "." : path)
    }

    static func isRemote(_ resource: String) -> Bool {
        resource.contains("://") || resource.hasPrefix("git@") || resource.hasPrefix("github.com/") || resource.contains("?ref=")
    }

    private static func strings(_ node: Node?) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in node?.mapping ?? [:] {
            if let name = key.string, let text = value.string { result[name] = text }
        }
        return result
    }

    /// The Flux Kustomizations in `files`; a `path` that names no folder is a diagnostic.
    private mutating func discoverFlux(in files: [String]) -> [FluxKustomization] {
        var found: [FluxKustomization] = []
        for file in files {
            // Read as the reader reads it (BoundedFile, `maxFileBytes`, the depth scan): a file it
            // refuses, and reports, gives no Flux Kustomization to the rest of the tree.
            guard let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data,
                  // Most files name no Flux Kustomization: a byte search passes them over unparsed.
                  Bytes.contains(data, Self.fluxGroup) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            guard YAMLLimits.tooDeep(text[...]) == nil, var documents = try? Yams.compose_all(yaml: text) else { continue }
            while let root = documents.next() {
                guard let object = root.mapping, object["kind"]?.string == "Kustomization",
                      object["apiVersion"]?.string?.hasPrefix("kustomize.toolkit.fluxcd.io/") == true,
                      let spec = object["spec"]?.mapping else { continue }
                let line = root.mark.map { $0.line }
                guard let path = spec["path"]?.string, !path.isEmpty else { continue }
                guard let folder = Self.resolve(path, above: (file as NSString).deletingLastPathComponent) else {
                    note(file, spec["path"]?.mark.map { $0.line } ?? line, "spec.path \(path) names no folder above this file; not followed")
                    continue
                }
                let postBuild = spec["postBuild"]?.mapping
                found.append(FluxKustomization(
                    location: SourceLocation(file: file, line: line), folder: folder,
                    targetNamespace: spec["targetNamespace"]?.string.flatMap { $0.isEmpty ? nil : $0 },
                    substitute: Self.strings(postBuild?["substitute"]), hasPostBuild: postBuild != nil))
            }
        }
        return found
    }

    static let fluxGroup = Array("kustomize.toolkit.fluxcd.io".utf8)

    /// Flux's `path` is relative to the repository's root, which the tree does not name: the
    /// first folder at or above `start` that holds `path` is taken as that root.
    static func resolve(_ path: String, above start: String) -> String? {
        var relative = path
        while relative.hasPrefix("./") { relative.removeFirst(2) }
        while relative.hasSuffix("/") { relative.removeLast() }
        var folder = URL(fileURLWithPath: start).standardizedFileURL
        while true {
            let candidate = relative.isEmpty ? folder : folder.appendingPathComponent(relative)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder), isFolder.boolValue {
                return candidate.standardizedFileURL.path
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }
}
