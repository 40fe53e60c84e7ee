import Foundation
import NetIO
import YAMLInput
import Yams

/// The Git repository a manifest belongs to: its root, which Argo CD's `spec.source.path` is
/// relative to, by the rule Flux's `spec.path` follows (`GitOpsTree`): `--repo-root` for the
/// files in it, else the folder at or above the file that holds `.git` (`GitOpsTree.gitRoot`);
/// and the URLs of its remotes, which tell whether an Application's `repoURL` is this repository.
struct GitRepository {
    var root: String
    var remotes: [String]

    static func enclosing(_ path: String, repoRoot: String?) -> GitRepository? {
        let file = GitOpsTree.standardized(path)
        let inTree = repoRoot.map { file == $0 || file.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") } ?? false
        guard let root = inTree ? repoRoot : GitOpsTree.gitRoot(file) else { return nil }
        let dotGit = (root as NSString).appendingPathComponent(".git")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit, isDirectory: &isFolder) else { return GitRepository(root: root, remotes: []) }
        return GitRepository(root: root, remotes: remotes(dotGit: dotGit, isFolder: isFolder.boolValue))
    }

    /// The `url` of each `[remote "…"]` in the repository's config (a worktree's `.git` file
    /// names its git folder, whose `commondir` holds the config).
    private static func remotes(dotGit: String, isFolder: Bool) -> [String] {
        var gitDir = dotGit
        if !isFolder {
            guard let text = read(dotGit), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gitdir:") }) else { return [] }
            let target = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
            gitDir = GitOpsTree.joined((dotGit as NSString).deletingLastPathComponent, target)
            if let common = read((gitDir as NSString).appendingPathComponent("commondir")) {
                gitDir = GitOpsTree.joined(gitDir, common.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        guard let config = read((gitDir as NSString).appendingPathComponent("config")) else { return [] }
        var urls: [String] = []
        var inRemote = false
        for raw in config.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { inRemote = line.hasPrefix("[remote ") }
            else if inRemote, line.hasPrefix("url"), let equals = line.firstIndex(of: "=") {
                urls.append(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            }
        }
        return urls
    }

    private static func read(_ path: String) -> String? {
        (try? BoundedFile.read(path, maxBytes: 1 << 20).data).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `https://github.com/a/b.git`, `git@github.com:a/b` and `ssh://git@github.com/a/b` alike.
    static func normalised(_ url: String) -> String {
        var text = url.lowercased().trimmingCharacters(in: .whitespaces)
        for scheme in ["https://", "http://", "ssh://", "git://", "git+ssh://"] where text.hasPrefix(scheme) {
            text.removeFirst(scheme.count)
        }
        if let at = text.firstIndex(of: "@"), !text[..<at].contains("/") { text = String(text[text.index(after: at)...]) }
        if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/") {
            text.replaceSubrange(colon...colon, with: "/")
        }
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix(".git") { text.removeLast(4) }
        return text
    }

    func contains(_ repoURL: String) -> Bool {
        let wanted = Self.normalised(repoURL)
        return remotes.contains { Self.normalised($0) == wanted }
    }

    /// `relative` (a repository path such as `apps/echo` or `./apps`) as a path on disk; nil when
    /// its `..` lead out of the repository (Argo CD refuses such paths too).
    func path(_ relative: String) -> String? {
        var trimmed = relative
        while trimmed.hasPrefix("/") { trimmed.removeFirst() }
        let joined = GitOpsTree.joined(root, trimmed.isEmpty ? "." : trimmed)
        return joined == root || joined.hasPrefix(root.hasSuffix("/") ? root : root + "/") ? joined : nil
    }
}

/// Argo CD's Applications and ApplicationSets (argoproj.io/v1alpha1) in the files read: each
/// Application's sources become the files Argo CD would apply, with `destination.namespace` as
/// the namespace of objects without one; app-template Helm sources become releases to render.
/// An Application met in those files (app of apps) is followed too. Whatever is not expanded —
/// another repository, another Helm chart, a plugin, a generator not read — is listed.
///
/// Rules from Argo CD's documentation (user-guide/directory.md, kustomize.md, helm.md,
/// multiple_sources.md; operator-manual/applicationset/Generators-Git.md, Generators-List.md,
/// Generators-Matrix.md, Generators-Merge.md): a source path with a kustomization is built by
/// kustomize (`kustomize.namePrefix`/`nameSuffix`/`namespace` applied), one with a `Chart.yaml` is
/// a Helm chart, any other is a directory of YAML/JSON files (`recurse`, `include`, `exclude`);
/// Helm values come from `valueFiles` (a `$ref/…` path names a `ref:` source), then `values`,
/// then `valuesObject`.
struct ArgoCDExpansion {
    /// Past this many Applications (an ApplicationSet over a huge tree) the rest is reported.
    static let maxApplications = 20_000
    /// An ApplicationSet template above this many YAML nodes is refused (real ones have ~50).
    static let maxTemplateNodes = 10_000
    static let marker = Array("argoproj.io/v".utf8)

    private(set) var files: [(path: String, context: FileContext)] = []
    private(set) var diagnostics: [ManifestDiagnostic] = []
    private(set) var unexpanded: [UnexpandedSource] = []
    private(set) var charts: [ChartRelease] = []

    private let variables: [String: String]
    private let maxFileBytes: Int
    private let defaultNamespace: String
    /// `--repo-root` (`ManifestOptions.repoRoot`), the root of the files in it.
    private let repoRoot: String?
    private var applications = 0
    /// Files Argo CD applies, with the context it gives them (it replaces the tree's).
    private var claimed: [String: FileContext] = [:]
    /// Which Application applies each claimed file, to report one applied by two.
    private var owners: [String: String] = [:]
    /// The repository of each file that holds Applications: an ApplicationSet's generated
    /// Applications all come from one file, and its `.git` and config are read once.
    private var repositories: [String: GitRepository?] = [:]

    init(files treeFiles: [(path: String, context: FileContext)], options: ManifestOptions) {
        repoRoot = options.repoRoot.map { GitOpsTree.standardized($0) }
        variables = options.variables
        maxFileBytes = options.maxFileBytes
        defaultNamespace = options.defaultNamespace
        var queue = treeFiles
        var scanned: Set<String> = []
        var index = 0
        while index < queue.count {
            let (file, _) = queue[index]
            index += 1
            let key = Self.key(file)
            guard scanned.insert(key).inserted else { continue }
            for found in scan(file) {
                let claim = Self.key(found.path)
                if let earlier = owners[claim] {
                    if earlier != found.owner {
                        note(found.location, "\(found.owner) applies \(found.path), which \(earlier) applies already; read once, as \(earlier) gives it",
                             isNote: true)
                    }
                    continue
                }
                claimed[claim] = found.context
                owners[claim] = found.owner
                queue.append((found.path, found.context))
            }
        }
        var seen: Set<String> = []
        for (file, context) in queue {
            let key = Self.key(file)
            guard seen.insert(key).inserted else { continue }
            files.append((file, claimed[key] ?? context))
        }
    }

    private static func key(_ path: String) -> String { GitOpsTree.standardized(path) }

    private mutating func repository(of file: String) -> GitRepository? {
        if let known = repositories[file] { return known }
        let found = GitRepository.enclosing(file, repoRoot: repoRoot)
        repositories[file] = found
        return found
    }

    private mutating func note(_ location: SourceLocation, _ message: String, isNote: Bool = false) {
        diagnostics.append(ManifestDiagnostic(location: location, message: message, isNote: isNote))
    }

    /// A file an Application applies, with the context Argo CD gives it.
    private struct Applied {
        var path: String
        var context: FileContext
        var owner: String
        var location: SourceLocation
    }

    /// The files the Applications and ApplicationSets of `file` name.
    private mutating func scan(_ file: String) -> [Applied] {
        guard let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data, Bytes.contains(data, Self.marker) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        guard YAMLLimits.tooDeep(text[...]) == nil, var documents = try? Yams.compose_all(yaml: text, .default, .default, .utf8) else { return [] }
        var found: [Applied] = []
        while let root = documents.next() {
            guard root["apiVersion"]?.string?.hasPrefix("argoproj.io/") == true,
                  // As the reader bounds it (it reports the document): aliases expanded.
                  YAMLLimits.nodeCount(root, limit: YAMLLimits.maxManifestNodes) != nil else { continue }
            let location = SourceLocation(file: file, line: root.mark.map { $0.line })
            switch root["kind"]?.string {
            case "Application": found += application(root, at: location, via: nil)
            case "ApplicationSet": found += applicationSet(root, at: location)
            default: continue
            }
        }
        return found
    }

    private static func qualifiedName(_ node: Node) -> String {
        let name = node["metadata"]?["name"]?.string ?? "(no name)"
        let namespace = node["metadata"]?["namespace"]?.string ?? ""
        return namespace.isEmpty ? name : "\(namespace)/\(name)"
    }

    // MARK: Applications

    /// `via`: the ApplicationSet that generated the Application, for messages.
    private mutating func application(_ node: Node, at location: SourceLocation, via: String?) -> [Applied] {
        applications += 1
        let name = Self.qualifiedName(node)
        let owner = via.map { "Application \(name) (from ApplicationSet \($0))" } ?? "Application \(name)"
        guard applications <= Self.maxApplications else {
            if applications == Self.maxApplications + 1 {
                note(location, "more than \(Self.maxApplications) Argo CD Applications; the rest are not read")
            }
            return []
        }
        let spec = node["spec"]
        let destination = spec?["destination"]?["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        var sources: [Node] = Array(spec?["sources"]?.sequence ?? [])
        if sources.isEmpty, let source = spec?["source"] { sources = [source] }
        guard !sources.isEmpty else {
            note(location, "\(owner): no spec.source or spec.sources; nothing to read")
            return []
        }
        guard let repository = repository(of: location.file) else {
            unexpanded.append(UnexpandedSource(location: location, kind: "Application", name: name,
                                               reason: "no Git repository (.git) above \(location.file) to resolve its source paths in"))
            return []
        }
        // `ref:` sources name repositories for `$ref/…` value files (multiple_sources.md).
        var references: [String: String] = [:]
        for source in sources {
            guard let ref = source["ref"]?.string, let url = source["repoURL"]?.string else { continue }
            if repository.contains(url) { references[ref] = repository.root }
        }
        var files: [(path: String, context: FileContext)] = []
        for (index, source) in sources.enumerated() {
            let field = sources.count > 1 || spec?["sources"] != nil ? "spec.sources[\(index)]" : "spec.source"
            let url = source["repoURL"]?.string ?? ""
            if let chart = source["chart"]?.string {
                helm(chart: chart, source: source, field: field, name: name, owner: owner, destination: destination,
                     repository: repository, references: references, location: location, appName: node["metadata"]?["name"]?.string ?? name)
                continue
            }
            guard let path = source["path"]?.string else {
                if source["ref"] == nil { note(location, "\(owner): \(field) names neither a path nor a chart; nothing to read") }
                continue
            }
            guard repository.contains(url) else {
                let known = repository.remotes.isEmpty ? "this repository has no remote to compare" : "this repository is \(repository.remotes.joined(separator: ", "))"
                unexpanded.append(UnexpandedSource(location: location, kind: "Application", name: name,
                                                   reason: "\(field).repoURL \(url) is not this repository (\(known))"))
                continue
            }
            if path.contains("{{") {
                note(location, "\(owner): \(field).path \(path) is still templated; not read")
                continue
            }
            var isFolder: ObjCBool = false
            guard let folder = repository.path(path) else {
                note(location, "\(owner): \(field).path \(path) leads out of the repository \(repository.root); not read")
                continue
            }
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                note(location, "\(owner): \(field).path \(path) is not a folder of this repository (\(folder))")
                continue
            }
            files += folderFiles(folder, source: source, field: field, name: name, owner: owner,
                                 destination: destination, location: location)
        }
        return files.map { Applied(path: $0.path, context: $0.context, owner: owner, location: location) }
    }

    /// The files Argo CD applies from a Git folder, by the source type it detects.
    private mutating func folderFiles(_ folder: String, source: Node, field: String, name: String, owner: String,
                                      destination: String?, location: SourceLocation) -> [(path: String, context: FileContext)] {
        let manager = FileManager.default
        let has = { (file: String) in manager.fileExists(atPath: (folder as NSString).appendingPathComponent(file)) }
        if source["plugin"] != nil {
            unexpanded.append(UnexpandedSource(location: location, kind: "Application", name: name,
                                               reason: "\(field) is rendered by a config management plugin"))
            return []
        }
        if source["helm"] != nil || has("Chart.yaml") {
            let chart = Self.chartName(in: folder) ?? (folder as NSString).lastPathComponent
            unexpanded.append(UnexpandedSource(location: location, kind: "Application", name: name,
                                               reason: "\(field) is the Helm chart \(chart) at \(folder) (only app-template from a chart repository is rendered)"))
            return []
        }
        var context = FileContext()
        context.defaultNamespace = destination
        if GitOpsTree.kustomizationNames.contains(where: has) || source["kustomize"] != nil {
            let kustomize = source["kustomize"]
            let namespace = kustomize?["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            for key in ["patches", "components", "replicas"] where kustomize?[key] != nil {
                note(location, "\(owner): \(field).kustomize.\(key) is not applied", isNote: true)
            }
            // Argo CD runs `kustomize edit set namespace/nameprefix/namesuffix` and `add label/annotation`
            // on the source's kustomization (util/kustomize/kustomize.go): they replace its own
            // namespace, prefix and suffix, and win over its labels and annotations.
            let prefix = kustomize?["namePrefix"]?.string, suffix = kustomize?["nameSuffix"]?.string
            let labels = GitOpsTree.strings(kustomize?["commonLabels"]), annotations = GitOpsTree.strings(kustomize?["commonAnnotations"])
            let tree = GitOpsTree(paths: [folder], variables: variables, maxFileBytes: maxFileBytes, repoRoot: repoRoot)
            diagnostics += tree.diagnostics
            unexpanded += tree.unexpanded
            let top = tree.kustomizationFile(in: folder).map(Self.key)
            return tree.files.map { file, inner in
                var merged = inner
                merged.defaultNamespace = destination
                var layer = KustomizeLayer(file: location.file)
                let own = merged.layers.first.map { Self.key($0.file) == top } ?? false
                if own { layer = merged.layers.removeFirst() }
                if let namespace { layer.namespace = namespace }
                if let prefix { layer.namePrefix = prefix }
                if let suffix { layer.nameSuffix = suffix }
                layer.labels.merge(labels) { $1 }
                layer.annotations.merge(annotations) { $1 }
                if own || !layer.isEmpty { merged.layers.insert(layer, at: 0) }
                return (file, merged)
            }
        }
        let directory = source["directory"]
        let recurse = directory?["recurse"]?.bool ?? false
        let include = directory?["include"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        let exclude = directory?["exclude"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        if directory?["jsonnet"]?.mapping?.isEmpty == false {
            note(location, "\(owner): \(field).directory.jsonnet is not evaluated; .jsonnet files are not read", isNote: true)
        }
        var result: [(path: String, context: FileContext)] = []
        // Breadth first, in name order: the files of a folder before those of its subfolders.
        var folders = [(folder, "")]
        var next = 0
        while next < folders.count {
            let (current, relative) = folders[next]
            next += 1
            if next > GitOpsTree.maxFolderVisits {
                note(location, "\(owner): more than \(GitOpsTree.maxFolderVisits) folders below \(folder) (symlinks joining folders?); the rest is not read")
                break
            }
            for entry in ((try? manager.contentsOfDirectory(atPath: current)) ?? []).sorted() where !entry.hasPrefix(".") {
                let full = (current as NSString).appendingPathComponent(entry)
                let path = relative.isEmpty ? entry : relative + "/" + entry
                var isFolder: ObjCBool = false
                guard manager.fileExists(atPath: full, isDirectory: &isFolder) else { continue }
                if isFolder.boolValue {
                    if recurse, !(exclude.map { Glob.match($0, path) } ?? false) { folders.append((full, path)) }
                    continue
                }
                guard entry.hasSuffix(".yaml") || entry.hasSuffix(".yml") || entry.hasSuffix(".json") else { continue }
                if let include, !Glob.match(include, path) { continue }
                if let exclude, Glob.match(exclude, path) { continue }
                result.append((full, context))
            }
        }
        return result
    }


    private static func chartName(in folder: String) -> String? {
        guard let data = try? BoundedFile.read((folder as NSString).appendingPathComponent("Chart.yaml"), maxBytes: 1 << 20).data,
              let node = try? Yams.compose(yaml: String(decoding: data, as: UTF8.self), .default, .default, .utf8) else { return nil }
        let name = node["name"]?.string
        return name.map { n in node["version"]?.string.map { "\(n) \($0)" } ?? n }
    }

    /// An Application source that names a chart of a Helm repository: app-template is rendered.
    private mutating func helm(chart: String, source: Node, field: String, name: String, owner: String, destination: String?,
                               repository: GitRepository, references: [String: String], location: SourceLocation, appName: String) {
        let version = source["targetRevision"]?.string
        guard chart == AppTemplate.chartName || chart.hasSuffix("/" + AppTemplate.chartName) else {
            unexpanded.append(UnexpandedSource(location: location, kind: "Application", name: name,
                                               reason: "Helm chart \(chart)\(version.map { " " + $0 } ?? "") is not app-template"))
            return
        }
        let helm = source["helm"]
        var values: Node?
        for (index, entry) in (helm?["valueFiles"]?.sequence ?? []).enumerated() {
            guard let path = entry.string else { continue }
            let where_ = "\(owner): \(field).helm.valueFiles[\(index)] \(path)"
            guard path.hasPrefix("$"), let slash = path.firstIndex(of: "/") else {
                note(location, "\(where_) is a file of the chart, not of this repository; not read")
                continue
            }
            guard let root = references[String(path[path.index(after: path.startIndex)..<slash])] else {
                note(location, "\(where_) names no ref: source of this repository; not read")
                continue
            }
            guard let file = GitRepository(root: root, remotes: []).path(String(path[path.index(after: slash)...])) else {
                note(location, "\(where_) leads out of the repository; not read")
                continue
            }
            guard let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data else {
                if helm?["ignoreMissingValueFiles"]?.bool != true { note(location, "\(where_) cannot be read (\(file))") }
                continue
            }
            let (node, problem) = HelmValues.parse(String(decoding: data, as: UTF8.self))
            if let problem { note(SourceLocation(file: file), problem) }
            values = HelmValues.merge(values, node)
        }
        if let text = helm?["values"]?.string {
            let (node, problem) = HelmValues.parse(text)
            if let problem { note(location, "\(owner): \(field).helm.values: \(problem)") }
            values = HelmValues.merge(values, node)
        }
        values = HelmValues.merge(values, helm?["valuesObject"])
        if helm?["parameters"]?.sequence?.isEmpty == false {
            note(location, "\(owner): \(field).helm.parameters are not applied; the routes are rendered without them")
        }
        let release = AppTemplate.Release(name: helm?["releaseName"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? appName,
                                          namespace: destination ?? defaultNamespace, version: version,
                                          location: location, ownerKind: "Application", ownerName: name)
        charts.append(ChartRelease(release: release, values: values))
    }

    // MARK: ApplicationSets

    private mutating func applicationSet(_ node: Node, at location: SourceLocation) -> [Applied] {
        let name = Self.qualifiedName(node)
        let spec = node["spec"]
        let goTemplate = spec?["goTemplate"]?.bool ?? false
        guard let template = spec?["template"] else {
            note(location, "ApplicationSet \(name): no spec.template; nothing generated")
            return []
        }
        // Each Application copies the template: one of many nodes (aliases) times many
        // parameter sets would be a bomb.
        guard YAMLLimits.nodeCount(template, limit: Self.maxTemplateNodes) != nil else {
            note(location, "ApplicationSet \(name): spec.template has more than \(Self.maxTemplateNodes) YAML nodes (aliases expanded); nothing generated")
            return []
        }
        if spec?["templatePatch"] != nil {
            note(location, "ApplicationSet \(name): spec.templatePatch is not applied", isNote: true)
        }
        let repository = repository(of: location.file)
        var sets: [ArgoParameters] = []
        for (index, generator) in (spec?["generators"]?.sequence ?? []).enumerated() {
            switch parameters(generator, field: "spec.generators[\(index)]", name: name, goTemplate: goTemplate,
                              repository: repository, location: location) {
            case .some(let found): sets += found
            case .none: continue
            }
        }
        var files: [Applied] = []
        for set in sets {
            var failures: [(path: String, action: String)] = []
            let rendered = ArgoTemplate(goTemplate: goTemplate, parameters: set).render(template, failures: &failures)
            // What decides the files and their namespace must be rendered; other fields
            // (annotations, syncPolicy, …) do not change the records.
            let decisive = ["metadata.name", "metadata.namespace", "spec.source", "spec.sources", "spec.destination"]
            if let failure = failures.first(where: { f in decisive.contains { f.path == $0 || f.path.hasPrefix($0 + ".") || f.path.hasPrefix($0 + "[") } }) {
                let flat = set.flat
                let parameters = flat["path"].map { "path \($0)" }
                    ?? flat.sorted { $0.key < $1.key }.prefix(3).map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                note(location, "ApplicationSet \(name): template.\(failure.path): action \(failure.action) is not evaluated offline; "
                     + "the Application of parameters \(parameters) is not read")
                continue
            }
            var pairs: [(Node, Node)] = [(Node("apiVersion"), Node("argoproj.io/v1alpha1")), (Node("kind"), Node("Application"))]
            for (key, value) in rendered.mapping ?? [:] { pairs.append((key, value)) }
            files += application(Node(pairs), at: location, via: name)
        }
        return files
    }

    /// The parameter sets of one generator; nil when it is not read (and reported).
    private mutating func parameters(_ generator: Node, field: String, name: String, goTemplate: Bool,
                                     repository: GitRepository?, location: SourceLocation) -> [ArgoParameters]? {
        guard let mapping = generator.mapping, let kind = mapping.first?.0.string else { return nil }
        let body = generator[kind]
        if generator["selector"] != nil {
            note(location, "ApplicationSet \(name): \(field).selector is not applied; every parameter set is kept", isNote: true)
        }
        var sets: [ArgoParameters]
        switch kind {
        case "list":
            if body?["elementsYaml"] != nil {
                note(location, "ApplicationSet \(name): \(field).list.elementsYaml is not read")
            }
            sets = (body?["elements"]?.sequence ?? []).map { element in
                var set = ArgoParameters()
                if case .map(let entries) = ArgoParameter(element) { set.values = entries }
                return set
            }
        case "git":
            guard let body else { return nil }
            guard let repository else {
                unexpanded.append(UnexpandedSource(location: location, kind: "ApplicationSet", name: name,
                                                   reason: "\(field).git: no Git repository (.git) above \(location.file)"))
                return nil
            }
            let url = body["repoURL"]?.string ?? ""
            guard repository.contains(url) else {
                unexpanded.append(UnexpandedSource(location: location, kind: "ApplicationSet", name: name,
                                                   reason: "\(field).git.repoURL \(url) is not this repository"))
                return nil
            }
            let prefix = body["pathParamPrefix"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            if body["directories"] != nil {
                sets = gitDirectories(body, repository: repository, prefix: prefix)
            } else {
                sets = gitFiles(body, repository: repository, prefix: prefix, name: name, location: location)
            }
        case "matrix", "merge":
            let children = body?["generators"]?.sequence ?? []
            var childSets: [[ArgoParameters]] = []
            for (index, child) in children.enumerated() {
                guard let found = parameters(child, field: "\(field).\(kind).generators[\(index)]", name: name, goTemplate: goTemplate,
                                             repository: repository, location: location) else { return nil }
                childSets.append(found)
            }
            if kind == "matrix" {
                guard childSets.count == 2 else {
                    note(location, "ApplicationSet \(name): \(field).matrix has \(childSets.count) generators, not 2; nothing generated")
                    return nil
                }
                guard childSets[0].count * childSets[1].count <= Self.maxApplications else {
                    note(location, "ApplicationSet \(name): \(field).matrix gives \(childSets[0].count) × \(childSets[1].count) parameter sets, "
                         + "more than \(Self.maxApplications); nothing generated")
                    return nil
                }
                sets = childSets[0].flatMap { first in childSets[1].map { first.merging($0) } }
            } else {
                let keys = (body?["mergeKeys"]?.sequence ?? []).compactMap(\.string)
                sets = Self.merge(childSets, keys: keys)
            }
        default:
            unexpanded.append(UnexpandedSource(location: location, kind: "ApplicationSet", name: name,
                                               reason: "\(field).\(kind) generator is not read (it needs the cluster or a remote API)"))
            return nil
        }
        if let extra = body?["values"]?.mapping {
            sets = sets.map { set in
                var values: [String: ArgoParameter] = [:]
                for (key, value) in extra {
                    guard let key = key.string else { continue }
                    let text = (try? ArgoTemplate(goTemplate: goTemplate, parameters: set).render(value.string ?? "")) ?? (value.string ?? "")
                    values[key] = .string(text)
                }
                var updated = set
                updated.values["values"] = .map(values)
                return updated
            }
        }
        return sets
    }

    /// The merge generator (Generators-Merge.md): the first generator's sets, each overridden by
    /// the sets of later generators with the same values of every merge key.
    static func merge(_ children: [[ArgoParameters]], keys: [String]) -> [ArgoParameters] {
        guard var base = children.first else { return [] }
        func identity(_ set: ArgoParameters) -> [String?] { let flat = set.flat; return keys.map { flat[$0] } }
        for later in children.dropFirst() {
            for set in later {
                let id = identity(set)
                for i in base.indices where identity(base[i]) == id { base[i] = base[i].merging(set) }
            }
        }
        return base
    }

    /// Argo CD's `basenameNormalized`: characters other than letters, digits, `-` and `.` become
    /// `-` (Generators-Git.md: `directory_2` → `directory-2`).
    static func normalised(_ name: String) -> String {
        String(name.map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "." ? $0 : "-" })
    }

    static func pathParameters(_ path: String, file: String?, prefix: String?) -> ArgoParameters {
        let segments = path.split(separator: "/").map(String.init)
        let basename = segments.last ?? ""
        var nested: [String: ArgoParameter] = [
            "path": .string(path), "basename": .string(basename), "basenameNormalized": .string(normalised(basename)),
            "segments": .list(segments.map { .string($0) }),
        ]
        var flat: [String: String] = [
            "path": path, "path.path": path, "path.basename": basename, "path.basenameNormalized": normalised(basename),
        ]
        if let file {
            nested["filename"] = .string(file)
            nested["filenameNormalized"] = .string(normalised(file))
            flat["path.filename"] = file
            flat["path.filenameNormalized"] = normalised(file)
        }
        for (i, segment) in segments.enumerated() {
            flat["path[\(i)]"] = segment
            flat["path.segments[\(i)]"] = segment
        }
        var set = ArgoParameters()
        if let prefix {
            set.values[prefix] = .map(["path": .map(nested)])
            set.extraFlat = Dictionary(uniqueKeysWithValues: flat.map { ("\(prefix).\($0.key)", $0.value) })
        } else {
            set.values["path"] = .map(nested)
            set.extraFlat = flat
        }
        return set
    }

    /// A git generator's `directories` or `files`: the `path` patterns to include and those
    /// with `exclude: true`, relative to the repository root.
    private static func patterns(_ entries: Node?) -> (include: [String], exclude: [String]) {
        var include: [String] = []
        var exclude: [String] = []
        for entry in entries?.sequence ?? [] {
            guard var path = entry["path"]?.string else { continue }
            while path.hasPrefix("/") { path.removeFirst() }
            if entry["exclude"]?.bool == true { exclude.append(path) } else { include.append(path) }
        }
        return (include, exclude)
    }

    /// Every folder of the repository (not starting with `.`) matching an included pattern and no
    /// excluded one (exclusions win, whatever their order).
    private func gitDirectories(_ body: Node, repository: GitRepository, prefix: String?) -> [ArgoParameters] {
        let (include, exclude) = Self.patterns(body["directories"])
        let depth = include.map { $0.split(separator: "/").count }.max() ?? 0
        return folders(below: repository.root, depth: depth)
            .filter { path in include.contains { Glob.match($0, path) } && !exclude.contains { Glob.match($0, path) } }
            .map { Self.pathParameters($0, file: nil, prefix: prefix) }
    }

    /// Repository-relative paths of the folders at most `depth` levels below `root`, sorted.
    private func folders(below root: String, depth: Int, matchingFiles: Bool = false) -> [String] {
        var found: [String] = []
        var queue = [(root, "", 0)]
        let manager = FileManager.default
        var visited = 0
        while let (folder, relative, level) = queue.popLast() {
            visited += 1
            guard visited <= GitOpsTree.maxFolderVisits, level < depth else { continue }
            for entry in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] where !entry.hasPrefix(".") {
                let full = (folder as NSString).appendingPathComponent(entry)
                var isFolder: ObjCBool = false
                guard manager.fileExists(atPath: full, isDirectory: &isFolder) else { continue }
                let path = relative.isEmpty ? entry : relative + "/" + entry
                if isFolder.boolValue {
                    if !matchingFiles { found.append(path) }
                    queue.append((full, path, level + 1))
                } else if matchingFiles {
                    found.append(path)
                }
            }
        }
        return found.sorted()
    }

    /// The git file generator: each matching JSON/YAML file's keys (a list gives one set per item)
    /// with the `path` parameters of its folder.
    private mutating func gitFiles(_ body: Node, repository: GitRepository, prefix: String?, name: String,
                                   location: SourceLocation) -> [ArgoParameters] {
        let (include, exclude) = Self.patterns(body["files"])
        let deep = include.contains { $0.contains("**") }
        let depth = deep ? 64 : (include.map { $0.split(separator: "/").count }.max() ?? 0)
        var sets: [ArgoParameters] = []
        for path in folders(below: repository.root, depth: depth, matchingFiles: true)
        where include.contains(where: { Glob.match($0, path) }) && !exclude.contains(where: { Glob.match($0, path) }) {
            guard let file = repository.path(path), let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data else {
                note(location, "ApplicationSet \(name): generator file \(path) cannot be read")
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            guard YAMLLimits.tooDeep(text[...]) == nil, let node = try? Yams.compose(yaml: text, .default, .default, .utf8),
                  YAMLLimits.nodeCount(node, limit: Self.maxTemplateNodes) != nil else {
                note(SourceLocation(file: file), "ApplicationSet \(name): generator file is not JSON or YAML (or above \(Self.maxTemplateNodes) nodes); no parameters from it")
                continue
            }
            let folder = (path as NSString).deletingLastPathComponent
            let base = Self.pathParameters(folder, file: (path as NSString).lastPathComponent, prefix: prefix)
            let items = node.sequence.map(Array.init) ?? [node]
            for item in items {
                var set = ArgoParameters()
                if case .map(let entries) = ArgoParameter(item) { set.values = entries }
                sets.append(set.merging(base))
            }
        }
        return sets
    }
}
