import Glibc

/// glibc's allocator, tuned for a long-running agent. The one place netagent calls into it.
public enum Allocator {
    /// Makes glibc give freed heap back to the kernel at once (`mallopt(M_TRIM_THRESHOLD, 0)`,
    /// what `MALLOC_TRIM_THRESHOLD_=0` does) instead of keeping the peak of a reconcile cycle —
    /// tens of MB after reading and writing a large zone — for as long as the agent runs:
    /// 107.6 → 96.4 MB resident with 10,000 routes (BENCHMARKS.md, `bench-daemon`). A value
    /// the environment sets wins. `mallopt` is not in Swift's Glibc module (malloc.h is not part
    /// of it), so it is looked up by name; without it (another libc) nothing changes.
    public static func returnFreedMemoryPromptly() {
        guard getenv("MALLOC_TRIM_THRESHOLD_") == nil, let symbol = dlsym(nil, "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD in malloc.h
        _ = mallopt(trimThreshold, 0)
    }

    /// Gives the kernel back the free pages inside glibc's heaps (`malloc_trim(0)`), not only
    /// those at a heap's top, which is all `returnFreedMemoryPromptly` reaches: a reconcile
    /// cycle's garbage is freed between the objects that stay, so its pages stay resident,
    /// free, in every arena a thread allocated them from. Called after each reconcile cycle;
    /// it walks the free chunks: ~1.5 ms of CPU in a debug agent with 10,000 routes (BENCHMARKS.md).
    /// Returns whether any memory was given back; false without glibc's `malloc_trim`.
    @discardableResult
    public static func releaseFreePages() -> Bool {
        guard let symbol = dlsym(nil, "malloc_trim") else { return false }
        typealias MallocTrim = @convention(c) (UInt) -> Int32
        let mallocTrim = unsafeBitCast(symbol, to: MallocTrim.self)
        return mallocTrim(0) == 1
    }
}
