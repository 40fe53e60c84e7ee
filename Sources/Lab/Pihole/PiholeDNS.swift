import Foundation
import NetIO

/// The real dnsmasq behind the Pi-hole simulator, as FTL runs it: hosts in a watched
/// `hostsdir` (applied at once), CNAMEs in the configuration (applied on a resolver restart).
actor PiholeDNS {
    let folder: URL
    let port: Int
    private var process: SpawnedProcess?

    init(folder: URL, port: Int) {
        self.folder = folder
        self.port = port
    }

    var hostsFile: URL { folder.appendingPathComponent("hosts/custom.list") }
    var configFile: URL { folder.appendingPathComponent("cname.conf") }

    func start(hosts: [String], cnames: [String]) async throws {
        try FileManager.default.createDirectory(at: hostsFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeHosts(hosts)
        try writeCNAMEs(cnames)
        try await launch()
    }

    /// Rewrites the hosts file; dnsmasq notices through inotify.
    func writeHosts(_ lines: [String]) throws {
        let text = lines.map { $0 + "\n" }.joined()
        try Data(text.utf8).write(to: hostsFile, options: .atomic)
    }

    /// Rewrites the CNAMEs and restarts dnsmasq, as FTL restarts its resolver.
    func restart(cnames: [String]) async throws {
        try writeCNAMEs(cnames)
        stop()
        try await launch()
    }

    func stop() {
        guard let process else { return }
        process.kill()
        _ = process.wait()
        process.removeFiles()
        self.process = nil
    }

    private func writeCNAMEs(_ lines: [String]) throws {
        let text = lines.map { "cname=\($0)\n" }.joined()
        try Data(text.utf8).write(to: configFile, options: .atomic)
    }

    private func launch() async throws {
        guard let dnsmasq = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].first(where: FileManager.default.isExecutableFile) else {
            throw SimulatorError("dnsmasq is not installed (scripts/setup installs it)")
        }
        let spawned = try SpawnedProcess.start(dnsmasq, [
            "--keep-in-foreground", "--pid-file=", "--log-facility=-", "--port=\(port)", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--local-ttl=2", "--user=root",
            "--hostsdir=\(hostsFile.deletingLastPathComponent().path)", "--conf-file=\(configFile.path)",
        ])
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if spawned.output.contains("started, version") {
                process = spawned
                return
            }
            if let status = spawned.exitStatusIfEnded() {
                throw SimulatorError("dnsmasq exited (\(status)): \(spawned.output)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        spawned.kill()
        _ = spawned.wait()
        throw SimulatorError("dnsmasq did not start: \(spawned.output)")
    }
}
