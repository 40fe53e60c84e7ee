public import DNSCore
import Foundation
public import Kube

/// `netagent plan --against`: the records a pull request changes, per provider target,
/// from the desired records of two trees (the base and the head). Nothing is read from a
/// provider: a record is created when only the head asks for it, deleted when only the base
/// did, and updated when both ask for one name and type with other targets, TTL or
/// provider-specific properties (external-dns's planner keys records the same way).
public struct PlanDiff: Sendable {
    public enum Action: String, Sendable, Codable { case create, update, delete }

    /// One changed record, with the route it comes from and the file that defines the route.
    public struct Change: Sendable, Equatable {
        public var target: String
        public var action: Action
        /// The record the head asks for; nil for a delete.
        public var new: Endpoint?
        /// The record the base asked for; nil for a create.
        public var old: Endpoint?
        /// `kind/namespace/name` of the route (or DNSEndpoint) the record comes from, as in the head
        /// (the base for a delete).
        public var resource: String?
        /// Where that object is defined, relative to its tree's root (`FILE:LINE`).
        public var file: String?

        public var record: Endpoint { (new ?? old)! }
    }

    /// One side of the comparison: the desired records per target and where the objects behind them are.
    public struct Tree: Sendable {
        /// The records each target is asked for, targets in the order they are shown.
        public var targets: [(name: String, records: [Endpoint])]
        /// `resource` label → `FILE:LINE` relative to the tree's root.
        public var files: [String: String]
        public var unexpanded: [UnexpandedSource]

        public init(targets: [(name: String, records: [Endpoint])], files: [String: String], unexpanded: [UnexpandedSource] = []) {
            self.targets = targets
            self.files = files
            self.unexpanded = unexpanded
        }

        /// The files of `set`'s objects by the resource label their records carry, each path
        /// relative to `root` (so that the two trees, in two folders, name the same file alike).
        public static func files(of set: ManifestSet, relativeTo root: String) -> [String: String] {
            var files: [String: String] = [:]
            for (id, location) in set.origins {
                let text = SourceLocation(file: PlanDiff.relative(location.file, to: root), line: location.line).description
                files[id.description] = text
                // A DNSEndpoint's records name it as external-dns's crd source does.
                if id.kind == "DNSEndpoint" { files["crd/\(id.namespace)/\(id.name)"] = text }
            }
            return files
        }
    }

    /// `file` relative to the folder `root` when it is below it, else `file` as it is.
    public static func relative(_ file: String, to root: String) -> String {
        let standardised = URL(fileURLWithPath: root).standardizedFileURL.path
        let prefix = standardised.hasSuffix("/") ? standardised : standardised + "/"
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : file
    }

    /// The targets compared, in order, each with its changes (creates, updates, deletes, each by name and type).
    public var targets: [(name: String, changes: [Change])]
    /// What the head tree could not expand: its records are not compared.
    public var unexpanded: [UnexpandedSource]

    public init(base: Tree, head: Tree) {
        var names = head.targets.map(\.name)
        for target in base.targets where !names.contains(target.name) { names.append(target.name) }
        targets = names.map { name in
            let old = base.targets.first { $0.name == name }?.records ?? []
            let new = head.targets.first { $0.name == name }?.records ?? []
            return (name, Self.changes(target: name, base: old, head: new, baseFiles: base.files, headFiles: head.files))
        }
        unexpanded = head.unexpanded
    }

    public var isEmpty: Bool { targets.allSatisfy { $0.changes.isEmpty } }

    struct Key: Hashable, Comparable {
        var name: String
        var type: String
        static func < (a: Key, b: Key) -> Bool { (a.name, a.type) < (b.name, b.type) }
    }

    static func changes(target: String, base: [Endpoint], head: [Endpoint],
                        baseFiles: [String: String], headFiles: [String: String]) -> [Change] {
        func keyed(_ records: [Endpoint]) -> [Key: Endpoint] {
            Dictionary(records.map { (Key(name: $0.name.text, type: $0.type.rawValue), $0) }, uniquingKeysWith: { first, _ in first })
        }
        let old = keyed(base), new = keyed(head)
        var creates: [Change] = [], updates: [Change] = [], deletes: [Change] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            switch (old[key], new[key]) {
            case (nil, let record?):
                creates.append(Change(target: target, action: .create, new: record, old: nil, resource: record.labels.resource,
                                      file: record.labels.resource.flatMap { headFiles[$0] }))
            case (let record?, nil):
                deletes.append(Change(target: target, action: .delete, new: nil, old: record, resource: record.labels.resource,
                                      file: record.labels.resource.flatMap { baseFiles[$0] }))
            case (let before?, let after?):
                guard before.targets != after.targets || before.ttl != after.ttl || before.providerSpecific != after.providerSpecific else { continue }
                updates.append(Change(target: target, action: .update, new: after, old: before, resource: after.labels.resource,
                                      file: after.labels.resource.flatMap { headFiles[$0] }))
            case (nil, nil):
                continue
            }
        }
        return creates + updates + deletes
    }

    // MARK: output

    /// Per target: a line with the counts, then one line per change (fixed-width columns).
    public func table() -> String {
        var out = ""
        for (name, changes) in targets {
            out += "\(TerminalText.escaped(name)): \(Self.counts(changes))\n"
            guard !changes.isEmpty else { continue }
            let header = ["ACTION", "NAME", "TYPE", "RECORD", "ROUTE", "FILE"]
            let rows = changes.map { change in
                [change.action.rawValue, change.record.name.text, change.record.type.rawValue, Self.value(change),
                 change.resource ?? "-", change.file ?? "-"].map(TerminalText.escaped)
            }
            var widths = header.map(\.count)
            for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
            for row in [header] + rows {
                out += "  " + row.enumerated().map { i, cell in
                    i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                }.joined(separator: "  ") + "\n"
            }
        }
        if isEmpty { out += "No DNS changes between the two trees.\n" }
        out += PlanReport.unexpandedSection(unexpanded)
        return out
    }

    /// `{"changes": [{"action", "file", "name", "new", "old", "resource", "target", "type"}], "unexpanded": [...]}`,
    /// one change per line, `new`/`old` records as `plan --output json` shows them (null when absent).
    public func json() -> String {
        JSONLines.object([("changes", targets.flatMap(\.changes).map(ChangeRecord.init)),
                          ("unexpanded", unexpanded.map(PlanReport.UnexpandedRecord.init))])
    }

    /// A comment for a pull request (GitHub-flavoured Markdown): a heading, a table per target
    /// with changes, the objects not expanded, and one line when nothing changes. Every value
    /// from the manifests is escaped so that it cannot break the table or inject HTML.
    public func markdown(base: String, head: String) -> String {
        var out = "### netagent plan: DNS changes\n\n"
        out += "Desired records of `\(Self.code(head))` against `\(Self.code(base))` (no provider was read).\n\n"
        if isEmpty { out += "**No DNS changes.**\n\n" }
        for (name, changes) in targets where !changes.isEmpty {
            out += "#### \(Self.cell(name)): \(Self.counts(changes))\n\n"
            out += "| Action | Name | Type | Record | Route | File |\n| --- | --- | --- | --- | --- | --- |\n"
            for change in changes {
                let cells = [change.action.rawValue, "`\(Self.code(change.record.name.text))`", change.record.type.rawValue,
                             Self.cell(Self.value(change)), change.resource.map { "`\(Self.code($0))`" } ?? "-",
                             change.file.map { "`\(Self.code($0))`" } ?? "-"]
                out += "| " + cells.joined(separator: " | ") + " |\n"
            }
            out += "\n"
        }
        if !unexpanded.isEmpty {
            out += "<details><summary>Not expanded: \(unexpanded.count) object\(unexpanded.count == 1 ? "" : "s") "
                + "(the records they stand for are not compared)</summary>\n\n"
            for source in unexpanded { out += "- \(Self.cell(PlanReport.line(source)))\n" }
            out += "\n</details>\n"
        }
        return out
    }

    static func counts(_ changes: [Change]) -> String {
        guard !changes.isEmpty else { return "no changes" }
        let count = { (action: Action) in changes.filter { $0.action == action }.count }
        return "\(count(.create)) to create, \(count(.update)) to update, \(count(.delete)) to delete"
    }

    /// The record's value: targets, TTL and provider-specific fields; for an update, what changed as `old → new`.
    static func value(_ change: Change) -> String {
        func fields(_ record: Endpoint) -> (targets: String, ttl: String, specific: String) {
            (record.targets.joined(separator: ","), record.ttl.map { "ttl=\($0)" } ?? "ttl=default",
             PlanReport.providerFields(record.providerSpecific).joined(separator: " "))
        }
        guard let new = change.new else { return Self.joined(fields(change.old!)) }
        guard let old = change.old else { return Self.joined(fields(new)) }
        let (a, b) = (fields(old), fields(new))
        var parts: [String] = []
        if a.targets != b.targets { parts.append("\(a.targets) → \(b.targets)") }
        if a.ttl != b.ttl { parts.append("\(a.ttl) → \(b.ttl)") }
        if a.specific != b.specific { parts.append("\(a.specific.isEmpty ? "(none)" : a.specific) → \(b.specific.isEmpty ? "(none)" : b.specific)") }
        return parts.joined(separator: "; ")
    }

    private static func joined(_ fields: (targets: String, ttl: String, specific: String)) -> String {
        [fields.targets, fields.ttl, fields.specific].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Text for a Markdown table cell: no line breaks, pipes escaped, no HTML.
    static func cell(_ text: String) -> String {
        TerminalText.escaped(text).map { cellEscapes[$0] ?? String($0) }.joined()
    }

    private static let cellEscapes: [Character: String] = ["|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "`": "'"]

    /// Text inside a code span in a table: no backticks or line breaks, pipes escaped (GitHub
    /// ends a table cell at a bare pipe even inside a code span).
    static func code(_ text: String) -> String {
        TerminalText.escaped(text).replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
    }

    struct ChangeRecord: Encodable {
        var change: Change

        init(_ change: Change) { self.change = change }

        func encode(to encoder: any Encoder) throws {
            try JSONFields([("target", change.target), ("action", change.action.rawValue), ("name", change.record.name.text),
                            ("type", change.record.type.rawValue), ("new", change.new.map(PlanReport.Record.init)),
                            ("old", change.old.map(PlanReport.Record.init)), ("resource", change.resource),
                            ("file", change.file)]).encode(to: encoder)
        }
    }
}
