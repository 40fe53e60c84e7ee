import Foundation
import TestSupport
import Testing
@testable import Kube

/// Hostile manifests folders and files (issue 20, defects 5 and 6, and the YAML limits):
/// every read ends, bounded, with a diagnostic naming the file.
@Suite struct HostileManifestTests {
    private static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-hostile-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path + "/apps", withIntermediateDirectories: true)
        return path
    }

    /// Runs `body` on a thread of its own and waits at most `seconds`: a hang fails the test
    /// instead of the whole run.
    private static func finishes<T: Sendable>(within seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
        let result = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Thread { result.value = body(); done.signal() }.start()
        return done.wait(timeout: .now() + seconds) == .success ? result.value : nil
    }

    /// The files' keys: the lexical shortcut gives what URL's standardisation gives, through
    /// symlinks (`link/..` is the link's target's parent), `.`, `..`, `//`, relative paths and `/private`.
    @Test func standardizedPathsAreURLsStandardizedPaths() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: root + "/apps/link", withDestinationPath: "/usr/share")
        let paths = [root + "/apps/link/..", root + "/apps/link/doc", root + "/apps/./x.yaml", root + "//apps/", root + "/apps/../apps/y",
                     root + "/apps/.hidden/..b/c.", "/", "/..", "", ".", "..", "apps/x.yaml", "./a/../b", "/private/tmp", "/privately/a"]
        for path in paths {
            #expect(GitOpsTree.standardized(path) == URL(fileURLWithPath: path).standardizedFileURL.path, "\(path)")
        }
    }

    @Test func symlinkLoopsInAFolderAreReportedWithTheirPathAndNeverHang() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try (gateway(listener()) + route("app", hostnames: ["a.example.com"])).write(toFile: root + "/apps/app.yaml", atomically: true, encoding: .utf8)
        // Two links back up: before, the walk took every path through them (2^depth).
        try FileManager.default.createSymbolicLink(atPath: root + "/apps/up", withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: root + "/apps/here", withDestinationPath: ".")
        let loaded = Self.finishes(within: 30) { ManifestLoader.load(paths: [root]) }
        let set = try #require(loaded, "the load did not finish")
        #expect(set.routes.map(\.metadata.name) == ["app"])
        let loops = set.diagnostics.filter { $0.message.contains("symlink loop") }
        #expect(Set(loops.map(\.location.file)) == [root + "/apps/up", root + "/apps/here"])
    }

    @Test func aKustomizationResourceThatLinksBackIsRefused() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "resources: [app.yaml, again]\n".write(toFile: root + "/apps/kustomization.yaml", atomically: true, encoding: .utf8)
        try route("app", hostnames: ["a.example.com"]).write(toFile: root + "/apps/app.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/apps/again", withDestinationPath: ".")
        let loaded = Self.finishes(within: 30) { ManifestLoader.load(paths: [root + "/apps"]) }
        let set = try #require(loaded, "the load did not finish")
        #expect(set.routes.map(\.metadata.name) == ["app"])
        #expect(set.diagnostics.contains { $0.location.file == root + "/apps/again" && $0.message.contains("symlink loop") })
    }

    /// A route without a namespace under `apps/`, and a Flux Kustomization for `apps/` giving it
    /// `targetNamespace: evil`, in a file the reader refuses (`extra` makes it so).
    private static func fluxTree(extra: String) throws -> String {
        let root = try Self.folder()
        try "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app}\nspec: {hostnames: [a.example.com]}\n"
            .write(toFile: root + "/apps/app.yaml", atomically: true, encoding: .utf8)
        try ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\n"
            + "spec: {path: ./apps, targetNamespace: evil, extra: \(extra)}\n").write(toFile: root + "/flux.yaml", atomically: true, encoding: .utf8)
        return root
    }

    @Test func aFluxKustomizationInAFileAboveTheBoundIsNotApplied() throws {
        let root = try Self.fluxTree(extra: "\"" + String(repeating: "x", count: 8 << 10) + "\"")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = ManifestOptions()
        options.maxFileBytes = 4 << 10
        let set = ManifestLoader.load(paths: [root], options: options)
        #expect(set.diagnostics.contains { $0.location.file == root + "/flux.yaml" && $0.message.contains("bound") })
        // Before: the Flux discovery read the file whole with FileManager and applied it.
        #expect(set.routes.map(\.metadata.namespace) == ["default"])
    }

    @Test func aFluxKustomizationNestedTooDeepIsNotApplied() throws {
        let root = try Self.fluxTree(extra: String(repeating: "[", count: 150) + String(repeating: "]", count: 150))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let set = ManifestLoader.load(paths: [root])
        #expect(set.diagnostics.contains { $0.location.file == root + "/flux.yaml" && $0.message.contains("nested") })
        // Before: the Flux discovery composed it without the depth scan and applied it.
        #expect(set.routes.map(\.metadata.namespace) == ["default"])
    }

    @Test func substitutionCannotGrowAFileBeyondItsBound() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // ~1 MB of `${BIG}` with BIG of 1 MB would be ~250 GB substituted.
        let line = "  note: " + String(repeating: "${BIG}", count: 1000) + "\n"
        let text = route("app", hostnames: ["a.example.com"]) + "---\n" + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
            + String(repeating: line, count: 170)
        try text.write(toFile: root + "/apps/bomb.yaml", atomically: true, encoding: .utf8)
        var options = ManifestOptions()
        options.variables = ["BIG": String(repeating: "x", count: 1 << 20)]
        let loaded = Self.finishes(within: 60) { [options] in ManifestLoader.load(paths: [root], options: options) }
        let set = try #require(loaded, "the load did not finish")
        let diagnostic = try #require(set.diagnostics.first { $0.message.contains("substituting variables") })
        #expect(diagnostic.location.file == root + "/apps/bomb.yaml")
        #expect(diagnostic.location.line != nil)
    }

    @Test func anObjectTooLargeAfterSubstitutionIsRefusedAndTheOthersLoad() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let text = route("fine", hostnames: ["a.example.com"]) + "---\n"
            + route("big", hostnames: ["b.example.com"]).replacingOccurrences(of: "name: big", with: "name: big\n  labels: {pad: \"${PAD}\"}")
        try text.write(toFile: root + "/apps/routes.yaml", atomically: true, encoding: .utf8)
        var options = ManifestOptions()
        options.variables = ["PAD": String(repeating: "y", count: 2 << 20)]
        let set = ManifestLoader.load(paths: [root], options: options)
        #expect(set.routes.map(\.metadata.name) == ["fine"])
        #expect(set.diagnostics.contains { $0.message.contains("object bound") })
    }

    @Test func substitutionWithinTheBoundIsUnchanged() throws {
        let (text, unresolved) = try VariableSubstitution.substitute("a: ${A}\nb: ${B:=two}\n", variables: ["A": "one"], maxOutputBytes: 22)
        #expect(text == "a: one\nb: two\n")
        #expect(unresolved.isEmpty)
        #expect(throws: VariableSubstitution.TooLarge(line: 2, limit: 12)) {
            _ = try VariableSubstitution.substitute("a: ${A}\nb: ${B:=two}\n", variables: ["A": "one"], maxOutputBytes: 12)
        }
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
