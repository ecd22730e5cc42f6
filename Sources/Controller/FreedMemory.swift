import CMalloc

/// The heap's freed pages, given back to the system. glibc's allocator keeps what a
/// reconciliation freed (the catalogs, the plan, the cache's JSON) mapped for reuse, so a
/// controller that once applied 10,000 tables stayed at the size of that apply for the rest of
/// its life (docs/operations.md, Memory). Takes milliseconds; the loop calls it after a
/// comparison in full or an apply, never after a tick the steady-state check answered.
enum FreedMemory {
    static func giveBack() {
        _ = malloc_trim(0)
    }
}
