import DriftlessCore
import Foundation

extension Parallelism {
    /// Every core: `DispatchQueue.concurrentPerform`, which runs on as many threads as the
    /// machine has cores and returns when every index is done. For CPU work only (decoding,
    /// parsing); blocking calls go to `BlockingIO`'s pool.
    public static let cores = Parallelism { count, body in
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}
