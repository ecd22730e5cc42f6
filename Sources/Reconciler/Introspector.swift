import DriftlessCore
import Foundation
import Postgres

/// Reads the managed schemas from the catalogs into a `Catalog`, in one statement: every
/// registered object kind's part of `CatalogQuery` (one snapshot, one round trip). Objects
/// owned by extensions are left out.
public enum Introspector {
    /// What the database has in `schemas`, and which of them exist.
    /// - Throws: `PostgresError` from the server.
    public static func introspect(_ connection: Connection, schemas: [String]) throws -> (catalog: Catalog, existingSchemas: Set<String>) {
        let result = try connection.query(CatalogQuery.text, [PostgresArray.text(schemas)])
        return CatalogQuery.read(result.rows.map { CatalogRow(values: $0.values, parseArray: PostgresArray.parseText) })
    }
}
