import Foundation
import Glibc
import Synchronization

/// What a hostile HTTP peer answers to every request.
public enum HostileHTTPReply: Sendable {
    /// 200 with no length and `Connection: close`, then bytes of `chunk` for as long as the
    /// client reads: an endless body.
    case endless(chunk: String = #"{"result":[{"id":"x","name":"a.test"}],"padding":""#)
    /// 200 with `Content-Encoding: encoding` and `body` as it is (a compression bomb).
    case encoded(encoding: String, body: [UInt8])
    /// 200 with this body and its length (a well-behaved reply, for comparison).
    case plain(body: [UInt8])
    /// This status with an empty body: what a proxy answers while its backend is away (502, 503).
    case status(Int)
}

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with one `HostileHTTPReply`,
/// on real sockets: a thread accepts, a thread per connection answers.
public final class HostileHTTPServer: @unchecked Sendable {
    // `@unchecked Sendable`: `port` and `reply` are fixed at init; the descriptor closes in `stop`.
    public let port: Int
    private let listener: Int32
    private let reply: HostileHTTPReply
    /// Body bytes written to clients so far, over all connections.
    public var bytesSent: Int { sent.withLock { $0 } }
    private let sent = Mutex(0)

    public init(_ reply: HostileHTTPReply) throws {
        signal(SIGPIPE, SIG_IGN)
        guard let (fd, port) = BoundSocket.bindLoopback(tcp: true) else { throw TestSupportError("socket/bind: errno \(errno)") }
        guard listen(fd, 16) == 0 else { close(fd); throw TestSupportError("listen: errno \(errno)") }
        listener = fd
        self.port = port
        self.reply = reply
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    public func url(_ path: String = "/") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Stops accepting; connections being answered end when their client leaves.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            let thread = Thread { [self] in answer(client) }
            thread.start()
        }
    }

    private func answer(_ fd: Int32) {
        defer { close(fd) }
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: Array("\r\n\r\n".utf8)), head.count < 65_536 {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { return }
            head += buffer[0..<n]
        }
        switch reply {
        case .endless(let chunk):
            guard write(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n") else { return }
            let piece = Array(String(repeating: chunk, count: max(1, 65_536 / max(1, chunk.utf8.count))).utf8)
            while write(fd, piece) { sent.withLock { $0 += piece.count } }
        case .encoded(let encoding, let body):
            let header = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: \(encoding)\r\n"
                + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            if write(fd, header), write(fd, body) { sent.withLock { $0 += body.count } }
        case .plain(let body):
            let header = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            if write(fd, header), write(fd, body) { sent.withLock { $0 += body.count } }
        case .status(let code):
            guard write(fd, "HTTP/1.1 \(code) Proxy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") else { return }
        }
        // Wait for the client to close, so that it reads everything first.
        while read(fd, &buffer, buffer.count) > 0 {}
    }

    private func write(_ fd: Int32, _ text: String) -> Bool { write(fd, Array(text.utf8)) }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}

/// Compression bombs made with the system's `gzip` and `zstd`: a small reply that decodes
/// to `decodedBytes` of zeros.
public enum CompressionBomb {
    /// gzip -9 of zeros: about 1,000 to 1.
    public static func gzip(decodedBytes: Int) throws -> [UInt8] {
        try compressedZeros(decodedBytes, "gzip -9 -c")
    }

    /// zstd frames of 16 MiB of zeros each, back to back (a decoder must read every frame of
    /// a stream): 4 GiB in about 140 KB, the reply that grew the agent to 4.2 GB.
    public static func zstd(decodedBytes: Int) throws -> [UInt8] {
        let frameSize = 16 << 20
        let frame = try compressedZeros(min(frameSize, decodedBytes), "zstd -3 -q -c")
        let frames = max(1, decodedBytes / frameSize)
        return Array([[UInt8]](repeating: frame, count: frames).joined())
    }

    private static func compressedZeros(_ count: Int, _ command: String) throws -> [UInt8] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let (status, text) = try runCommand("/bin/sh", ["-c", "head -c \(count) /dev/zero | \(command) > '\(output.path)'"])
        guard status == 0 else { throw TestSupportError("\(command) failed: \(text)") }
        return Array(try Data(contentsOf: output))
    }
}

/// A DNS query as a hostile server sees it.
public struct DNSQueryPacket: Sendable {
    public let id: UInt16
    /// The question section as sent (name, type, class), to echo or to change.
    public let question: [UInt8]
    public let type: UInt16
}

/// A UDP DNS server on 127.0.0.1 whose every reply `answer` builds from the query (nil: no
/// reply), for replies no real server would send: the QR bit clear, another ID, another
/// question, a CNAME without the asked-for address, names with control characters.
public final class HostileDNSServer: @unchecked Sendable {
    // `@unchecked Sendable`: fixed at init; the descriptor closes in deinit, which ends the thread.
    public let port: Int
    private let fd: Int32
    private let answer: @Sendable (DNSQueryPacket) -> [UInt8]?

    public init(answer: @escaping @Sendable (DNSQueryPacket) -> [UInt8]?) throws {
        let socket = BoundSocket.bindLoopback(tcp: false)
        guard let (fd, port) = socket else { throw TestSupportError("udp socket: errno \(errno)") }
        self.fd = fd
        self.port = port
        self.answer = answer
        // The thread holds the descriptor and the closure, not the server: dropping the server
        // shuts the socket, which ends the thread's recvfrom, and the thread closes it. Were the
        // server to close it, a thread not yet started (a loaded machine) would later read from
        // whatever socket reused the number — another test's server or a resolver's — and eat
        // its datagrams (a full run's DNS tests waited out their timeouts for that).
        let thread = Thread { Self.serve(fd: fd, answer: answer) }
        thread.start()
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    public var server: String { "127.0.0.1:\(port)" }

    private static func serve(fd: Int32, answer: @Sendable (DNSQueryPacket) -> [UInt8]?) {
        var buffer = [UInt8](repeating: 0, count: 1500)
        while true {
            var from = sockaddr_storage()
            var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &fromLength) }
            }
            guard n > 0 else { close(fd); return }
            guard let query = parse(Array(buffer[0..<n])), let reply = answer(query) else { continue }
            _ = withUnsafePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, fromLength) }
            }
        }
    }

    private static func parse(_ bytes: [UInt8]) -> DNSQueryPacket? {
        guard bytes.count > 12 else { return nil }
        var end = 12
        while end < bytes.count, bytes[end] != 0 { end += Int(bytes[end]) + 1 }
        guard end + 5 <= bytes.count else { return nil }
        let type = UInt16(bytes[end + 1]) << 8 | UInt16(bytes[end + 2])
        return DNSQueryPacket(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), question: Array(bytes[12...(end + 4)]), type: type)
    }
}

/// Builds DNS reply packets for `HostileDNSServer`.
public enum DNSReplyBuilder {
    /// A reply with `flags` (0x8180: a response, recursion desired and available, NOERROR),
    /// the question section `question`, and `answers` as (owner, type, rdata), owners written
    /// as a pointer to the question's name when nil.
    public static func reply(id: UInt16, flags: UInt16 = 0x8180, question: [UInt8],
                             answers: [(owner: [UInt8]?, type: UInt16, data: [UInt8])] = []) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), UInt8(flags >> 8), UInt8(flags & 0xff), 0, 1,
                            0, UInt8(answers.count), 0, 0, 0, 0]
        out += question
        for answer in answers {
            out += answer.owner ?? [0xc0, 12]
            out += [UInt8(answer.type >> 8), UInt8(answer.type & 0xff), 0, 1, 0, 0, 0, 60,
                    UInt8(answer.data.count >> 8), UInt8(answer.data.count & 0xff)]
            out += answer.data
        }
        return out
    }

    /// `name` in wire format (labels, no compression); a label may hold any byte.
    public static func name(_ labels: [String]) -> [UInt8] {
        labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// A question section for `labels` and `type`, class IN.
    public static func question(_ labels: [String], type: UInt16) -> [UInt8] {
        name(labels) + [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
