import Foundation
import FuzzHarnesses
import Testing

/// Every harness over its committed seeds (`Fuzz/Corpus/<harness>`) and every input a fuzz run
/// ever crashed on (`Fuzz/Crashes/<harness>`): a crash or a broken invariant fails the run, so
/// a fixed crash stays fixed and a harness that stopped compiling or running is noticed.
@Suite struct CorpusReplayTests {
    static let fuzzRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ folder: String, _ harness: String) -> [URL] {
        let url = fuzzRoot.appendingPathComponent(folder).appendingPathComponent(harness)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { url.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzHarness.allCases)
    func replaysSeeds(harness: FuzzHarness) throws {
        let seeds = Self.inputs("Corpus", harness.rawValue)
        #expect(!seeds.isEmpty, "Fuzz/Corpus/\(harness.rawValue) has no seed")
        for seed in seeds { harness.run(try Data(contentsOf: seed)) }
    }

    @Test(arguments: FuzzHarness.allCases)
    func replaysCrashes(harness: FuzzHarness) throws {
        for input in Self.inputs("Crashes", harness.rawValue) { harness.run(try Data(contentsOf: input)) }
    }
}
