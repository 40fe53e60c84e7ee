/// The owner marker `CommentRegistry` writes at the end of a record's comment:
/// `heritage=netagent,owner=<id>,kind=<kind>` as the comment's last word, after the user's own
/// text and one space (`media server heritage=netagent,owner=home,kind=httproute`).
///
/// A comment is owned only when its last space-separated word starts with
/// `heritage=netagent,` and names an owner (once, and a kind at most once and as a plain word);
/// anything else (no marker, a marker the user edited away or followed with more text) is a
/// comment netagent does not own. `kind` is the first
/// segment of the resource label (`httproute`, `crd`, `config`): the whole label
/// (`httproute/NAMESPACE/NAME`) would not fit the Free plan's 100 characters, and the kind is
/// what the plan needs to withhold the deletes of a source kind that could not be read. It
/// reads back as the resource label `<kind>/`.
public enum CommentMarker {
    public static let heritage = "netagent"
    static let lead = "heritage=\(heritage)"

    /// The marker for `owner` and the record's `resource` label.
    public static func marker(owner: String, resource: String?) -> String {
        var fields = [lead, "owner=\(owner)"]
        if let kind = resource.flatMap(kind(of:)) { fields.append("kind=\(kind)") }
        return fields.joined(separator: ",")
    }

    /// The comment netagent writes: the user's text, a space and the marker (the marker alone without text).
    public static func compose(userText: String?, owner: String, resource: String?) -> String {
        let marker = marker(owner: owner, resource: resource)
        guard let userText, !userText.isEmpty else { return marker }
        return userText + " " + marker
    }

    /// The labels in `comment`'s marker and the user's text before it (nil when there is none);
    /// `nil` when the comment carries no marker.
    public static func parse(_ comment: String) -> (labels: EndpointLabels, userText: String?)? {
        let space = comment.lastIndex(of: " ")
        let word = space.map { comment[comment.index(after: $0)...] } ?? comment[...]
        let fields = word.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.first == Substring(lead) else { return nil }
        var labels = EndpointLabels()
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { return nil }
            let key = field[..<equals], value = String(field[field.index(after: equals)...])
            guard !value.isEmpty else { return nil }
            switch key {
            case "owner":
                guard labels.owner == nil else { return nil }
                labels.owner = value
            case "kind":
                // The comment is the peer's (anyone with the zone may edit it): only a kind this
                // writer could have written (`kind(of:)`), once, is read.
                guard labels.resource == nil, isPlainWord(value) else { return nil }
                labels.resource = value + "/"
            default: continue  // a key a later version adds
            }
        }
        guard labels.owner != nil else { return nil }
        let text = space.map { String(comment[..<$0]) }
        return (labels, text?.isEmpty == false ? text : nil)
    }

    /// The first segment of a resource label when it is a plain word (`httproute`), else nil.
    static func kind(of resource: String) -> String? {
        let head = resource.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return isPlainWord(head) ? String(head) : nil
    }

    /// ASCII letters, digits, `-` and `.`, at least one.
    private static func isPlainWord(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    /// Why `owner` cannot stand in a marker, or nil: it must be one word without `,` or `=`.
    public static func ownerProblem(_ owner: String) -> String? {
        if owner.isEmpty { return "the owner id must not be empty" }
        if owner.contains(where: { $0.isWhitespace || $0 == "," || $0 == "=" }) {
            return "the owner id '\(owner)' cannot stand in a comment marker: use no spaces, ',' or '='"
        }
        return nil
    }
}

/// A comment registry setting that cannot work, with the reason.
public struct CommentRegistryError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "comment registry: \(reason)" }
}

/// A record whose comment, with the owner marker appended, is longer than the zone's plan
/// allows: netagent refuses to write it rather than cut the user's text or the marker.
public struct CommentTooLongError: Error, Hashable, Sendable, CustomStringConvertible {
    public let key: Endpoint.Key
    public let comment: String
    public let limit: Int

    public var description: String {
        "CommentTooLong: the comment of \(key) with the owner marker would be \(comment.count) characters ('\(comment)'), "
            + "more than the \(limit) allowed (providers[].commentMaxLength: 100 on Cloudflare's Free plan, 500 on paid plans); "
            + "shorten the cloudflare-record-comment annotation or the provider's comment"
    }
}

/// Ownership kept in each record's own comment (Cloudflare), so no TXT record is written: the
/// marker `CommentMarker` makes is appended to the user's comment, and only records whose
/// comment ends in this owner's marker are owned. Asked for as external-dns#6209 ("Cloudflare
/// use comments OR tags as registry/owner-id instead of TXT": ownership TXT records use up a
/// zone's record quota, 200 on the Free plan).
///
/// Take-over from TXT ownership in one run: records whose ownership TXT (external-dns's format,
/// the same owner id, read as `TXTRegistry` reads it) says they are this owner's are owned; the
/// next `apply` gives each the marker by an edit of its comment (a PATCH, never a delete and a
/// create) and then deletes the ownership TXT records of the records that carry the marker or
/// were deleted. A record whose marking failed keeps its TXT record, so it stays owned.
/// TXT records themselves cannot be owned this way (the provider reads no comment on TXT):
/// creating one is refused by name.
public actor CommentRegistry: Registry {
    public nonisolated let ownerID: String
    public nonisolated let provider: any DNSProvider
    /// The longest comment the zone's plan allows (Cloudflare: 100 Free, 500 paid).
    public nonisolated let maxCommentLength: Int
    /// Reads the TXT ownership records of the same owner id, for the take-over.
    private let txt: TXTRegistry
    /// Records owned through a TXT record only, seen by the last `records`: marked on `apply`.
    private var unmarked: [Endpoint] = []
    /// Records carrying this owner's marker, seen by the last `records`.
    private var marked: [Endpoint] = []

    /// Throws when `ownerID` cannot stand in a marker (empty, spaces, `,` or `=`).
    public init(provider: any DNSProvider, ownerID: String, mapper: TXTNameMapper, maxCommentLength: Int = 100) throws(CommentRegistryError) {
        if let problem = CommentMarker.ownerProblem(ownerID) { throw CommentRegistryError(reason: problem) }
        self.provider = provider
        self.ownerID = ownerID
        self.maxCommentLength = maxCommentLength
        do { txt = try TXTRegistry(provider: provider, ownerID: ownerID, mapper: mapper) } catch {
            throw CommentRegistryError(reason: error.reason)
        }
    }

    /// The provider's records labelled by the marker in their comment (which is returned
    /// without the marker, as the user's text) or, for records without one, by their ownership
    /// TXT record; ownership TXT records are hidden.
    public func records(desired: [Endpoint]) async throws -> [Endpoint] {
        var records = try await txt.records(desired: desired)
        var unmarked: [Endpoint] = [], marked: [Endpoint] = []
        for index in records.indices where records[index].type != .txt {
            if let comment = records[index].providerSpecific.cloudflareRecordComment, let found = CommentMarker.parse(comment) {
                records[index].labels = found.labels
                records[index].providerSpecific.cloudflareRecordComment = found.userText
                if found.labels.owner == ownerID { marked.append(records[index]) }
            } else if records[index].labels.owner == ownerID {
                unmarked.append(records[index])
            }
        }
        self.unmarked = unmarked
        self.marked = marked
        return records
    }

    /// Applies the owned part of `changes` with the marker in every written comment, marks the
    /// records still owned through TXT (in the same request), then deletes the ownership TXT
    /// records nothing depends on any more.
    public func apply(_ changes: Plan.Changes) async throws -> ApplyReport {
        let owned = changes.owned(by: ownerID)
        var batch = Plan.Changes(deletes: owned.deletes)
        var refused: [ApplyFailure] = []
        func mark(_ record: Endpoint, _ operation: ApplyFailure.Operation) -> Endpoint? {
            if record.type == .txt {
                refused.append(ApplyFailure(operation: operation, key: record.key, message:
                    "registry: comment cannot own a TXT record (its comment is not read back); use registry: txt for TXT records"))
                return nil
            }
            if let refusal = provider.refusal(of: record) {
                refused.append(ApplyFailure(operation: operation, key: record.key, message: refusal))
                return nil
            }
            do { return try marking(record) } catch {
                refused.append(ApplyFailure(operation: operation, key: record.key, message: error.description))
                return nil
            }
        }
        for record in owned.creates { if let marked = mark(record, .create) { batch.creates.append(marked) } }
        for update in owned.updates {
            if let marked = mark(update.new, .update) { batch.updates.append(Plan.Update(old: update.old, new: marked)) }
        }
        let planned = Set(owned.updates.map(\.key) + owned.deletes.map(\.key))
        for record in unmarked where !planned.contains(record.key) {
            // The take-over: the same record with the marker appended to its comment, an edit in place.
            if let marked = mark(record, .update) { batch.updates.append(Plan.Update(old: record, new: marked)) }
        }
        var report = ApplyReport(failures: refused)
        if !batch.isEmpty { report.merge(try await provider.apply(batch)) }

        let failed = Set(report.failures.map(\.key))
        let written = Set((batch.updates.map(\.key) + batch.deletes.map(\.key)).filter { !failed.contains($0) })
        // A record still owned only through its TXT record keeps that record (an old untyped
        // name may speak for a marked record and an unmarked one at once).
        var keep = Set<DNSName>()
        for record in unmarked where !written.contains(record.key) {
            for ownership in await txt.ownRecords(for: record) { keep.insert(ownership.name) }
        }
        var retire: [DNSName: Endpoint] = [:]
        for record in unmarked.filter({ written.contains($0.key) }) + marked {
            for ownership in await txt.ownRecords(for: record) where !keep.contains(ownership.name) {
                retire[ownership.name] = ownership
            }
        }
        unmarked = []
        marked = []
        guard !retire.isEmpty else { return report }
        do {
            report.merge(try await provider.apply(Plan.Changes(deletes: retire.values.sorted { $0.key < $1.key })))
        } catch {
            report.failures += retire.values.map { ApplyFailure(operation: .delete, key: $0.key, message: "\(error)") }
        }
        return report
    }

    /// `record` with this owner's marker appended to its comment.
    private func marking(_ record: Endpoint) throws(CommentTooLongError) -> Endpoint {
        let comment = CommentMarker.compose(
            userText: record.providerSpecific.cloudflareRecordComment, owner: ownerID, resource: record.labels.resource)
        guard comment.count <= maxCommentLength else { throw CommentTooLongError(key: record.key, comment: comment, limit: maxCommentLength) }
        var copy = record
        copy.providerSpecific.cloudflareRecordComment = comment
        copy.labels.owner = ownerID
        return copy
    }
}
