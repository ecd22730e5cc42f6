import DriftlessCore
import Foundation
import Postgres

/// Reads the managed schemas from the catalogs into a `Catalog`, in one statement: every
/// registered object kind's part of `CatalogQuery` (one snapshot, one round trip). Objects
/// owned by extensions are left out.
public enum Introspector {
    /// What the database has in `schemas`, and which of them exist.
    /// - Throws: `PostgresError` from the server.
    ///
    /// Turns JIT off for the rest of the transaction first (docs/benchmarks.md, JIT): the
    /// planner's estimate of this one large statement passes `jit_above_cost` on an ordinary
    /// project, and compiling it took 3 s of a 3.1 s drift of 100 tables that runs in 90 ms
    /// without. Outside a transaction the setting ends with that statement, harmlessly.
    public static func introspect(_ connection: Connection, schemas: [String]) throws -> (catalog: Catalog, existingSchemas: Set<String>) {
        try connection.query("SELECT set_config('jit', 'off', true)")
        let result = try connection.query(CatalogQuery.text, [PostgresArray.text(schemas)])
        return CatalogQuery.read(result.rows.map { CatalogRow(values: $0.values, parseArray: PostgresArray.parseText) })
    }
}
