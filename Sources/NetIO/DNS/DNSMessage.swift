/// The query types `Resolver` asks for.
public enum DNSQueryType: String, CaseIterable, Sendable, Hashable {
    case a = "A", aaaa = "AAAA", cname = "CNAME", txt = "TXT", ns = "NS", soa = "SOA"

    public var code: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .txt: 16
        case .aaaa: 28
        }
    }
}

/// A response code (RFC 1035 §4.1.1, RFC 6895).
public struct DNSResponseCode: Hashable, Sendable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }

    public static let noError = DNSResponseCode(0)
    public static let formatError = DNSResponseCode(1)
    public static let serverFailure = DNSResponseCode(2)
    public static let nameError = DNSResponseCode(3)
    public static let notImplemented = DNSResponseCode(4)
    public static let refused = DNSResponseCode(5)

    public var description: String {
        switch value {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "RCODE\(value)"
        }
    }
}

/// An SOA record's fields.
public struct SOAData: Hashable, Sendable {
    public var primary: String
    public var mailbox: String
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32
}

/// The data of one resource record, decoded for the types netagent reads.
public enum DNSRecordData: Hashable, Sendable {
    case a(String)
    case aaaa(String)
    case cname(String)
    case ns(String)
    case txt([String])
    case soa(SOAData)
    case other(type: UInt16, length: Int)

    /// The presentation text (dig's last column).
    public var text: String {
        switch self {
        case .a(let v), .aaaa(let v): v
        case .cname(let v), .ns(let v): v + "."
        case .txt(let strings): strings.map { "\"\($0)\"" }.joined(separator: " ")
        case .soa(let s): "\(s.primary). \(s.mailbox). \(s.serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)"
        case .other(let type, let length): "\\# TYPE\(type) \(length) bytes"
        }
    }

    public var typeName: String {
        switch self {
        case .a: "A"
        case .aaaa: "AAAA"
        case .cname: "CNAME"
        case .ns: "NS"
        case .txt: "TXT"
        case .soa: "SOA"
        case .other(let type, _): "TYPE\(type)"
        }
    }
}

/// One resource record of an answer or authority section.
public struct DNSRecord: Hashable, Sendable {
    /// Owner name, lower-case, without the trailing dot.
    public var name: String
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: String, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }
}

/// One entry of a message's question section.
public struct DNSMessageQuestion: Hashable, Sendable {
    /// Lower-case, without the trailing dot.
    public var name: String
    public var type: UInt16
    public var qclass: UInt16
}

/// A DNS message as far as a prober needs it: header code and the answer and authority sections.
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    /// The QR bit: set in a response, clear in a query.
    public var isResponse: Bool
    public var questions: [DNSMessageQuestion]
    public var rcode: DNSResponseCode
    public var truncated: Bool
    public var authoritative: Bool
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]

    /// Parses a wire-format message. Every read is bounds-checked; compression loops are refused.
    public init(bytes: [UInt8]) throws(DNSParseError) {
        var reader = WireReader(bytes: bytes)
        id = try reader.u16()
        let flags = try reader.u16()
        isResponse = flags & 0x8000 != 0
        rcode = DNSResponseCode(Int(flags & 0x000f))
        truncated = flags & 0x0200 != 0
        authoritative = flags & 0x0400 != 0
        let questions = try reader.u16()
        let answerCount = try reader.u16()
        let authorityCount = try reader.u16()
        _ = try reader.u16()
        self.questions = try (0..<questions).map { _ throws(DNSParseError) in
            DNSMessageQuestion(name: try reader.name(), type: try reader.u16(), qclass: try reader.u16())
        }
        answers = try (0..<answerCount).map { _ throws(DNSParseError) in try reader.record() }
        authority = try (0..<authorityCount).map { _ throws(DNSParseError) in try reader.record() }
    }
}

extension DNSMessage {
    /// Why this message is not the reply to a question for `name`'s `type` records in class IN,
    /// or nil when it is: the QR bit must be set and the question section must hold exactly
    /// that question (RFC 1035 §4.1.1, §7.3). c-ares has matched the message ID already (it
    /// drops a reply whose ID it did not send); this checks what it leaves to the caller.
    public func mismatch(asked name: String, type: DNSQueryType) -> String? {
        guard isResponse else { return "QR bit clear: the message is a query, not a response" }
        guard questions.count == 1, let question = questions.first else {
            return "\(questions.count) questions in the reply, expected the one asked"
        }
        let asked = name.lowercased().trimmingSuffixDot
        guard question.name == asked, question.type == type.code, question.qclass == 1 else {
            return "the reply's question (\(question.name) type \(question.type) class \(question.qclass)) is not the one asked (\(asked) \(type.rawValue) IN)"
        }
        return nil
    }
}

/// Why a DNS message could not be read.
public struct DNSParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "malformed DNS message at byte \(offset): \(reason)" }
}

struct WireReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ reason: String, at position: Int? = nil) -> DNSParseError {
        DNSParseError(offset: position ?? offset, reason: reason)
    }

    mutating func u8() throws(DNSParseError) -> UInt8 {
        guard offset < bytes.count else { throw fail("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSParseError) -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    mutating func u32() throws(DNSParseError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func skip(_ count: Int) throws(DNSParseError) {
        guard count >= 0, offset + count <= bytes.count else { throw fail("truncated") }
        offset += count
    }

    /// Reads a possibly compressed name at the cursor.
    mutating func name() throws(DNSParseError) -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var jumps = 0
        var length = 0
        while true {
            guard position < bytes.count else { throw fail("name runs past the end", at: position) }
            let size = Int(bytes[position])
            if size & 0xc0 == 0xc0 {
                guard position + 1 < bytes.count else { throw fail("truncated pointer", at: position) }
                let target = (size & 0x3f) << 8 | Int(bytes[position + 1])
                if !jumped { offset = position + 2 }
                jumped = true
                jumps += 1
                guard jumps <= 64, target < position else { throw fail("compression loop", at: position) }
                position = target
            } else if size & 0xc0 != 0 {
                throw fail("unknown label type", at: position)
            } else if size == 0 {
                if !jumped { offset = position + 1 }
                return labels.joined(separator: ".")
            } else {
                guard position + 1 + size <= bytes.count else { throw fail("label runs past the end", at: position) }
                length += size + 1
                guard length <= 255 else { throw fail("name longer than 255 octets", at: position) }
                labels.append(String(decoding: bytes[(position + 1)...(position + size)], as: UTF8.self).lowercased())
                position += 1 + size
            }
        }
    }

    mutating func record() throws(DNSParseError) -> DNSRecord {
        let owner = try name()
        let type = try u16()
        _ = try u16()
        let ttl = try u32()
        let length = Int(try u16())
        let start = offset
        guard start + length <= bytes.count else { throw fail("record data runs past the end") }
        let data: DNSRecordData
        switch type {
        case 1:
            guard length == 4 else { throw fail("A record of \(length) bytes") }
            data = .a(IPAddress(bytes: Array(bytes[start..<start + 4]))?.description ?? "?")
        case 28:
            guard length == 16 else { throw fail("AAAA record of \(length) bytes") }
            data = .aaaa(IPAddress(bytes: Array(bytes[start..<start + 16]))?.description ?? "?")
        case 5: data = .cname(try name())
        case 2: data = .ns(try name())
        case 16:
            var strings: [String] = []
            while offset < start + length {
                let size = Int(try u8())
                guard offset + size <= start + length else { throw fail("TXT string runs past its record") }
                strings.append(String(decoding: bytes[offset..<offset + size], as: UTF8.self))
                offset += size
            }
            data = .txt(strings)
        case 6:
            data = .soa(SOAData(
                primary: try name(), mailbox: try name(), serial: try u32(), refresh: try u32(),
                retry: try u32(), expire: try u32(), minimum: try u32()))
        default:
            data = .other(type: type, length: length)
        }
        guard offset <= start + length else { throw fail("record data longer than its length") }
        offset = start + length
        return DNSRecord(name: owner, ttl: ttl, data: data)
    }
}
