import Foundation

/// CPU work started now on another thread, and waited for when its value is asked: what a
/// stage computes while the caller's thread waits on the server (docs/engine.md, Overlap).
/// Never for a blocking call: those run on the caller's thread, which `BlockingIO` provides.
final class Background<Value>: @unchecked Sendable {
    private let done = DispatchGroup()
    /// Written once by the working thread before `done` is left; read after waiting on it.
    private var outcome: Result<Value, Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        done.enter()
        DispatchQueue.global().async { [self] in
            outcome = Result { try work() }
            done.leave()
        }
    }

    /// The value, once the work is done.
    /// - Throws: what the work threw.
    func value() throws -> Value {
        done.wait()
        return try outcome!.get()
    }
}
