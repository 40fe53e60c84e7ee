import Foundation
import Yams
import YAMLInput

/// The routes the bjw-s `app-template` Helm chart renders from its `route:` values, written from
/// the chart's own templates (the common library it is built on):
///
/// - release fullname: `charts/library/common/templates/lib/chart/_names.tpl` and app-template's
///   `templates/common.yaml`, whose `app-template.hardcodedValues` sets `global.nameOverride` to
///   `.Release.Name` when unset — so the fullname is `global.fullnameOverride`, else
///   `fullnameOverride`, else the release name (truncated to 63, trailing `-` trimmed);
/// - which routes: `lib/route/_enabled_routes.tpl` — every map under `route:` whose `enabled`
///   is not false (enabled by default), in key order (Helm ranges maps by sorted key);
/// - each name, 4.x and 5.x: `lib/common/_determineResourceNameFromValues.tpl` (common 4.0.0,
///   bjw-s/helm-charts a01a89cb) as the common library's documentation states it now
///   (docs/common-library/resources/names.md, its table of expected names) — `forceRename` (tpl),
///   else `prefix-` + fullname, `-identifier` appended when more than one route is enabled (or
///   `global.alwaysAppendIdentifierToResourceName`, common 5.3.0 values.yaml), `-suffix`; none of
///   them added when the name already is it or already ends (starts) with it; lower-cased. 3.x:
///   `lib/route/_valuesToObject.tpl` and `lib/route/_primary.tpl` of common 3.x (`common3Name`);
/// - the object: `classes/_route.tpl` (bjw-s-labs/helm-charts 14e97010) — kind default
///   `HTTPRoute` (one of GRPCRoute, HTTPRoute, TCPRoute, TLSRoute, UDPRoute, else the render fails,
///   `lib/route/_validate.tpl`), namespace `namespaceOverride` or the release namespace,
///   annotations = the route's over `global.annotations`, each value through `tpl`; parentRefs
///   with group default `gateway.networking.k8s.io`, kind default `Gateway`, `name` required;
///   `hostnames` through `tpl`, not rendered for TCPRoute and UDPRoute.
///
/// Versions read: app-template 3.x and 4.x (common 3.x/4.x) and 5.x, whose route fields are
/// the same. `tpl` is evaluated for `.Release.Name`, `.Release.Namespace`, `.Chart.Name`,
/// `.Values.<path>` and the fullname helper; any other template is reported, never guessed.
enum AppTemplate {
    static let chartName = "app-template"
    static let supportedMajors = 3...5

    /// What identifies the release being rendered.
    struct Release {
        var name: String
        var namespace: String
        /// The chart version, when known (`4.4.0`); nil when the source does not say.
        var version: String?
        /// Where the values came from: every synthesised route points here.
        var location: SourceLocation
        /// What holds the values: `HelmRelease` or `Application`, and its `namespace/name`.
        var ownerKind: String
        var ownerName: String

        /// `HelmRelease flux-system/echo`, for messages.
        var owner: String { "\(ownerKind) \(ownerName)" }
    }

    struct Rendered {
        var routes: [Route] = []
        var diagnostics: [ManifestDiagnostic] = []
    }

    /// The major version of a chart version or tag (`4.4.0`, `v3.7.3`, `4.x`); nil for a range
    /// or a digest, which do not name one version.
    static func major(of version: String?) -> Int? {
        guard var text = version?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.hasPrefix("v") { text.removeFirst() }
        let digits = text.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count == text.count || text[digits.endIndex] == "." else { return nil }
        return Int(digits)
    }

    /// The routes `values` make the chart render for `release`.
    static func render(values: Node?, release: Release) -> Rendered {
        var out = Rendered()
        func fail(_ message: String) -> Rendered {
            Rendered(diagnostics: out.diagnostics + [ManifestDiagnostic(location: release.location,
                message: "\(release.owner): app-template would fail to render (\(message)); its routes are left out")])
        }
        let global = values?["global"]
        let fullname = fullname(values: values, releaseName: release.name)
        let context = TemplateContext(releaseName: release.name, releaseNamespace: release.namespace, fullname: fullname, values: values)
        guard let routes = values?["route"]?.mapping else { return out }
        var enabled: [(String, Node)] = []
        for (key, value) in routes {
            guard let id = key.string, value.mapping != nil else { continue }
            if let flag = value["enabled"] {
                guard let on = flag.bool else {
                    out.diagnostics.append(ManifestDiagnostic(location: release.location,
                        message: "\(release.owner): route.\(id).enabled is \(flag.string ?? "not a boolean"), not true or false; route left out"))
                    continue
                }
                if !on { continue }
            }
            enabled.append((id, value))
        }
        enabled.sort { $0.0 < $1.0 }
        let alwaysAppend = global?["alwaysAppendIdentifierToResourceName"]?.bool ?? false
        let primary = common3Primary(routes)
        let centralTemplates = evaluatesAllStrings(release.version)
        let globalAnnotations = global?["annotations"]?.mapping
        let globalLabels = global?["labels"]?.mapping
        for (id, value) in enabled {
            var problems: [String] = []
            func evaluate(_ text: String, _ field: String) -> String? {
                switch context.evaluate(text) {
                case .value(let result): return result
                case .unsupported(let expression):
                    problems.append("route.\(id).\(field): template \(expression) is not evaluated offline")
                    return nil
                }
            }
            let kindName = value["kind"]?.string ?? "HTTPRoute"
            guard let kind = RouteKind(rawValue: kindName) else { return fail("route.\(id).kind \(kindName) is not a route kind") }
            let named = AppTemplate.major(of: release.version) == 3
                ? common3Name(fullname: fullname, id: id, values: value, primary: primary)
                : resourceName(fullname: fullname, id: id, values: value, count: enabled.count,
                               alwaysAppend: alwaysAppend, evaluate: { evaluate($0, $1) })
            guard let name = named else {
                out.diagnostics += problems.map { note(release, $0 + "; route left out") }
                continue
            }
            let namespace = value["namespaceOverride"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? release.namespace
            var annotations: [String: String] = [:]
            for source in [globalAnnotations, value["annotations"]?.mapping] {
                for (key, text) in source ?? [:] {
                    guard let key = key.string, let text = text.string else { continue }
                    if let result = evaluate(text, "annotations.\(key)") { annotations[key] = result } else { annotations[key] = nil }
                }
            }
            var labels: [String: String] = [:]
            for source in [globalLabels, value["labels"]?.mapping] {
                for (key, text) in source ?? [:] {
                    guard let key = key.string, let text = text.string else { continue }
                    if let result = evaluate(text, "labels.\(key)") { labels[key] = result } else { labels[key] = nil }
                }
            }
            var parentRefs: [ParentReference] = []
            for (index, ref) in (value["parentRefs"]?.sequence ?? []).enumerated() {
                if ref["identifier"] != nil {
                    problems.append("route.\(id).parentRefs[\(index)].identifier (a ListenerSet of the release) is not read")
                    continue
                }
                guard let refName = ref["name"]?.string, !refName.isEmpty else {
                    return fail("parentRef name is required for \(kindName) \(name)")
                }
                // The route class writes these as given; common 5.3 evaluates every string of the
                // values once, centrally (`values/_init.tpl`), so from there they are templates too.
                var fields: [String: String] = [:]
                var usable = true
                for key in ["name", "namespace", "sectionName", "group", "kind"] {
                    guard let text = ref[key]?.string, !text.isEmpty else { continue }
                    guard text.contains("{{") else { fields[key] = text; continue }
                    guard centralTemplates else {
                        problems.append("route.\(id).parentRefs[\(index)].\(key): \(text) is not passed through tpl by app-template "
                                        + "\(release.version ?? "(version not named)"); parentRef left out")
                        usable = false
                        break
                    }
                    guard let value = evaluate(text, "parentRefs[\(index)].\(key)") else { usable = false; break }
                    fields[key] = value
                }
                guard usable else { continue }
                parentRefs.append(ParentReference(
                    group: fields["group"] ?? "gateway.networking.k8s.io", kind: fields["kind"] ?? "Gateway",
                    namespace: fields["namespace"], name: fields["name"] ?? refName,
                    sectionName: fields["sectionName"], port: ref["port"]?.int))
            }
            var hostnames: [String] = []
            if kind.hasHostnames {
                for (index, host) in (value["hostnames"]?.sequence ?? []).enumerated() {
                    guard let text = host.string else { continue }
                    if let result = evaluate(text, "hostnames[\(index)]") { hostnames.append(result) }
                }
            }
            out.diagnostics += problems.map { note(release, $0) }
            out.routes.append(Route(kind: kind, metadata: ObjectMeta(name: name, namespace: namespace, labels: labels, annotations: annotations),
                                    hostnames: hostnames, parentRefs: parentRefs))
        }
        return out
    }

    private static func note(_ release: Release, _ message: String) -> ManifestDiagnostic {
        ManifestDiagnostic(location: release.location, message: "\(release.owner): \(message)")
    }

    /// `bjw-s.common.lib.chart.names.fullname` with app-template's `global.nameOverride` default.
    static func fullname(values: Node?, releaseName: String) -> String {
        func nonEmpty(_ node: Node?) -> String? { node?.string.flatMap { $0.isEmpty ? nil : $0 } }
        let name = nonEmpty(values?["global"]?["nameOverride"]) ?? releaseName
        var result: String
        if let override = nonEmpty(values?["global"]?["fullnameOverride"]) ?? nonEmpty(values?["fullnameOverride"]) {
            result = override
        } else if releaseName.contains(name) {
            result = releaseName
        } else {
            result = releaseName + "-" + name
        }
        result = String(result.prefix(63))
        while result.hasSuffix("-") { result.removeLast() }
        return result
    }

    /// Whether the chart version passes every string of its values through `tpl` (common
    /// 5.3.0's `values/_init.tpl`, bjw-s-labs/helm-charts 002305d5); earlier versions only the
    /// fields their templates name.
    static func evaluatesAllStrings(_ version: String?) -> Bool {
        guard let major = major(of: version), var text = version else { return false }
        if text.hasPrefix("v") { text.removeFirst() }
        let parts = text.split(separator: ".")
        let minor = parts.count > 1 ? Int(parts[1].prefix { $0.isNumber }) ?? 0 : 0
        return major > 5 || (major == 5 && minor >= 3)
    }

    /// Common 3.x (app-template 3.x) names a route by `bjw-s.common.lib.route.valuesToObject`:
    /// `fullname-nameOverride`, else the fullname for the primary route and `fullname-<key>` for
    /// the others (the standardised rules below came with common 4.0.0, whose changelog calls
    /// them a breaking change of resource names).
    static func common3Name(fullname: String, id: String, values: Node, primary: String) -> String {
        if let override = values["nameOverride"]?.string, !override.isEmpty { return fullname + "-" + override }
        return id == primary ? fullname : fullname + "-" + id
    }

    /// `bjw-s.common.lib.route.primary` (common 3.x): among the routes with `enabled: true`, the
    /// last (in key order) with `primary: true`, else the first; none when no route says
    /// `enabled: true` (that template counts only routes that say so).
    static func common3Primary(_ routes: Node.Mapping) -> String {
        let flagged = routes.compactMap { key, value -> (String, Node)? in
            guard let id = key.string, value["enabled"]?.bool == true else { return nil }
            return (id, value)
        }.sorted { $0.0 < $1.0 }
        return flagged.last { $0.1["primary"]?.bool == true }?.0 ?? flagged.first?.0 ?? ""
    }

    /// `bjw-s.common.lib.determineResourceNameFromValues`; nil when a template in it is not evaluated.
    static func resourceName(fullname: String, id: String, values: Node, count: Int, alwaysAppend: Bool,
                             evaluate: (String, String) -> String?) -> String? {
        if let rename = values["forceRename"]?.string, !rename.isEmpty {
            return evaluate(rename, "forceRename")?.lowercased()
        }
        var name = fullname
        if let prefix = values["prefix"]?.string, !prefix.isEmpty {
            guard let rendered = evaluate(prefix, "prefix") else { return nil }
            if rendered != name && !name.hasPrefix(rendered + "-") { name = rendered + "-" + name }
        }
        // Not added twice, nor when the name is the identifier itself (`vaultwarden-vaultwarden`).
        if (count > 1 || alwaysAppend) && name != id && !name.hasSuffix("-" + id) { name += "-" + id }
        if let suffix = values["suffix"]?.string, !suffix.isEmpty {
            guard let rendered = evaluate(suffix, "suffix") else { return nil }
            if rendered != name && !name.hasSuffix("-" + rendered) { name += "-" + rendered }
        }
        return name.lowercased()
    }
}

/// Helm's `tpl` for the expressions app-template's users write in route fields.
struct TemplateContext {
    var releaseName: String
    var releaseNamespace: String
    var fullname: String
    var values: Node?

    enum Result: Equatable {
        case value(String)
        /// The first action that is not evaluated offline, as written.
        case unsupported(String)
    }

    /// `text` with each `{{ … }}` action evaluated; `{{-`/`-}}` trim the white space beside them
    /// as Go templates do.
    func evaluate(_ text: String) -> Result {
        guard text.contains("{{") else { return .value(text) }
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            var before = rest[..<open.lowerBound]
            var inner = rest[open.upperBound...]
            guard let close = inner.range(of: "}}") else { return .unsupported(String(rest[open.lowerBound...])) }
            let action = String(rest[open.lowerBound..<close.upperBound])
            var body = inner[..<close.lowerBound]
            if body.hasPrefix("- ") || body.hasPrefix("-\t") || body == "-" {
                body = body.dropFirst()
                while before.last?.isWhitespace == true { before = before.dropLast() }
            }
            var trimAfter = false
            if body.hasSuffix(" -") || body.hasSuffix("\t-") {
                body = body.dropLast()
                trimAfter = true
            }
            output += before
            guard let value = value(of: body.trimmingCharacters(in: .whitespaces)) else { return .unsupported(action) }
            output += value
            inner = inner[close.upperBound...]
            if trimAfter { inner = inner.drop { $0.isWhitespace } }
            rest = inner
        }
        return .value(output + rest)
    }

    private func value(of expression: String) -> String? {
        if expression.hasPrefix("/*") && expression.hasSuffix("*/") { return "" }
        var path = expression
        if path.hasPrefix("$.") { path.removeFirst() }
        switch path {
        case ".Release.Name": return releaseName
        case ".Release.Namespace": return releaseNamespace
        case ".Chart.Name": return AppTemplate.chartName
        case #"include "bjw-s.common.lib.chart.names.fullname" ."#, #"include "bjw-s.common.lib.chart.names.fullname" $"#:
            return fullname
        default: break
        }
        guard path.hasPrefix(".Values.") else { return nil }
        var node = values
        for key in path.dropFirst(".Values.".count).split(separator: ".", omittingEmptySubsequences: false) {
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
            node = node?[String(key)]
        }
        guard case .scalar(let scalar)? = node else { return nil }
        return scalar.string
    }
}

/// Helm values as YAML nodes.
enum HelmValues {
    /// `over` coalesced onto `base` as Helm merges values: maps merge key by key, anything else
    /// replaces, and a null removes the key.
    static func merge(_ base: Node?, _ over: Node?) -> Node? {
        guard let over else { return base }
        guard let overMap = over.mapping, let baseMap = base?.mapping else { return over }
        var pairs: [(Node, Node)] = []
        var seen: Set<String> = []
        for (key, value) in baseMap {
            guard let name = key.string else { continue }
            seen.insert(name)
            if let replacement = overMap[name] {
                if isNull(replacement) { continue }
                pairs.append((key, merge(value, replacement) ?? replacement))
            } else {
                pairs.append((key, value))
            }
        }
        for (key, value) in overMap {
            guard let name = key.string, !seen.contains(name), !isNull(value) else { continue }
            pairs.append((key, value))
        }
        return Node(pairs)
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The one document of `text` as values; nil and a message when it is not YAML or not a map.
    static func parse(_ text: String) -> (Node?, String?) {
        if let (line, depth) = YAMLLimits.tooDeep(text[...]) {
            return (nil, "YAML nested \(depth) deep at line \(line), above the \(YAMLLimits.maxDepth)-level bound")
        }
        do {
            guard let node = try Yams.compose(yaml: text, .default, .default, .utf8) else { return (nil, nil) }
            if isNull(node) { return (nil, nil) }
            guard node.mapping != nil else { return (nil, "values are not a mapping") }
            guard YAMLLimits.nodeCount(node, limit: YAMLLimits.maxManifestNodes) != nil else {
                return (nil, "more than \(YAMLLimits.maxManifestNodes) YAML nodes")
            }
            return (node, nil)
        } catch {
            return (nil, "malformed YAML: \(ManifestLoader.describe(error).1)")
        }
    }
}
