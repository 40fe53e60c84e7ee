import Foundation
import Kube
import PlanOutput
import YAMLInput

/// Manifests: any text must load into objects and diagnostics (never a crash), every
/// diagnostic names the file, and whatever loaded must go through the route source and both
/// report formats.
enum ManifestFuzz {
    static func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        var options = ManifestOptions()
        options.variables = ["DOMAIN": "example.com"]
        let set = ManifestLoader.load(text: text, file: "fuzz.yaml", options: options)
        for diagnostic in set.diagnostics {
            fuzzCheck(diagnostic.location.file == "fuzz.yaml", "diagnostic names \(diagnostic.location.file)")
            if let line = diagnostic.location.line {
                fuzzCheck(line >= 1, "diagnostic on line \(line): \(diagnostic.message)")
            }
        }
        _ = VariableSubstitution.substitute(text, variables: options.variables)
        // Substitution bounded as it goes: never more output than the bound, and the same
        // text as unbounded substitution whenever it fits.
        let limit = text.utf8.count + 64
        let big = ["DOMAIN": String(repeating: "d", count: 48)]
        if let bounded = try? VariableSubstitution.substitute(text, variables: big, maxOutputBytes: limit) {
            fuzzCheck(bounded.text.utf8.count <= limit, "substitution passed its bound: \(bounded.text.utf8.count) > \(limit)")
            fuzzCheck(bounded.text == VariableSubstitution.substitute(text, variables: big).text, "bounded substitution differs")
        } else {
            fuzzCheck(VariableSubstitution.substitute(text, variables: big).text.utf8.count > limit, "substitution refused within its bound")
        }
        _ = YAMLLimits.tooDeep(text[...])
        let result = RouteSource().endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces, dnsEndpoints: set.dnsEndpoints)
        let report = PlanReport(desired: result.endpoints, explanations: result.explanations, unexpanded: set.unexpanded)
        _ = report.table()
        _ = report.json()
        // The pull-request comparison of the manifests with nothing and with themselves: every change
        // renders, and a tree compared with itself changes nothing.
        let tree = PlanDiff.Tree(targets: [("records", result.endpoints)], files: PlanDiff.Tree.files(of: set, relativeTo: "/"),
                                 unexpanded: set.unexpanded)
        let added = PlanDiff(base: PlanDiff.Tree(targets: [], files: [:]), head: tree)
        _ = added.table()
        _ = added.json()
        _ = added.markdown(base: "base", head: "head")
        fuzzCheck(PlanDiff(base: tree, head: tree).isEmpty, "a tree compared with itself has changes")
    }
}
