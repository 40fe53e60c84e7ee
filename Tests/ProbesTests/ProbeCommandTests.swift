import Foundation
import Probes
import Testing
import TestSupport

/// `netagent probe` end to end on loopback: the JSON report and the exit status.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct ProbeCommandTests {
    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let netagent = try #require(Netagent.binary?.path, "the netagent binary is not built")
        let spawned = try Spawned.start(netagent, ["probe"] + arguments, separateStderr: true)
        defer { spawned.removeFiles() }
        let status = await Testbed.exit(of: spawned)
        return (status, spawned.output + spawned.errorOutput)
    }

    @Test func dnsRecordsReportsEachNameAndExitsOneOnAFault() async throws {
        let dns = try await DnsmasqServer(records: ["--host-record=web.y.test,198.18.0.10", "--local=/y.test/"])
        let folder = try Repository.temporaryFolder("records")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("desired.txt").path
        try "# desired records\nweb.y.test A 198.18.0.10\ngone.y.test A 198.18.0.11\n".write(toFile: file, atomically: true, encoding: .utf8)

        let (status, output) = try await run(["dns-records", "--server", "pihole=\(dns.address)", "--records", file, "--output", "json"])
        #expect(status == 1)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let report = try decoder.decode(ProbeReport.self, from: Data(output.utf8))
        #expect(report["web.y.test A @pihole"]?.status == .ok)
        #expect(report["gone.y.test A @pihole"]?.fault == .nxdomain)

        let (okStatus, table) = try await run(["dns-server", "--server", "pihole=\(dns.address)", "--name", "web.y.test"])
        #expect(okStatus == 0)
        #expect(table.contains("pihole (\(dns.address))"))
        #expect(table.contains("ok"))
    }

    @Test func aRecordsFileAboveItsLimitIsRefusedUnread() async throws {
        let folder = try Repository.temporaryFolder("records-large")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("desired.txt").path
        // 8 MiB of comment lines and one byte more: before the bound it was read whole and probed nothing.
        try Data(repeating: UInt8(ascii: "#"), count: 8 << 20).write(to: URL(fileURLWithPath: file))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()

        let (status, output) = try await run(["dns-records", "--server", "pihole=127.0.0.1:1", "--records", file])
        #expect(status == 64)
        #expect(output.contains("--records \(file): cannot read it"))
        #expect(output.contains("limit"))
    }

    @Test func badFlagsAreRefusedBeforeAnythingRuns() async throws {
        let (status, output) = try await run(["nodes", "--node", "nonsense"])
        #expect(status == 64)
        #expect(output.contains("--node nonsense"))
        let (unknown, text) = try await run(["ping-everything"])
        #expect(unknown == 64)
        #expect(text.contains("unknown kind"))
    }
}
