public import DNSCore
package import GRDB

/// The agent's SQLite state file: one database, migrated on open, holding the ownership
/// ledger, the alert outbox and the alert engine's state. Opening fails with a `StateStoreError` naming the
/// file when it cannot be created, read or migrated.
public final class StateStore: Sendable {
    public let path: String
    let queue: DatabaseQueue

    /// Opens (creating if needed) the state file at `path` and brings its schema up to date.
    public init(path: String) throws(StateStoreError) {
        self.path = path
        do {
            queue = try DatabaseQueue(path: path)
            try Self.migrator.migrate(queue)
        } catch {
            throw StateStoreError(path: path, operation: "open", detail: String(describing: error))
        }
    }

    /// Opens an existing state file for reading only: nothing is created, migrated or written
    /// (`netagent check`, `netagent plan --config`). Reads of tables the file does not have yet fail
    /// with a `StateStoreError` naming the file.
    public init(readingOnly path: String) throws(StateStoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StateStoreError(path: path, operation: "open for reading", detail: String(describing: error))
        }
    }

    /// Every schema change, in order. Later tables append migrations here.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-ledger") { db in
            try db.create(table: "ledger") { table in
                table.column("scope", .text).notNull()
                table.column("name", .text).notNull()
                table.column("type", .text).notNull()
                table.column("resource", .text)
                table.primaryKey(["scope", "name", "type"])
            }
        }
        registerAlertMigration(&migrator)
        return migrator
    }

    /// The ownership ledger of one provider (`scope`, such as `pihole`) in this file.
    public func ledger(scope: String) -> SQLiteLedger {
        SQLiteLedger(store: self, scope: scope)
    }

    /// Runs `work` in a write transaction, wrapping failures with the file and operation.
    package func write<T: Sendable>(_ operation: String, _ work: @escaping @Sendable (Database) throws -> T) async throws(StateStoreError) -> T {
        do { return try await queue.write(work) } catch let error as StateStoreError { throw error } catch {
            throw StateStoreError(path: path, operation: operation, detail: String(describing: error))
        }
    }

    /// Runs `work` in a read, wrapping failures with the file and operation.
    package func read<T: Sendable>(_ operation: String, _ work: @escaping @Sendable (Database) throws -> T) async throws(StateStoreError) -> T {
        do { return try await queue.read(work) } catch let error as StateStoreError { throw error } catch {
            throw StateStoreError(path: path, operation: operation, detail: String(describing: error))
        }
    }
}

/// The ledger of owned records for providers without TXT records, kept in the state file.
/// Entries are per scope so several providers can share one file.
public struct SQLiteLedger: OwnershipLedger {
    public let store: StateStore
    public let scope: String

    /// Every entry of this scope; throws `StateStoreError` on a read failure or a row that
    /// no longer parses (a hand-edited file).
    public func entries() async throws -> [LedgerEntry] {
        let scope = scope, path = store.path
        return try await store.read("read ledger '\(scope)'") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, type, resource FROM ledger WHERE scope = ? ORDER BY name, type", arguments: [scope])
            return try rows.map { row in
                let name: String = row["name"], type: String = row["type"]
                guard let dnsName = try? DNSName(name), let recordType = RecordType(rawValue: type) else {
                    throw StateStoreError(path: path, operation: "read ledger '\(scope)'", detail: "unreadable entry '\(name)' '\(type)'")
                }
                return LedgerEntry(key: Endpoint.Key(name: dnsName, type: recordType), resource: row["resource"])
            }
        }
    }

    /// Adds or replaces `adding` and removes `removing` in one transaction.
    public func record(adding: [LedgerEntry], removing: [Endpoint.Key]) async throws {
        let scope = scope
        try await store.write("write ledger '\(scope)'") { db in
            for key in removing {
                try db.execute(sql: "DELETE FROM ledger WHERE scope = ? AND name = ? AND type = ?",
                               arguments: [scope, key.name.text, key.type.rawValue])
            }
            for entry in adding {
                try db.execute(sql: "INSERT OR REPLACE INTO ledger (scope, name, type, resource) VALUES (?, ?, ?, ?)",
                               arguments: [scope, entry.key.name.text, entry.key.type.rawValue, entry.resource])
            }
        }
    }
}

/// A state-file operation that failed, with the file, what was being done and SQLite's words.
public struct StateStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let detail: String

    public init(path: String, operation: String, detail: String) { (self.path, self.operation, self.detail) = (path, operation, detail) }

    public var description: String { "state file \(path): \(operation): \(detail)" }
}

extension StateStore {
    /// The alert tables (Sources/Alerts reads and writes them): the outbox, and the engine's state as one JSON snapshot.
    static func registerAlertMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-alerts") { db in
            try db.create(table: "outbox") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("message_id", .text).notNull().unique()
                table.column("group_key", .text).notNull()
                table.column("subject", .text).notNull()
                table.column("sender", .text).notNull()
                table.column("recipients", .text).notNull()
                table.column("body", .blob).notNull()
                table.column("status", .text).notNull()
                table.column("attempts", .integer).notNull()
                table.column("created_at", .double).notNull()
                table.column("next_attempt", .double).notNull()
                table.column("delivered_at", .double)
                table.column("reply_code", .integer)
                table.column("last_error", .text)
            }
            try db.create(index: "outbox_pending", on: "outbox", columns: ["status", "id"])
            try db.create(table: "alert_engine") { table in
                table.column("id", .integer).primaryKey().check { $0 == 1 }
                table.column("snapshot", .blob).notNull()
                table.column("updated_at", .double).notNull()
            }
        }
    }
}
