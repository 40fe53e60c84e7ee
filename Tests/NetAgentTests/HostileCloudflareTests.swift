import Cloudflare
import DNSCore
import Foundation
import NetIO
import Testing
import TestSupport

/// A Cloudflare API that bends its envelope (issue 20, defects 3 and 11, and 7 for error
/// bodies): a real HTTP server on loopback answering what each test scripts.
@Suite struct HostileCloudflareTests {
    typealias CF = HostileCloudflare
    static let token = "cf-hostile-canary-Rz8Wq3Lm5"

    /// A provider for zone home.test against `server`, retrying nothing.
    static func provider(_ server: ScriptedHTTPPeer) -> CloudflareProvider {
        let client = CloudflareClient(baseURL: server.url, token: token, policy: CloudflareRetryPolicy(attempts: 1),
                                      timeout: .seconds(5))
        return CloudflareProvider(client: client, options: .init(zones: [try! DNSName("home.test")]))
    }

    static func endpoint(_ name: String, _ type: RecordType = .a, _ targets: [String]) -> Endpoint {
        Endpoint(name: try! DNSName(name), type: type, targets: targets)
    }

    @Test("a listing answered success:false inside HTTP 200 is an error, never an empty zone")
    func unsuccessfulListing() async throws {
        let server = try await ScriptedHTTPPeer(CF.rules(records: CF.envelope(
            success: false, errors: #"[{"code":10000,"message":"Authentication error"}]"#, result: "[]")))
        defer { server.stop() }
        let error = await #expect(throws: CloudflareError.self) { try await Self.provider(server).records() }
        #expect(error?.description.contains("10000") == true, "\(String(describing: error))")
        #expect(error?.description.contains("success: false") == true, "\(String(describing: error))")
    }

    @Test("a listing whose result is null, or not a list, is an error")
    func nullOrMistypedResult() async throws {
        for result in ["null", #"{"id":"r1"}"#, #""records""#] {
            let server = try await ScriptedHTTPPeer(CF.rules(records: CF.envelope(result: result)))
            defer { server.stop() }
            await #expect(throws: CloudflareError.self, "result \(result)") { try await Self.provider(server).records() }
        }
        // And a zone lookup whose result is null is not "no such zone".
        let server = try await ScriptedHTTPPeer([ScriptedHTTPPeer.Rule("GET", "/zones", body: CF.envelope(result: "null"))])
        defer { server.stop() }
        let client = CloudflareClient(baseURL: server.url, token: Self.token, policy: CloudflareRetryPolicy(attempts: 1))
        let error = await #expect(throws: CloudflareError.self) { try await client.zones(named: "home.test") }
        #expect(error?.kind == .invalidResponse)
    }

    @Test("a batch answered success:false inside HTTP 200 is never counted as done")
    func unsuccessfulBatch() async throws {
        let listing = CF.envelope(result: "[" + CF.record("r1", "a.home.test", "A", "198.18.0.1") + ","
            + CF.record("r2", "b.home.test", "A", "198.18.0.2") + "]")
        let server = try await ScriptedHTTPPeer(CF.rules(records: listing, batch: CF.envelope(
            success: false, errors: #"[{"code":1004,"message":"DNS Validation Error"}]"#,
            result: #"{"deletes":[],"posts":[],"patches":[],"puts":[]}"#)))
        defer { server.stop() }
        let provider = Self.provider(server)
        let current = try await provider.records()
        #expect(current.count == 2)
        let report = try await provider.apply(Plan.Changes(deletes: current))
        #expect(report.deleted == 0, "\(report)")
        #expect(report.failures.count == 2, "\(report)")
        #expect(report.failures.allSatisfy { $0.message.contains("1004") }, "\(report.failures)")
        // A batch with a null result is not done either.
        try server.script(CF.rules(records: listing, batch: CF.envelope(result: "null")))
        let again = try await Self.provider(server).apply(Plan.Changes(deletes: current))
        #expect(again.deleted == 0 && again.failures.count == 2, "\(again)")
    }

    @Test("one record with content:null is skipped and named; the zone goes on; its name and type are never written")
    func undecodableRecordIsSkipped() async throws {
        let bad = #"{"id":"bad1","name":"wiki.home.test","type":"A","content":null,"ttl":1}"#
        let listing = CF.envelope(result: "[" + CF.record("r1", "grafana.home.test", "A", "198.18.0.1") + "," + bad + "]")
        let batch = CF.envelope(result: #"{"deletes":[],"patches":[],"puts":[],"posts":[\#(CF.record("r9", "new.home.test", "A", "198.18.0.9"))]}"#)
        let server = try await ScriptedHTTPPeer(CF.rules(records: listing, batch: batch))
        defer { server.stop() }
        let provider = Self.provider(server)
        let current = try await provider.records()
        // The good record is read; the bad one stands as present with no value the planner can trust.
        #expect(current.contains { $0.name.text == "grafana.home.test" && $0.type == .a && $0.targets == ["198.18.0.1"] })
        #expect(current.contains { $0.name.text == "wiki.home.test" && $0.type == .a && $0.targets.isEmpty })
        let skipped = await provider.skippedRecords
        #expect(skipped.count == 1)
        #expect(skipped.first?.description.contains("wiki.home.test") == true && skipped.first?.description.contains("bad1") == true,
                "\(skipped)")
        #expect(skipped.first?.reason.contains("content") == true, "\(skipped)")
        // A create beside it, an update or a delete of it: each refused by name; another name goes ahead.
        let report = try await provider.apply(Plan.Changes(
            creates: [Self.endpoint("wiki.home.test", .cname, ["elsewhere.home.test"]), Self.endpoint("new.home.test", .a, ["198.18.0.9"])],
            deletes: [Self.endpoint("wiki.home.test", .a, [])]))
        #expect(report.created == 1, "\(report)")
        #expect(Set(report.failures.map(\.key.name.text)) == ["wiki.home.test"], "\(report.failures)")
        #expect(report.failures.allSatisfy { $0.message.contains("could not be read") }, "\(report.failures)")
        let batches = server.requests().filter { $0.method == "POST" }
        #expect(batches.count == 1)
        #expect(batches.allSatisfy { !$0.body.contains("wiki") && !$0.body.contains("bad1") }, "\(batches.map(\.body))")
    }

    @Test("a peer that echoes the request's headers in an error puts no token in the error")
    func echoedHeadersAreRedacted() async throws {
        for body in ["{{headers}}", #"{"success":false,"errors":[{"code":1000,"message":"{{headers_json}}"}],"result":null}"#] {
            let server = try await ScriptedHTTPPeer([ScriptedHTTPPeer.Rule("*", "/", status: 400, body: body)])
            defer { server.stop() }
            let client = CloudflareClient(baseURL: server.url, token: Self.token, policy: CloudflareRetryPolicy(attempts: 1))
            let error = await #expect(throws: CloudflareError.self) { try await client.zones(named: "home.test") }
            let text = String(describing: error)
            #expect(text.contains("REDACTED"), "\(text)")
            #expect(!text.contains(Self.token), "\(text)")
        }
    }
}
