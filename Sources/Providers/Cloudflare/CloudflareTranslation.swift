import DNSCore

/// One record operation of a batch, tied to the plan change it serves.
struct RecordOperation: Hashable, Sendable {
    enum Action: Hashable, Sendable {
        case delete(id: String)
        case patch(CloudflareRecordBody)
        case post(CloudflareRecordBody)
    }

    var action: Action
    /// Index of the change (into the outcomes) this operation belongs to.
    var change: Int
    var key: Endpoint.Key

    /// Batches run deletes, then patches, then posts (API-FACTS §B.5).
    var phase: Int {
        switch action {
        case .delete: 0
        case .patch: 1
        case .post: 2
        }
    }
}

/// What an apply needs of one record the zone holds, kept from one listing to the next: its
/// id (to patch or delete it), its value, and the settings a patch compares. Its name and type
/// are the key it is kept under (`ZoneRecords`), so it does not repeat them.
package struct CurrentRecord: Hashable, Sendable {
    package var id: CloudflareRecordID
    /// Declared next to `id` so that it fills the bytes after the id's tag (72 bytes a record, not 80).
    package var proxied: Bool?
    package var content: String
    /// 1 means automatic.
    package var ttl: Int
    package var comment: String?
    package var tags: [String]?

    package init(_ record: CloudflareRecord) {
        id = CloudflareRecordID(record.id)
        content = record.content
        ttl = record.ttl
        proxied = record.proxied
        comment = record.comment
        tags = record.tags
    }
}

/// A record's id as the index keeps it, for as long as the agent runs: Cloudflare's record ids
/// are 32 lower-case hexadecimal digits (every id its API and SDK examples show; the simulator
/// makes them so), held here as their 16 bytes rather than a 32-character string on the heap
/// (~80 bytes of malloc a record). An id of any other form is kept as the text it came as, so
/// no id is ever changed: `text` is always exactly the id that was read.
package enum CloudflareRecordID: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digits as two numbers: the first 16 digits, then the last 16.
    case hex(UInt64, UInt64)
    case text(String)

    package init(_ text: String) {
        // Read in place: every record of a listing passes here (20,000 for 10,000 routes).
        let digits = text.utf8
        guard digits.count == 32, let high = Self.number(digits.prefix(16)), let low = Self.number(digits.dropFirst(16)) else {
            self = .text(text)
            return
        }
        self = .hex(high, low)
    }

    /// The id as Cloudflare wrote it, for a request that names the record.
    package var text: String {
        switch self {
        case .hex(let high, let low): Self.digits(high) + Self.digits(low)
        case .text(let text): text
        }
    }

    package var description: String { text }

    /// Sixteen lower-case hex digits as a number; nil for anything else (upper case included,
    /// which would not render back the same).
    private static func number(_ digits: some Sequence<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    /// `value` as sixteen lower-case hex digits, leading zeros kept.
    private static func digits(_ value: UInt64) -> String {
        let rendered = String(value, radix: 16)
        return String(repeating: "0", count: 16 - rendered.count) + rendered
    }
}

/// What became of one plan change.
struct ChangeOutcome: Hashable, Sendable {
    var operation: ApplyFailure.Operation
    var key: Endpoint.Key
    var failure: String?
}

/// Settings that shape the records netagent writes.
struct RecordStyle: Hashable, Sendable {
    var proxiedByDefault: Bool
    var comment: String?
    var tags: [String]
}

/// Plan changes → record operations and batches, as pure functions. One Cloudflare record
/// holds one value, so a record set is one record per target. An update pairs each removed
/// value with an added one and patches that record in place (one operation instead of a
/// delete and a create); a kept value is patched only when its TTL or proxied flag differ.
enum CloudflareTranslation {
    /// The operations for `changes` in batch order (deletes, patches, posts), and one outcome
    /// per change. `stored` holds the zone's records by key, as last listed or written.
    static func operations(
        for changes: Plan.Changes, stored: ZoneRecords, style: RecordStyle
    ) -> (operations: [RecordOperation], outcomes: [ChangeOutcome]) {
        // Batch order (deletes, patches, posts; `phase`), each phase in the plan's order: one array a
        // phase, joined once, rather than an enumerated copy sorted by phase and mapped back.
        var phases: [[RecordOperation]] = [[], [], []]
        var outcomes: [ChangeOutcome] = []
        func add(_ action: RecordOperation.Action, _ key: Endpoint.Key) {
            let operation = RecordOperation(action: action, change: outcomes.count - 1, key: key)
            phases[operation.phase].append(operation)
        }
        for endpoint in changes.deletes {
            outcomes.append(ChangeOutcome(operation: .delete, key: endpoint.key))
            // Only values the plan names: a value added by hand since the listing stays.
            for record in stored[endpoint.key] where endpoint.targets.contains(record.content) {
                add(.delete(id: record.id.text), endpoint.key)
            }
        }
        for update in changes.updates {
            outcomes.append(ChangeOutcome(operation: .update, key: update.key))
            let records = stored[update.key]
            guard !records.isEmpty else {
                outcomes[outcomes.count - 1].failure = "the record is no longer in the zone"
                continue
            }
            let wanted = Set(update.new.targets)
            let removed = records.filter { !wanted.contains($0.content) }
            let present = Set(records.map(\.content))
            var added = update.new.targets.filter { !present.contains($0) }
            for record in removed {
                if added.isEmpty {
                    add(.delete(id: record.id.text), update.key)
                } else {
                    add(.patch(clearing(record, body(update.new, content: added.removeFirst(), style: style, id: record.id.text))), update.key)
                }
            }
            for record in records where wanted.contains(record.content) {
                let desired = body(update.new, content: record.content, style: style, id: record.id.text)
                if differs(record, desired, ttlIsExplicit: update.new.ttl != nil || desired.proxied == true) {
                    add(.patch(clearing(record, desired)), update.key)
                }
            }
            for content in added { add(.post(body(update.new, content: content, style: style)), update.key) }
        }
        for endpoint in changes.creates {
            outcomes.append(ChangeOutcome(operation: .create, key: endpoint.key))
            for content in endpoint.targets { add(.post(body(endpoint, content: content, style: style)), endpoint.key) }
        }
        return (Array(phases.joined()), outcomes)
    }

    /// Splits ordered operations into batches of at most `size`, keeping the order, and
    /// starting a new batch before a create whose name the current batch deletes with a type
    /// that cannot sit beside it (A/AAAA against CNAME): no batch holds both halves of a switch.
    static func chunks(_ operations: [RecordOperation], size: Int) -> [[RecordOperation]] {
        var chunks: [[RecordOperation]] = []
        var current: [RecordOperation] = []
        var deletedHere: [DNSName: Set<RecordType>] = [:]
        for operation in operations {
            var conflicts = false
            if case .post = operation.action, let types = deletedHere[operation.key.name] {
                conflicts = types.contains { switches($0, operation.key.type) }
            }
            if current.count >= max(1, size) || conflicts {
                chunks.append(current)
                current = []
                deletedHere = [:]
            }
            current.append(operation)
            if case .delete = operation.action { deletedHere[operation.key.name, default: []].insert(operation.key.type) }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// The batch request for `operations`.
    static func batch(_ operations: some Sequence<RecordOperation>) -> CloudflareBatch {
        var batch = CloudflareBatch()
        for operation in operations {
            switch operation.action {
            case .delete(let id): batch.deletes.append(.init(id: id))
            case .patch(let body): batch.patches.append(body)
            case .post(let body): batch.posts.append(body)
            }
        }
        return batch
    }

    /// The record netagent writes for one value of `endpoint`: TTL 1 (automatic) when
    /// proxied or unset, never proxied for TXT.
    static func body(_ endpoint: Endpoint, content: String, style: RecordStyle, id: String? = nil) -> CloudflareRecordBody {
        let proxied: Bool? = endpoint.type == .txt ? nil : (endpoint.providerSpecific.cloudflareProxied ?? style.proxiedByDefault)
        let ttl = proxied == true ? 1 : (endpoint.ttl ?? 1)
        let tags = endpoint.providerSpecific.cloudflareTags ?? style.tags
        return CloudflareRecordBody(
            id: id, name: endpoint.name.text, type: endpoint.type.rawValue, content: content, ttl: ttl, proxied: proxied,
            comment: endpoint.providerSpecific.cloudflareRecordComment ?? style.comment, tags: tags.isEmpty ? nil : tags.sorted())
    }

    private static func differs(_ record: CurrentRecord, _ desired: CloudflareRecordBody, ttlIsExplicit: Bool) -> Bool {
        if let proxied = desired.proxied, proxied != (record.proxied ?? false) { return true }
        if desired.type != "TXT", (record.comment ?? "") != (desired.comment ?? "") { return true }
        if desired.type != "TXT", (record.tags ?? []).sorted() != (desired.tags ?? []) { return true }
        return ttlIsExplicit && record.ttl != desired.ttl
    }

    /// A patch leaves out what it does not send; a comment or tags netagent no longer wants are sent empty.
    private static func clearing(_ record: CurrentRecord, _ body: CloudflareRecordBody) -> CloudflareRecordBody {
        var body = body
        if body.type != "TXT", body.comment == nil, record.comment?.isEmpty == false { body.comment = "" }
        if body.type != "TXT", body.tags == nil, record.tags?.isEmpty == false { body.tags = [] }
        return body
    }

    /// Whether `a` and `b` cannot share a name: a CNAME beside anything of A, AAAA, CNAME.
    static func switches(_ a: RecordType, _ b: RecordType) -> Bool {
        let addressOrAlias: Set<RecordType> = [.a, .aaaa, .cname]
        return a != b && (a == .cname || b == .cname) && addressOrAlias.contains(a) && addressOrAlias.contains(b)
    }
}
