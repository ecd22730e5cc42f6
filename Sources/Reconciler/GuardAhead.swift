import DriftlessCore
import Foundation

/// The statement guard of `apply`, run just ahead of the statements being sent instead of
/// before the first one (docs/engine.md, Overlap): a thread checks the changes chunk by chunk,
/// in order, while the server runs the chunks already checked, and the sender waits for a
/// chunk's verdict before it sends any statement of it. So no statement is sent unchecked, and
/// none the guard refuses is sent at all; a refusal stops the sending, the rest is still
/// checked (the answer lists every refused statement, as the gate's does) and the caller rolls
/// the transaction back (docs/security.md, SQL fragments).
final class GuardAhead: @unchecked Sendable {
    /// Changes per verdict: the gate's chunk.
    static let chunk = StatementGuard.chunkSize

    /// The refusals of every statement, should there be any.
    struct Refusal: Error {
        var refused: [(Change, StatementGuard.Violation)]
    }

    private let count: Int
    private let chunks: Int
    private let condition = NSCondition()
    /// The refusals of each chunk checked so far, in order. Guarded by `condition`.
    private var verdicts: [[(Change, StatementGuard.Violation)]] = []

    /// Starts checking `changes` (every change the attempt may send, in the order it sends them).
    init(_ changes: [Change]) {
        let count = changes.count, chunks = (count + Self.chunk - 1) / Self.chunk
        self.count = count
        self.chunks = chunks
        DispatchQueue.global().async { [self] in
            for index in 0..<chunks {
                let part = Array(changes[index * Self.chunk..<min(count, (index + 1) * Self.chunk)])
                let refused = StatementGuard.violations(in: part)
                condition.lock()
                verdicts.append(refused)
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// Returns once the change at `index` and every one before it are checked and none of
    /// their statements was refused: the last index of `index`'s chunk, cleared with it.
    /// - Throws: `Refusal` with every refused statement of all the changes (waiting for the
    ///   rest to be checked) when one was.
    func clear(through index: Int) throws(Refusal) -> Int {
        let chunk = index / Self.chunk
        if wait(forChunks: chunk + 1).contains(where: { !$0.isEmpty }) { throw Refusal(refused: all()) }
        return min(count, (chunk + 1) * Self.chunk) - 1
    }

    /// Returns once every change is checked and none was refused.
    /// - Throws: `Refusal` with every refused statement.
    func clearAll() throws(Refusal) {
        let refused = all()
        if !refused.isEmpty { throw Refusal(refused: refused) }
    }

    private func all() -> [(Change, StatementGuard.Violation)] {
        wait(forChunks: chunks).flatMap { $0 }
    }

    private func wait(forChunks chunks: Int) -> [[(Change, StatementGuard.Violation)]] {
        condition.lock()
        defer { condition.unlock() }
        while verdicts.count < chunks { condition.wait() }
        return Array(verdicts.prefix(chunks))
    }
}
