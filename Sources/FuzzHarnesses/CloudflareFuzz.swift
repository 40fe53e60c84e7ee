import Cloudflare
import DNSCore
import Foundation

/// Cloudflare replies: the bytes as the body of every reply the client reads (success
/// envelopes of each result type, and failures of each status class); listed records go
/// through the provider's reading into endpoints, and TXT values through the ownership format.
enum CloudflareFuzz {
    static func run(_ data: Data) {
        if let reply = try? CloudflareClient.decodeReply(data, as: [CloudflareRecord].self) {
            read(reply.result ?? [])
        }
        // A listing as the client reads it: one record at a time, the unreadable ones set aside by name.
        if let reply = try? CloudflareClient.decodeReply(data, as: [CloudflareListedRecord].self) {
            var records: [CloudflareRecord] = []
            var skipped: [CloudflareUnreadableRecord] = []
            for item in reply.result ?? [] {
                switch item {
                case .read(let record): records.append(record)
                case .unreadable(let record): skipped.append(record)
                }
            }
            read(records)
            let index = CloudflareProvider.index(records)
            for placeholder in CloudflareProvider.placeholders(skipped, besides: index) {
                fuzzCheck(placeholder.targets.isEmpty && index[placeholder.key].isEmpty, "placeholder \(placeholder.key) beside a read record")
                fuzzCheck(CloudflareProvider.blocking(placeholder.key, skipped) != nil, "placeholder \(placeholder.key) does not block writes")
            }
            if !reply.success {
                let error = CloudflareClient.unsuccessful(status: 200, errors: reply.errors, .listRecords)
                fuzzCheck(!error.isTransient, "success:false read as transient")
                _ = error.description
            }
        }
        if let reply = try? CloudflareClient.decodeReply(data, as: CloudflareBatchResult.self), let result = reply.result {
            read((result.deletes ?? []) + (result.patches ?? []) + (result.puts ?? []) + (result.posts ?? []))
        }
        _ = try? CloudflareClient.decodeReply(data, as: [CloudflareZone].self)
        _ = try? CloudflareClient.decodeReply(data, as: CloudflareZone.self)
        _ = try? CloudflareClient.decodeReply(data, as: CloudflareTokenStatus.self)
        _ = try? CloudflareClient.decodeReply(data, as: CloudflareTunnel.self)
        _ = try? CloudflareClient.decodeReply(data, as: [CloudflareTunnelConnector].self)
        for status in [400, 401, 403, 404, 429, 500, 503] {
            for operation in [CloudflareOperation.verifyToken, .listZones, .writeRecords] {
                let error = CloudflareClient.error(status: status, body: data, operation)
                fuzzCheck(error.status == status, "error for \(status) says \(error.status)")
                _ = error.description
            }
        }
    }

    private static func read(_ records: [CloudflareRecord]) {
        let index = CloudflareProvider.index(records)
        for (key, stored) in index.groups {
            fuzzCheck(!stored.isEmpty, "empty record set for \(key)")
            guard let endpoint = CloudflareProvider.endpoint(key, stored) else {
                fuzzCheck(false, "no endpoint for \(key)")
                continue
            }
            fuzzCheck(endpoint.key == key, "endpoint \(endpoint.key) read for \(key)")
            if key.type == .txt {
                for target in endpoint.targets { _ = TXTLabels.parse(target) }
            }
        }
    }
}
