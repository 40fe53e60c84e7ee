import Foundation
import NetIO
import YAMLInput
import Yams

/// A Flux `Kustomization` (kustomize.toolkit.fluxcd.io) found in a file the tree read, as
/// kustomize-controller would build it (Flux docs, "Kustomization" API: `spec.path`,
/// `targetNamespace`, `patches`, `components`, `postBuild`).
struct FluxKustomization: Equatable {
    /// `file:line name`: one document, wherever it is met again.
    var id: String
    /// `namespace/name`.
    var name: String
    var location: SourceLocation
    /// `Kind/namespace/name` of its `sourceRef`.
    var source: String
    /// `spec.path` as written, and its line.
    var path: String
    var pathLine: Int?
    /// The folder `path` names in the repository; nil when it names none.
    var folder: String?
    var targetNamespace: String?
    /// `spec.namePrefix`/`nameSuffix`, which Flux's generator sets on the kustomization.
    var namePrefix: String?
    var nameSuffix: String?
    /// `spec.commonMetadata`, which Flux adds to every object it applies.
    var labels: [String: String]
    var annotations: [String: String]
    var patches: [KustomizePatch]
    /// `spec.components`, relative to `folder`.
    var components: [ParsedKustomization.Entry]
    var variables: [String: String]?
    var secretVariables: [String: String]
    /// The `substituteFrom` sources not found in the repository, described.
    var missingSources: [String]
    /// The Flux Kustomizations whose `path` led to this one's file, the outermost first.
    var chain: [String]

    /// The same build, however it was reached.
    func builds(like other: FluxKustomization) -> Bool {
        var mine = self
        mine.chain = other.chain
        return mine == other
    }
}

/// What the tree knows of the Flux Kustomizations met so far.
struct FluxState {
    /// The last build followed for each Flux Kustomization.
    var followed: [String: FluxKustomization] = [:]
    /// The Flux Kustomizations each file defines (standardized path → ids).
    var definedIn: [String: [String]] = [:]
    var reportedCycles: Set<String> = []
    /// `Kind/namespace/name` of the sources the entry point's Flux Kustomizations build from.
    var repositorySources: Set<String> = []
    var follows = 0
    var sources: SubstitutionSources?
}

extension GitOpsTree {
    static let fluxGroup = Array("kustomize.toolkit.fluxcd.io".utf8)
    /// The most times Flux Kustomizations are followed in one read (each is followed again only
    /// when the context of its file changes what it builds).
    static let maxFluxFollows = 20_000
    /// A file of Flux Kustomizations up to this size is counted, not parsed again, by the reader.
    static let maxFluxOnlyBytes = 256 << 10

    /// Follows every Flux Kustomization in the files read, then those in the files that
    /// reaches, until no file is left unsearched: the chains the cluster follows from the
    /// entry point, in any order (`dependsOn` orders applying, not what is applied).
    mutating func followFlux() {
        while !pendingScan.isEmpty {
            let batch = Set(pendingScan).sorted()
            pendingScan = []
            var found: [FluxKustomization] = []
            for i in batch { found += discoverFlux(in: files[i].path, context: files[i].context) }
            // The sources the entry point's Flux Kustomizations build from are this repository.
            for kustomization in found where kustomization.chain.isEmpty && kustomization.folder != nil {
                flux.repositorySources.insert(kustomization.source)
            }
            // Shallower folders first, so that a deeper Flux Kustomization's context decides.
            for kustomization in found.sorted(by: { ($0.folder ?? "").count < ($1.folder ?? "").count }) {
                let isRepository = flux.repositorySources.isEmpty || flux.repositorySources.contains(kustomization.source)
                guard let folder = kustomization.folder, isRepository || kustomization.chain.isEmpty else {
                    notFollowed(kustomization, isRepository: isRepository)
                    continue
                }
                if let done = flux.followed[kustomization.id], done.builds(like: kustomization) { continue }
                flux.follows += 1
                guard flux.follows <= Self.maxFluxFollows else {
                    note(kustomization.location.file, kustomization.location.line,
                         "more than \(Self.maxFluxFollows) Flux Kustomizations followed; the rest is not read")
                    return
                }
                flux.followed[kustomization.id] = kustomization
                let context = FileContext(variables: kustomization.variables, secretVariables: kustomization.secretVariables,
                                          missingSources: kustomization.missingSources,
                                          fluxChain: kustomization.chain + [kustomization.id], fluxDepth: folder.count)
                walk(folder, context: context, stack: [], top: true, flux: kustomization)
            }
        }
    }

    /// One whose `path` is not in the repository is an error; one that builds from another
    /// source (a GitRepository of a vendor's manifests, an OCIRepository) than the entry
    /// point's Flux Kustomizations reads files that are not here: both are listed as not expanded.
    private mutating func notFollowed(_ kustomization: FluxKustomization, isRepository: Bool) {
        let location = kustomization.location
        if isRepository {
            let root = repoRoot.map { "the repository at \($0)" } ?? "any folder above this file"
            note(location.file, kustomization.pathLine, "spec.path \(kustomization.path) is not a folder of \(root); not followed")
            unexpanded.append(UnexpandedSource(location: SourceLocation(file: location.file, line: kustomization.pathLine), kind: "Kustomization",
                                               name: kustomization.name, reason: "spec.path \(kustomization.path) is not in this repository"))
        } else {
            note(location.file, location.line, "Flux Kustomization \(kustomization.name) builds from \(kustomization.source), "
                 + "not from this repository; not read", isNote: true)
            unexpanded.append(UnexpandedSource(location: location, kind: "Kustomization", name: kustomization.name,
                                               reason: "source \(kustomization.source) is not this repository"))
        }
    }

    /// A Flux Kustomization whose walk reaches the file that defines another one of its chain
    /// is a cycle. One that reaches its own file is Flux's bootstrap layout (`flux-system`
    /// applies the folder that defines it) and is not one.
    mutating func checkFluxCycle(file: String, context: FileContext) {
        guard let ids = flux.definedIn[file], let last = context.fluxChain.last else { return }
        for id in ids where id != last {
            guard let start = context.fluxChain.firstIndex(of: id), !flux.reportedCycles.contains(id) else { continue }
            flux.reportedCycles.insert(id)
            let cycle = (context.fluxChain[start...] + [id]).joined(separator: " → ")
            note(file, nil, "Flux Kustomization cycle refused: \(cycle); not followed again")
        }
    }

    /// The Flux Kustomizations `file` defines, read as its context builds them: substituted
    /// with its variables and transformed by its kustomizations (a parent's `patches` often
    /// add `postBuild` to its children).
    /// A file of Flux Kustomizations alone, whose substitution left nothing unresolved, is not
    /// parsed again by the reader (`fluxOnly`).
    mutating func discoverFlux(in file: String, context: FileContext) -> [FluxKustomization] {
        fluxOnly[file] = nil
        // Read as the reader reads it (BoundedFile, `maxFileBytes`, the depth scan): a file it
        // refuses, and reports, gives no Flux Kustomization to the rest of the tree.
        guard let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data,
              // Most files name no Flux Kustomization: a byte search passes them over unparsed.
              Bytes.contains(data, Self.fluxGroup) else { return [] }
        var text = String(decoding: data, as: UTF8.self)
        var onlyFlux = data.count <= Self.maxFluxOnlyBytes
        if let variables = context.variables {
            let substituted = VariableSubstitution.substitute(text, variables: variables)
            text = substituted.text
            onlyFlux = onlyFlux && substituted.unresolved.isEmpty
        }
        guard YAMLLimits.tooDeep(text[...]) == nil, var documents = try? Yams.compose_all(yaml: text, .default, .default, .utf8) else { return [] }
        let path = Self.standardized(file)
        var found: [FluxKustomization] = []
        var count = 0
        defer {
            if onlyFlux, documents.error == nil, count == DocumentSplitter.split(text).count { fluxOnly[file] = count }
        }
        while let document = documents.next() {
            count += 1
            let isFlux = document.mapping?.value("kind")?.string == "Kustomization"
                && document.mapping?.value("apiVersion")?.string?.hasPrefix("kustomize.toolkit.fluxcd.io/") == true
            onlyFlux = onlyFlux && isFlux
            guard isFlux, let root = applier.apply(context.layers.reversed(), to: document), let object = root.mapping,
                  let spec = object.value("spec")?.mapping else { continue }
            let line = document.mark.map { $0.line }
            let name = KustomizeApplier.string(root, ["metadata", "name"]) ?? "?"
            let namespace = KustomizeApplier.string(root, ["metadata", "namespace"]) ?? "flux-system"
            // The document, whatever namespace a parent's targetNamespace gives it.
            let id = "\(file):\(line ?? 0) \(name)"
            if !flux.definedIn[path, default: []].contains(id) { flux.definedIn[path, default: []].append(id) }
            if spec.value("suspend")?.bool == true {
                note(file, line, "Flux Kustomization \(namespace)/\(name) is suspended; its path is not read", isNote: true)
                continue
            }
            let pathLine = spec.value("path")?.mark.map { $0.line } ?? line
            let relative = spec.value("path")?.string ?? ""
            let sourceRef = spec.value("sourceRef")?.mapping
            let source = "\(sourceRef?.value("kind")?.string ?? "?")/\(sourceRef?.value("namespace")?.string ?? namespace)/\(sourceRef?.value("name")?.string ?? "?")"
            var patches: [KustomizePatch] = []
            for entry in spec.value("patches")?.sequence ?? [] {
                guard let body = entry.value("patch")?.string else { continue }
                patches += Self.patches(body, target: Self.target(entry.value("target")),
                                        location: SourceLocation(file: file, line: entry.mark.map { $0.line }), forceJSON: false)
            }
            let components = (spec.value("components")?.sequence ?? []).compactMap { node in
                node.string.map { ParsedKustomization.Entry(path: $0, line: node.mark.map { $0.line }, field: "components") }
            }
            let common = spec.value("commonMetadata")?.mapping
            let (variables, secrets, missing) = variables(spec.value("postBuild")?.mapping, namespace: namespace, file: file)
            found.append(FluxKustomization(
                id: id, name: "\(namespace)/\(name)", location: SourceLocation(file: file, line: line), source: source,
                path: relative, pathLine: pathLine, folder: resolve(relative, definedIn: file),
                targetNamespace: spec.value("targetNamespace")?.string.flatMap { $0.isEmpty ? nil : $0 },
                namePrefix: spec.value("namePrefix")?.string.flatMap { $0.isEmpty ? nil : $0 },
                nameSuffix: spec.value("nameSuffix")?.string.flatMap { $0.isEmpty ? nil : $0 },
                labels: Self.strings(common?.value("labels")), annotations: Self.strings(common?.value("annotations")),
                patches: patches, components: components, variables: variables, secretVariables: secrets,
                missingSources: missing, chain: context.fluxChain))
        }
        return found
    }

    /// The variables of `postBuild`, as kustomize-controller gathers them: `substituteFrom`
    /// in order (a later source wins), then `substitute` over them. `--var`/`--vars-file`
    /// come between: they override what the repository's ConfigMaps say and stand for the
    /// Secrets' values, which are never read. Nil when nothing is substituted.
    private mutating func variables(_ postBuild: Node.Mapping?, namespace: String, file: String)
        -> (values: [String: String]?, secrets: [String: String], missing: [String]) {
        guard postBuild != nil || !globals.isEmpty else { return (nil, [:], []) }
        var values: [String: String] = [:]
        var secrets: [String: String] = [:]
        var missing: [String] = []
        for reference in postBuild?.value("substituteFrom")?.sequence ?? [] {
            let line = reference.mark.map { $0.line }
            guard let kind = reference.value("kind")?.string, kind == "ConfigMap" || kind == "Secret",
                  let name = reference.value("name")?.string else {
                note(file, line, "postBuild.substituteFrom: an entry without kind ConfigMap/Secret and name; passed over")
                continue
            }
            if flux.sources == nil { flux.sources = SubstitutionSources(roots: searchRoots, maxFileBytes: maxFileBytes) }
            guard let source = flux.sources?.find(kind: kind, name: name, namespace: namespace) else {
                // Often made outside Git (a bootstrap Secret): said only where a variable lacks a value.
                let hint = flux.sources?.hashedNames.contains("\(kind)/\(name)") == true
                    ? ", whose generator in the repository suffixes its name with a hash Flux does not know" : ""
                missing.append("substituteFrom \(kind) \(name) is not in the repository\(hint)")
                continue
            }
            for (key, value) in source.data {
                if kind == "Secret" {
                    values[key] = nil
                    secrets[key] = "Secret \(name) (\(source.location))"
                } else {
                    values[key] = value
                    secrets[key] = nil
                }
            }
        }
        for (key, value) in globals {
            values[key] = value
            secrets[key] = nil
        }
        for (key, value) in GitOpsTree.strings(postBuild?.value("substitute")) {
            values[key] = value
            secrets[key] = nil
        }
        return (values, secrets, missing)
    }

    /// The folder a Flux `path` names. Flux joins it to the root of its source, never leaving
    /// it (fluxcd/pkg securejoin); with no known root, the first folder at or above the file
    /// that holds `path` is taken as that root.
    func resolve(_ path: String, definedIn file: String) -> String? {
        var relative = path
        while relative.hasPrefix("./") { relative.removeFirst(2) }
        while relative.hasSuffix("/") { relative.removeLast() }
        var isFolder: ObjCBool = false
        if let repoRoot {
            let candidate = Self.joined(repoRoot, relative)
            guard candidate == repoRoot || candidate.hasPrefix(repoRoot + "/"),
                  manager.fileExists(atPath: candidate, isDirectory: &isFolder), isFolder.boolValue else { return nil }
            return candidate
        }
        var folder = URL(fileURLWithPath: (file as NSString).deletingLastPathComponent).standardizedFileURL
        while true {
            let candidate = relative.isEmpty ? folder : folder.appendingPathComponent(relative)
            if manager.fileExists(atPath: candidate.path, isDirectory: &isFolder), isFolder.boolValue {
                return candidate.standardizedFileURL.path
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }
}

/// The ConfigMaps and Secrets in the repository, for `postBuild.substituteFrom`: those written
/// as objects, and those a kustomize `configMapGenerator`/`secretGenerator` makes from
/// `literals`, `envs` and `files`. A Secret gives only its keys: its values (often SOPS
/// ciphertext) are dropped — an object's are never read, but a `secretGenerator`'s `envs` and
/// `files` are read (bounded) for their keys, their values then emptied.
struct SubstitutionSources {
    struct Source {
        var namespace: String?
        /// A ConfigMap's values; a Secret's keys, with empty values.
        var data: [String: String]
        var location: SourceLocation
    }

    private var sources: [String: [Source]] = [:]
    static let markers = ["\nkind: ConfigMap", "\nkind: Secret", "\nconfigMapGenerator:", "\nsecretGenerator:"].map { Array($0.utf8) }
    /// `Kind/name` of generated objects whose names kustomize suffixes with a hash.
    private(set) var hashedNames: Set<String> = []

    init(roots: [String], maxFileBytes: Int) {
        for file in ManifestLoader.files(in: roots).files {
            // An object's own `kind:` starts a line (a `substituteFrom` entry's is indented):
            // the files that only mention a ConfigMap or Secret are passed over unparsed.
            guard let data = try? BoundedFile.read(file, maxBytes: maxFileBytes).data,
                  Self.markers.contains(where: { data.starts(with: $0.dropFirst()) || Bytes.contains(data, $0) }) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            guard YAMLLimits.tooDeep(text[...]) == nil, var documents = try? Yams.compose_all(yaml: text, .default, .default, .utf8) else { continue }
            while let document = documents.next() {
                guard let object = document.mapping else { continue }
                let line = document.mark.map { $0.line }
                let location = SourceLocation(file: file, line: line)
                switch object["kind"]?.string {
                case "ConfigMap" where object["apiVersion"]?.string == "v1":
                    add("ConfigMap", object, data: GitOpsTree.strings(object["data"]), location: location)
                case "Secret" where object["apiVersion"]?.string == "v1":
                    var keys: [String: String] = [:]
                    for field in ["data", "stringData"] {
                        for (key, _) in object[field]?.mapping ?? [:] { if let key = key.string { keys[key] = "" } }
                    }
                    add("Secret", object, data: keys, location: location)
                default:
                    if GitOpsTree.kustomizationNames.contains((file as NSString).lastPathComponent) {
                        generated(object, file: file)
                    }
                }
            }
        }
    }

    private mutating func add(_ kind: String, _ object: Node.Mapping, data: [String: String], location: SourceLocation) {
        guard let name = object["metadata"]?.mapping?["name"]?.string else { return }
        sources["\(kind)/\(name)", default: []].append(
            Source(namespace: object["metadata"]?.mapping?["namespace"]?.string, data: data, location: location))
    }

    /// What a kustomization's generators make (kustomize's `configMapGenerator` and
    /// `secretGenerator`: `literals` `K=V`, `envs` dotenv files, `files` `[key=]path`).
    private mutating func generated(_ kustomization: Node.Mapping, file: String) {
        let folder = (file as NSString).deletingLastPathComponent
        let hashAll = kustomization["generatorOptions"]?["disableNameSuffixHash"]?.bool != true
        for (field, kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
            for entry in kustomization[field]?.sequence ?? [] {
                guard let name = entry["name"]?.string else { continue }
                let hashed = entry["options"]?["disableNameSuffixHash"]?.bool.map { !$0 } ?? hashAll
                if hashed {
                    hashedNames.insert("\(kind)/\(name)")
                    continue
                }
                var data: [String: String] = [:]
                for literal in entry["literals"]?.sequence ?? [] {
                    if let text = literal.string, let (key, value) = VariableSubstitution.parseAssignment(text) { data[key] = value }
                }
                for env in entry["envs"]?.sequence ?? [] {
                    guard let relative = env.string,
                          let text = try? BoundedFile.read(GitOpsTree.joined(folder, relative), maxBytes: GitOpsTree.maxKustomizationBytes).data,
                          let values = try? VariableSubstitution.parseFile(String(decoding: text, as: UTF8.self), file: relative) else { continue }
                    data.merge(values) { $1 }
                }
                for item in entry["files"]?.sequence ?? [] {
                    guard let spec = item.string else { continue }
                    let (key, relative) = spec.contains("=")
                        ? (String(spec.prefix { $0 != "=" }), String(spec.drop { $0 != "=" }.dropFirst()))
                        : ((spec as NSString).lastPathComponent, spec)
                    guard let text = try? BoundedFile.read(GitOpsTree.joined(folder, relative), maxBytes: GitOpsTree.maxKustomizationBytes).data else { continue }
                    data[key] = String(decoding: text, as: UTF8.self)
                }
                if kind == "Secret" { data = data.mapValues { _ in "" } }
                let namespace = entry["namespace"]?.string ?? kustomization["namespace"]?.string
                sources["\(kind)/\(name)", default: []].append(
                    Source(namespace: namespace, data: data, location: SourceLocation(file: file, line: entry.mark.map { $0.line })))
            }
        }
    }

    /// The source Flux would read: one in the Flux Kustomization's namespace, else the first
    /// one of that name (objects in Git often take their namespace from a kustomization).
    func find(kind: String, name: String, namespace: String) -> Source? {
        guard let candidates = sources["\(kind)/\(name)"] else { return nil }
        return candidates.first { $0.namespace == namespace } ?? candidates.first
    }
}
