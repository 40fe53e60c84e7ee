import Glibc

/// glibc's allocator, tuned for a long-running agent. The one place netagent calls into it.
/// `mallopt` is not in Swift's Glibc module (malloc.h is not part of it), so it is looked up by
/// name; without it (another libc) nothing changes. A value the environment sets wins.
public enum Allocator {
    /// Makes glibc give freed heap back to the kernel at once (`mallopt(M_TRIM_THRESHOLD, 0)`,
    /// what `MALLOC_TRIM_THRESHOLD_=0` does) instead of keeping the peak of a reconcile cycle —
    /// tens of MB after reading and writing a large zone — for as long as the agent runs:
    /// 107.6 → 96.4 MB resident with 10,000 routes (BENCHMARKS.md, `bench-daemon`).
    public static func returnFreedMemoryPromptly() {
        set(option: -1, to: 0, unlessEnvironmentSets: "MALLOC_TRIM_THRESHOLD_")  // M_TRIM_THRESHOLD
    }

    /// One malloc arena for all threads (`mallopt(M_ARENA_MAX, 1)`, what `MALLOC_ARENA_MAX=1`
    /// does) instead of up to eight a core: each arena keeps its own free memory, and the agent
    /// allocates little and rarely, so it gains nothing from them (issue 22: with 10,000 routes,
    /// RssAnon 26.4/27.5 → 24.2 MiB and the peak ~1.5 MiB lower, BENCHMARKS.md). glibc fixes the
    /// number of arenas when a second thread first allocates: call this first thing in `main`.
    public static func useOneArena() {
        set(option: -8, to: 1, unlessEnvironmentSets: "MALLOC_ARENA_MAX")  // M_ARENA_MAX
    }

    private static func set(option: Int32, to value: Int32, unlessEnvironmentSets variable: String) {
        guard getenv(variable) == nil, let mallopt else { return }
        _ = mallopt(option, value)
    }

    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    private typealias MallocTrim = @convention(c) (UInt) -> Int32
    /// glibc's functions, looked up once (`releaseFreePages` runs every reconcile cycle); nil
    /// under another libc.
    private static let mallopt = dlsym(nil, "mallopt").map { unsafeBitCast($0, to: Mallopt.self) }
    private static let mallocTrim = dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: MallocTrim.self) }

    /// Gives the kernel back the free pages inside glibc's heaps (`malloc_trim(0)`), not only
    /// those at a heap's top, which is all `returnFreedMemoryPromptly` reaches: a reconcile
    /// cycle's garbage is freed between the objects that stay, so its pages stay resident,
    /// free, in every arena a thread allocated them from. Called after each reconcile cycle;
    /// it walks the free chunks: ~1.5 ms of CPU in a debug agent with 10,000 routes (BENCHMARKS.md).
    /// Returns whether any memory was given back; false without glibc's `malloc_trim`.
    @discardableResult
    public static func releaseFreePages() -> Bool {
        guard let mallocTrim else { return false }
        return mallocTrim(0) == 1
    }
}
