/// The planner's name → row lookup: open addressing over a flat array of row numbers, keyed
/// by an FNV-1a hash of the name's bytes. Unlike a `Dictionary<DNSName, Int>` it holds no
/// strings (no reference counting), hashes each name once, and stays small (4 bytes a slot,
/// 1 MiB for 200k names), which keeps 100k-record plans close to linear. Measured against a
/// plain Dictionary version in BENCHMARKS.md ("the custom table against a plain Dictionary").
struct RowTable {
    /// Row number + 1 per slot; 0 is empty.
    private var slots: [Int32]
    private let mask: Int

    /// A table for up to `capacity` names, at most three quarters full.
    init(capacity: Int) {
        var size = 16
        while size < capacity + capacity / 3 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// Where a lookup ended: the row holding the name, or the empty slot it would take.
    enum Probe {
        case found(row: Int)
        case vacant(slot: Int)
    }

    /// Looks up the name whose `hash` is given, asking `isRow(r)` whether row `r` holds it.
    func probe(hash: Int, isRow: (Int) -> Bool) -> Probe {
        var slot = hash & mask
        while slots[slot] != 0 {
            let row = Int(slots[slot]) - 1
            if isRow(row) { return .found(row: row) }
            slot = (slot + 1) & mask
        }
        return .vacant(slot: slot)
    }

    /// Puts `row` into a slot a `probe` found vacant (no other insert in between).
    mutating func fill(_ slot: Int, row: Int) {
        slots[slot] = Int32(truncatingIfNeeded: row + 1)
    }

    /// FNV-1a over the name's UTF-8 bytes, then one round of a 64-bit finaliser.
    static func hash(_ name: DNSName) -> Int {
        func fnv1a(_ bytes: some Sequence<UInt8>) -> Int {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            // FNV's multiply only carries differences upwards; mix the high bits back down.
            hash = (hash ^ (hash >> 33)) &* 0xff51_afd7_ed55_8ccd
            return Int(truncatingIfNeeded: hash ^ (hash >> 33))
        }
        return name.text.utf8.withContiguousStorageIfAvailable(fnv1a) ?? fnv1a(name.text.utf8)
    }
}

extension Endpoint.Key {
    /// The first eight bytes of the name, big-endian: ordering these agrees with ordering the
    /// names (DNS names are ASCII, shorter names pad with zeros), so sorts compare whole
    /// names only on a tie and rarely touch the strings.
    var sortPrefix: UInt64 {
        var prefix: UInt64 = 0
        var taken = 0
        for byte in name.text.utf8.prefix(8) {
            prefix = prefix << 8 | UInt64(byte)
            taken += 1
        }
        return prefix << (8 * UInt64(8 - taken))
    }
}

extension Array {
    /// The elements ordered by `key` (ascending), comparing cached name prefixes first.
    func sortedByKey(_ key: (Element) -> Endpoint.Key) -> [Element] {
        var order = indices.map { (prefix: key(self[$0]).sortPrefix, index: $0) }
        order.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return key(self[a.index]) < key(self[b.index])
        }
        return order.map { self[$0.index] }
    }
}
