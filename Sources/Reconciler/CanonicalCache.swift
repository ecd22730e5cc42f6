import DriftlessCore
import Foundation
import Postgres

/// The canonical desired catalog, cached by (payload hash, server version): a steady-state
/// reconciliation of an unchanged revision builds no scratch copies at all. Kept in
/// `<history schema>.canonical_cache` across processes (written by `apply` only, so `plan` and
/// `drift` stay read-only), and in memory for the life of the process while small: a catalog of
/// 10,000 tables holds about 110 MB, and reading it back from the history schema overlaps the
/// introspection anyway (docs/operations.md, Memory).
public enum CanonicalCache {
    private static let lock = NSLock()
    /// The most recently used catalogs, newest last; at most `memoryLimit` of them, of at most
    /// `memoryBudget` objects in all.
    nonisolated(unsafe) private static var memory: [(key: String, catalog: Catalog, size: Int)] = []
    /// How many catalogs stay in memory (a controller serves one desired state per database;
    /// older revisions fall out).
    static let memoryLimit = 16
    /// How many objects (`Catalog.objectCount`) the catalogs in memory hold together, about
    /// 5 KB each (a 10,000-table catalog with a trigger per table: 22,000 objects, 108 MB): a
    /// catalog larger than this is never kept.
    static let memoryBudget = 10_000

    /// The version of the cached catalog's shape: a catalog written by an engine whose model
    /// had other fields is never read back.
    public static let format = 10

    static func key(payloadHash: String, serverVersion: Int) -> String { "v\(format):\(payloadHash):\(serverVersion)" }

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
        if let hit = recall(key) { return ((hit, .memory), try meanwhile()) }
        guard let row = try history.optionalRow(
            from: history.cacheTableName, "SELECT catalog FROM \(history.cacheTable) WHERE key = $1", [key], connection) else {
            return (nil, try meanwhile())
        }
        // Decoding 1,000 tables takes about as long as the server takes to answer the
        // introspection: both at once, on two cores (CPU work and one connection's calls; the
        // connection is used by that one call only).
        nonisolated(unsafe) var decoded: Result<Catalog, Error>?
        nonisolated(unsafe) var other: Result<T, Error>?
        nonisolated(unsafe) let work = meanwhile
        Parallelism.cores.forEach(2) { index in
            if index == 0 {
                decoded = Result { try row.json("catalog", as: Catalog.self) }
            } else {
                other = Result { try work() }
            }
        }
        let catalog = try decoded!.get()
        remember(catalog, key: key)
        return ((catalog, .database), try other!.get())
    }

    /// The JSON of a catalog, encoded on a thread of its own while the caller goes on: apply
    /// encodes while the server runs the RLS gate and the records (seconds each at 10,000
    /// tables). An object at a time (`Catalog.streamedJSON`), so the encoder never holds the
    /// whole document as a tree. CPU work only.
    struct Encoding {
        private let text: Background<String>

        init(_ catalog: Catalog) {
            text = Background { String(decoding: try catalog.streamedJSON(), as: UTF8.self) }
        }

        func json() throws -> String { try text.value() }
    }

    /// Stores `catalog` in memory and, inside the caller's transaction, in the history schema
    /// (`encoding`: its JSON, when the caller started encoding it earlier).
    static func store(_ catalog: Catalog, encoding: Encoding? = nil, payloadHash: String, connection: Connection, history: History) throws {
        let key = key(payloadHash: payloadHash, serverVersion: connection.serverVersion)
        remember(catalog, key: key)
        let json = try (encoding ?? Encoding(catalog)).json()
        // lz4 where the server has it: pglz took half a second for the 58 MB of 10,000 tables,
        // lz4 a twentieth of that, and reading it back is faster too (docs/engine.md, Caches).
        try connection.query("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                             + "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        try connection.query("INSERT INTO \(history.cacheTable) (key, catalog) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, json])
    }

    static func remember(_ catalog: Catalog, key: String) {
        let size = catalog.objectCount
        lock.withLock {
            memory.removeAll { $0.key == key }
            guard size <= memoryBudget else { return }
            memory.append((key, catalog, size))
            if memory.count > memoryLimit { memory.removeFirst(memory.count - memoryLimit) }
            while memory.reduce(0, { $0 + $1.size }) > memoryBudget { memory.removeFirst() }
        }
    }

    /// The catalog remembered for `key`, now the most recently used.
    static func recall(_ key: String) -> Catalog? {
        lock.withLock {
            guard let index = memory.firstIndex(where: { $0.key == key }) else { return nil }
            let entry = memory.remove(at: index)
            memory.append(entry)
            return entry.catalog
        }
    }

    /// How many catalogs are in memory.
    static var memoryCount: Int { lock.withLock { memory.count } }

    /// Forgets the in-memory entries (tests and benchmarks measure cold runs with it).
    public static func clearMemory() {
        lock.withLock { memory = [] }
    }
}

