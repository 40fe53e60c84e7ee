import DNSCore
import Foundation
import NetIO

/// DNS text: a name that parses is canonical (parsing its text gives it back), within the
/// limits and below itself; an address that parses holds no NUL and prints as text that parses
/// to the same address; ownership TXT values read back what they were written from.
enum DNSNameFuzz {
    static func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        if let name = try? DNSName(text) {
            fuzzCheck(name.text.utf8.count <= 253, "name of \(name.text.utf8.count) octets")
            fuzzCheck(name.text == name.text.lowercased() && !name.text.hasSuffix("."), "name '\(name.text)' is not canonical")
            fuzzCheck((try? DNSName(name.text)) == name, "'\(name.text)' does not parse to itself")
            fuzzCheck(name.isSubdomain(of: name), "'\(name.text)' is not below itself")
            fuzzCheck(name.labels.joined(separator: ".") == name.text, "labels of '\(name.text)' do not join to it")
            for type in RecordType.allCases {
                _ = Endpoint(name: name, type: type, targets: [text])
            }
        }
        if let address = IPAddress(text) {
            fuzzCheck(!text.utf8.contains(0), "text with a NUL parsed as address \(address)")
            fuzzCheck(IPAddress(address.description) == address, "address \(address) does not parse from its own text")
        }
        if let labels = TXTLabels.parse(text), !(labels.owner ?? "").contains(","), !(labels.resource ?? "").contains(",") {
            _ = TXTLabels.serialize(labels)
        }
        if let mapper = try? TXTNameMapper(prefix: "%{record_type}-", suffix: "", wildcardReplacement: "any") {
            _ = mapper.endpointName(forTXT: text)
        }
        if let mapper = try? TXTNameMapper(prefix: "", suffix: "-txt.%{record_type}", wildcardReplacement: "") {
            _ = mapper.endpointName(forTXT: text)
        }
        checkEscaped(text)
    }

    /// Terminal output: escaped text holds no control character, and text without one is unchanged.
    static func checkEscaped(_ text: String) {
        let escaped = TerminalText.escaped(text)
        fuzzCheck(!escaped.unicodeScalars.contains(where: TerminalText.isControl), "escaped text holds a control character")
        if !text.unicodeScalars.contains(where: TerminalText.isControl) {
            fuzzCheck(escaped == text, "text without control characters changed when escaped")
        }
    }
}

/// DNS wire messages: any bytes parse or are refused with an offset inside the message.
enum DNSMessageFuzz {
    static func run(_ data: Data) {
        let bytes = [UInt8](data)
        do {
            let message = try DNSMessage(bytes: bytes)
            for record in message.answers + message.authority {
                DNSNameFuzz.checkEscaped(record.name)
                DNSNameFuzz.checkEscaped(record.data.text)
                _ = record.data.typeName
            }
            checkReplyMatching(message)
        } catch {
            fuzzCheck(error.offset >= 0 && error.offset <= bytes.count, "error at byte \(error.offset) of \(bytes.count)")
        }
    }

    /// The reply checks (QR bit, one question, the asked name, type and class): a message is
    /// taken as the answer to its own question only when all hold, and never as the answer
    /// to another name.
    static func checkReplyMatching(_ message: DNSMessage) {
        let question = message.questions.first
        for type in DNSQueryType.allCases {
            let asked = question?.name ?? "fuzz.test"
            let accepted = message.mismatch(asked: asked, type: type) == nil
            // A label holding a dot is not a name one can ask in text; one ending with a dot
            // ("te\u{FFFD}.") reads as the asked name's trailing dot and matches no question.
            let askable = !asked.hasSuffix(".")
            let expected = message.isResponse && message.questions.count == 1 && question?.type == type.code
                && question?.qclass == 1 && askable
            fuzzCheck(accepted == expected, "reply check says \(accepted) for \(asked) \(type.rawValue), expected \(expected)")
            fuzzCheck(message.mismatch(asked: asked + "x", type: type) != nil, "a reply for \(asked) accepted for \(asked)x")
        }
    }
}
