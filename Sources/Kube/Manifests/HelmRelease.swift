import Foundation
import NetIO
import YAMLInput
import Yams

/// A Helm release of app-template to render, from a Flux HelmRelease or an Argo CD Helm source,
/// with its values already merged.
struct ChartRelease {
    var release: AppTemplate.Release
    var values: Node?
}

/// The Flux HelmReleases (helm.toolkit.fluxcd.io) of the manifests, with the OCIRepositories and
/// ConfigMaps they name, collected as the files are read (after `postBuild` substitution, as Flux
/// applies them), and rendered once every file is read.
///
/// Flux's rules (helm-controller, HelmRelease v2 API): the release name defaults to
/// `[targetNamespace-]name` and the release namespace to `targetNamespace`, else the HelmRelease's
/// namespace; `valuesFrom` entries merge in order and `spec.values` merges last; a `valuesFrom`
/// key defaults to `values.yaml`; `chartRef` names an OCIRepository (or HelmChart) in the
/// HelmRelease's namespace unless it names another.
struct HelmReleases {
    private struct Found {
        var node: Node
        var location: SourceLocation
        var namespace: String
    }

    private var releases: [Found] = []
    /// `namespace/name` → the OCIRepository's `spec.url` and the tag or semver its `ref` names.
    private var ociRepositories: [String: (url: String, version: String?)] = [:]
    /// `namespace/name` → the ConfigMap's `data`.
    private var configMaps: [String: [String: String]] = [:]
    /// Helm releases found elsewhere (Argo CD Applications), rendered with the Flux ones.
    var pending: [ChartRelease] = []

    /// A file holds none of these objects unless it holds one of these bytes: the others are
    /// passed over unparsed (a ConfigMap as YAML or JSON writes its kind).
    static let markers = ["helm.toolkit.fluxcd.io/", "source.toolkit.fluxcd.io/", "kind: ConfigMap", "\"kind\": \"ConfigMap\"", "\"kind\":\"ConfigMap\""]
        .map { Array($0.utf8) }

    /// Collects the objects of one file's text. `namespace` is what an object without one gets;
    /// a document with a variable left without a value (`unresolvedLines`) is left out, as the
    /// reader leaves it out (and reports it).
    /// `data` is the file as read, for the byte prefilter; `text` is what the reader reads
    /// (substituted).
    /// `transform` builds each object as its kustomizations do; nil when a patch deletes it.
    mutating func scan(data: Data, text: String, file: String, namespace: String, unresolvedLines: Set<Int> = [],
                       transform: (Node) -> Node? = { $0 }) {
        guard Self.markers.contains(where: { Bytes.contains(data, $0) }) else { return }
        guard YAMLLimits.tooDeep(text[...]) == nil, var documents = try? Yams.compose_all(yaml: text, .default, .default, .utf8) else { return }
        let starts = unresolvedLines.isEmpty ? [] : DocumentSplitter.split(text).map(\.startLine)
        while let document = documents.next() {
            // As the reader bounds it (it reports the document): aliases expanded.
            guard YAMLLimits.nodeCount(document, limit: YAMLLimits.maxManifestNodes) != nil, let root = transform(document),
                  let kind = root["kind"]?.string, let apiVersion = root["apiVersion"]?.string else { continue }
            if let line = root.mark?.line, !starts.isEmpty {
                let start = starts.last { $0 <= line } ?? 1
                let end = starts.first { $0 > line } ?? Int.max
                if unresolvedLines.contains(where: { $0 >= start && $0 < end }) { continue }
            }
            let objectNamespace = root["metadata"]?["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? namespace
            guard let name = root["metadata"]?["name"]?.string else { continue }
            let key = objectNamespace + "/" + name
            switch kind {
            case "HelmRelease" where apiVersion.hasPrefix("helm.toolkit.fluxcd.io/"):
                releases.append(Found(node: root, location: SourceLocation(file: file, line: root.mark.map { $0.line }), namespace: objectNamespace))
            case "OCIRepository" where apiVersion.hasPrefix("source.toolkit.fluxcd.io/"):
                let ref = root["spec"]?["ref"]
                ociRepositories[key] = (root["spec"]?["url"]?.string ?? "", ref?["tag"]?.string ?? ref?["semver"]?.string)
            case "ConfigMap" where apiVersion == "v1":
                var data: [String: String] = [:]
                for (k, v) in root["data"]?.mapping ?? [:] {
                    if let k = k.string, let v = v.string { data[k] = v }
                }
                configMaps[key] = data
            default:
                continue
            }
        }
    }

    /// The routes of every app-template release, and what else the releases stand for.
    func render() -> (routes: [(Route, SourceLocation)], diagnostics: [ManifestDiagnostic], unexpanded: [UnexpandedSource]) {
        var routes: [(Route, SourceLocation)] = []
        var diagnostics: [ManifestDiagnostic] = []
        var unexpanded: [UnexpandedSource] = []
        var charts = pending
        var borrowers: [String: (from: [String], releases: [String], location: SourceLocation)] = [:]
        for found in releases {
            switch resolve(found) {
            case .render(let chart, let notes, let borrowed):
                diagnostics += notes
                charts.append(chart)
                if let borrowed {
                    borrowers[borrowed.name, default: (borrowed.from, [], chart.release.location)].releases.append(chart.release.ownerName)
                }
            case .unexpanded(let entry):
                unexpanded.append(entry)
            }
        }
        for (name, use) in borrowers.sorted(by: { $0.key < $1.key }) {
            let shown = use.releases.prefix(5).joined(separator: ", ") + (use.releases.count > 5 ? ", …" : "")
            diagnostics.append(ManifestDiagnostic(location: use.location, message:
                "chartRef OCIRepository \(name) is not in the namespace of \(use.releases.count) HelmRelease(s) (\(shown)); "
                + "the one of that name in \(use.from.joined(separator: ", ")) is taken for them", isNote: true))
        }
        for chart in charts {
            let version = chart.release.version ?? ""
            if let major = AppTemplate.major(of: version) {
                guard AppTemplate.supportedMajors.contains(major) else {
                    unexpanded.append(UnexpandedSource(location: chart.release.location, kind: chart.release.ownerKind,
                                                       name: chart.release.ownerName,
                                                       reason: "app-template \(version) is not a version read (3.x, 4.x, 5.x)"))
                    continue
                }
            } else {
                diagnostics.append(ManifestDiagnostic(location: chart.release.location, message:
                    "\(chart.release.owner): app-template version \(version.isEmpty ? "not named" : version + " names no single version")"
                    + "; its routes are rendered with the 3.x–5.x rules", isNote: true))
            }
            let rendered = AppTemplate.render(values: chart.values, release: chart.release)
            diagnostics += rendered.diagnostics
            routes += rendered.routes.map { ($0, chart.release.location) }
        }
        return (routes, diagnostics, unexpanded)
    }

    /// A key of a ConfigMap that the kustomization beside `file` generates (`configMapGenerator`:
    /// `files` as `key=path` or `path`, keyed by the file's name, and `literals`), as Flux's
    /// documentation has HelmRelease values kept (kustomize's name suffix hash is off or mapped
    /// back by a `kustomizeconfig.yaml` for `valuesFrom`). Nil when there is none.
    static func generated(configMap name: String, key: String, beside file: String) -> String? {
        let folder = (file as NSString).deletingLastPathComponent
        for candidate in GitOpsTree.kustomizationNames {
            let path = (folder as NSString).appendingPathComponent(candidate)
            guard let data = try? BoundedFile.read(path, maxBytes: GitOpsTree.maxKustomizationBytes).data else { continue }
            let text = String(decoding: data, as: UTF8.self)
            guard YAMLLimits.tooDeep(text[...]) == nil, let root = try? Yams.compose(yaml: text, .default, .default, .utf8) else { return nil }
            for generator in root["configMapGenerator"]?.sequence ?? [] where generator["name"]?.string == name {
                for entry in generator["files"]?.sequence ?? [] {
                    guard let spec = entry.string else { continue }
                    let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
                    let (fileKey, relative) = parts.count == 2 ? (parts[0], parts[1]) : ((spec as NSString).lastPathComponent, spec)
                    guard fileKey == key else { continue }
                    let joined = GitOpsTree.joined(folder, relative)
                    // kustomize's load restrictor: a generator reads nothing outside its folder.
                    guard GitOpsTree.isWithin(joined, folder: folder) else { return nil }
                    return (try? BoundedFile.read(joined, maxBytes: GitOpsTree.maxKustomizationBytes).data).map { String(decoding: $0, as: UTF8.self) }
                }
                for literal in generator["literals"]?.sequence ?? [] {
                    guard let text = literal.string, let equals = text.firstIndex(of: "=") else { continue }
                    if text[..<equals] == key { return String(text[text.index(after: equals)...]) }
                }
            }
            return nil
        }
        return nil
    }

    private enum Resolution {
        /// The release, notes, and the OCIRepository taken from other namespaces, if one was.
        case render(ChartRelease, [ManifestDiagnostic], (name: String, from: [String])?)
        case unexpanded(UnexpandedSource)
    }

    private func resolve(_ found: Found) -> Resolution {
        let spec = found.node["spec"]
        let name = found.node["metadata"]?["name"]?.string ?? ""
        let qualified = found.namespace + "/" + name
        func unexpanded(_ reason: String) -> Resolution {
            .unexpanded(UnexpandedSource(location: found.location, kind: "HelmRelease", name: qualified, reason: reason))
        }
        var version: String?
        var borrowed: (name: String, from: [String])?
        if let chart = spec?["chart"]?["spec"] {
            let chartName = chart["chart"]?.string ?? ""
            version = chart["version"]?.string
            guard chartName == AppTemplate.chartName else {
                return unexpanded("Helm chart \(chartName)\(version.map { " " + $0 } ?? "") is not app-template")
            }
        } else if let ref = spec?["chartRef"] {
            let kind = ref["kind"]?.string ?? ""
            let refName = ref["name"]?.string ?? ""
            let refNamespace = ref["namespace"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? found.namespace
            guard kind == "OCIRepository" else { return unexpanded("chartRef \(kind) \(refNamespace)/\(refName) is not read") }
            var found = ociRepositories[refNamespace + "/" + refName]
            if found == nil {
                // A kustomize component that defines the OCIRepository for every namespace is read
                // once, in one namespace: the namesakes elsewhere stand for it when they all agree.
                let namesakes = ociRepositories.filter { $0.key.split(separator: "/").last.map(String.init) == refName }
                if Set(namesakes.values.map { "\($0.url) \($0.version ?? "")" }).count == 1, let first = namesakes.first {
                    found = first.value
                    borrowed = (refName, namesakes.keys.sorted())
                }
            }
            guard let repository = found else {
                return unexpanded("chartRef OCIRepository \(refNamespace)/\(refName) is not in the manifests read")
            }
            version = repository.version
            let chartName = repository.url.split(separator: "/").last.map(String.init) ?? repository.url
            guard chartName == AppTemplate.chartName else {
                return unexpanded("Helm chart \(repository.url)\(version.map { ":" + $0 } ?? "") is not app-template")
            }
        } else {
            return unexpanded("no spec.chart or spec.chartRef")
        }
        let target = spec?["targetNamespace"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        let releaseName = spec?["releaseName"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? (target.map { "\($0)-\(name)" } ?? name)
        var notes: [ManifestDiagnostic] = []
        var values: Node?
        for (index, entry) in (spec?["valuesFrom"]?.sequence ?? []).enumerated() {
            let kind = entry["kind"]?.string ?? ""
            let source = entry["name"]?.string ?? ""
            let key = entry["valuesKey"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "values.yaml"
            let optional = entry["optional"]?.bool ?? false
            let field = "spec.valuesFrom[\(index)]"
            guard kind == "ConfigMap" else {
                notes.append(ManifestDiagnostic(location: found.location, message:
                    "HelmRelease \(qualified): \(field) \(kind) \(source) is not in Git; the routes are rendered without its values", isNote: true))
                continue
            }
            if entry["targetPath"] != nil {
                notes.append(ManifestDiagnostic(location: found.location, message:
                    "HelmRelease \(qualified): \(field) targetPath is not read; the routes are rendered without it"))
                continue
            }
            guard let text = configMaps[found.namespace + "/" + source]?[key]
                    ?? Self.generated(configMap: source, key: key, beside: found.location.file) else {
                if !optional {
                    notes.append(ManifestDiagnostic(location: found.location, message:
                        "HelmRelease \(qualified): \(field) ConfigMap \(found.namespace)/\(source) key \(key) is not in the manifests read; the routes are rendered without it"))
                }
                continue
            }
            let (node, problem) = HelmValues.parse(text)
            if let problem {
                notes.append(ManifestDiagnostic(location: found.location, message: "HelmRelease \(qualified): \(field) ConfigMap \(source) key \(key): \(problem)"))
            }
            values = HelmValues.merge(values, node)
        }
        values = HelmValues.merge(values, spec?["values"])
        if spec?["postRenderers"]?.sequence?.isEmpty == false {
            notes.append(ManifestDiagnostic(location: found.location, message:
                "HelmRelease \(qualified): spec.postRenderers are not applied; the routes are rendered without them"))
        }
        let release = AppTemplate.Release(name: releaseName, namespace: target ?? found.namespace, version: version,
                                          location: found.location, ownerKind: "HelmRelease", ownerName: qualified)
        return .render(ChartRelease(release: release, values: values), notes, borrowed)
    }
}
