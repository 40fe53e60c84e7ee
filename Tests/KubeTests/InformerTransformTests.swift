import DNSCore
import Foundation
import TestSupport
import Testing
import Yams
@testable import Kube

/// The informers' transform (`ClusterRoutes.routeSourceFields`) keeps only what the route
/// source reads: the objects it leaves decode to exactly the same Gateways, routes and
/// Namespaces, so the same endpoints, and carry none of the bulk.
@Suite struct InformerTransformTests {
    static let group = "gateway.networking.k8s.io"

    /// Every Gateway, route and Namespace of the real-world fixtures, as the API server would
    /// send it: a namespace, `managedFields`, kubectl's last-applied copy, status written by a
    /// controller (conditions with times, listener status) — the parts the transform drops.
    static func clusterObjects() throws -> [KubeObject] {
        let root = try Fixtures.folder()
        var objects: [KubeObject] = []
        var address = 0
        for repo in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let folder = root.appendingPathComponent(repo)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { continue }
            for file in files.sorted() where file.hasSuffix(".yaml") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for document in try Yams.compose_all(yaml: text) {
                    guard case .object(var members) = json(document),
                          let kind = members["kind"]?.stringValue,
                          ["Gateway", "HTTPRoute", "GRPCRoute", "Namespace"].contains(kind) else { continue }
                    guard case .object(var metadata) = members["metadata"] ?? .null else { continue }
                    if kind != "Namespace" && metadata["namespace"] == nil { metadata["namespace"] = .string("default") }
                    metadata["resourceVersion"] = .string("\(objects.count + 1)")
                    metadata["managedFields"] = .array([.object(["manager": .string("kubectl"), "fieldsV1": .object(["f:spec": .object([:])])])])
                    var annotations = metadata["annotations"]?.objectMembers ?? [:]
                    annotations["kubectl.kubernetes.io/last-applied-configuration"] = .string("{\"kind\":\"\(kind)\"}")
                    metadata["annotations"] = .object(annotations)
                    members["metadata"] = .object(metadata)
                    let condition: JSONValue = .object([
                        "type": .string("Accepted"), "status": .string("True"), "reason": .string("Accepted"), "message": .string("ok"),
                        "lastTransitionTime": .string("2026-11-27T00:00:00Z"), "observedGeneration": .int(1),
                    ])
                    switch kind {
                    case "Gateway":
                        address += 1
                        members["status"] = .object([
                            "addresses": .array([.object(["type": .string("IPAddress"), "value": .string("198.18.\(address / 250).\(address % 250 + 1)")])]),
                            "conditions": .array([condition]),
                            "listeners": .array([.object(["name": .string("http"), "attachedRoutes": .int(3)])]),
                        ])
                    case "HTTPRoute", "GRPCRoute":
                        let refs = members["spec"]?["parentRefs"]?.arrayItems ?? []
                        members["status"] = .object(["parents": .array(refs.map {
                            .object(["parentRef": $0, "controllerName": .string("example.com/gateway"), "conditions": .array([condition])])
                        })])
                    default:
                        members["status"] = .object(["phase": .string("Active")])
                    }
                    objects.append(KubeObject(raw: .object(members)))
                }
            }
        }
        return objects
    }

    /// A composed YAML node as JSON, scalars typed as YAML resolves them.
    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? ""] = json(value) }
            return .object(members)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .scalar(let scalar) where scalar.style == .plain:
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .int(Int64(value)) }
            if let value = node.float { return .double(value) }
            return .string(scalar.string)
        case .scalar(let scalar):
            return .string(scalar.string)
        case .alias:
            return .null
        }
    }

    static func endpoints(_ objects: [KubeObject]) -> (result: RouteSourceResult, snapshot: ClusterSnapshot) {
        var snapshot = ClusterSnapshot()
        for object in objects { snapshot.add(object) }
        var options = RouteSourceOptions()
        options.explain = true
        return (RouteSource(options: options).endpoints(gateways: snapshot.gateways, routes: snapshot.routes, namespaces: snapshot.namespaces), snapshot)
    }

    @Test(.enabled(if: Fixtures.available || Repository.isCI, "the shared fixtures are not beside this package"))
    func realWorldObjectsGiveTheSameEndpoints() throws {
        let objects = try Self.clusterObjects()
        let whole = Self.endpoints(objects)
        let trimmed = Self.endpoints(objects.map(ClusterRoutes.routeSourceFields))
        #expect(whole.snapshot.problems.isEmpty, "\(whole.snapshot.problems)")
        #expect(whole.snapshot.routes.count > 50 && whole.result.endpoints.count > 20,
                "\(whole.snapshot.routes.count) routes, \(whole.result.endpoints.count) endpoints")
        #expect(trimmed.snapshot.problems == whole.snapshot.problems)
        // The decoded objects are the same but for kubectl's last-applied copy, which nothing reads.
        let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
        #expect(trimmed.snapshot.gateways == whole.snapshot.gateways.map { var g = $0; g.metadata.annotations[lastApplied] = nil; return g })
        #expect(trimmed.snapshot.routes == whole.snapshot.routes.map { var r = $0; r.metadata.annotations[lastApplied] = nil; return r })
        #expect(trimmed.snapshot.namespaces == whole.snapshot.namespaces.map { var n = $0; n.metadata.annotations[lastApplied] = nil; return n })
        #expect(trimmed.result.endpoints == whole.result.endpoints)
        #expect(trimmed.result.explanations.map(\.reason) == whole.result.explanations.map(\.reason))
        // What the informers cache (trimmed, decoded once, a route's repeated strings shared) reads the same.
        let strings = SharedStrings()
        var cached = ClusterSnapshot()
        for object in objects { cached.add(ClusterRoutes.cached(object, sharing: strings)) }
        #expect(cached.gateways == trimmed.snapshot.gateways)
        #expect(cached.routes == trimmed.snapshot.routes)
        #expect(cached.namespaces == trimmed.snapshot.namespaces)
    }

    @Test func sharedStringsKeepOneCopyOfEachLongStringUpToTheirLimit() {
        let strings = SharedStrings(limit: 2)
        /// `text` in an allocation of its own, as each decoded object's strings are.
        func fresh(_ text: String) -> String { String(decoding: Array(text.utf8), as: UTF8.self) }
        func storage(_ text: String) -> UInt? { text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) } }
        let controller = "gateway.envoyproxy.io/gatewayclass-controller"
        let first = strings(fresh(controller)), second = strings(fresh(controller))
        #expect(first == controller && second == controller)
        #expect(storage(first) == storage(second))
        _ = strings(fresh("a second string, also long"))
        // Full: a third string is returned as it came, not kept.
        let third = fresh("a third string over the limit")
        #expect(storage(strings(third)) == storage(third))
        #expect(storage(strings(fresh("a third string over the limit"))) != storage(third))
        #expect(storage(strings(fresh(controller))) == storage(first))
    }

    @Test func transformedObjectsCarryNoManagedFieldsRulesOrLastApplied() throws {
        let raw = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "web", "namespace": "apps", "resourceVersion": "7", "uid": "u1", "generation": 3,
                          "labels": {"team": "a"},
                          "annotations": {"external-dns.kubernetes.io/ttl": "60", "owner": "me",
                                          "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                          "managedFields": [{"manager": "kubectl"}]},
             "spec": {"hostnames": ["web.example.com"], "parentRefs": [{"name": "gw"}],
                      "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]},
             "status": {"parents": [{"parentRef": {"name": "gw"}, "controllerName": "x",
                                     "conditions": [{"type": "Accepted", "status": "True", "lastTransitionTime": "t"}]}]}}
            """.utf8))
        let object = ClusterRoutes.routeSourceFields(KubeObject(raw: raw))
        #expect(object.raw["metadata"]?["managedFields"] == nil)
        #expect(object.raw["spec"]?["rules"] == nil)
        #expect(object.annotations == ["external-dns.kubernetes.io/ttl": "60", "owner": "me"])
        #expect(object.raw["status"]?["parents"]?.arrayItems?.first?["conditions"]?.arrayItems?.first?["lastTransitionTime"] == nil)
        #expect(object.raw["spec"]?["hostnames"] == .array([.string("web.example.com")]))
        #expect((object.name, object.namespace, object.resourceVersion, object.uid, object.labels) == ("web", "apps", "7", "u1", ["team": "a"]))
        // A list item without kind keeps the kind its informer gave it.
        let item = KubeObject(raw: raw["metadata"].map { .object(["metadata": $0]) } ?? .null, defaultKind: "HTTPRoute", defaultAPIVersion: "gateway.networking.k8s.io/v1")
        #expect(ClusterRoutes.routeSourceFields(item).kind == "HTTPRoute")
    }

    @Test func mistypedFieldsStayAsTheyWereSoDecodingFailsTheSame() throws {
        let raw = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "n"},
             "spec": {"listeners": "none"}, "status": "broken"}
            """.utf8))
        let whole = KubeObject(raw: raw)
        let trimmed = ClusterRoutes.routeSourceFields(whole)
        #expect(trimmed.raw == raw)
        #expect(throws: DecodeError.self) { try trimmed.routeSourceObject() }
    }
}

extension JSONValue {
    var objectMembers: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    var arrayItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
