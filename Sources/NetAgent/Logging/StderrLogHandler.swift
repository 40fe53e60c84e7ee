import Config
import DNSCore
public import Foundation
public import Logging
import NetIO

/// How log lines are written: text for people, one JSON object per line for machines.
public enum LogFormat: String, CaseIterable, Sendable {
    case text
    case json
}

/// A swift-log handler writing one line per message to stderr.
///
/// Text: `2026-11-27T12:00:00.000Z info netagent.config: message key=value` (values with
/// spaces, quotes or `=` are quoted).
/// JSON: `{"time":…,"level":…,"label":…,"message":…,"metadata":{…}}`.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    public let format: LogFormat

    public init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        // Through the one redactor: a secret or credential header in any message or value never reaches stderr.
        let line = Redaction.text(Self.render(time: Date(), level: event.level, label: label, message: "\(event.message)",
                                              metadata: merged, format: format))
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One rendered line without its newline; exposed for tests.
    public static func render(time: Date, level: Logger.Level, label: String, message: String,
                              metadata: Logger.Metadata, format: LogFormat) -> String {
        let stamp = time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        switch format {
        case .text:
            // One line per message: a CR, LF or ESC from a peer or a file must not forge or hide one.
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(quoted(TerminalText.escaped("\($0.value)")))" }
            return ([stamp, level.rawValue, label + ":", TerminalText.escaped(message)] + pairs).joined(separator: " ")
        case .json:
            var object: [String: Any] = ["time": stamp, "level": level.rawValue, "label": label, "message": message]
            if !metadata.isEmpty { object["metadata"] = metadata.mapValues(jsonValue) }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                return #"{"level":"error","message":"log line could not be encoded"}"#
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }

    private static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let item): item.description
        case .array(let items): items.map(jsonValue)
        case .dictionary(let items): items.mapValues(jsonValue)
        }
    }
}
