import Foundation
import NetIO
import YAMLInput
import Yams

/// What the kustomizations and the Flux `Kustomization` above a file do to its objects.
struct FileContext: Sendable, Equatable {
    /// kustomize's transforms over the file's objects, the outermost first (they are applied
    /// innermost first, as kustomize builds a base before the overlay that lists it).
    var layers: [KustomizeLayer] = []
    /// The variables to substitute; nil when no substitution applies to the file.
    var variables: [String: String]?
    /// Variables a `substituteFrom` Secret holds, whose values are never read: name → the Secret.
    var secretVariables: [String: String] = [:]
    /// The `substituteFrom` sources not in the repository, said where a variable has no value.
    var missingSources: [String] = []
    /// The Flux Kustomizations whose `path` led to the file, the outermost first.
    var fluxChain: [String] = []
    /// How specific the context is: the length of the deciding Flux Kustomization's folder
    /// (-1 when none): a file reached twice is read once, in its most specific context.
    var fluxDepth = -1
    /// For the files of a component: the kustomizations that included it. One component makes
    /// different objects in each kustomization that uses it (a `Namespace` named `_` becomes
    /// each kustomization's namespace), so each use is read.
    var instance = ""
    /// The namespace of objects that name none and get none from the layers (an Argo CD
    /// Application's `destination.namespace`), before `ManifestOptions.defaultNamespace`.
    var defaultNamespace: String?

    /// The namespace the layers give a namespaced object (the outermost layer's wins).
    var namespace: String? { layers.first { $0.namespace != nil }?.namespace }
}

/// The files that manifests paths stand for, read the way kustomize and Flux would read a
/// GitOps repository: a folder with a kustomization lists its `resources` (and `components`)
/// in order, a folder without one contributes its YAML files and subfolders (but not a
/// Component's folder, which only a `components:` entry reads), and each Flux Kustomization
/// found in a file read is followed to its `spec.path`, chains of any depth.
struct GitOpsTree {
    static let kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
    /// The most folders one read of a tree walks. Symlinks may join folders into a graph that
    /// walks to exponentially many paths without any loop; past this bound the walk stops with
    /// a diagnostic rather than running for hours.
    static let maxFolderVisits = 100_000
    /// A kustomization file above this size is not read (they list resources: a few KiB).
    static let maxKustomizationBytes = 1 << 20
    /// Components within components nest at most this deep.
    static let maxComponentDepth = 16

    private(set) var files: [(path: String, context: FileContext)] = []
    var diagnostics: [ManifestDiagnostic] = []
    var unexpanded: [UnexpandedSource] = []
    private var index: [String: Int] = [:]
    /// The real paths (symlinks resolved) of the folders being walked, outermost first.
    private var walking: [String] = []
    private var folderVisits = 0
    /// Files added or given a new context since they were last searched for Flux Kustomizations.
    var pendingScan: [Int] = []
    let globals: [String: String]
    /// The manifest file bound (`ManifestOptions.maxFileBytes`), for the Flux discovery's read.
    let maxFileBytes: Int
    /// The repository's root, which Flux's `spec.path` is relative to; nil when unknown.
    let repoRoot: String?
    /// The folders searched for the ConfigMaps and Secrets of `substituteFrom`.
    let searchRoots: [String]
    var flux = FluxState()
    /// Applies kustomizations to the Flux Kustomizations found, its parsed patches kept.
    var applier = KustomizeApplier()
    /// The files (paths as in `files`) that hold Flux Kustomizations alone, with their number
    /// of documents: the reader counts them as skipped without parsing them again.
    var fluxOnly: [String: Int] = [:]
    let manager = FileManager.default

    init(paths: [String], variables: [String: String], maxFileBytes: Int, repoRoot: String? = nil) {
        globals = variables
        self.maxFileBytes = maxFileBytes
        let root = repoRoot.map { Self.standardized($0) } ?? paths.lazy.compactMap(Self.gitRoot).first
        self.repoRoot = root
        searchRoots = root.map { [$0] } ?? paths
        let base = FileContext(variables: variables.isEmpty ? nil : variables)
        for path in paths { walk(path, context: base, stack: [], top: true) }
        followFlux()
    }

    mutating func note(_ file: String, _ line: Int?, _ message: String, isNote: Bool = false) {
        diagnostics.append(ManifestDiagnostic(location: SourceLocation(file: file, line: line), message: message, isNote: isNote))
    }

    /// The folder at or above `path` that holds `.git`, as Flux's checkout root; nil when none.
    static func gitRoot(_ path: String) -> String? {
        var folder = URL(fileURLWithPath: path).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) { return folder.path }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    private mutating func add(_ file: String, _ context: FileContext) {
        let path = Self.standardized(file)
        checkFluxCycle(file: path, context: context)
        let key = path + "\u{0}" + context.instance
        if let existing = index[key] {
            let old = files[existing].context
            // The deepest Flux Kustomization decides; among equals, the last one met.
            if context.fluxDepth > old.fluxDepth || (context.fluxDepth == old.fluxDepth && context.fluxDepth >= 0 && context != old) {
                files[existing].context = context
                pendingScan.append(existing)
            }
            return
        }
        index[key] = files.count
        pendingScan.append(files.count)
        files.append((file, context))
    }

    /// The kustomization file of `folder`, if it has one.
    func kustomizationFile(in folder: String) -> String? {
        Self.kustomizationNames.lazy.map { (folder as NSString).appendingPathComponent($0) }.first { manager.fileExists(atPath: $0) }
    }

    /// Reads `path`: a file as it is, a folder by its kustomization or, without one, by its
    /// YAML files and subfolders. `flux` is the Flux Kustomization whose `path` this is.
    /// `stack` holds the kustomization files being read, to refuse a cycle.
    mutating func walk(_ path: String, context: FileContext, stack: [String], top: Bool = false, flux: FluxKustomization? = nil) {
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
            if top { note(path, nil, "no such file or folder") }
            return
        }
        guard isFolder.boolValue else { return add(path, context) }
        // A symlink to a folder above (`ln -s .. loop`) would be walked forever.
        let kustomization = kustomizationFile(in: path)
        let real = Self.realPath(path)
        // A kustomization met again is a kustomization cycle, reported as one below.
        let isCycle = kustomization.map { stack.contains(Self.standardized($0)) } ?? false
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
        if kustomization != nil || flux != nil {
            return build(folder: path, kustomization: kustomization, context: context, stack: stack, flux: flux)
        }
        walkFiles(of: path, context: context, stack: stack)
    }

    /// A folder without a kustomization: its YAML files and subfolders, except the folders of
    /// Components, which are built only where a kustomization lists them.
    private mutating func walkFiles(of path: String, context: FileContext, stack: [String]) {
        let entries = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).sorted()
        for name in entries where !name.hasPrefix(".") {
            let full = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if let file = kustomizationFile(in: full), Self.isComponent(file) { continue }
                walk(full, context: context, stack: stack)
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                add(full, context)
            }
        }
    }

    /// Whether the kustomization `file` is a `kind: Component` (a cheap look at its text).
    static func isComponent(_ file: String) -> Bool {
        guard let data = try? BoundedFile.read(file, maxBytes: maxKustomizationBytes).data else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").contains {
            $0.hasPrefix("kind:") && $0.dropFirst(5).trimmingSpaces().hasPrefix("Component")
        }
    }

    /// Builds a kustomization (or, for a Flux Kustomization whose folder has none, the one Flux
    /// generates: every file below, as `kustomize create --autodetect --recursive` lists them).
    /// Flux adds its `targetNamespace` and `namePrefix`/`nameSuffix` (replacing the kustomization's), `patches`
    /// and `components` to that kustomization (kustomize-controller's generator).
    private mutating func build(folder: String, kustomization: String?, context: FileContext, stack: [String], flux: FluxKustomization?) {
        var parsed: ParsedKustomization
        if let kustomization {
            let key = Self.standardized(kustomization)
            if let start = stack.firstIndex(of: key) {
                let cycle = (stack[start...] + [key]).joined(separator: " → ")
                return note(kustomization, nil, "kustomization cycle refused: \(cycle)")
            }
            guard let read = parse(kustomization: kustomization, variables: context.variables) else { return }
            parsed = read
        } else {
            parsed = ParsedKustomization(file: folder, folder: folder, layer: KustomizeLayer(file: folder))
        }
        if let flux {
            if let namespace = flux.targetNamespace { parsed.layer.namespace = namespace }
            if let prefix = flux.namePrefix { parsed.layer.namePrefix = prefix }
            if let suffix = flux.nameSuffix { parsed.layer.nameSuffix = suffix }
            parsed.layer.labels.merge(flux.labels) { $1 }
            parsed.layer.annotations.merge(flux.annotations) { $1 }
            parsed.layer.patches += flux.patches
            parsed.components += flux.components
        }
        let key = Self.standardized(parsed.file)
        let inner = stack + (kustomization == nil ? [] : [key])
        // Each component acts on all that is built before it: the resources, then the
        // components listed earlier (kustomize's accumulation order).
        var components: [(folder: String, file: String, layers: [KustomizeLayer])] = []
        for entry in parsed.components {
            guard let component = component(entry, in: parsed.folder, of: parsed.file, stack: inner, variables: context.variables) else { continue }
            components.append(component)
        }
        func layers(from index: Int) -> [KustomizeLayer] {
            context.layers + [parsed.layer] + components[index...].reversed().flatMap(\.layers)
        }
        var resourceContext = context
        resourceContext.layers = layers(from: 0)
        if kustomization == nil {
            walkFiles(of: folder, context: resourceContext, stack: inner)
        }
        for entry in parsed.resources {
            let full = Self.joined(parsed.folder, entry.path)
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: full, isDirectory: &isFolder) else {
                note(parsed.file, entry.line, "\(entry.field): \(entry.path) does not exist")
                continue
            }
            if isFolder.boolValue, let file = kustomizationFile(in: full), Self.isComponent(file) {
                note(parsed.file, entry.line, "\(entry.field): \(entry.path) is a Component, which kustomize builds only under components:; not read")
                continue
            }
            guard isFolder.boolValue || Self.isWithin(full, folder: parsed.folder) else {
                note(parsed.file, entry.line, Self.outsideFolder(entry.field, entry.path, folder: parsed.folder))
                continue
            }
            walk(full, context: resourceContext, stack: inner)
        }
        for (i, component) in components.enumerated() {
            var componentContext = context
            componentContext.layers = context.layers + [parsed.layer] + components[(i + 1)...].reversed().flatMap(\.layers)
            componentContext.instance = context.instance + ">" + key
            walkComponent(component.file, context: componentContext, stack: inner, depth: 0)
        }
    }

    /// The resources of a Component, with its own layer and those of the components it lists.
    private mutating func walkComponent(_ file: String, context: FileContext, stack: [String], depth: Int) {
        guard depth < Self.maxComponentDepth else { return note(file, nil, "components nested more than \(Self.maxComponentDepth) deep; not read") }
        let key = Self.standardized(file)
        if let start = stack.firstIndex(of: key) {
            return note(file, nil, "kustomization cycle refused: \((stack[start...] + [key]).joined(separator: " → "))")
        }
        guard let parsed = parse(kustomization: file, variables: context.variables) else { return }
        let inner = stack + [key]
        var nested: [(folder: String, file: String, layers: [KustomizeLayer])] = []
        for entry in parsed.components {
            if let component = component(entry, in: parsed.folder, of: file, stack: inner, variables: context.variables) { nested.append(component) }
        }
        var resourceContext = context
        resourceContext.layers = context.layers + [parsed.layer] + nested.reversed().flatMap(\.layers)
        for entry in parsed.resources {
            let full = Self.joined(parsed.folder, entry.path)
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: full, isDirectory: &isFolder) else {
                note(file, entry.line, "\(entry.field): \(entry.path) does not exist")
                continue
            }
            guard isFolder.boolValue || Self.isWithin(full, folder: parsed.folder) else {
                note(file, entry.line, Self.outsideFolder(entry.field, entry.path, folder: parsed.folder))
                continue
            }
            walk(full, context: resourceContext, stack: inner)
        }
        for (i, component) in nested.enumerated() {
            var componentContext = context
            componentContext.layers = context.layers + [parsed.layer] + nested[(i + 1)...].reversed().flatMap(\.layers)
            walkComponent(component.file, context: componentContext, stack: inner, depth: depth + 1)
        }
    }

    /// A `components:` entry: its kustomization file and the layers it applies (its own,
    /// outside those of the components it lists), outermost first.
    private mutating func component(_ entry: ParsedKustomization.Entry, in base: String, of file: String, stack: [String],
                                    variables: [String: String]?, depth: Int = 0) -> (folder: String, file: String, layers: [KustomizeLayer])? {
        if Self.isRemote(entry.path) {
            note(file, entry.line, "components: remote component \(entry.path) skipped (not read offline)", isNote: true)
            unexpanded.append(UnexpandedSource(location: SourceLocation(file: file, line: entry.line), kind: "Kustomization",
                                               name: (base as NSString).lastPathComponent, reason: "remote component \(entry.path)"))
            return nil
        }
        let folder = Self.joined(base, entry.path)
        guard let componentFile = kustomizationFile(in: folder) else {
            note(file, entry.line, "components: \(entry.path) has no kustomization; not read")
            return nil
        }
        guard Self.isComponent(componentFile) else {
            note(file, entry.line, "components: \(entry.path) is not a kind: Component kustomization; not read")
            return nil
        }
        let key = Self.standardized(componentFile)
        guard !stack.contains(key), depth < Self.maxComponentDepth,
              let parsed = parse(kustomization: componentFile, variables: variables, quiet: true) else { return nil }
        var layers = [parsed.layer]
        for nested in parsed.components.reversed() {
            if let inner = component(nested, in: parsed.folder, of: componentFile, stack: stack + [key], variables: variables, depth: depth + 1) {
                layers += inner.layers
            }
        }
        return (folder, componentFile, layers)
    }

    /// Whether `file` is in or below `folder`, symlinks resolved. kustomize (v5.5, its default load
    /// restrictor) refuses to read a resource or patch file that is not: "security; file '…' is not
    /// in or below '…'" (measured with `kubectl kustomize`: a `resources` file, a `patches` path, a
    /// `patchesStrategicMerge` file and a symlink pointing out of the folder all fail the build).
    /// A folder listed under `resources` is a kustomization of its own and may be anywhere.
    static func isWithin(_ file: String, folder: String) -> Bool {
        let root = realPath(folder), target = realPath(file)
        return target == root || target.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// The diagnostic for a file kustomize would refuse (`isWithin`).
    static func outsideFolder(_ field: String, _ path: String, folder: String) -> String {
        "\(field): \(path) is not in or below \(folder): kustomize refuses to read it (security); not read"
    }

    /// `path`, absolute, with every symlink resolved (Foundation's, as `plan --against-git` resolves
    /// its paths; no C pointer outside NetIO).
    static func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    /// `URL(fileURLWithPath: path).standardizedFileURL.path`, the key a file is known by, without
    /// its cost (a URL made, the path looked up) for a path that is standard already: absolute
    /// (once the current folder is put before it), with no empty, `.` or `..` component. Others
    /// (`..`, which URL resolves through symlinks, and `/private/`, which it strips) go to URL.
    static func standardized(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        guard !absolute.hasPrefix("/private") else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var length = 0, dots = 0
        func isPlain() -> Bool { length > 0 && !(length == dots && dots <= 2) }
        for byte in absolute.utf8.dropFirst() {
            if byte == slash {
                guard isPlain() else { return URL(fileURLWithPath: path).standardizedFileURL.path }
                (length, dots) = (0, 0)
            } else {
                length += 1
                if byte == dot { dots += 1 }
            }
        }
        return isPlain() ? absolute : URL(fileURLWithPath: path).standardizedFileURL.path
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

    static func strings(_ node: Node?) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in node?.mapping ?? [:] {
            if let name = key.string, let text = value.string { result[name] = text }
        }
        return result
    }
}
