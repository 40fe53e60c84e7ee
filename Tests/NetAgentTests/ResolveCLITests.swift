import Foundation
import Testing
import TestSupport

@Suite("netagent resolve", .enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct ResolveCLITests {
    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = try #require(ConfigCLITests.binary(), "the netagent binary is not beside the test bundle")
        let spawned = try Spawned.start(binary.path, ["resolve"] + arguments, separateStderr: true)
        let status = spawned.wait()
        defer { spawned.removeFiles() }
        return (status, spawned.output, spawned.errorOutput)
    }

    @Test func answersWithCodeAndLatency() async throws {
        let dns = try await DnsmasqServer(records: ["--host-record=app.home.test,198.18.0.10", "--cname=www.home.test,app.home.test"])
        let text = try Self.run(["www.home.test", "--server", dns.address])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("NOERROR"))
        #expect(text.stdout.contains("www.home.test.\t60\tIN\tCNAME\tapp.home.test."))
        #expect(text.stdout.contains("app.home.test.\t60\tIN\tA\t198.18.0.10"))
        #expect(text.stdout.contains(" ms"))

        let json = try Self.run(["www.home.test", "--server", dns.address, "--output", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["rcode"] as? String == "NOERROR")
        #expect(object["cnameChain"] as? [String] == ["app.home.test"])
        #expect((object["latencyMs"] as? Double).map { $0 >= 0 } == true)
    }

    @Test(arguments: [("gone.nx.test", "NXDOMAIN"), ("elsewhere.example", "REFUSED")])
    func failingCodesExitOne(name: String, code: String) async throws {
        let dns = try await DnsmasqServer(records: ["--address=/nx.test/"])
        let outcome = try Self.run([name, "--server", dns.address])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains(code))
    }

    @Test func noReplyExitsOneWithTheReason() throws {
        let silent = try SilentUDPServer()
        let outcome = try Self.run(["a.home.test", "--server", "127.0.0.1:\(silent.port)", "--timeout", "300ms"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("no reply within the time budget"))
    }

    @Test func badFlagsAreUsageErrors() throws {
        #expect(try Self.run(["a.home.test", "--type", "MX"]).status == 64)
        #expect(try Self.run(["a.home.test", "--server", "dns.example.com"]).status == 64)
        #expect(try Self.run(["a.home.test", "--timeout", "soon"]).status == 64)
    }
}
