import Foundation
import NetIO
import Synchronization

/// The real dnsmasq behind the Pi-hole simulator, as FTL runs it: hosts in a watched
/// `hostsdir` (applied at once), CNAMEs in the configuration (applied on a resolver restart).
actor PiholeDNS {
    let folder: URL
    private let chosenPort = Mutex(0)
    private var process: SpawnedProcess?
    private let fixedPort: Int?

    init(folder: URL, fixedPort: Int? = nil) {
        self.folder = folder
        self.fixedPort = fixedPort
    }

    /// The UDP port dnsmasq serves on; 0 until `start` found a free one.
    nonisolated var port: Int { chosenPort.withLock { $0 } }

    var hostsFile: URL { folder.appendingPathComponent("hosts/custom.list") }
    var configFile: URL { folder.appendingPathComponent("cname.conf") }

    func start(hosts: [String], cnames: [String]) async throws {
        try FileManager.default.createDirectory(at: hostsFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeHosts(hosts)
        try writeCNAMEs(cnames)
        // A port free a moment ago may be taken by another process before dnsmasq binds it
        // (dnsmasq exits 2): take another one, as the tests' servers do. A fixed port is tried once.
        if let fixedPort {
            chosenPort.withLock { $0 = fixedPort }
            return try await launch()
        }
        for attempt in 1...5 {
            let port = try LoopbackPort.free(udp: true)
            chosenPort.withLock { $0 = port }
            do {
                try await launch()
                return
            } catch is PortTaken where attempt < 5 {
                continue
            }
        }
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

    /// Starts dnsmasq again on the port it had, after `stop`.
    func relaunch() async throws {
        guard process == nil else { return }
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
        let deadline = ContinuousClock.now + .seconds(10)
        // Asked once more after the deadline: on a busy machine this task may wake late.
        var lastLook = false
        while !lastLook {
            lastLook = ContinuousClock.now >= deadline
            if spawned.output.contains("started, version") {
                process = spawned
                return
            }
            if let status = spawned.exitStatusIfEnded() {
                let output = spawned.output
                spawned.removeFiles()
                if status == 2 { throw PortTaken(message: "dnsmasq exited (2), port \(port) in use?: \(output)") }
                throw SimulatorError("dnsmasq exited (\(status)): \(output)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        spawned.kill()
        _ = spawned.wait()
        throw SimulatorError("dnsmasq did not start: \(spawned.output)")
    }
}

/// dnsmasq could not bind its port (exit status 2: a network problem such as the address in use).
struct PortTaken: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
