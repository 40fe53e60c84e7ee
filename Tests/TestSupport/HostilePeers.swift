import Foundation
import Glibc

/// A scripted hostile HTTP peer on loopback (Tests/Fixtures/hostile_http.py): a real server whose every
/// answer the test scripts — `success: false` inside a 200, `result: null`, a record with
/// `content: null`, an error body echoing the request's headers.
public final class ScriptedHTTPPeer: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init; the rules file is rewritten whole.
    /// One scripted answer: the first rule whose method ("*" for any) and path prefix match.
    public struct Rule: Encodable, Sendable {
        public var method: String
        public var path: String
        public var status: Int
        public var body: String
        public var headers: [String: String]

        public init(_ method: String = "*", _ path: String, status: Int = 200, body: String, headers: [String: String] = [:]) {
            self.method = method
            self.path = path
            self.status = status
            self.body = body
            self.headers = headers
        }
    }

    public let port: Int
    public let child: ChildProcess
    private let rulesFile: URL
    private let logFile: URL

    public init(_ rules: [Rule]) async throws {
        let folder = try Repository.temporaryFolder("hostile-http")
        rulesFile = folder.appendingPathComponent("rules.json")
        logFile = folder.appendingPathComponent("requests.jsonl")
        try Data().write(to: logFile)
        try Self.write(rules, to: rulesFile)
        let child = try ChildProcess("/usr/bin/python3", [Repository.fixture("hostile_http.py"), rulesFile.path, logFile.path])
        port = try await child.announcedPort("the hostile HTTP server")
        self.child = child
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Replaces the script; the next request reads it.
    public func script(_ rules: [Rule]) throws { try Self.write(rules, to: rulesFile) }

    /// The requests so far: method, path with query, body.
    public func requests() -> [(method: String, path: String, body: String)] {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] else { return nil }
            return (object["method"] ?? "", object["path"] ?? "", object["body"] ?? "")
        }
    }

    public func stop() { child.stop() }

    private static func write(_ rules: [Rule], to file: URL) throws {
        try JSONEncoder().encode(rules).write(to: file, options: .atomic)
    }
}

/// Cloudflare v4 replies for a hostile peer: one zone `home.test` (id `z1`), and envelopes
/// bent the ways a broken or hostile API (or a proxy in front of it) bends them.
public enum HostileCloudflare {
    public static let zoneID = "z1"

    /// A record as the API lists it.
    public static func record(_ id: String, _ name: String, _ type: String, _ content: String, ttl: Int = 1) -> String {
        #"{"id":"\#(id)","name":"\#(name)","type":"\#(type)","content":"\#(content)","ttl":\#(ttl),"proxied":false}"#
    }

    /// `{"success":…,"errors":…,"result":…}` with `result_info` for one page.
    public static func envelope(success: Bool = true, errors: String = "[]", result: String) -> String {
        #"{"success":\#(success),"errors":\#(errors),"messages":[],"result":\#(result),"result_info":{"page":1,"per_page":5000,"count":1,"total_count":1,"total_pages":1}}"#
    }

    /// Token verification and the zone lookup, answered well; `records` is the listing's body.
    public static func rules(records: String, batch: String? = nil, batchStatus: Int = 200) -> [ScriptedHTTPPeer.Rule] {
        var rules = [
            ScriptedHTTPPeer.Rule("GET", "/user/tokens/verify", body: envelope(result: #"{"id":"t1","status":"active"}"#)),
            ScriptedHTTPPeer.Rule("GET", "/zones/\(zoneID)/dns_records", body: records),
            ScriptedHTTPPeer.Rule("GET", "/zones", body: envelope(result: #"[{"id":"\#(zoneID)","name":"home.test","status":"active"}]"#)),
        ]
        if let batch { rules.append(ScriptedHTTPPeer.Rule("POST", "/zones/\(zoneID)/dns_records/batch", status: batchStatus, body: batch)) }
        return rules
    }
}

/// The relay of Tests/Fixtures/smtp_auth_relay.py: STARTTLS with the test CA's certificate,
/// then AUTH, answering 535 to any password but `password` — a relay whose login netagent gets wrong.
public final class SMTPAuthRelay: Sendable {
    public let port: Int
    public let folder: URL
    public let child: ChildProcess

    /// - Parameter certificates: nil for a relay without STARTTLS that takes AUTH in clear text.
    public init(password: String, certificates: TestCertificates?) async throws {
        folder = try Repository.temporaryFolder("auth-relay")
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = try freeLoopbackPort()
            let child = try ChildProcess("/usr/bin/python3", [
                Repository.fixture("smtp_auth_relay.py"), "127.0.0.1", "\(candidate)",
                certificates?.serverCertificate ?? "-", certificates?.serverKey ?? "-", password, folder.path])
            do {
                try await waitForTCP(port: candidate)
                port = candidate
                self.child = child
                return
            } catch {
                lastError = error
                child.stop()
            }
        }
        throw lastError ?? TestSupportError("the SMTP relay did not start")
    }

    public var authLog: String { (try? String(contentsOf: folder.appendingPathComponent("auth.log"), encoding: .utf8)) ?? "" }

    public var mails: [Data] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".eml") }.sorted().compactMap { try? Data(contentsOf: folder.appendingPathComponent($0)) }
    }
}

extension HostileCloudflare {
    /// An agent configuration in `folder`: a Gateway with a route per name of `hosts` (manifests),
    /// one Cloudflare provider at `url` for zone home.test with its token in `tokenEnv`, the state
    /// file in `folder`, and `extra` YAML at the top level.
    public static func agentConfig(folder: URL, hosts: [String], url: String, tokenEnv: String,
                                   resync: String = "1h", extra: String = "") throws -> String {
        let source = try AgentYAML.manifestSource(hosts: hosts, in: folder)
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            \(AgentYAML.loopbackCluster)
            \(source)
            providers:
              - name: cloudflare
                type: cloudflare
                apiURL: \(url)
                apiTokenEnv: \(tokenEnv)
                zones: [home.test]
            \(extra)
            reconcile: { debounce: 50ms, resync: \(resync) }
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

/// A TCP connection to 127.0.0.1:`port` that a hostile client opens and leaves idle (or half
/// sent: `text` and nothing more). Non-blocking, so a flood against a full accept queue never
/// holds a thread of the test's cooperative pool; the handshake completes when the server
/// accepts. Returns the descriptor (the caller closes it), or -1 when none was left.
public func idleConnection(to port: Int, sending text: String = "") -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if !text.isEmpty {
        // Wait (at most 2 s) for the handshake, then send the partial request.
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&pollfd, 1, 2000)
        _ = text.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
    return fd
}
