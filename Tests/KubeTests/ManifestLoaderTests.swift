import Foundation
import TestSupport
import Testing
@testable import Kube

/// Reading manifests: files and folders, multi-document streams, YAML features, bad input.
@Suite struct ManifestLoaderTests {
    @Test func malformedDocumentIsReportedWithFileAndLineAndOthersStillLoad() {
        let yaml = gateway(listener()) + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: broken
              namespace: default
            spec:
              hostnames: [a.example.com
              parentRefs:
                - name: gw
            ---
            """ + "\n" + route("fine", hostnames: ["b.example.com"])
        let set = ManifestLoader.load(text: yaml, file: "apps.yaml")
        #expect(set.routes.map(\.metadata.name) == ["fine"])
        #expect(set.gateways.count == 1)
        let diagnostic = set.diagnostics.first
        #expect(set.diagnostics.count == 1)
        #expect(diagnostic?.location.file == "apps.yaml")
        let gatewayLines = gateway(listener()).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        // The flow sequence opened on line 7 of the broken document is found unterminated at line 8.
        #expect(diagnostic?.location.line == gatewayLines + 8)
        #expect(diagnostic?.message.hasPrefix("malformed YAML") == true)
    }

    @Test func decodeErrorNamesTheObjectFieldAndLine() {
        let yaml = "---\n" + gateway(listener().replacingOccurrences(of: "port: 80", with: "port: eighty")) + route(hostnames: ["a.example.com"])
        let set = ManifestLoader.load(text: yaml, file: "gw.yaml")
        #expect(set.gateways.isEmpty)
        #expect(set.routes.count == 1)
        let diagnostic = set.diagnostics.first
        #expect(diagnostic?.message == "cannot read Gateway gw: port: 'eighty' is not an integer")
        #expect(diagnostic?.location.line == 16)
    }

    @Test func unknownKindsAndForeignGatewaysAreSkipped() {
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: istio-gw}
            spec: {servers: []}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: BackendTLSPolicy
            metadata: {name: tls}
            ---
            # only a comment
            ---
            values: {without: kind}
            """
        let set = ManifestLoader.load(text: yaml)
        #expect(set.gateways.isEmpty && set.routes.isEmpty && set.diagnostics.isEmpty)
        #expect(set.skippedKinds == ["Deployment": 1, "Gateway": 1, "BackendTLSPolicy": 1, "(no kind)": 1])
    }

    @Test func anchorsAliasesFlowStyleAndMergeKeys() {
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: gw
              annotations:
                external-dns.alpha.kubernetes.io/target: &target ingress.example.net
                other: *target
            spec:
              listeners:
                - &base {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}
                - <<: *base
                  name: https
                  protocol: HTTPS
                  port: 443
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: app, annotations: {x: &x one}}
            spec:
              hostnames: [ "app.example.com" ] #? comment
              parentRefs: [{name: gw, sectionName: https}]
            """
        let set = ManifestLoader.load(text: yaml)
        #expect(set.diagnostics.isEmpty)
        #expect(set.gateways.first?.listeners.map(\.name) == ["http", "https"])
        #expect(set.gateways.first?.listeners.last?.allowedRoutes.from == .all)
        #expect(set.gateways.first?.metadata.annotations["other"] == "ingress.example.net")
        #expect(records(yaml) == ["app.example.com CNAME ingress.example.net"])
    }

    @Test func kubectlListWithStatusIsTakenAsItIs() {
        let yaml = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: gateway.networking.k8s.io/v1
              kind: Gateway
              metadata: {name: gw, namespace: net}
              spec: {listeners: [{name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}]}
              status: {addresses: [{type: IPAddress, value: 192.0.2.5}]}
            - apiVersion: gateway.networking.k8s.io/v1
              kind: HTTPRoute
              metadata: {name: web, namespace: apps}
              spec: {hostnames: [web.example.com], parentRefs: [{name: gw, namespace: net}]}
              status:
                parents:
                - parentRef: {name: gw, namespace: net}
                  controllerName: gateway.envoyproxy.io/gatewayclass-controller
                  conditions: [{type: Accepted, status: "True", reason: Accepted}]
            """
        #expect(records(yaml) == ["web.example.com A 192.0.2.5"])
    }

    @Test func typedListFromTheAPIAndJSON() {
        let json = """
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRouteList", "items": [
              {"metadata": {"name": "web", "namespace": "default"},
               "spec": {"hostnames": ["web.example.com"], "parentRefs": [{"name": "gw"}]}}]}
            """
        let set = ManifestLoader.load(text: gateway(listener()) + json)
        #expect(set.diagnostics.isEmpty)
        #expect(set.routes.map(\.id.description) == ["httproute/default/web"])
    }

    @Test func objectAboveTheSizeBoundIsRefused() {
        var options = ManifestOptions()
        options.maxObjectBytes = 600
        let big = route("big", hostnames: (1...40).map { "host\($0).example.com" })
        let set = ManifestLoader.load(text: gateway(listener()) + big + route("small", hostnames: ["a.example.com"]), file: "x.yaml", options: options)
        #expect(set.routes.map(\.metadata.name) == ["small"])
        #expect(set.diagnostics.map(\.message).contains { $0.contains("above the 600-byte object bound") })
    }

    @Test func laterDefinitionReplacesTheEarlierAndIsReported() {
        let set = ManifestLoader.load(text: route("r", hostnames: ["a.example.com"]) + route("r", hostnames: ["b.example.com"]), file: "dup.yaml")
        #expect(set.routes.map(\.hostnames) == [["b.example.com"]])
        #expect(set.diagnostics.map(\.description).first?.contains("httproute/default/r is defined again (first at dup.yaml:1)") == true)
    }

    @Test func invalidHostnameIsReportedAndSkipped() {
        let yaml = gateway(listener()) + route(hostnames: ["good.example.com", "bad_name.example.com", "10.0.0.1"])
        let (result, _) = resolve(yaml)
        #expect(lines(result.endpoints) == ["good.example.com A 198.18.0.10"])
        let messages = result.warnings.map(\.message)
        #expect(messages.contains { $0.contains("invalid hostname 'bad_name.example.com'") })
        #expect(messages.contains { $0.contains("invalid hostname '10.0.0.1'") })
    }

    @Test func foldersAreReadRecursivelyAndPathsSetNamespaces() throws {
        let root = try Repository.temporaryFolder("kube-tests")
        defer { try? FileManager.default.removeItem(at: root) }
        let apps = root.appendingPathComponent("apps/web")
        try FileManager.default.createDirectory(at: apps, withIntermediateDirectories: true)
        try gateway(listener(), namespace: "network").write(to: root.appendingPathComponent("gateway.yml"), atomically: true, encoding: .utf8)
        let bare = route("web", hostnames: ["web.example.com"], parents: "- name: gw\n  namespace: network")
            .replacingOccurrences(of: "  namespace: default\n", with: "")
        try bare.write(to: apps.appendingPathComponent("route.yaml"), atomically: true, encoding: .utf8)
        try "not: [yaml".write(to: apps.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        var options = ManifestOptions()
        options.pathNamespaces = [PathNamespace(path: root.appendingPathComponent("apps").path, namespace: "apps"),
                                  PathNamespace(path: apps.path, namespace: "web")]
        let set = ManifestLoader.load(paths: [root.path, root.appendingPathComponent("missing").path], options: options)
        #expect(set.fileCount == 2)
        #expect(set.routes.map(\.id.description) == ["httproute/web/web"])
        #expect(set.diagnostics.map(\.message) == ["no such file or folder"])
        let count = ManifestLoader.parseOnly(paths: [root.path])
        // Each helper-made file ends in `---`, which opens one more (empty) document.
        #expect(count.files == 2 && count.documents == 4 && count.failures == 0)
    }

    @Test(arguments: [
        ("a: 1\n---\nb: 2\n", [1, 2]),
        ("# c\n---\na: 1\n...\n---\nb: 2\n", [1, 5]),
        ("%YAML 1.2\n---\na: 1\n--- |\n  text\n", [1, 4]),
        ("a: |\n  --- not a marker\n---x: 1\n", [1]),
        ("\n\n", []),
    ])
    func documentSplitting(text: String, startLines: [Int]) {
        #expect(DocumentSplitter.split(text).map(\.startLine) == startLines)
    }
}

extension ManifestLoaderTests {
    @Test func mergeKeysInMetadataAndParentRefsDoNotOverrideOwnKeys() {
        let yaml = gateway(listener(), namespace: "infra") + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              <<: {name: base, namespace: apps, labels: {team: web}}
              name: web
            spec:
              hostnames: [web.example.com]
              parentRefs:
                - <<: &ref {name: gw, namespace: infra, sectionName: nope}
                  sectionName: http
            """
        let set = ManifestLoader.load(text: yaml)
        #expect(set.routes.map(\.id.description) == ["httproute/apps/web"])
        #expect(set.routes.first?.metadata.labels == ["team": "web"])
        #expect(set.routes.first?.parentRefs == [ParentReference(namespace: "infra", name: "gw", sectionName: "http")])
    }
}
