import DriftlessCore
import Foundation
import Postgres

/// The canonical desired catalog, cached by (payload hash, server version): a steady-state
/// reconciliation of an unchanged revision builds no scratch copies at all. Kept in memory for
/// the life of the process and in `<history schema>.canonical_cache` across processes (written
/// by `apply` only, so `plan` and `drift` stay read-only).
public enum CanonicalCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var memory: [String: Catalog] = [:]

    static func key(payloadHash: String, serverVersion: Int) -> String { "\(payloadHash):\(serverVersion)" }

    /// Where a cached catalog came from. Memory is shared by every database this process
    /// serves, so a memory hit still has to be written to the database's own cache.
    enum Source { case memory, database }

    /// The cached catalog, from memory or the history schema. `meanwhile` runs while a catalog
    /// read from the history schema is decoded on another thread (decoding 1,000 tables takes
    /// about as long as the server takes to answer the introspection, so the two overlap).
    /// `meanwhile` must not wait on the decoding: it runs on the caller's thread.
    /// - Throws: `PostgresError` for failures other than a missing or unreadable cache table, or
    ///   what `meanwhile` throws.
    static func lookup<T>(payloadHash: String, connection: Connection, history: History,
                          meanwhile: () throws -> T) throws -> (cached: (catalog: Catalog, source: Source)?, other: T) {
        let key = key(payloadHash: payloadHash, serverVersion: connection.serverVersion)
        lock.lock()
        let hit = memory[key]
        lock.unlock()
        if let hit { return ((hit, .memory), try meanwhile()) }
        guard let row = try history.optionalRow(
            from: history.cacheTableName, "SELECT catalog FROM \(history.cacheTable) WHERE key = $1", [key], connection) else {
            return (nil, try meanwhile())
        }
        let decoding = BackgroundWork { try row.json("catalog", as: Catalog.self) }
        let other = try meanwhile()
        let catalog = try decoding.value()
        remember(catalog, key: key)
        return ((catalog, .database), other)
    }

    /// Stores `catalog` in memory and, inside the caller's transaction, in the history schema.
    static func store(_ catalog: Catalog, payloadHash: String, connection: Connection, history: History) throws {
        let key = key(payloadHash: payloadHash, serverVersion: connection.serverVersion)
        remember(catalog, key: key)
        let json = String(decoding: try JSONEncoder().encode(catalog), as: UTF8.self)
        try connection.query("INSERT INTO \(history.cacheTable) (key, catalog) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING", [key, json])
    }

    static func remember(_ catalog: Catalog, key: String) {
        lock.lock()
        memory[key] = catalog
        lock.unlock()
    }

    /// Forgets the in-memory entries (tests and benchmarks measure cold runs with it).
    public static func clearMemory() {
        lock.lock()
        memory = [:]
        lock.unlock()
    }
}

/// Work started on a thread of its own, its value collected later (CPU work only).
final class BackgroundWork<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written once by the worker before `done` is signalled, read after it.
    private var outcome: Result<Value, Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        Thread { [self] in
            outcome = Result { try work() }
            done.signal()
        }.start()
    }

    /// Waits for the work and returns its value.
    /// - Throws: what the work threw.
    func value() throws -> Value {
        done.wait()
        done.signal()
        return try outcome!.get()
    }
}
