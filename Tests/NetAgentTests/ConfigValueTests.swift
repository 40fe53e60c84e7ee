@testable import Config
@testable import NetAgent
import NetIO
import Testing

@Suite("Configuration values")
struct ConfigValueTests {
    @Test("durations as written in the file", arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)),
        ("4h", .seconds(14_400)), ("1h30m", .seconds(5_400)), ("2m30s500ms", .milliseconds(150_500)),
        ("0s", .zero), ("90s", .seconds(90)),
    ])
    func validDuration(text: String, expected: Duration) throws {
        #expect(try ConfigDuration.parse(text) == expected)
    }

    @Test("malformed durations are refused", arguments: [
        "5mm", "30", "", "m", "1.5s", "5 m", "-5s", "30m1h", "1h1h", "5d", "s30", "1000000000000s",
    ])
    func malformedDuration(text: String) {
        #expect(throws: ConfigValueError.self) { try ConfigDuration.parse(text) }
    }

    @Test("durations format back to the shortest form", arguments: [
        (Duration.milliseconds(500), "500ms"), (.seconds(5_400), "1h30m"), (.zero, "0s"), (.seconds(14_400), "4h"),
    ])
    func formatDuration(duration: Duration, text: String) throws {
        #expect(ConfigDuration.format(duration) == text)
        #expect(try ConfigDuration.parse(text) == duration)
    }

    @Test("IP addresses", arguments: [
        ("10.0.60.21", true), ("::1", true), ("fd00::1", true), ("10.0.60.256", false), ("10.0.60", false),
        ("pihole", false), ("", false), ("1.1.1.1 ", false),
    ])
    func ipAddress(text: String, valid: Bool) {
        #expect((IPAddress(text) != nil) == valid)
        #expect(IPAddress.isValid(text) == valid)
    }

    @Test("addresses print canonically", arguments: [("10.0.60.21", "10.0.60.21"), ("FD00:0::1", "fd00::1")])
    func canonical(text: String, printed: String) {
        #expect(IPAddress(text)?.description == printed)
    }

    private func ip(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }

    @Test("CIDR membership")
    func cidr() throws {
        let network = try CIDR("10.0.60.0/24")
        #expect(network.contains(try ip("10.0.60.255")))
        #expect(!network.contains(try ip("10.0.61.0")))
        #expect(!network.contains(try ip("::1")))
        #expect(try CIDR("0.0.0.0/0").contains(try ip("8.8.8.8")))
        #expect(try CIDR("fd00::/8").contains(try ip("fd12::1")))
        #expect(try CIDR("10.0.0.0/12").description == "10.0.0.0/12")
        for bad in ["10.0.60.0", "10.0.60.0/", "10.0.60.0/24/1", "10.0.60.1/24", "fd00::1/8", "x/8"] {
            #expect(throws: ConfigValueError.self, "\(bad)") { try CIDR(bad) }
        }
    }

    @Test("listen addresses", arguments: [
        ("0.0.0.0:9099", "0.0.0.0:9099"), ("[::]:9099", "[::]:9099"), ("127.0.0.1:1", "127.0.0.1:1"),
    ])
    func listen(text: String, canonical: String) throws {
        #expect(try ListenAddress(text).description == canonical)
    }

    @Test("bad listen addresses", arguments: ["0.0.0.0", ":9099", "host:80", "0.0.0.0:0", "0.0.0.0:70000", "::1", "fd00::1:80"])
    func badListen(text: String) {
        #expect(throws: ConfigValueError.self) { try ListenAddress(text) }
    }

    @Test("domain filters keep external-dns's leading dot (subdomains only) and normalise case and the final dot")
    func domainFilterForms() throws {
        let config = try #require(ConfigFixtures.load(ConfigFixtures.minimal + """
            providers:
              - name: ph
                type: pihole
                url: http://pihole
                select: { domainFilters: [Home.Test., .lab.home.test], excludeDomains: [.Private.home.test] }
            """))
        let select = try #require(config.providers.first).select
        #expect(select.domainFilters == ["home.test", ".lab.home.test"])
        #expect(select.excludeDomains == [".private.home.test"])
    }
}

@Suite("probes.nodes echo and link thresholds")
struct NodeLinkConfigTests {
    @Test func theDefaultsAndTheKeysReachTheNodesProbe() throws {
        let defaults = try #require(ConfigFixtures.load(ConfigFixtures.minimal + "probes:\n  nodes: {}\n")?.probes.nodes)
        #expect(defaults.echoCount == 40 && defaults.echoSpacing == .milliseconds(20))
        #expect(defaults.maxLatency == .milliseconds(100) && defaults.maxLoss == 0.2)
        let config = try #require(ConfigFixtures.load(ConfigFixtures.minimal + """
            probes:
              nodes: { timeout: 3s, echoCount: 20, echoSpacing: 50ms, maxLatency: 300ms, maxLoss: 0.3 }
            """))
        let factory = ProbeFactory(config: config)
        // The defaults never refuse a short timeout: the echoes are spaced closer instead.
        #expect(ConfigFixtures.load(ConfigFixtures.minimal + "probes:\n  nodes: { timeout: 500ms }\n")?.probes.nodes?.echoCount == 40)
        #expect(factory.echoCount == 20 && factory.echoSpacing == .milliseconds(50))
        #expect(factory.link.maxLatency == .milliseconds(300) && factory.link.maxLoss == 0.3)
    }
}
