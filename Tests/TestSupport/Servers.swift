import Foundation
import Glibc
import NetIO

/// A free port on 127.0.0.1 for `type` (SOCK_DGRAM or SOCK_STREAM).
public func freeLoopbackPort(type: Int32 = Int32(SOCK_STREAM.rawValue)) throws -> Int {
    try LoopbackPort.free(udp: type == Int32(SOCK_DGRAM.rawValue))
}

/// A UDP socket on 127.0.0.1 that receives queries and never answers: a dead DNS server.
public typealias SilentUDPServer = BoundSocket

/// A socket bound on 127.0.0.1 that never answers, held until it is released. UDP: a DNS server
/// that receives queries and never replies. TCP (never listening): a port where connections are
/// refused and that no other test can take meanwhile, unlike a port closed after use.
public final class BoundSocket: @unchecked Sendable {
    // `@unchecked Sendable`: the descriptor is fixed at init and only closed in deinit.
    public let port: Int
    private let fd: Int32

    public init(tcp: Bool = false) throws {
        guard let (fd, port) = Self.bindLoopback(tcp: tcp) else { throw TestSupportError("socket/bind: errno \(errno)") }
        self.fd = fd
        self.port = port
    }

    /// A TCP port on 127.0.0.1 that takes connections (the kernel completes the handshake into
    /// the backlog) and never accepts or answers them: a peer that hangs every request.
    public static func hanging() throws -> BoundSocket {
        let socket = try BoundSocket(tcp: true)
        guard listen(socket.fd, 64) == 0 else { throw TestSupportError("listen: errno \(errno)") }
        return socket
    }

    /// A socket bound to a free port on 127.0.0.1, and the port.
    static func bindLoopback(tcp: Bool) -> (Int32, Int)? {
        let fd = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(fd); return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    deinit { close(fd) }
}

/// dnsmasq serving fixed records on a loopback port, as a real DNS server for tests.
public final class DnsmasqServer: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init; `ChildProcess` is itself Sendable.
    public let port: Int
    public let child: ChildProcess

    /// Starts dnsmasq with `records` (dnsmasq options such as `--host-record=…`). Names without
    /// local data get REFUSED (`--no-resolv`).
    public init(records: [String], extra: [String] = []) async throws {
        guard let dnsmasq = Repository.which("dnsmasq") else {
            throw TestSupportError("dnsmasq is not installed (scripts/setup installs it)")
        }
        (port, child) = try await startOnFreePort(udp: true) { port in
            try ChildProcess(dnsmasq, [
                "--keep-in-foreground", "--pid-file=", "--log-facility=-", "--port=\(port)",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--local-ttl=60", "--user=root",
            ] + extra + records)
        } ready: { child, _ in
            try await child.waitForOutput(timeout: .seconds(5)) { $0.contains("started, version") }
        }
    }

    public var address: String { "127.0.0.1:\(port)" }
}

/// Debian's aiosmtpd (`/usr/bin/python3 -m aiosmtpd`) writing every message into a maildir.
public final class SMTPSink: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public let port: Int
    public let maildir: URL
    public let child: ChildProcess

    /// - Parameter tls: a certificate and key: STARTTLS is then offered and required.
    public init(tls: (certificate: String, key: String)? = nil) async throws {
        let folder = try Repository.temporaryFolder("smtp")
        maildir = folder.appendingPathComponent("maildir")
        let maildir = maildir
        (port, child) = try await startOnFreePort(udp: false) { port in
            var arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path]
            if let tls { arguments += ["--tlscert", tls.certificate, "--tlskey", tls.key] }
            return try ChildProcess("/usr/bin/python3", arguments)
        } ready: { _, port in
            try await waitForTCP(port: port)
        }
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// The messages received so far, as raw text.
    public func messages() -> [String] {
        let new = maildir.appendingPathComponent("new")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: new.path)) ?? []
        return files.sorted().compactMap { try? String(contentsOf: new.appendingPathComponent($0), encoding: .utf8) }
    }
}

/// Starts a server on a port that was free a moment ago, trying again (up to 5 times) when
/// another process took the port first; returns the port and the running child.
public func startOnFreePort(
    udp: Bool, launch: (Int) throws -> ChildProcess, ready: (ChildProcess, Int) async throws -> Void
) async throws -> (Int, ChildProcess) {
    var lastError: (any Error)?
    for _ in 0..<5 {
        let port = try LoopbackPort.free(udp: udp)
        let child = try launch(port)
        do {
            try await ready(child, port)
            return (port, child)
        } catch {
            lastError = error
            child.stop()
        }
    }
    throw lastError ?? TestSupportError("the server did not start")
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
public func waitForTCP(port: Int, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSupportError("nothing listens on 127.0.0.1:\(port)")
}

/// The tests' HTTP server (Tests/Fixtures/http_test_server.py) on a loopback port.
public final class HTTPTestServer: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public let port: Int
    public let child: ChildProcess
    public let scheme: String

    public init(tls: TestCertificates? = nil, requireClientCertificate: Bool = false) async throws {
        var arguments = [Repository.fixture("http_test_server.py")]
        if let tls {
            arguments += ["--cert", tls.serverCertificate, "--key", tls.serverKey]
            if requireClientCertificate { arguments += ["--client-ca", tls.caCertificate] }
        }
        let child = try ChildProcess("/usr/bin/python3", arguments)
        port = try await child.announcedPort("the HTTP test server")
        self.child = child
        scheme = tls == nil ? "http" : "https"
    }

    public func url(_ path: String, host: String = "127.0.0.1") -> String { "\(scheme)://\(host):\(port)\(path)" }
}

extension ChildProcess {
    /// The port a server child prints as a `PORT <n>` line once it listens.
    func announcedPort(_ what: String) async throws -> Int {
        let text = try await waitForOutput { $0.contains("PORT ") }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }),
              let port = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
        else { throw TestSupportError("no port from \(what): \(text)") }
        return port
    }
}
