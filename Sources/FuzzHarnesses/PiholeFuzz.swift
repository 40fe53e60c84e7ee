import DNSCore
import Foundation
import NetIO
import Pihole

/// Pi-hole replies and lines: the bytes as the body of each reply the client reads, and as
/// config lines (directly too, so the line reader is reached without valid JSON). Every record
/// read must write back to a line that reads as the same record.
enum PiholeFuzz {
    static func run(_ data: Data) {
        let hosts = PiholeClient.lines(.hosts, in: data) ?? []
        let cnames = PiholeClient.lines(.cnameRecords, in: data) ?? []
        read(hosts: hosts, cnames: cnames)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        read(hosts: lines, cnames: lines)
        _ = PiholeClient.session(data)
        for status in [400, 401, 403, 404, 429, 500] {
            let error = PiholeClient.error(status, data, instance: "http://127.0.0.1:1")
            fuzzCheck(error.status == status, "error for \(status) says \(error.status)")
            _ = error.description
        }
    }

    private static func read(hosts: [String], cnames: [String]) {
        let set = PiholeRecordSet(hosts: hosts, cnames: cnames)
        for endpoint in set.endpoints where !(endpoint.type == .cname && endpoint.targets.count > 1) {
            for target in endpoint.targets {
                guard case .success(let (line, array)) = PiholeRecordSet.line(for: endpoint, target: target) else {
                    fuzzCheck(false, "record \(endpoint.key) → \(target) read from Pi-hole cannot be written back")
                    continue
                }
                let again = PiholeRecordSet(hosts: array == .hosts ? [line] : [], cnames: array == .cnameRecords ? [line] : [])
                fuzzCheck(again.endpoints.count == 1 && again.endpoints[0].key == endpoint.key && again.endpoints[0].targets == [target],
                          "line '\(line)' written for \(endpoint.key) → \(target) reads back as \(again.endpoints)")
            }
        }
    }
}
