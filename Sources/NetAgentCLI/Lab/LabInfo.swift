import Foundation
import Glibc

/// What a running lab writes to `DIR/lab.json` for `netagent lab fault|status|wait` and for
/// tests: where each part listens and where its files are. Removed when the lab stops.
struct LabInfo: Codable, Sendable {
    var pid: Int32
    var name: String
    var dir: String
    /// `namespaces` (root) or `loopback`.
    var mode: String
    /// The control endpoint: `http://127.0.0.1:PORT`.
    var control: String
    var kubernetes: String
    var cloudflare: String
    var pihole: String
    /// dnsmasq behind the Pi-hole simulator: `127.0.0.1:PORT`.
    var piholeDNS: String
    /// cloudflared's `/ready` as the lab simulates it.
    var cloudflared: String
    var smtp: String
    /// One file per mail (a maildir's `new/`).
    var mail: String
    var config: String
    var agentLog: String
    /// The agent's `/healthz`, `/readyz`, `/metrics` and `/status` server: `http://127.0.0.1:PORT`.
    var agent: String
    var nodes: [String: String]
    var vip: String
    var unavailableFaults: [String: String]

    static func file(in dir: String) -> URL { URL(fileURLWithPath: dir).appendingPathComponent("lab.json") }

    func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: Self.file(in: dir), options: .atomic)
    }

    /// The running lab in `dir`; throws when none runs there.
    static func read(dir: String) throws -> LabInfo {
        let file = Self.file(in: dir)
        guard let data = try? Data(contentsOf: file) else {
            throw LabError("no lab runs in \(dir) (no \(file.path)); start one with `netagent lab`, or pass its --dir")
        }
        let info = try JSONDecoder().decode(LabInfo.self, from: data)
        guard kill(info.pid, 0) == 0 else { throw LabError("the lab in \(dir) (pid \(info.pid)) is not running any more") }
        return info
    }

    /// The default lab folder of a lab name: `$TMPDIR/netagent-lab-NAME`.
    static func defaultDir(name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("netagent-lab-\(name)").path
    }
}

/// Processes left by an earlier lab in the same folder (the lab was killed with SIGKILL):
/// every process whose command line names the folder, except `netagent lab` commands.
enum StaleProcesses {
    static func kill(namingFolder dir: String) {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), pid != me,
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.contains(where: { $0.contains(dir + "/") || $0 == dir }) else { continue }
            if arguments.count > 1, arguments[0].hasSuffix("netagent"), arguments[1] == "lab" { continue }
            Glibc.kill(pid, SIGKILL)
        }
    }
}
