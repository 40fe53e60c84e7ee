import Foundation
import Testing
@testable import Config
@testable import NetAgent

/// Hostile configuration files (issue 20: defect 1's timeout, defect 12's names, and the
/// file size and YAML limits): each is refused with its file, line and a named reason.
@Suite("Configuration limits")
struct ConfigLimitTests {
    private let minimal = ConfigFixtures.minimal

    @Test("a probe timeout of 1790h is refused with its line, not accepted to crash c-ares later")
    func absurdTimeout() {
        let issues = ConfigFixtures.issues(minimal + "probes:\n  interval: 2000h\n  timeout: 1790h\n")
        #expect(issues.map(\.path) == ["probes.timeout"])
        #expect(issues.first?.line == 8)
        #expect(issues.first?.message.contains("above the 5m maximum") == true)
        let kind = ConfigFixtures.issues(minimal + "probes:\n  dnsRecords:\n    interval: 2000h\n    timeout: 1000h\n")
        #expect(kind.map(\.path) == ["probes.dnsRecords.timeout"])
    }

    @Test("NUL, ESC, CR and LF in a configured name are refused", arguments: ["\\0", "\\e[31m", "\\r\\n", "\\x1b"])
    func controlCharacters(escape: String) {
        let yaml = minimal.replacingOccurrences(of: "name: home", with: "name: \"home\(escape)evil\"")
        let issues = ConfigFixtures.issues(yaml)
        #expect(issues.map(\.path) == ["cluster.name"])
        #expect(issues.first?.message.contains("control character") == true)
    }

    @Test("YAML nested deeper than the limit is refused before it is composed (no stack overflow)")
    func deepNesting() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let issues = ConfigFixtures.issues(minimal + "reconcile: " + deep + "\n")
        #expect(issues.count == 1)
        #expect(issues.first?.line == 6)
        #expect(issues.first?.message.contains("nested") == true)
        let dashes = String(repeating: "- ", count: 150) + "x"
        #expect(ConfigFixtures.issues(minimal + "sources:\n  manifests:\n    " + dashes + "\n").first?.message.contains("nested") == true)
    }

    @Test("a billion laughs (aliases of aliases) is refused by the node count")
    func billionLaughs() {
        var yaml = minimal + "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "x\(level): &a\(level) [\(refs)]\n"
        }
        let issues = ConfigFixtures.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.message.contains("YAML nodes") == true)
    }

    @Test("a configuration file that is not a regular file, or too large, is refused unread")
    func fileLimits() throws {
        for path in ["/dev/zero", "/dev/null", "/tmp"] {
            #expect(throws: ConfigError.self) { _ = try NetAgentConfig.load(file: path) }
        }
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-big-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: big) }
        _ = FileManager.default.createFile(atPath: big, contents: Data((minimal + "# " + String(repeating: "x", count: NetAgentConfig.maxFileBytes) + "\n").utf8))
        do {
            _ = try NetAgentConfig.load(file: big)
            Issue.record("loaded")
        } catch {
            #expect(error.description.contains("more than \(NetAgentConfig.maxFileBytes) bytes"))
        }
    }
}
