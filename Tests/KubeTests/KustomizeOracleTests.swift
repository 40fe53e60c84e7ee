import Foundation
import TestSupport
import Testing
import Yams
@testable import Kube

/// kustomize itself is the oracle: for each kustomization of Tests/Fixtures/gitops/kustomize
/// (namespace renaming with `name: _` Namespaces, components, every kind of patch), the Gateway
/// API objects and Namespaces netagent reads equal those `kubectl kustomize` (kustomize v5.5)
/// builds — kind, namespace, name, labels, annotations, hostnames (a Gateway's listeners') and
/// parentRefs.
@Suite(.enabled(if: Repository.which("kubectl") != nil || Repository.isCI,
                "kubectl is not installed (scripts/setup installs Debian's kubernetes-client): the kustomize oracle cannot run"))
struct KustomizeOracleTests {
    static let root = Repository.fixture("gitops/kustomize")
    static let kinds: Set<String> = ["Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "Namespace"]

    @Test(arguments: ["namespace-rename", "components", "patches"])
    func sameObjectsAsKustomize(_ name: String) throws {
        let folder = Self.root + "/" + name
        let kubectl = try #require(Repository.which("kubectl"), "kubectl is not installed")
        let run = try Netagent.run(URL(fileURLWithPath: kubectl), ["kustomize", folder])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try Yams.load_all(yaml: run.stdout).compactMap { $0 as? [String: Any] }
            .filter { Self.kinds.contains($0["kind"] as? String ?? "") }.map(Self.describe)
        var options = ManifestOptions()
        options.inferStatus = false
        // The fixtures are not repositories of their own: their root is given, not found at netagent's `.git`.
        options.repoRoot = Self.root
        let set = ManifestLoader.load(paths: [folder], options: options)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let read = set.gateways.map(Self.describe) + set.routes.map(Self.describe) + set.namespaces.map {
            Self.line("Namespace", $0.metadata, hostnames: [], parents: [])
        }
        #expect(expected.count >= 3)
        #expect(read.sorted() == expected.sorted())
    }

    /// kustomize refuses every file outside the kustomization's folder that netagent refuses
    /// (`KustomizeAndFluxTests.filesOutsideTheKustomizationsFolderAreNotRead`), each alone.
    @Test(arguments: ["../stray-route.yaml", "./link.yaml", "patches", "patchesStrategicMerge"])
    func refusesFilesOutsideItsFolder(_ entry: String) throws {
        let tree = try KustomizeAndFluxTests.treeReachingOutside()
        let body = switch entry {
        case "patches": "resources: [../base]\npatches:\n  - path: ../patch.yaml\n"
        case "patchesStrategicMerge": "resources: [../base]\npatchesStrategicMerge:\n  - ../patch.yaml\n"
        default: "resources: [../base, \(entry)]\n"
        }
        try tree.write("app/kustomization.yaml", body)
        let kubectl = try #require(Repository.which("kubectl"), "kubectl is not installed")
        let run = try Netagent.run(URL(fileURLWithPath: kubectl), ["kustomize", tree.path("app")])
        #expect(run.status != 0)
        #expect(run.stderr.contains("is not in or below"), "\(run.stderr)")
        let set = ManifestLoader.load(paths: [tree.path("app")])
        #expect(set.diagnostics.count == 1 && set.diagnostics.allSatisfy { !$0.isNote && "\($0)".contains("is not in or below") },
                "\(set.diagnostics)")
    }

    static func line(_ kind: String, _ metadata: ObjectMeta, hostnames: [String], parents: [String]) -> String {
        "\(kind) \(metadata.namespace)/\(metadata.name) labels=\(metadata.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })"
            + " annotations=\(metadata.annotations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })"
            + " hostnames=\(hostnames) parents=\(parents)"
    }

    static func describe(_ gateway: Gateway) -> String {
        line("Gateway", gateway.metadata, hostnames: gateway.listeners.map { "\($0.name):\($0.hostname ?? "")" }, parents: [])
    }

    static func describe(_ route: Route) -> String {
        line(route.kind.rawValue, route.metadata, hostnames: route.hostnames,
             parents: route.parentRefs.map { "\($0.namespace ?? "")/\($0.name)#\($0.sectionName ?? "")" })
    }

    /// The same line from an object of kustomize's output.
    static func describe(_ object: [String: Any]) -> String {
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        let spec = object["spec"] as? [String: Any] ?? [:]
        func strings(_ value: Any?) -> [String: String] {
            (value as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        }
        let kind = object["kind"] as? String ?? ""
        let meta = ObjectMeta(name: metadata["name"] as? String ?? "", namespace: metadata["namespace"] as? String ?? "",
                              labels: strings(metadata["labels"]), annotations: strings(metadata["annotations"]))
        let listeners = (spec["listeners"] as? [[String: Any]] ?? []).map { "\($0["name"] as? String ?? ""):\($0["hostname"] as? String ?? "")" }
        let parents = (spec["parentRefs"] as? [[String: Any]] ?? []).map {
            "\($0["namespace"] as? String ?? "")/\($0["name"] as? String ?? "")#\($0["sectionName"] as? String ?? "")"
        }
        return line(kind, meta, hostnames: kind == "Gateway" ? listeners : spec["hostnames"] as? [String] ?? [], parents: parents)
    }
}
