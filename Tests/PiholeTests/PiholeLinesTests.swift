import DNSCore
import Foundation
@testable import Pihole
import Testing
import TestSupport

@Suite struct PiholeLinesTests {
    @Test func readsHostsAndCNAMEs() throws {
        let set = PiholeRecordSet(
            hosts: ["198.18.0.10 app.home.test", "198.18.0.11 app.home.test", "2001:DB8::1 app.home.test",
                    "198.18.0.5 nas.home.test nas # the NAS", "not-an-ip x.home.test", "198.18.0.6"],
            cnames: ["www.home.test,app.home.test", "ttl.home.test,app.home.test,300", "bad,,", "a,b,c,d"])
        let byKey = Dictionary(uniqueKeysWithValues: set.endpoints.map { ($0.key, $0) })
        let app = try #require(byKey[Endpoint.Key(name: try DNSName("app.home.test"), type: .a)])
        #expect(app.targets == ["198.18.0.10", "198.18.0.11"])
        #expect(byKey[Endpoint.Key(name: try DNSName("app.home.test"), type: .aaaa)]?.targets == ["2001:db8::1"])
        #expect(byKey[Endpoint.Key(name: try DNSName("nas"), type: .a)]?.targets == ["198.18.0.5"])
        #expect(byKey[Endpoint.Key(name: try DNSName("ttl.home.test"), type: .cname)]?.ttl == 300)
        #expect(set.endpoints.count == 6)
        // The stored line is remembered exactly, and a shared line is marked.
        let nas = set.lines[.init(key: Endpoint.Key(name: try DNSName("nas.home.test"), type: .a), target: "198.18.0.5")]
        #expect(nas?.text == "198.18.0.5 nas.home.test nas # the NAS")
        #expect(nas?.shared == true)
        let v6 = set.lines[.init(key: Endpoint.Key(name: try DNSName("app.home.test"), type: .aaaa), target: "2001:db8::1")]
        #expect(v6?.text == "2001:DB8::1 app.home.test")
    }

    /// Found by the fuzzer (Fuzz/Crashes/pihole): a wildcard hosts or CNAME line was read as a
    /// record, which netagent can never write back; it is skipped like every unmanageable line.
    @Test func wildcardLinesAreNotRecords() throws {
        let set = PiholeRecordSet(hosts: ["198.18.0.10 grafana.example.com *.example.com"],
                                  cnames: ["*.example.com,grafana.example.com"])
        #expect(set.endpoints.map(\.name.text) == ["grafana.example.com"])
        for endpoint in set.endpoints {
            #expect((try? PiholeRecordSet.line(for: endpoint, target: endpoint.targets[0]).get()) != nil)
        }
    }

    @Test func writesLinesOrSaysWhy() throws {
        let a = Endpoint(name: try DNSName("App.Home.Test"), type: .a, targets: ["198.18.0.10"])
        #expect(try PiholeRecordSet.line(for: a, target: "198.18.0.10").get() == ("198.18.0.10 app.home.test", .hosts))
        let cname = Endpoint(name: try DNSName("www.home.test"), type: .cname, targets: ["app.home.test"], ttl: 60)
        #expect(try PiholeRecordSet.line(for: cname, target: "app.home.test").get() == ("www.home.test,app.home.test,60", .cnameRecords))
        let wildcard = Endpoint(name: try DNSName("*.home.test"), type: .a, targets: ["198.18.0.1"])
        #expect(throws: ApplyRefusal.self) { try PiholeRecordSet.line(for: wildcard, target: "198.18.0.1").get() }
        let txt = Endpoint(name: try DNSName("t.home.test"), type: .txt, targets: ["x"])
        #expect(throws: ApplyRefusal.self) { try PiholeRecordSet.line(for: txt, target: "x").get() }
    }

    @Test(arguments: [
        ("198.18.0.10 app.lan", "198.18.0.10%20app.lan"),
        ("www.lan,app.lan,300", "www.lan%2Capp.lan%2C300"),
        ("2001:db8::1 v6.lan", "2001%3Adb8%3A%3A1%20v6.lan"),
        ("a+b.lan", "a%2Bb.lan"),
    ])
    func encodesTheWholeElement(line: String, encoded: String) {
        #expect(PiholeClient.encode(line) == encoded)
    }
}

@Suite(.enabled(if: installed("/usr/bin/python3"), "needs python3"))
struct PiholeVersionTests {
    @Test func aVersion5PiholeIsRefusedClearly() async throws {
        // The tests' HTTP server has no /api/auth, as a v5 Pi-hole (PHP) has none.
        let server = try await HTTPTestServer()
        let client = PiholeClient(url: server.url(""), password: "x", sleep: { _ in })
        do {
            _ = try await client.lines(.hosts)
            Issue.record("a server without /api/auth was taken for Pi-hole v6")
        } catch {
            #expect(error.kind == .version5)
            #expect(error.description.contains("upgrade to Pi-hole v6"))
        }
    }
}
