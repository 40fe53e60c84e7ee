import DNSCore
import Foundation
import Probes

/// How `netagent probe` prints results: an aligned table for people, JSON for machines.
enum ProbeOutput {
    static func table(_ results: [ProbeResult]) -> String {
        let header = ["KIND", "TARGET", "STATUS", "FAULT", "LATENCY", "REASON"]
        let rows = results.map { result in
            [result.kind.rawValue, result.target, result.status.rawValue, result.fault?.rawValue ?? "-",
             result.latencyMs.map { String(format: "%.1fms", $0) } ?? "-", result.reason].map(TerminalText.escaped)
        }
        let widths = (0..<header.count - 1).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index < widths.count ? cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0) : cell
            }.joined()
        }.joined(separator: "\n")
    }

    static func describe(_ event: VIPEvent) -> String {
        let duration = event.durationSeconds.map { String(format: "%.3fs", $0) } ?? "ongoing"
        let text = switch event.kind {
        case .failover: "failover: \(event.oldHolder ?? "?") -> \(event.newHolder ?? "?"), outage \(duration)"
        case .outage: "outage on \(event.newHolder ?? "?"): \(duration)"
        case .splitBrain: "split brain: \(event.holders.joined(separator: ", ")) (\(duration))"
        }
        return TerminalText.escaped(text)
    }

    struct Report: Encodable {
        var kind: ProbeKind
        var rounds: Int
        var ok: Bool
        var results: [ProbeResult]
        /// "TARGET: FAULT" for every fault seen in any round, in order of first sight.
        var faultsSeen: [String]
        var events: [VIPEvent]
    }

    static func json(kind: ProbeKind, rounds: Int, results: [ProbeResult], faultsSeen: [String], events: [VIPEvent]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let report = Report(kind: kind, rounds: rounds, ok: !results.contains { !$0.ok }, results: results,
                            faultsSeen: faultsSeen, events: events)
        guard let data = try? encoder.encode(report) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
