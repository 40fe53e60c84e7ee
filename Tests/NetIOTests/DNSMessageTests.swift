import NetIO
import Testing

@Suite struct DNSMessageTests {
    /// A reply for web.example.com A with a CNAME to a compressed name and an A record.
    static let reply: [UInt8] = [
        0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
        // question: web.example.com A IN (offset 12)
        3, 0x77, 0x65, 0x62, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 0, 1, 0, 1,
        // answer 1: pointer to 12, CNAME, TTL 300, rdata "lb" + pointer to example.com (offset 16)
        0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0x2c, 0, 5, 2, 0x6c, 0x62, 0xc0, 16,
        // answer 2: lb.example.com (pointer to the rdata above, offset 45) A 198.18.0.7
        0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 7,
    ]

    @Test func decodesCompressedNames() throws {
        let message = try DNSMessage(bytes: Self.reply)
        #expect(message.id == 0x1234)
        #expect(message.rcode == .noError)
        #expect(message.answers.count == 2)
        #expect(message.answers[0] == DNSRecord(name: "web.example.com", ttl: 300, data: .cname("lb.example.com")))
        #expect(message.answers[1] == DNSRecord(name: "lb.example.com", ttl: 60, data: .a("198.18.0.7")))
    }

    @Test func readsTheResponseCode() throws {
        var bytes = Self.reply
        bytes[3] = 0x83  // NXDOMAIN
        #expect(try DNSMessage(bytes: bytes).rcode == .nameError)
    }

    @Test func refusesAPointerLoop() {
        var bytes = Self.reply
        bytes[33] = 0xc0; bytes[34] = 33  // the first answer's name points at itself
        #expect(throws: DNSParseError.self) { try DNSMessage(bytes: bytes) }
    }

    @Test func refusesEveryTruncation() {
        for length in 0..<Self.reply.count {
            #expect(throws: DNSParseError.self) { try DNSMessage(bytes: Array(Self.reply.prefix(length))) }
        }
    }
}
