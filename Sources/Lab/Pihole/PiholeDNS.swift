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

    /// FTL's gate on every write that changes dnsmasq's configuration (`dns.cnameRecords`, and
    /// `dns.hosts` when its lines feed the configuration): it writes the would-be configuration
    /// to a temporary file and runs dnsmasq's option parser on it with `--test`, keeping the
    /// change only when that exits 0 (FTL `src/config/dnsmasq_config.c` `write_dnsmasq_config()`
    /// and `test_dnsmasq_config()`; `src/api/config.c` `api_config_put_delete()`). Here the real
    /// dnsmasq binary does the parsing that FTL's embedded copy does.
    ///
    /// Returns nil when dnsmasq accepts the configuration, else the hint FTL sends: the last
    /// line dnsmasq wrote to stderr, newlines stripped, and, when it names a line
    /// (`… at line N of FILE`), that line appended as `: "LINE"` (`get_lineno_from_string()`,
    /// `get_dnsmasq_line()` in the same file).
    func test(cnames: [String]) async throws -> String? {
        let file = folder.appendingPathComponent("dnsmasq.conf.temp")
        let text = Self.configuration(hostsDirectory: hostsFile.deletingLastPathComponent().path, port: port, cnames: cnames)
        try Data(text.utf8).write(to: file, options: .atomic)
        let spawned = try SpawnedProcess.start(try Self.executable(), ["--conf-file=\(file.path)", "--test"], separateStderr: true)
        defer { spawned.removeFiles() }
        var status = spawned.exitStatusIfEnded()
        let deadline = ContinuousClock.now + .seconds(10)
        while status == nil {
            guard ContinuousClock.now < deadline else {
                spawned.kill()
                _ = spawned.wait()
                throw SimulatorError("dnsmasq --test did not finish")
            }
            try await Task.sleep(for: .milliseconds(5))
            status = spawned.exitStatusIfEnded()
        }
        guard status != 0 else { return nil }
        var hint = spawned.errorOutput.split(separator: "\n").last.map(String.init) ?? "dnsmasq --test exited \(status ?? -1)"
        if let range = hint.range(of: " at line "),
           let number = Int(hint[range.upperBound...].prefix(while: \.isNumber)), number > 0 {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if number <= lines.count { hint += ": \"\(lines[number - 1])\"" }
        }
        return hint
    }

    /// The dnsmasq configuration as FTL writes it (`write_dnsmasq_config()`), in the parts that
    /// bear on local records: the header comment, `hostsdir=` (FTL: `/etc/pihole/hosts`, here the
    /// simulator's folder), `no-resolv`, `port=`, `cache-size=`, `localise-queries`, then one
    /// `cname=<element>` line per `dns.cnameRecords` element, verbatim and in order, then the
    /// RFC 6761 `server=/test/`… lines. Left out: FTL's `addn-hosts=/etc/pihole/local.list`
    /// (a path outside the simulator's folder), the DHCP, upstream and logging sections (not
    /// modelled) and `cache-rr=ANY`, an option of FTL's newer embedded dnsmasq that Debian's
    /// dnsmasq 2.90 refuses — none of these is read by the `cname=` parser.
    static func configuration(hostsDirectory: String, port: Int, cnames: [String]) -> String {
        var text = "# Pi-hole: A black hole for Internet advertisements\n# Dnsmasq config for Pi-hole's FTLDNS (Lab simulator)\n#\n"
        text += "hostsdir=\(hostsDirectory)\n\n"
        text += "# Don't read /etc/resolv.conf. Get upstream servers only from the configuration\nno-resolv\n\n"
        text += "# DNS port to be used\nport=\(port)\n\n"
        text += "cache-size=10000\n\nlocalise-queries\n\n"
        if !cnames.isEmpty {
            text += "# User-defined custom CNAMEs\n" + cnames.map { "cname=\($0)\n" }.joined() + "\n"
        }
        text += "server=/test/\nserver=/localhost/\nserver=/invalid/\nserver=/bind/\nserver=/onion/\n"
        return text
    }

    static func executable() throws -> String {
        guard let dnsmasq = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].first(where: FileManager.default.isExecutableFile) else {
            throw SimulatorError("dnsmasq is not installed (scripts/setup installs it)")
        }
        return dnsmasq
    }

    private func writeCNAMEs(_ lines: [String]) throws {
        let text = lines.map { "cname=\($0)\n" }.joined()
        try Data(text.utf8).write(to: configFile, options: .atomic)
    }

    private func launch() async throws {
        let spawned = try SpawnedProcess.start(try Self.executable(), [
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
