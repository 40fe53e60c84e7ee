import Foundation
import NetIO
import YAMLInput
import Yams

/// The manifests source: reads Gateways, routes and Namespaces from files and folders of
/// Kubernetes YAML (or JSON), as a GitOps repository or `kubectl get -o yaml` holds them.
///
/// A folder contributes every `*.yaml` and `*.yml` below it; each file may hold many documents
/// with anchors and aliases; kinds other than Gateway, HTTPRoute, GRPCRoute and Namespace are
/// skipped. Nothing here throws: a malformed document, an object that cannot be decoded or
/// one above the size bound becomes a `ManifestDiagnostic` with its file and line, and every
/// other document still loads.
public enum ManifestLoader {
    /// The files `paths` stand for: a file as it is, a folder as its `*.yaml`/`*.yml` files at
    /// any depth, in path order. A path that does not exist is a diagnostic.
    public static func files(in paths: [String]) -> (files: [String], diagnostics: [ManifestDiagnostic]) {
        var files: [String] = []
        var diagnostics: [ManifestDiagnostic] = []
        let manager = FileManager.default
        for path in paths {
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
                diagnostics.append(ManifestDiagnostic(location: SourceLocation(file: path), message: "no such file or folder"))
                continue
            }
            guard isFolder.boolValue else {
                files.append(path)
                continue
            }
            var found: [String] = []
            for case let relative as String in manager.enumerator(atPath: path) ?? FileManager.DirectoryEnumerator()
            where relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
                let full = (path as NSString).appendingPathComponent(relative)
                var isDirectory: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue { found.append(full) }
            }
            files += found.sorted()
        }
        return (files, diagnostics)
    }

    /// Reads every file `paths` stand for, then infers status where objects carry none.
    ///
    /// A folder with a `kustomization.yaml` (`.yml`, `Kustomization`) is built as kustomize
    /// builds it (`GitOpsTree`, `KustomizeApplier`): its `resources` and `components`, then its
    /// patches, `namespace`, labels and annotations. Each Flux `Kustomization` read is followed
    /// to its `spec.path`, with its `targetNamespace`, patches, components and `postBuild`
    /// variables (`FluxKustomization.swift`; `options.variables` stand for Secrets' values).
    public static func load(paths: [String], options: ManifestOptions = ManifestOptions()) -> ManifestSet {
        var reader = Reader(options: options)
        let tree = GitOpsTree(paths: paths, variables: options.variables, maxFileBytes: options.maxFileBytes, repoRoot: options.repoRoot)
        reader.set.diagnostics += tree.diagnostics
        var listed: Set<UnexpandedSource> = []
        // Argo CD Applications and ApplicationSets add the files they apply (ArgoCD.swift).
        let argo = ArgoCDExpansion(files: tree.files, options: options)
        reader.set.diagnostics += argo.diagnostics
        reader.set.unexpanded += (tree.unexpanded + argo.unexpanded).filter { listed.insert($0).inserted }
        reader.helmReleases.pending = argo.charts
        for (file, context) in argo.files {
            if let documents = tree.fluxOnly[file] {
                reader.countSkipped(documents, kind: "Kustomization")
            } else {
                reader.read(file: file, context: context)
            }
        }
        reader.addChartRoutes()
        reader.set.diagnostics += tree.applier.diagnostics
        reader.reportUnmatchedPatches(argo.files.flatMap(\.context.layers), appliedElsewhere: tree.applier.applied)
        return reader.finish()
    }

    /// The repository root a path is read in when no `--repo-root` names it: the folder at or
    /// above it that holds `.git` (Flux's `spec.path` and Argo CD's source paths are relative to it).
    public static func repositoryRoot(of path: String) -> String? { GitOpsTree.gitRoot(path) }

    /// Reads one stream of documents as if it came from `file` (tests, standard input).
    public static func load(text: String, file: String = "-", options: ManifestOptions = ManifestOptions()) -> ManifestSet {
        var reader = Reader(options: options)
        reader.read(text: text, file: file)
        return reader.finish()
    }
}

/// Accumulates objects across files; a later definition of the same object replaces the earlier one.
private struct Reader {
    let options: ManifestOptions
    var set = ManifestSet()
    private var gateways = ObjectList<Gateway>()
    private var routes = ObjectList<Route>()
    private var namespaces = ObjectList<Namespace>()
    private var dnsEndpoints = ObjectList<DNSEndpoint>()
    private var listenerSets = ObjectList<ListenerSet>()
    private var applier = KustomizeApplier()
    private let pathNamespaces: [(path: String, namespace: String)]
    /// HelmReleases and Helm sources of app-template, whose routes are added once all is read.
    var helmReleases = HelmReleases()

    init(options: ManifestOptions) {
        self.options = options
        pathNamespaces = options.pathNamespaces
            .map { (GitOpsTree.standardized($0.path), $0.namespace) }
            .sorted { $0.0.count > $1.0.count }
    }

    mutating func read(file: String, context: FileContext = FileContext()) {
        let data: Data
        do {
            data = try BoundedFile.read(file, maxBytes: options.maxFileBytes).data
        } catch {
            switch error.kind {
            case .tooLarge: diagnose(file, nil, "file above the \(options.maxFileBytes)-byte bound; not read")
            case .notRegular: diagnose(file, nil, "\(error.description); not read")
            case .missing, .unreadable: diagnose(file, nil, "cannot be read: \(error.description)")
            }
            return
        }
        var text = String(decoding: data, as: UTF8.self)
        var unresolvedLines: Set<Int> = []
        if let variables = context.variables {
            let limit = data.count + options.maxSubstitutionGrowthBytes
            let substituted: (text: String, unresolved: [VariableSubstitution.Unresolved])
            do {
                substituted = try VariableSubstitution.substitute(text, variables: variables, maxOutputBytes: limit,
                                                                  literal: Self.substitutionDisabled(text))
            } catch {
                diagnose(file, error.line, "substituting variables would make the file larger than \(limit) bytes "
                         + "(its \(data.count) bytes + the \(options.maxSubstitutionGrowthBytes)-byte growth bound); not read")
                return
            }
            text = substituted.text
            for variable in substituted.unresolved {
                let from = context.secretVariables[variable.name].map { ", its value is in \($0), which is not read" }
                    ?? (context.missingSources.isEmpty ? "" : "; " + context.missingSources.joined(separator: "; "))
                diagnose(file, variable.line, "variable ${\(variable.name)} has no value\(from) (--var \(variable.name)=VALUE or --vars-file); its object is left out")
                unresolvedLines.insert(variable.line)
            }
        }
        // HelmReleases as kustomize builds them: its namespace, prefix and patches (their values).
        var applier = KustomizeApplier()
        swap(&applier, &self.applier)
        helmReleases.scan(data: data, text: text, file: file, namespace: namespaceFor(file: file, context: context),
                          unresolvedLines: unresolvedLines) { context.layers.isEmpty ? $0 : applier.apply(context.layers.reversed(), to: $0) }
        swap(&applier, &self.applier)
        read(text: text, file: file, context: context, unresolvedLines: unresolvedLines)
    }

    /// The line ranges of the documents Flux does not substitute: those whose annotations or
    /// labels say `kustomize.toolkit.fluxcd.io/substitute: disabled` (Flux's kustomize-controller).
    static func substitutionDisabled(_ text: String) -> [Range<Int>] {
        guard text.contains("kustomize.toolkit.fluxcd.io/substitute") else { return [] }
        let chunks = DocumentSplitter.split(text)
        var ranges: [Range<Int>] = []
        for (i, chunk) in chunks.enumerated() {
            let disabled = chunk.text.split(separator: "\n").contains { line in
                let trimmed = line.trimmingSpaces()
                return trimmed.hasPrefix("kustomize.toolkit.fluxcd.io/substitute:") && trimmed.contains("disabled")
            }
            if disabled { ranges.append(chunk.startLine..<(i + 1 < chunks.count ? chunks[i + 1].startLine : Int.max)) }
        }
        return ranges
    }

    /// The routes app-template renders for the releases read (HelmRelease.swift, AppTemplate.swift).
    mutating func addChartRoutes() {
        let rendered = helmReleases.render()
        set.diagnostics += rendered.diagnostics
        set.unexpanded += rendered.unexpanded
        for (route, location) in rendered.routes {
            add(.route(route), at: location, namespace: route.metadata.namespace, context: FileContext())
        }
    }

    /// Reads one stream. The common case parses it whole, exactly as a bare parse would; when
    /// a document is malformed or too large, the stream is read document by document instead,
    /// so that the bad one is reported with its line and every other one still loads.
    mutating func read(text: String, file: String, context: FileContext = FileContext(), unresolvedLines: Set<Int> = []) {
        set.fileCount += 1
        let namespace = namespaceFor(file: file, context: context)
        let chunks = DocumentSplitter.split(text)
        set.documentCount += chunks.count
        var refused: Set<Int> = []
        for (i, chunk) in chunks.enumerated() {
            let end = i + 1 < chunks.count ? chunks[i + 1].startLine : Int.max
            if unresolvedLines.contains(where: { $0 >= chunk.startLine && $0 < end }) {
                refused.insert(i)
                continue
            }
            let size = chunk.text.utf8.count
            if size > options.maxObjectBytes && !(size <= options.maxListBytes && Self.looksLikeList(chunk.text)) {
                diagnose(file, chunk.startLine, "document of \(size) bytes is above the \(options.maxObjectBytes)-byte object bound; refused")
                refused.insert(i)
            } else if let (line, depth) = YAMLLimits.tooDeep(chunk.text) {
                diagnose(file, chunk.startLine + line - 1,
                         "YAML nested \(depth) deep, above the \(YAMLLimits.maxDepth)-level bound; document refused")
                refused.insert(i)
            }
        }
        if refused.isEmpty, let (objects, errors) = composeWhole(text, layers: context.layers) {
            for error in errors { diagnose(file, error.line, "cannot read \(error)") }
            for (object, line) in objects { add(object, at: SourceLocation(file: file, line: line), namespace: namespace, context: context) }
            return
        }
        for (i, chunk) in chunks.enumerated() where !refused.contains(i) {
            let offset = chunk.startLine - 1
            let root: Node?
            do {
                root = try Yams.compose(yaml: String(chunk.text), .default, .default, .utf8)
            } catch {
                let (line, message) = Self.describe(error)
                diagnose(file, line.map { $0 + offset } ?? chunk.startLine, "malformed YAML: \(message)")
                continue
            }
            guard let root else { continue }
            guard YAMLLimits.nodeCount(root, limit: YAMLLimits.maxManifestNodes) != nil else {
                diagnose(file, chunk.startLine, "document of more than \(YAMLLimits.maxManifestNodes) YAML nodes (aliases expanded); refused")
                continue
            }
            var errors: [DecodeError] = []
            guard let transformed = transform(root, layers: context.layers) else { continue }
            let objects = ObjectDecoder.decode(transformed) { errors.append($0) }
            for error in errors { diagnose(file, error.line.map { $0 + offset } ?? chunk.startLine, "cannot read \(error)") }
            for (object, line) in objects {
                add(object, at: SourceLocation(file: file, line: line.map { $0 + offset } ?? chunk.startLine),
                    namespace: namespace, context: context)
            }
        }
    }

    /// Every document of `text` decoded, with the decode errors; nil when the YAML itself fails
    /// anywhere, so that the caller can fall back to reading document by document.
    private mutating func composeWhole(_ text: String, layers: [KustomizeLayer]) -> ([(DecodedObject, Int?)], [DecodeError])? {
        guard var documents = try? Yams.compose_all(yaml: text, .default, .default, .utf8) else { return nil }
        var objects: [(DecodedObject, Int?)] = []
        var errors: [DecodeError] = []
        while let root = documents.next() {
            // Too many nodes: read document by document, where it is refused with its line.
            guard YAMLLimits.nodeCount(root, limit: YAMLLimits.maxManifestNodes) != nil else { return nil }
            guard let transformed = transform(root, layers: layers) else { continue }
            objects += ObjectDecoder.decode(transformed) { errors.append($0) }
        }
        return documents.error == nil ? (objects, errors) : nil
    }

    /// The object as its kustomizations make it; nil when a patch deletes it.
    private mutating func transform(_ root: Node, layers: [KustomizeLayer]) -> Node? {
        guard !layers.isEmpty else { return root }
        // Innermost first: a base is built before the overlay that lists it.
        return applier.apply(layers.reversed(), to: root)
    }

    private mutating func add(_ object: DecodedObject, at location: SourceLocation, namespace: String, context: FileContext) {
        let id: ResourceID
        let replaced: Bool
        switch object {
        case .gateway(var gateway):
            Self.apply(context, namespace: namespace, to: &gateway.metadata)
            id = gateway.id
            replaced = gateways.insert(gateway, id: id)
        case .route(var route):
            Self.apply(context, namespace: namespace, to: &route.metadata)
            id = route.id
            replaced = routes.insert(route, id: id)
        case .namespace(let ns):
            id = ResourceID(kind: "Namespace", namespace: "", name: ns.metadata.name)
            replaced = namespaces.insert(ns, id: id)
        case .listenerSet(var object):
            Self.apply(context, namespace: namespace, to: &object.metadata)
            id = object.id
            replaced = listenerSets.insert(object, id: id)
        case .dnsEndpoint(var object):
            Self.apply(context, namespace: namespace, to: &object.metadata)
            id = object.id
            replaced = dnsEndpoints.insert(object, id: id)
        case .skipped(let kind):
            set.skippedKinds[kind.isEmpty ? "(no kind)" : kind, default: 0] += 1
            return
        }
        if replaced {
            let first = set.origins[id]
            if let first, let here = ClusterFolders.cluster(of: location.file), let there = ClusterFolders.cluster(of: first.file),
               here.folder != there.folder {
                // Two clusters' objects (ClusterFolders' rule): one plan cannot hold both.
                diagnose(location.file, location.line, "conflict: \(id) is defined in cluster \(there.name) (\(first)) and in cluster "
                         + "\(here.name) (\(location)); plan one cluster with --cluster NAME. This definition is used")
            } else {
                diagnose(location.file, location.line, "\(id) is defined again\(first.map { " (first at \($0))" } ?? ""); this definition is used")
            }
        }
        set.origins[id] = location
    }

    /// A namespaced object's namespace when it still names none (the kustomizations' and the
    /// Flux `targetNamespace` were set on the object by `KustomizeApplier`).
    private static func apply(_ context: FileContext, namespace: String, to metadata: inout ObjectMeta) {
        if metadata.namespace.isEmpty { metadata.namespace = namespace }
        if metadata.namespace.isEmpty { metadata.namespace = namespace }
    }

    /// For objects that still have no namespace: `--manifest-namespace`, else the default namespace.
    private func namespaceFor(file: String, context: FileContext) -> String {
        let fallback = context.defaultNamespace ?? options.defaultNamespace
        guard !pathNamespaces.isEmpty else { return fallback }
        let path = GitOpsTree.standardized(file)
        for entry in pathNamespaces where path == entry.path || path.hasPrefix(entry.path + "/") {
            return entry.namespace
        }
        return fallback
    }

    private mutating func diagnose(_ file: String, _ line: Int?, _ message: String) {
        set.diagnostics.append(ManifestDiagnostic(location: SourceLocation(file: file, line: line), message: message))
    }

    mutating func reportUnmatchedPatches(_ layers: [KustomizeLayer], appliedElsewhere: Set<String>) {
        set.diagnostics += applier.unmatched(in: layers, appliedElsewhere: appliedElsewhere)
    }

    /// A file of `documents` objects of `kind` that the tree has parsed already, all skipped.
    mutating func countSkipped(_ documents: Int, kind: String) {
        set.fileCount += 1
        set.documentCount += documents
        set.skippedKinds[kind, default: 0] += documents
    }

    mutating func finish() -> ManifestSet {
        set.diagnostics += applier.diagnostics
        // A file read in two contexts, or a kustomization read for two folders, may say one
        // thing twice: each is said once.
        var seen: Set<ManifestDiagnostic> = []
        set.diagnostics = set.diagnostics.filter { seen.insert($0).inserted }
        set.gateways = gateways.items
        set.routes = routes.items
        set.namespaces = namespaces.items
        set.dnsEndpoints = dnsEndpoints.items
        set.listenerSets = listenerSets.items
        if options.inferStatus { StatusInference.apply(to: &set, addresses: options.gatewayAddresses) }
        return set
    }

    /// Whether a document is a `List` or `<Kind>List` (which may exceed the object bound).
    static func looksLikeList(_ text: Substring) -> Bool {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where line.hasPrefix("kind:") {
            if line.dropFirst(5).trimmingSpaces().hasSuffix("List") { return true }
        }
        return text.contains("List\"") && text.contains("\"kind\"")
    }

    /// The 1-based line (within the parsed text) and message of a Yams error.
    static func describe(_ error: any Error) -> (Int?, String) {
        guard let yamlError = error as? YamlError else { return (nil, "\(error)") }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text))" } ?? ""
            return (mark.line, problem + while_)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line, "duplicate keys \(duplicates.joined(separator: ", ")) in one mapping")
        case .reader(let problem, _, _, _):
            return (nil, problem)
        default:
            return (nil, "\(yamlError)")
        }
    }
}

/// Objects in the order first seen; a later object with the same id takes the earlier one's place.
private struct ObjectList<T> {
    private(set) var items: [T] = []
    private var index: [ResourceID: Int] = [:]

    /// Adds or replaces; true when an object with this id was already there.
    mutating func insert(_ item: T, id: ResourceID) -> Bool {
        if let existing = index[id] {
            items[existing] = item
            return true
        }
        index[id] = items.count
        items.append(item)
        return false
    }
}

extension ManifestLoader {
    /// What a bare parse saw.
    public struct ParseCount: Sendable {
        public var files = 0
        public var documents = 0
        public var failures = 0
    }

    /// Reads the same files as `load(paths:)`, the same way (`BoundedFile`), and only parses
    /// them with the same YAML parser (Yams `compose_all`), decoding nothing: the baseline
    /// `scripts/bench-plan` compares `netagent plan` with.
    public static func parseOnly(paths: [String]) -> ParseCount {
        var count = ParseCount()
        let maxFileBytes = ManifestOptions().maxFileBytes
        for file in files(in: paths).files {
            guard let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data else { continue }
            count.files += 1
            do {
                var documents = try Yams.compose_all(yaml: String(decoding: data, as: UTF8.self), .default, .default, .utf8)
                while documents.next() != nil { count.documents += 1 }
                if documents.error != nil { count.failures += 1 }
            } catch {
                count.failures += 1
            }
        }
        return count
    }
}

extension ManifestLoader {
    /// The 1-based line and message of a Yams error.
    static func describe(_ error: any Error) -> (Int?, String) { Reader.describe(error) }
}
