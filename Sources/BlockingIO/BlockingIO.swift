import Foundation

/// Runs blocking work (libpq, libgit2, process waits) on one bounded pool of threads of its own
/// (docs/engine.md, Threads).
///
/// Swift's cooperative pool has one thread per core; a blocking call parked there starves every
/// task on the machine. Here the caller's task suspends while a pool thread does the call. The
/// pool has `threadCount` threads; more calls than that wait their turn in order, so a burst of
/// requests cannot make the process start a thread per request.
public enum BlockingIO {
    /// The pool's size: every concurrent reconciliation, HTTP handler and git fetch of one
    /// controller, with room to spare.
    public static let threadCount = max(8, min(64, ProcessInfo.processInfo.activeProcessorCount * 8))

    static let pool = BlockingPool(threads: threadCount, name: "driftless-blocking")

    /// Runs `body` on a pool thread and resumes the caller with its result.
    /// - Throws: whatever `body` throws.
    public static func run<T: Sendable>(
        name: String = "driftless-blocking",
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// How many calls run or wait right now (for tests and metrics).
    public static var pending: Int { pool.pending }
}

/// A fixed set of threads taking jobs from one queue, first come first served.
final class BlockingPool: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []
    private var next = 0
    private var started = 0
    private var idle = 0
    private var running = 0
    private let limit: Int
    private let name: String

    init(threads: Int, name: String) {
        limit = threads
        self.name = name
    }

    var pending: Int { condition.withLock { jobs.count - next + running } }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.withLock {
            jobs.append(job)
            // Threads start on demand, up to the limit, and then stay.
            if jobs.count - next > idle && started < limit {
                started += 1
                let thread = Thread { [self] in work() }
                thread.name = name
                // Blueprint decoding recurses with the document depth; give it what a main thread has.
                thread.stackSize = 8 << 20
                thread.start()
            }
            condition.signal()
        }
    }

    private func work() {
        while true {
            condition.lock()
            idle += 1
            while next == jobs.count { condition.wait() }
            idle -= 1
            let job = jobs[next]
            next += 1
            if next > 1024 && next * 2 > jobs.count {
                jobs.removeFirst(next)
                next = 0
            }
            running += 1
            condition.unlock()
            job()
            condition.withLock { running -= 1 }
        }
    }
}
