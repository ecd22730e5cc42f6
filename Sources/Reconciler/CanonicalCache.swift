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

    /// The cached catalog, from memory or the history schema.
    /// - Throws: `PostgresError` for failures other than a missing or unreadable cache table.
    static func lookup(payloadHash: String, connection: Connection, history: History) throws -> (catalog: Catalog, source: Source)? {
        let key = key(payloadHash: payloadHash, serverVersion: connection.serverVersion)
        lock.lock()
        let hit = memory[key]
        lock.unlock()
        if let hit { return (hit, .memory) }
        guard let row = try history.optionalRow(
            from: history.cacheTableName, "SELECT catalog FROM \(history.cacheTable) WHERE key = $1", [key], connection) else { return nil }
        let catalog = try row.json("catalog", as: Catalog.self)
        remember(catalog, key: key)
        return (catalog, .database)
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
