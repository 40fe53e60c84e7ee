import Foundation
import Logging
@testable import NetAgent
import Testing

@Suite("Log lines")
struct LogHandlerTests {
    private let time = Date(timeIntervalSince1970: 1_700_000_000.25)

    @Test("text: time, level, label, message, metadata as key=value")
    func text() {
        let line = StderrLogHandler.render(time: time, level: .warning, label: "netagent.probe", message: "node down",
                                           metadata: ["node": "k8s-6", "reason": "no route to host"], format: .text)
        #expect(line == #"2023-11-14T22:13:20.250Z warning netagent.probe: node down node=k8s-6 reason="no route to host""#)
    }

    @Test("text: a line break or ESC from a peer cannot forge or repaint a line (issue 20, defect 12)")
    func textEscapes() {
        let line = StderrLogHandler.render(time: time, level: .error, label: "netagent", message: "bad\r\n2023 info forged\u{1B}[2J",
                                           metadata: ["file": "a\nb.yaml"], format: .text)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}"))
        #expect(line.hasSuffix(#"bad\r\n2023 info forged\e[2J file=a\nb.yaml"#))
    }

    @Test("json: one object per line that parses back")
    func json() throws {
        let line = StderrLogHandler.render(time: time, level: .info, label: "netagent", message: "a \"quoted\"\nline",
                                           metadata: ["ports": .array(["6443", "50000"])], format: .json)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "netagent")
        #expect(object["message"] as? String == "a \"quoted\"\nline")
        #expect(object["time"] as? String == "2023-11-14T22:13:20.250Z")
        #expect((object["metadata"] as? [String: Any])?["ports"] as? [String] == ["6443", "50000"])
    }

    @Test("the handler's level and metadata follow swift-log's contract")
    func handler() {
        var handler = StderrLogHandler(label: "x", level: .notice, format: .json)
        handler[metadataKey: "provider"] = "pihole"
        #expect(handler.metadata["provider"] == "pihole")
        #expect(handler.logLevel == .notice)
        var logger = Logger(label: "x") { _ in handler }
        #expect(logger.logLevel == .notice)
        logger.logLevel = .debug
        #expect(logger.logLevel == .debug)
    }
}
