public import Foundation
import Glibc

/// Byte-level scanning for the modules above NetIO, which hold no unsafe pointers themselves.
public enum Bytes {
    /// Whether `needle` occurs in `data`: `memchr` finds each candidate first byte, `memcmp`
    /// checks the rest, so a large file without the needle is passed over at memory speed.
    /// An empty needle is never found.
    public static func contains(_ data: Data, _ needle: [UInt8]) -> Bool {
        data.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                guard let base = haystack.baseAddress, let key = pattern.baseAddress, pattern.count > 0 else { return false }
                let first = Int32(needle[0])
                var offset = 0
                while haystack.count - offset >= pattern.count,
                      let hit = memchr(base + offset, first, haystack.count - offset - pattern.count + 1) {
                    if memcmp(hit, key, pattern.count) == 0 { return true }
                    offset = base.distance(to: UnsafeRawPointer(hit)) + 1
                }
                return false
            }
        }
    }
}
