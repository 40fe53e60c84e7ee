import Foundation
import Testing

@Suite("docs/configuration.md")
struct ConfigDocsTests {
    /// Key names written in YAML text (block or flow style), comments left out.
    private static func keys(in yaml: String) throws -> Set<String> {
        let pattern = try Regex(#"(?:^|[{,]|- )\s*([A-Za-z][A-Za-z0-9]*):(?:\s|$)"#)
        var found = Set<String>()
        for line in yaml.split(separator: "\n") {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for match in code.matches(of: pattern) {
                if let key = match.output[1].substring { found.insert(String(key)) }
            }
        }
        return found
    }

    @Test("documents every key of the example file")
    func documentsExampleKeys() throws {
        guard let example = ConfigFixtures.example() else { return }
        let docs = try String(contentsOf: ConfigFixtures.packageRoot.appendingPathComponent("docs/configuration.md"),
                              encoding: .utf8)
        let keys = try Self.keys(in: String(contentsOfFile: example, encoding: .utf8))
        #expect(keys.count > 40, "found only \(keys.sorted())")
        let missing = keys.filter { key in
            !["`\(key)`", ".\(key)`", "`\(key) ", ".\(key).", "## \(key)\n", "## \(key) "].contains { docs.contains($0) }
        }
        #expect(missing.isEmpty, "undocumented keys: \(missing.sorted())")
    }
}
