/// How the pure core spreads independent work (decoding files, parsing fragments, guarding
/// statements). The core never starts a thread: its caller passes a strategy, `.sequential` by
/// default, and the engine passes one that uses every core (`Parallelism.cores` in the
/// Reconciler module; docs/engine.md, Threads).
public struct Parallelism: Sendable {
    /// Calls `body` once for each index below `count`, in any order, and returns when all
    /// calls have.
    public let forEach: @Sendable (_ count: Int, _ body: @Sendable (Int) -> Void) -> Void

    public init(forEach: @escaping @Sendable (_ count: Int, _ body: @Sendable (Int) -> Void) -> Void) {
        self.forEach = forEach
    }

    /// One index after the other, on the caller's thread.
    public static let sequential = Parallelism { count, body in
        for index in 0..<count { body(index) }
    }

    /// `transform` of every element, in the order of `elements`.
    public func map<Element: Sendable, Result: Sendable>(_ elements: [Element], _ transform: (Element) -> Result) -> [Result] {
        guard elements.count > 1 else { return elements.map(transform) }
        let results = UnsafeMutableBufferPointer<Result?>.allocate(capacity: elements.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        nonisolated(unsafe) let slots = results
        withoutActuallyEscaping(transform) { transform in
            nonisolated(unsafe) let transform = transform
            forEach(elements.count) { index in
                // Each call writes its own slot only.
                slots[index] = transform(elements[index])
            }
        }
        return results.map { $0! }
    }

    /// `transform` of each run of up to `size` consecutive elements, in the order of `elements`:
    /// one call per run, so the per-call cost (a checker, a copy of shared state) is paid per run.
    public func map<Element: Sendable, Result: Sendable>(_ elements: [Element], runsOf size: Int,
                                                         _ transform: (ArraySlice<Element>) -> Result) -> [Result] {
        let runs = stride(from: 0, to: elements.count, by: size).map { $0..<min($0 + size, elements.count) }
        return map(runs) { transform(elements[$0]) }
    }
}
