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
          SELECT c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relacl, c.relowner, c.relkind,
                 c.relispartition, c.relpartbound, c.relreplident, c.relnamespace
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        )
        """

    /// What no kind models yet, in the managed schemas (docs/engine.md, Unsupported objects):
    /// procedures, aggregates and functions with a SQL-standard body (`BEGIN ATOMIC`), foreign
    /// tables, composite, domain and range types, rules on managed
    /// tables, membership in publications other than Realtime's. Extension members are left out.
    static let unsupported = IntrospectionPart(code: "u", select: """
        n.nspname, NULL, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END, NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = ANY($1::text[]) AND (p.prokind <> 'f' OR p.prosqlbody IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 'u', n.nspname, NULL, c.relname, 'foreign_table', NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1::text[]) AND c.relkind = 'f'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 'u', n.nspname, NULL, t.typname, 'type', NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = ANY($1::text[]) AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')

        UNION ALL
        SELECT 'u', rel.nspname, rel.relname, r.rulename, 'rule', NULL, NULL, NULL, NULL, NULL, NULL
          FROM rel JOIN pg_rewrite r ON r.ev_class = rel.oid WHERE r.rulename <> '_RETURN'
        UNION ALL
        SELECT 'u', rel.nspname, rel.relname, p.pubname, 'publication', NULL, NULL, NULL, NULL, NULL, NULL
          FROM rel JOIN pg_publication_rel pr ON pr.prrelid = rel.oid JOIN pg_publication p ON p.oid = pr.prpubid
          WHERE p.pubname <> 'supabase_realtime'
        """)

    /// The statement: every registered kind's part.
    public static let text: String = {
        let parts = ObjectKinds.all.compactMap { $0.introspection } + [unsupported]
        // PostgreSQL resolves the column types of a UNION pairwise from the left: a `name`
        // (pg_get_userbyid, relname) met before any text would make the column `name` and cut
        // every later text in it, a policy's USING say, to 63 bytes. A first, empty branch
        // types every column as text.
        let typed = "SELECT NULL::text AS kind, NULL::text AS schema, NULL::text AS tbl, NULL::text AS name, "
            + (1...7).map { "NULL::text AS v\($0)" }.joined(separator: ", ") + " WHERE false"
        return relations + "\n" + ([typed] + parts.map { "SELECT '\($0.code)' AS kind, \($0.select)" }).joined(separator: "\nUNION ALL\n")
    }()

    /// Reads the rows of `text` into a catalog: tables first (the other rows attach to them),
    /// then each row by the kind whose code it carries.
    public static func read(_ rows: [CatalogRow]) -> (catalog: Catalog, existingSchemas: Set<String>) {
        var reader = CatalogReader()
        let kinds = Dictionary(uniqueKeysWithValues: ObjectKinds.all.compactMap { kind in kind.introspection.map { ($0.code, kind) } })
        let tableCode = TableKind.introspection!.code
        for row in rows where row.kind == tableCode { TableKind.read(row, into: &reader) }
        TableKind.setAsideUnrepresentablePartitions(&reader.catalog)
        for row in rows where row.kind != tableCode {
            if row.kind == unsupported.code {
                if let type = Change.ObjectType(rawValue: row[0] ?? "") {
                    reader.catalog.unsupported.append(UnsupportedObject(type: type, schema: row.schema, table: row.values[2], name: row.name))
                }
            } else {
                kinds[row.kind]?.read(row, into: &reader)
            }
        }
        reader.catalog.unsupported.sort()
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

    /// Field `field`, an array of `role:privilege`, as privileges per role.
    public func privileges(_ field: Int) -> [String: Set<String>] {
        var grants: [String: Set<String>] = [:]
        for entry in array(field) ?? [] {
            guard let colon = entry.lastIndex(of: ":") else { continue }
            grants[String(entry[..<colon]), default: []].insert(String(entry[entry.index(after: colon)...]))
        }
        return grants
    }
}

/// The catalog as the rows build it.
public struct CatalogReader: Sendable {
    public var catalog = Catalog()
    public var existingSchemas: Set<String> = []
    /// Columns come in any order: kept with their number, sorted per table at the end.
    var columns: [QualifiedName: [(number: Int, column: Column)]] = [:]
    var grants: [QualifiedName: [String: Set<String>]] = [:]
    /// Indexes of materialized views, attached at the end.
    var viewIndexes: [QualifiedName: [String: Index]] = [:]
    /// Realtime membership and replica identity per table (RealtimeKind), attached at the end.
    var realtime: [QualifiedName: (member: Bool, identity: ReplicaIdentity)] = [:]

    func finish() -> (catalog: Catalog, existingSchemas: Set<String>) {
        var catalog = catalog
        for (table, list) in columns where catalog.tables[table] != nil {
            catalog.tables[table]!.columns = list.sorted { $0.number < $1.number }.map(\.column)
        }
        for (table, byRole) in grants where catalog.tables[table] != nil {
            catalog.tables[table]!.grants = byRole
        }
        for (table, state) in realtime where catalog.tables[table] != nil {
            catalog.tables[table]!.realtime = state.member
            catalog.tables[table]!.replicaIdentity = state.identity
        }
        for (view, indexes) in viewIndexes where catalog.views[view] != nil {
            catalog.views[view]!.indexes = indexes
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

    public init(sql: SQL, origin: Origin? = nil, table: String? = nil, createsTable: Bool = false) {
        self.sql = sql
        self.origin = origin
        self.table = table
        self.createsTable = createsTable
    }
}
