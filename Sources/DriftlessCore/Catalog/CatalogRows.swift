/// The introspection of the live catalog, assembled from the object kinds (docs/engine.md,
/// Object kinds): one statement, a `UNION ALL` of every kind's part, one row per object.
/// `kind` says whose row it is, `v1`...`v7` are its fields as text, arrays in PostgreSQL's
/// text form. Rows rather than one JSON document: decoding the JSON of 1,000 tables cost more
/// than the server took to build it.
public enum CatalogQuery {
    /// The managed tables (`$1`: the schema names), which every table kind's part joins; tables
    /// owned by extensions are left out.
    static let relations = """
        WITH rel AS (
          SELECT c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relacl, c.relowner
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        )
        """

    /// The statement: every registered kind's part.
    public static let text: String = {
        let parts = ObjectKinds.all.compactMap { $0.introspection }
        return relations + "\n" + parts.map { "SELECT '\($0.code)' AS kind, \($0.select)" }.joined(separator: "\nUNION ALL\n")
    }()

    /// Reads the rows of `text` into a catalog: tables first (the other rows attach to them),
    /// then each row by the kind whose code it carries.
    public static func read(_ rows: [CatalogRow]) -> (catalog: Catalog, existingSchemas: Set<String>) {
        var reader = CatalogReader()
        let kinds = Dictionary(uniqueKeysWithValues: ObjectKinds.all.compactMap { kind in kind.introspection.map { ($0.code, kind) } })
        let tableCode = TableKind.introspection!.code
        for row in rows where row.kind == tableCode { TableKind.read(row, into: &reader) }
        for row in rows where row.kind != tableCode { kinds[row.kind]?.read(row, into: &reader) }
        return reader.finish()
    }
}

/// A kind's part of the introspection statement.
public struct IntrospectionPart: Sendable {
    /// The row's `kind`: one letter, unique among the kinds.
    public var code: String
    /// The rest of the SELECT after `SELECT '<code>' AS kind,`: `schema, tbl, name, v1`...`v7`.
    public var select: String
}

/// One row of the introspection statement: its kind, schema, table and name, and the fields
/// v1...v7 (`row[0]` is v1).
public struct CatalogRow: Sendable {
    public let values: [String?]
    let parseArray: @Sendable (String) -> [String]

    /// `parseArray` reads PostgreSQL's text form of an array.
    public init(values: [String?], parseArray: @escaping @Sendable (String) -> [String]) {
        self.values = values
        self.parseArray = parseArray
    }

    public var kind: String { values[0] ?? "" }
    public var schema: String { values[1] ?? "" }
    public var table: QualifiedName { QualifiedName(schema: schema, name: values[2] ?? "") }
    public var name: String { values[3] ?? "" }
    public subscript(field: Int) -> String? { values[4 + field] }
    /// Field `field` read as a text array; nil for NULL.
    public func array(_ field: Int) -> [String]? { self[field].map(parseArray) }
}

/// The catalog as the rows build it.
public struct CatalogReader: Sendable {
    public var catalog = Catalog()
    public var existingSchemas: Set<String> = []
    /// Columns come in any order: kept with their number, sorted per table at the end.
    var columns: [QualifiedName: [(number: Int, column: Column)]] = [:]
    var grants: [QualifiedName: [String: Set<String>]] = [:]

    func finish() -> (catalog: Catalog, existingSchemas: Set<String>) {
        var catalog = catalog
        for (table, list) in columns where catalog.tables[table] != nil {
            catalog.tables[table]!.columns = list.sorted { $0.number < $1.number }.map(\.column)
        }
        for (table, byRole) in grants where catalog.tables[table] != nil {
            catalog.tables[table]!.grants = byRole
        }
        return (catalog, existingSchemas)
    }
}

/// A statement of a scratch copy (canonicalization builds the desired objects in `pg_temp`
/// and reads them back), with the blueprint element that asked for it.
public struct ScratchStatement: Sendable {
    public var sql: SQL
    public var origin: Origin?
    /// The table it belongs to (a refused CREATE TABLE skips the rest of its table).
    public var table: String?
    public var createsTable = false
}
