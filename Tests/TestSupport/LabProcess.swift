import Foundation
import Glibc
import NetIO

/// `netagent lab` as a person runs it: one process, its addresses read from `DIR/lab.json`,
/// faults through `netagent lab fault`, and nothing left behind when it stops. Call `stop()`:
/// a dropped `LabProcess` SIGKILLs the lab alone, and its children and namespaces wait for the
/// next start of that name to clear them. Give every test its own name and `octet`.
public struct LabProcess: Sendable {
    /// The addresses and files `DIR/lab.json` names (see docs/lab.md).
    public struct Info: Decodable, Sendable {
        public var pid: Int32
        public var dir: String
        public var control: String
        public var cloudflare: String
        public var piholeDNS: String
        public var agent: String
        public var mail: String
        public var config: String
    }

    public let binary: URL
    public let child: ChildProcess
    public let info: Info
    public let name: String
    /// N of the lab's 198.18.N.0/24 (127.0.N.0/24 on loopback).
    public let octet: Int

    /// Starts `netagent lab` and waits until it is up and has written lab.json.
    public static func start(name: String, octet: Int, dir: URL, extra: [String] = []) async throws -> LabProcess {
        guard let binary = Netagent.binary else { throw TestSupportError("the netagent binary is not built") }
        let child = try ChildProcess(binary.path, ["lab", "--name", name, "--octet", "\(octet)", "--dir", dir.path, "--for", "10m"] + extra)
        try await child.waitForOutput(timeout: .seconds(60)) { $0.contains("is up") }
        let data = try Data(contentsOf: dir.appendingPathComponent("lab.json"))
        return LabProcess(binary: binary, child: child, info: try JSONDecoder().decode(Info.self, from: data), name: name, octet: octet)
    }

    /// A lab name and octet of its own for each run (`prefix` and 4 random characters, N in
    /// 100…250), so test runs at once on one machine do not take each other's namespaces.
    public static func uniqueName(_ prefix: String) -> (name: String, octet: Int) {
        let characters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return (prefix + String((0..<4).map { _ in characters.randomElement()! }), Int.random(in: 100...250))
    }

    public func fault(_ words: String...) async throws -> Netagent.Outcome { try await fault(words: words) }

    public func fault(words: [String]) async throws -> Netagent.Outcome {
        try await Netagent.run(binary, ["lab", "fault", "--dir", info.dir] + words)
    }

    public func get(_ url: String, token: String? = nil) async throws -> String {
        let headers = token.map { [HTTPHeader(name: "Authorization", value: "Bearer \($0)")] } ?? []
        let response = try await HTTPClient().send(HTTPRequest(url: url, headers: headers, timeout: .seconds(10)))
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The lab's own progress: records present and desired per provider, mails.
    public func progress() async throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try await get(info.control + "/progress").utf8)) as? [String: Any] ?? [:]
    }

    public func converged() async throws -> Bool {
        let p = try await progress()
        let counts = ["piholePresent", "piholeDesired", "cloudflarePresent", "cloudflareDesired"].map { p[$0] as? Int ?? -1 }
        let stale = ["piholeStale", "cloudflareStale"].map { p[$0] as? Int ?? -1 }
        return counts[1] > 0 && counts[0] == counts[1] && counts[2] == counts[3] && stale == [0, 0]
    }

    public func metrics() async throws -> String { try await get(info.agent + "/metrics") }

    public func mailSubjects() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: info.mail)) ?? []
        return files.compactMap { file in
            let text = (try? String(contentsOfFile: info.mail + "/" + file, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map(String.init)
        }
    }

    /// Runs `body`, then stops the lab with `signal` and returns its exit status; when `body`
    /// throws, the lab is stopped all the same and the error passed on.
    public func stop(_ signal: Int32 = SIGTERM, after body: () async throws -> Void) async throws -> Int32? {
        do {
            try await body()
        } catch {
            _ = try? await stop()
            throw error
        }
        return try await stop(signal)
    }

    /// SIGTERM (or `signal`), then the exit status once the lab has taken everything down.
    public func stop(_ signal: Int32 = SIGTERM) async throws -> Int32? {
        child.spawned.kill(signal)
        var status: Int32?
        try await eventually("the lab exits", timeout: .seconds(60)) {
            status = child.spawned.exitStatusIfEnded()
            return status != nil
        }
        return status
    }

    /// Processes whose command line names the lab's folder (the agent, dnsmasq, aiosmtpd, listeners).
    public static func processes(naming dir: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard Int32(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(dir + "/") ? "\(entry): \(line)" : nil
        }
    }

    public static func namespaces(prefix: String) throws -> [String] {
        try runCommand("/usr/sbin/ip", ["netns", "list"]).output.split(separator: "\n")
            .map { String($0.split(separator: " ").first ?? "") }.filter { $0.hasPrefix(prefix + "-") }
    }
}

