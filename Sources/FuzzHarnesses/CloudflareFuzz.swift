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
        for (key, stored) in index {
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
