package import DNSCore

/// One zone's records by key (name and type), as the provider keeps them from one listing to
/// the next: two arrays sorted by key, a key's records side by side in the order they came.
/// A table of arrays (`[Endpoint.Key: [CurrentRecord]]`) cost an array (32 bytes of header and
/// malloc's rounding) and 1.6–2 table slots a key, ~170 bytes a key beside the record's 72;
/// here a record costs its 72 bytes and its key's 24 (BENCHMARKS.md, issue 22).
package struct ZoneRecords: Hashable, Sendable {
    private var keys: [Endpoint.Key] = []
    private var records: [CurrentRecord] = []

    package init() {}

    /// `pairs` grouped by key, each key's records in the order given.
    package init(_ pairs: [(key: Endpoint.Key, record: CurrentRecord)]) {
        let sorted = pairs.indices.sorted { (pairs[$0].key, $0) < (pairs[$1].key, $1) }
        keys = sorted.map { pairs[$0].key }
        records = sorted.map { pairs[$0].record }
    }

    /// The records of `key`; empty when it has none.
    package subscript(key: Endpoint.Key) -> ArraySlice<CurrentRecord> {
        let start = firstIndex(notBelow: key)
        var end = start
        while end < keys.count, keys[end] == key { end += 1 }
        return records[start..<end]
    }

    /// Every key that has records, with them, in key order.
    package var groups: [(key: Endpoint.Key, records: ArraySlice<CurrentRecord>)] {
        var groups: [(key: Endpoint.Key, records: ArraySlice<CurrentRecord>)] = []
        var start = 0
        while start < keys.count {
            var end = start + 1
            while end < keys.count, keys[end] == keys[start] { end += 1 }
            groups.append((keys[start], records[start..<end]))
            start = end
        }
        return groups
    }

    /// Takes out the records `removed` names by key and id, and the records of `added`'s keys
    /// and ids (which `added` replaces), then puts `added` in: after the records its key keeps,
    /// in the order given. One pass over the records kept, a sort of those added.
    package mutating func update(removing removed: [(key: Endpoint.Key, id: CloudflareRecordID)],
                                 adding added: [(key: Endpoint.Key, record: CurrentRecord)]) {
        let gone = Set(removed.map { Place(key: $0.key, id: $0.id) } + added.map { Place(key: $0.key, id: $0.record.id) })
        let incoming = ZoneRecords(added)
        var keys: [Endpoint.Key] = []
        var records: [CurrentRecord] = []
        keys.reserveCapacity(self.keys.count + added.count)
        records.reserveCapacity(self.keys.count + added.count)
        var next = 0
        for index in self.keys.indices where !gone.contains(Place(key: self.keys[index], id: self.records[index].id)) {
            // Those added go after every record kept of their key, before the next key.
            while next < incoming.keys.count, incoming.keys[next] < self.keys[index] {
                keys.append(incoming.keys[next])
                records.append(incoming.records[next])
                next += 1
            }
            keys.append(self.keys[index])
            records.append(self.records[index])
        }
        keys += incoming.keys[next...]
        records += incoming.records[next...]
        self.keys = keys
        self.records = records
    }

    /// The first position whose key is not below `key` (`keys.count` when every key is).
    private func firstIndex(notBelow key: Endpoint.Key) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private struct Place: Hashable {
        var key: Endpoint.Key
        var id: CloudflareRecordID
    }
}
