import Foundation

/// Runs blocking work (libpq, libgit2, process waits) on a thread of its own.
///
/// Swift's cooperative pool has one thread per core; a blocking call parked there starves every
/// task on the machine. Each call here gets a fresh `Thread`, so the caller's task suspends
/// without holding a pool thread. Threads are cheap next to a database round trip.
public enum BlockingIO {
    /// Runs `body` on a new thread and resumes the caller with its result.
    /// - Throws: whatever `body` throws.
    public static func run<T: Sendable>(
        name: String = "driftless-blocking",
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            // Blueprint decoding recurses with the document depth; give it what a main thread has.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
