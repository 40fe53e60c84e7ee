public import DNSCore
public import Kube

/// The ownership ledger of one Pi-hole in a ConfigMap of the pod's namespace, so every replica
/// reads the ledger the leader writes (`state.ledger: configmap`).
///
/// - Name: `netagent-ledger-<scope as a DNS label>-<8 hex digits of the scope's FNV-1a hash>`,
///   for the scope `pihole/<provider>/<url>`, e.g. `netagent-ledger-pihole-home-http-10-0-60-53-5d0c2a1b`.
/// - `data.scope` holds the scope as written; `data.records` one owned record a line,
///   `<name> <type>[ <resource>]`, sorted.
/// - Read at every cycle (`entries`, one GET); written with the `resourceVersion` of that read,
///   and on 409 (another writer came between) read again and the same change applied to what is
///   there now. Uses only get, create and update.
public actor ConfigMapLedger: OwnershipLedger {
    public nonisolated let client: KubeClient
    public nonisolated let namespace: String
    public nonisolated let scope: String
    public nonisolated let name: String
    /// The ConfigMap as last read or written; nil when it did not exist.
    private var cached: KubeObject?
    private var haveRead = false

    static let attempts = 5

    public init(client: KubeClient, namespace: String, scope: String) {
        self.client = client
        self.namespace = namespace
        self.scope = scope
        name = Self.name(scope: scope)
    }

    /// The ConfigMap's name for a ledger scope.
    public static func name(scope: String) -> String {
        var slug = ""
        for character in scope.lowercased() {
            let keep = character.isASCII && (character.isLetter || character.isNumber)
            if keep { slug.append(character) } else if !slug.isEmpty, slug.last != "-" { slug.append("-") }
        }
        var hash: UInt32 = 2_166_136_261
        for byte in scope.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        let suffix = String(repeating: "0", count: 8 - hex.count) + hex
        var cut = String(slug.prefix(200))
        while cut.last == "-" { cut.removeLast() }
        return "netagent-ledger-" + cut + (cut.isEmpty ? "" : "-") + suffix
    }

    public func entries() async throws -> [LedgerEntry] {
        try parse(try await read())
    }

    public func record(adding: [LedgerEntry], removing: [Endpoint.Key]) async throws {
        if !haveRead { _ = try await read() }
        for _ in 0..<Self.attempts {
            var entries = Dictionary(try parse(cached).map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
            for key in removing { entries[key] = nil }
            for entry in adding { entries[entry.key] = entry }
            do {
                if let current = cached {
                    cached = try await client.replace(.configMaps, namespace: namespace, object: object(entries, basedOn: current))
                } else {
                    cached = try await client.create(.configMaps, namespace: namespace, object: object(entries, basedOn: nil))
                }
                return
            } catch where error.refusal == .conflict || error.refusal == .alreadyExists || error.refusal == .notFound {
                // Another writer came between our read and our write (or deleted it): read again, redo the change.
                _ = try await read()
            } catch {
                throw ConfigMapLedgerError(ledger: "\(namespace)/\(name)", detail: "write: \(error)")
            }
        }
        throw ConfigMapLedgerError(ledger: "\(namespace)/\(name)",
                                   detail: "write: still conflicting after \(Self.attempts) attempts (another writer keeps changing it)")
    }

    /// GETs the ConfigMap into `cached`; nil when it does not exist yet.
    @discardableResult
    private func read() async throws -> KubeObject? {
        do {
            cached = try await client.get(.configMaps, namespace: namespace, name: name)
        } catch where error.refusal == .notFound {
            cached = nil
        } catch {
            throw ConfigMapLedgerError(ledger: "\(namespace)/\(name)", detail: "read: \(error)")
        }
        haveRead = true
        return cached
    }

    private func parse(_ object: KubeObject?) throws -> [LedgerEntry] {
        guard let object, let text = object.raw["data"]?["records"]?.stringValue else { return [] }
        var entries: [LedgerEntry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard (2...3).contains(fields.count), let dnsName = try? DNSName(String(fields[0])),
                  let type = RecordType(rawValue: String(fields[1]))
            else {
                throw ConfigMapLedgerError(ledger: "\(namespace)/\(name)",
                                           detail: "data.records line \(index + 1): unreadable entry '\(line)' (expected '<name> <type> [<resource>]')")
            }
            entries.append(LedgerEntry(key: Endpoint.Key(name: dnsName, type: type), resource: fields.count == 3 ? String(fields[2]) : nil))
        }
        return entries
    }

    private func object(_ entries: [Endpoint.Key: LedgerEntry], basedOn current: KubeObject?) -> JSONValue {
        let lines = entries.values
            .map { "\($0.key.name.text) \($0.key.type.rawValue)" + ($0.resource.map { " " + $0 } ?? "") }
            .sorted()
        var members: [String: JSONValue] = [:]
        if case .object(let existing)? = current?.raw { members = existing }
        var metadata: [String: JSONValue] = [:]
        if case .object(let existing)? = members["metadata"] { metadata = existing }
        metadata["name"] = .string(name)
        metadata["namespace"] = .string(namespace)
        var labels: [String: JSONValue] = [:]
        if case .object(let existing)? = metadata["labels"] { labels = existing }
        labels["app.kubernetes.io/managed-by"] = .string("netagent")
        labels["app.kubernetes.io/component"] = .string("pihole-ledger")
        metadata["labels"] = .object(labels)
        members["metadata"] = .object(metadata)
        members["data"] = .object([
            "scope": .string(scope),
            "records": .string(lines.map { $0 + "\n" }.joined()),
        ])
        return .object(members)
    }
}

/// A ledger ConfigMap that could not be read or written, naming it.
public struct ConfigMapLedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    public let ledger: String
    public let detail: String
    public var description: String { "ledger ConfigMap \(ledger): \(detail)" }
}
