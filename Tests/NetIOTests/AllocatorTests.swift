import NetIO
import Testing

/// glibc's allocator, as the daemon tunes it. How much memory that saves is the daemon
/// bench's to measure (BENCHMARKS.md, issue 22); here, that the calls reach glibc.
struct AllocatorTests {
    @Test func freePagesBetweenLiveBlocksAreGivenBack() {
        // 32 MB in 1 KB blocks, then all but one block in 64 freed: the free runs between the
        // blocks kept span whole pages that no heap top can return, only malloc_trim.
        let blocks = (0..<32_768).map { [UInt8](repeating: UInt8(truncatingIfNeeded: $0), count: 1000) }
        var kept: [[UInt8]] = []
        for (index, block) in blocks.enumerated() where index % 64 == 0 { kept.append(block) }
        withExtendedLifetime(blocks) {}
        #expect(Allocator.releaseFreePages())
        #expect(kept.count == 512 && kept[1].allSatisfy { $0 == 64 })
    }
}
