import Foundation
import NetIO
import YAMLInput
import Yams

/// A patch of a kustomization (or a Flux Kustomization's `spec.patches`), kept as its text: it
/// is parsed where it is applied (`KustomizeApplier`), and a context stays a plain value.
struct KustomizePatch: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A strategic merge patch. Gateway API objects are custom resources, for which
        /// kustomize has no schema: it merges them as a JSON merge patch (RFC 7386) — maps
        /// merged, lists replaced whole, `null` deleting — which `kubectl kustomize` (v5.5)
        /// confirms on the fixtures of `KustomizeOracleTests`.
        case strategicMerge
        /// RFC 6902 operations: add, remove, replace, move, copy, test.
        case json6902
    }

    var kind: Kind
    var text: String
    /// Which objects it applies to; nil for a strategic merge patch that names its object.
    var target: PatchTarget?
    var location: SourceLocation
}

/// kustomize's patch `target` selector: every field given must match, `group`, `version`,
/// `kind`, `name` and `namespace` as regular expressions anchored at both ends (kustomize's
/// `types.SelectorRegex`), the selectors as label selectors.
struct PatchTarget: Sendable, Equatable {
    var group: String?
    var version: String?
    var kind: String?
    var name: String?
    var namespace: String?
    var labelSelector: String?
    var annotationSelector: String?
}

/// What one kustomization does to the objects it builds, in the order kustomize v5 runs its
/// built-in transformers (api/internal/target/kusttarget.go, `configureBuiltinTransformers`):
/// strategic merge patches and `patches`, then `namespace`, `namePrefix`/`nameSuffix`, labels,
/// annotations, then `patchesJson6902`.
struct KustomizeLayer: Sendable, Equatable {
    /// The kustomization file (or Flux Kustomization) this layer comes from.
    var file: String
    var patches: [KustomizePatch] = []
    var namespace: String?
    var labels: [String: String] = [:]
    var annotations: [String: String] = [:]
    var json6902: [KustomizePatch] = []
    /// `namePrefix`/`nameSuffix` (a kustomization's, a Flux Kustomization's, an Argo CD kustomize source's).
    var namePrefix = ""
    var nameSuffix = ""

    var isEmpty: Bool {
        patches.isEmpty && namespace == nil && labels.isEmpty && annotations.isEmpty && json6902.isEmpty
            && namePrefix.isEmpty && nameSuffix.isEmpty
    }
}

extension Node.Mapping {
    /// The value of the last key whose text is `key`. Yams's `subscript(string:)` compares
    /// nodes, resolving both tags with regular expressions on every comparison: a profile of a
    /// 2,000-app repository spent a quarter of its time there. The pairs are walked forwards:
    /// a Mapping is not bidirectional, so `reversed()` would copy them into an array first.
    func value(_ key: String) -> Node? {
        var found: Node?
        for (name, value) in self where name.scalar?.string == key { found = value }
        return found
    }

    /// This mapping with `key` set to `value`, or removed when `value` is nil.
    func setting(_ key: String, _ value: Node?) -> Node.Mapping {
        var pairs = map { ($0.key, $0.value) }
        if let index = pairs.lastIndex(where: { $0.0.scalar?.string == key }) {
            if let value { pairs[index].1 = value } else { pairs.remove(at: index) }
        } else if let value {
            pairs.append((Node(key), value))
        }
        return Node.Mapping(pairs, tag, style, mark)
    }
}

extension Node {
    /// A mapping's value by its key's text (`Node.Mapping.value`), without Yams's subscript's
    /// tag resolution; nil for a scalar or a sequence.
    func value(_ key: String) -> Node? { mapping?.value(key) }
}

/// Applies layers to objects, as YAML nodes before they are decoded.
struct KustomizeApplier {
    /// Kinds that have no namespace, among those kustomize knows (its built-in schema); the
    /// namespace transform leaves them alone, and renames a `Namespace` itself.
    static let clusterScoped: Set<String> = [
        "Namespace", "GatewayClass", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "PersistentVolume", "StorageClass", "PriorityClass", "Node", "APIService", "ClusterIssuer",
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "IngressClass", "RuntimeClass",
    ]
    /// Kinds whose names `namePrefix`/`nameSuffix` leave alone (kustomize's
    /// prefixSuffixFieldSpecsToSkip in api/internal/builtins/PrefixTransformer.go).
    static let unprefixed: Set<String> = ["CustomResourceDefinition", "APIService", "Namespace"]

    private var parsed: [String: Node?] = [:]
    private var regexes: [String: NSRegularExpression?] = [:]
    private(set) var diagnostics: [ManifestDiagnostic] = []
    /// The patches without a target that matched an object (`Self.key`).
    private(set) var applied: Set<String> = []

    static func key(_ patch: KustomizePatch) -> String { "\(patch.location)\u{0}\(patch.text)" }

    /// The strategic merge patches of `layers` that name an object and met none: kustomize
    /// fails the build ("no resource matches strategic merge patch").
    func unmatched(in layers: [KustomizeLayer], appliedElsewhere: Set<String> = []) -> [ManifestDiagnostic] {
        var seen: Set<String> = []
        var result: [ManifestDiagnostic] = []
        for patch in layers.flatMap(\.patches) where patch.target == nil && patch.kind == .strategicMerge {
            let key = Self.key(patch)
            guard !applied.contains(key), !appliedElsewhere.contains(key), seen.insert(key).inserted else { continue }
            result.append(ManifestDiagnostic(location: patch.location,
                                             message: "strategic merge patch matches no object built here (kustomize fails the build)"))
        }
        return result
    }

    /// `object` after `layers` (innermost first); nil when a patch deletes it (`$patch: delete`).
    mutating func apply(_ layers: [KustomizeLayer], to object: Node) -> Node? {
        guard case .mapping = object else { return object }
        var object = object
        // kustomize matches a patch by an object's current or any earlier namespace.
        var namespaces: Set<String> = [Self.string(object, ["metadata", "namespace"]) ?? ""]
        // ... and by its current or any earlier name (before a prefix or suffix).
        var names: Set<String> = [Self.string(object, ["metadata", "name"]) ?? ""]
        for layer in layers {
            for patch in layer.patches {
                guard let result = apply(patch, to: object, namespaces: namespaces, names: names) else { return nil }
                object = result
            }
            let kind = Self.string(object, ["kind"]) ?? ""
            if let namespace = layer.namespace {
                if kind == "Namespace" {
                    object = Self.setting(object, ["metadata", "name"], Node(namespace))
                } else if !Self.clusterScoped.contains(kind) {
                    object = Self.setting(object, ["metadata", "namespace"], Node(namespace))
                    namespaces.insert(namespace)
                }
            }
            // kustomize's order: namespace, then prefix and suffix, then labels (kusttarget.go).
            if !(layer.namePrefix.isEmpty && layer.nameSuffix.isEmpty), !Self.unprefixed.contains(kind),
               let name = Self.string(object, ["metadata", "name"]) {
                let renamed = layer.namePrefix + name + layer.nameSuffix
                object = Self.setting(object, ["metadata", "name"], Node(renamed, Tag(.str)))
                names.insert(renamed)
            }
            for (key, value) in layer.labels.sorted(by: { $0.key < $1.key }) {
                object = Self.setting(object, ["metadata", "labels", key], Node(value, Tag(.str)))
            }
            for (key, value) in layer.annotations.sorted(by: { $0.key < $1.key }) {
                object = Self.setting(object, ["metadata", "annotations", key], Node(value, Tag(.str)))
            }
            for patch in layer.json6902 {
                guard let result = apply(patch, to: object, namespaces: namespaces, names: names) else { return nil }
                object = result
            }
        }
        return object
    }

    private mutating func note(_ location: SourceLocation, _ message: String) {
        diagnostics.append(ManifestDiagnostic(location: location, message: message))
    }

    private mutating func node(of patch: KustomizePatch) -> Node? {
        let key = Self.key(patch)
        if let cached = parsed[key] { return cached }
        var node: Node?
        do {
            node = try Yams.compose(yaml: patch.text, .default, .default, .utf8)
        } catch {
            let (_, message) = ManifestLoader.describe(error)
            note(patch.location, "patch is not YAML: \(message); not applied")
        }
        parsed[key] = node
        return node
    }

    private mutating func apply(_ patch: KustomizePatch, to object: Node, namespaces: Set<String>, names: Set<String>) -> Node? {
        guard let body = node(of: patch) else { return object }
        if let target = patch.target {
            guard matches(target, object, namespaces: namespaces, names: names) else { return object }
        } else {
            // A strategic merge patch without a target names its object: kind and name, and a
            // namespace the object has or had (none stands for the default namespace).
            guard Self.string(body, ["kind"]) == Self.string(object, ["kind"]),
                  let name = Self.string(body, ["metadata", "name"]), names.contains(name) else { return object }
            let namespace = Self.string(body, ["metadata", "namespace"])
            if let namespace, !namespaces.contains(namespace) { return object }
            if namespace == nil, !namespaces.contains(""), !namespaces.contains("default") { return object }
            applied.insert(Self.key(patch))
        }
        switch patch.kind {
        case .strategicMerge:
            guard case .mapping(var mapping) = body else {
                note(patch.location, "a strategic merge patch is a map; not applied")
                return object
            }
            if mapping.value("$patch")?.string == "delete" { return nil }
            // The patch names its object; it never renames or moves it.
            for key in ["apiVersion", "kind"] { mapping = mapping.setting(key, nil) }
            var patchBody = Node.mapping(mapping)
            for key in ["name", "namespace"] where Self.string(patchBody, ["metadata", key]) != nil {
                patchBody = Self.setting(patchBody, ["metadata", key], nil)
            }
            return Self.mergePatch(object, patchBody)
        case .json6902:
            guard let operations = body.sequence else {
                note(patch.location, "a JSON 6902 patch is a list of operations; not applied")
                return object
            }
            do {
                return try JSONPatch.apply(Array(operations), to: object)
            } catch {
                note(patch.location, "JSON 6902 patch not applied to \(Self.string(object, ["kind"]) ?? "?") "
                     + "\(Self.string(object, ["metadata", "name"]) ?? "?"): \(error.message) (kustomize fails the build)")
                return object
            }
        }
    }

    private mutating func matches(_ target: PatchTarget, _ object: Node, namespaces: Set<String>, names: Set<String>) -> Bool {
        let apiVersion = Self.string(object, ["apiVersion"]) ?? ""
        let (group, version) = apiVersion.contains("/")
            ? (String(apiVersion.prefix { $0 != "/" }), String(apiVersion.drop { $0 != "/" }.dropFirst()))
            : ("", apiVersion)
        func full(_ pattern: String?, _ value: String) -> Bool {
            guard let pattern else { return true }
            if !regexes.keys.contains(pattern) { regexes[pattern] = try? NSRegularExpression(pattern: "^(?:\(pattern))$") }
            guard let regex = regexes[pattern] ?? nil else { return pattern == value }
            return regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
        }
        let string = Self.string
        guard full(target.group, group), full(target.version, version), full(target.kind, string(object, ["kind"]) ?? "") else { return false }
        if let name = target.name, !names.contains(where: { full(name, $0) }) { return false }
        if let namespace = target.namespace, !namespaces.contains(where: { full(namespace, $0) }) { return false }
        for (selector, field) in [(target.labelSelector, "labels"), (target.annotationSelector, "annotations")] {
            guard let selector else { continue }
            var values: [String: String] = [:]
            for (key, value) in object.mapping?.value("metadata")?.mapping?.value(field)?.mapping ?? [:] {
                if let key = key.string, let value = value.string { values[key] = value }
            }
            guard let parsed = try? LabelSelector(parsing: selector), parsed.matches(values) else { return false }
        }
        return true
    }

    /// RFC 7386: maps merged key by key, `null` removing a key, anything else replacing.
    /// kustomize's strategic merge directives on a map: `$patch: replace` replaces it whole,
    /// `$patch: delete` removes it; other `$` keys are directives, never copied.
    static func mergePatch(_ target: Node, _ patch: Node) -> Node? {
        guard case .mapping(let patchMap) = patch else { return patch }
        switch patchMap.value("$patch")?.string {
        case "delete": return nil
        case "replace": return .mapping(patchMap.setting("$patch", nil))
        default: break
        }
        var result: Node.Mapping = target.mapping ?? Node.Mapping([])
        for (key, value) in patchMap {
            guard let name = key.scalar?.string, !name.hasPrefix("$") else { continue }
            if value.null != nil {
                result = result.setting(name, nil)
                continue
            }
            result = result.setting(name, mergePatch(result.value(name) ?? .mapping(Node.Mapping([])), value))
        }
        return .mapping(result)
    }

    static func string(_ node: Node, _ path: [String]) -> String? {
        var current = node
        for key in path {
            guard let next = current.mapping?.value(key) else { return nil }
            current = next
        }
        return current.string
    }

    /// `node` with the value at `path` set (maps made as needed), or removed when `value` is nil.
    static func setting(_ node: Node, _ path: [String], _ value: Node?) -> Node {
        guard let key = path.first else { return value ?? node }
        let mapping = node.mapping ?? Node.Mapping([])
        if path.count == 1 { return .mapping(mapping.setting(key, value)) }
        return .mapping(mapping.setting(key, setting(mapping.value(key) ?? Node([(Node, Node)]()), Array(path.dropFirst()), value)))
    }
}

/// RFC 6902 JSON Patch on YAML nodes, with RFC 6901 pointers (`~0`, `~1`, `-` to append).
enum JSONPatch {
    struct Failure: Error {
        var message: String
    }

    static func apply(_ operations: [Node], to document: Node) throws(Failure) -> Node {
        var document = document
        for (index, operation) in operations.enumerated() {
            guard let op = operation.mapping?["op"]?.string, let path = operation.mapping?["path"]?.string else {
                throw Failure(message: "operation \(index + 1) has no op or path")
            }
            let pointer = try parse(path)
            switch op {
            case "add":
                document = try add(document, pointer, try value(operation, index))
            case "remove":
                _ = try get(document, pointer)
                document = try remove(document, pointer)
            case "replace":
                _ = try get(document, pointer)
                document = try add(try remove(document, pointer), pointer, try value(operation, index))
            case "move", "copy":
                guard let from = operation.mapping?["from"]?.string else { throw Failure(message: "\(op) at \(path) has no from") }
                let source = try parse(from)
                let moved = try get(document, source)
                if op == "move" { document = try remove(document, source) }
                document = try add(document, pointer, moved)
            case "test":
                let actual = try get(document, pointer)
                guard equal(actual, try value(operation, index)) else { throw Failure(message: "test at \(path) failed") }
            default:
                throw Failure(message: "unknown op \(op)")
            }
        }
        return document
    }

    private static func value(_ operation: Node, _ index: Int) throws(Failure) -> Node {
        guard let value = operation.mapping?["value"] else { throw Failure(message: "operation \(index + 1) has no value") }
        return value
    }

    static func parse(_ pointer: String) throws(Failure) -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { throw Failure(message: "\(pointer) is not a JSON pointer") }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ node: Node, _ pointer: [String]) throws(Failure) -> Node {
        var current = node
        for token in pointer {
            switch current {
            case .mapping(let mapping):
                guard let next = mapping.value(token) else { throw Failure(message: "no /\(pointer.joined(separator: "/"))") }
                current = next
            case .sequence(let sequence):
                guard let index = Int(token), sequence.indices.contains(index) else { throw Failure(message: "no /\(pointer.joined(separator: "/"))") }
                current = sequence[index]
            default:
                throw Failure(message: "no /\(pointer.joined(separator: "/"))")
            }
        }
        return current
    }

    private static func add(_ node: Node, _ pointer: [String], _ value: Node) throws(Failure) -> Node {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch node {
        case .mapping(let mapping):
            if rest.isEmpty { return .mapping(mapping.setting(token, value)) }
            guard let child = mapping.value(token) else { throw Failure(message: "no parent for /\(pointer.joined(separator: "/"))") }
            return .mapping(mapping.setting(token, try add(child, rest, value)))
        case .sequence(let sequence):
            var items = Array(sequence)
            let index = token == "-" ? items.count : Int(token) ?? -1
            if rest.isEmpty {
                guard index >= 0, index <= items.count else { throw Failure(message: "index \(token) out of range") }
                items.insert(value, at: index)
            } else {
                guard items.indices.contains(index) else { throw Failure(message: "index \(token) out of range") }
                items[index] = try add(items[index], rest, value)
            }
            return Node(items, sequence.tag, sequence.style)
        default:
            throw Failure(message: "cannot add below a scalar at /\(pointer.joined(separator: "/"))")
        }
    }

    private static func remove(_ node: Node, _ pointer: [String]) throws(Failure) -> Node {
        guard let token = pointer.first else { throw Failure(message: "cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch node {
        case .mapping(let mapping):
            guard let child = mapping.value(token) else { throw Failure(message: "no /\(pointer.joined(separator: "/"))") }
            return .mapping(mapping.setting(token, rest.isEmpty ? nil : try remove(child, rest)))
        case .sequence(let sequence):
            var items = Array(sequence)
            guard let index = Int(token), items.indices.contains(index) else { throw Failure(message: "index \(token) out of range") }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = try remove(items[index], rest) }
            return Node(items, sequence.tag, sequence.style)
        default:
            throw Failure(message: "no /\(pointer.joined(separator: "/"))")
        }
    }

    /// Equality of values, as JSON compares them (scalars by their text, maps by their keys).
    static func equal(_ a: Node, _ b: Node) -> Bool {
        switch (a, b) {
        case (.scalar(let x), .scalar(let y)): return x.string == y.string
        case (.sequence(let x), .sequence(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.mapping(let x), .mapping(let y)):
            return x.count == y.count && x.allSatisfy { pair in pair.key.scalar.flatMap { y.value($0.string) }.map { equal(pair.value, $0) } ?? false }
        default: return false
        }
    }
}

/// A kustomization file as read: what it lists and the layer it applies.
struct ParsedKustomization {
    struct Entry: Sendable, Equatable {
        var path: String
        var line: Int?
        var field: String
    }

    var file: String
    /// The folder its paths are relative to.
    var folder: String
    var layer: KustomizeLayer
    var resources: [Entry] = []
    var components: [Entry] = []
}

extension GitOpsTree {
    /// Keys that cannot change a Gateway API object, DNSEndpoint or Namespace: images and
    /// replicas touch workloads, generators make ConfigMaps and Secrets (read for Flux's
    /// `substituteFrom` by `SubstitutionSources`), the rest is metadata about the build.
    static let passedOverKeys: Set<String> = [
        "apiVersion", "kind", "metadata", "images", "replicas", "configMapGenerator", "secretGenerator",
        "generatorOptions", "sortOptions", "buildMetadata", "openapi", "crds",
    ]
    /// Keys that make objects netagent does not make: reported as unexpanded.
    static let generatingKeys: Set<String> = ["helmCharts", "helmChartInflationGenerator", "generators"]

    /// The text of a kustomization or patch file, bounded, with the context's variables
    /// substituted (Flux substitutes the built output, which holds what patches wrote).
    mutating func readText(of file: String, maxBytes: Int, variables: [String: String]?, from: String, line: Int?) -> String? {
        let data: Data
        do {
            data = try BoundedFile.read(file, maxBytes: maxBytes).data
        } catch {
            note(from, line, "\(file) cannot be read: \(error.description)")
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let variables else { return text }
        return VariableSubstitution.substitute(text, variables: variables).text
    }

    /// Reads a kustomization; nil (with a diagnostic) when it cannot be read. `quiet` leaves the
    /// notes about keys to the read that builds it (a component's layer is read twice).
    mutating func parse(kustomization file: String, variables: [String: String]?, quiet: Bool = false) -> ParsedKustomization? {
        guard let text = readText(of: file, maxBytes: Self.maxKustomizationBytes, variables: variables, from: file, line: nil) else { return nil }
        if let (line, depth) = YAMLLimits.tooDeep(text[...]) {
            note(file, line, "YAML nested \(depth) deep, above the \(YAMLLimits.maxDepth)-level bound; not read")
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .default, .default, .utf8)
        } catch {
            let (line, message) = ManifestLoader.describe(error)
            note(file, line, "malformed YAML: \(message)")
            return nil
        }
        let folder = (file as NSString).deletingLastPathComponent
        var parsed = ParsedKustomization(file: file, folder: folder, layer: KustomizeLayer(file: file))
        guard let mapping = root?.mapping else { return parsed }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            let line = keyNode.mark.map { $0.line }
            switch key {
            case "namespace":
                if let namespace = value.string, !namespace.isEmpty { parsed.layer.namespace = namespace }
            case "commonLabels":
                parsed.layer.labels.merge(Self.strings(value)) { $1 }
            case "labels":
                for entry in value.sequence ?? [] { parsed.layer.labels.merge(Self.strings(entry["pairs"])) { $1 } }
            case "commonAnnotations":
                parsed.layer.annotations.merge(Self.strings(value)) { $1 }
            case "namePrefix":
                parsed.layer.namePrefix = value.string ?? ""
            case "nameSuffix":
                parsed.layer.nameSuffix = value.string ?? ""
            case "resources", "bases", "components":
                for entry in value.sequence ?? [] {
                    let line = entry.mark.map { $0.line }
                    guard let path = entry.string, !path.isEmpty else {
                        if !quiet { note(file, line, "\(key): an entry that is not a path; passed over") }
                        continue
                    }
                    if key == "components" {
                        parsed.components.append(.init(path: path, line: line, field: key))
                    } else if Self.isRemote(path) {
                        guard !quiet else { continue }
                        note(file, line, "\(key): remote resource \(path) skipped (not read offline)", isNote: true)
                        unexpanded.append(UnexpandedSource(location: SourceLocation(file: file, line: line), kind: "Kustomization",
                                                           name: (folder as NSString).lastPathComponent, reason: "remote resource \(path)"))
                    } else {
                        parsed.resources.append(.init(path: path, line: line, field: key))
                    }
                }
            case "patchesStrategicMerge":
                for entry in value.sequence ?? [] {
                    guard let body = entry.string else { continue }
                    let line = entry.mark.map { $0.line }
                    let path = Self.joined(folder, body)
                    let isFile = !body.contains("\n") && manager.fileExists(atPath: path)
                    if isFile, !Self.isWithin(path, folder: folder) {
                        if !quiet { note(file, line, Self.outsideFolder(key, body, folder: folder)) }
                        continue
                    }
                    guard let patchText = isFile ? readText(of: path, maxBytes: Self.maxKustomizationBytes, variables: variables, from: file, line: line)
                                                  : body else { continue }
                    for chunk in DocumentSplitter.split(patchText) {
                        parsed.layer.patches.append(KustomizePatch(kind: .strategicMerge, text: String(chunk.text), target: nil,
                                                                   location: SourceLocation(file: isFile ? path : file, line: isFile ? chunk.startLine : line)))
                    }
                }
            case "patches", "patchesJson6902":
                for entry in value.sequence ?? [] {
                    let line = entry.mark.map { $0.line }
                    let target = Self.target(entry["target"])
                    var body = entry["patch"]?.string
                    var location = SourceLocation(file: file, line: line)
                    if body == nil, let relative = entry["path"]?.string {
                        let path = Self.joined(folder, relative)
                        guard Self.isWithin(path, folder: folder) else {
                            if !quiet { note(file, line, Self.outsideFolder(key, relative, folder: folder)) }
                            continue
                        }
                        body = readText(of: path, maxBytes: Self.maxKustomizationBytes, variables: variables, from: file, line: line)
                        location = SourceLocation(file: path, line: 1)
                    }
                    guard let body else {
                        if !quiet { note(file, line, "\(key): an entry without patch or path; passed over") }
                        continue
                    }
                    let patches = Self.patches(body, target: target, location: location, forceJSON: key == "patchesJson6902")
                    if key == "patchesJson6902" { parsed.layer.json6902 += patches } else { parsed.layer.patches += patches }
                }
            default:
                guard !quiet, !Self.passedOverKeys.contains(key) else { continue }
                if Self.generatingKeys.contains(key) {
                    note(file, line, "\(key): objects it makes are not read (netagent does not run kustomize plugins or Helm)", isNote: true)
                    unexpanded.append(UnexpandedSource(location: SourceLocation(file: file, line: line), kind: "Kustomization",
                                                       name: (folder as NSString).lastPathComponent, reason: "\(key) not expanded",
                                                       hiddenCount: value.sequence?.count))
                } else {
                    note(file, line, "\(key): not applied by netagent; the objects are read without it", isNote: true)
                }
            }
        }
        return parsed
    }

    /// The patches of one `patch`/`path` body: a list of operations is JSON 6902, a map (or
    /// several documents of maps) strategic merge.
    static func patches(_ body: String, target: PatchTarget?, location: SourceLocation, forceJSON: Bool) -> [KustomizePatch] {
        let trimmed = body.drop { $0 == " " || $0 == "\n" || $0 == "\t" }
        if forceJSON || trimmed.hasPrefix("-") || trimmed.hasPrefix("[") {
            return [KustomizePatch(kind: .json6902, text: body, target: target, location: location)]
        }
        return DocumentSplitter.split(body).map {
            KustomizePatch(kind: .strategicMerge, text: String($0.text), target: target,
                           location: SourceLocation(file: location.file, line: (location.line ?? 1) + $0.startLine - 1))
        }
    }

    static func target(_ node: Node?) -> PatchTarget? {
        guard let mapping = node?.mapping else { return nil }
        return PatchTarget(group: mapping.value("group")?.string, version: mapping.value("version")?.string, kind: mapping.value("kind")?.string,
                           name: mapping.value("name")?.string, namespace: mapping.value("namespace")?.string,
                           labelSelector: mapping.value("labelSelector")?.string, annotationSelector: mapping.value("annotationSelector")?.string)
    }
}
