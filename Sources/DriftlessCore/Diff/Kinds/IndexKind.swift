/// Indexes that do not back a constraint.
public enum IndexKind: ObjectKind {
    public static let type = Change.ObjectType.index
    public static let catalogs = ["pg_index"]
    public static let nouns = (one: "index", many: "indexes")
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "i", select: """
        rel.nspname, rel.relname, i.relname, am.amname, x.indisunique::text,
               (SELECT array_agg(pg_get_indexdef(x.indexrelid, k, true) ORDER BY k) FROM generate_series(1, x.indnkeyatts) k)::text,
               pg_get_expr(x.indpred, x.indrelid), NULL, NULL, NULL
          FROM pg_index x JOIN rel ON rel.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
          WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x'))
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        reader.catalog.tables[row.table]?.indexes[row.name] = Index(
            name: row.name, method: IndexMethod(rawValue: row[0] ?? "") ?? .btree, keys: row.array(2) ?? [], unique: row[1] == "true",
            predicate: row[3])
    }

    public static func scratch(_ table: Table) -> [ScratchStatement] {
        table.indexes.values.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createIndex($0, on: table, schemaOverride: "pg_temp"), origin: $0.origin, table: table.name.name)
        }
    }

    public static func adopt(_ scratch: Table, into table: inout Table) {
        for (key, index) in scratch.indexes where table.indexes[key] != nil {
            table.indexes[key]?.keys = index.keys
            table.indexes[key]?.predicate = index.predicate
            table.indexes[key]?.unique = index.unique
            table.indexes[key]?.method = index.method
        }
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in table.indexes.keys.map { ObjectID.member(.index, of: table.name, $0) } }
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        let columns = Set(pair.written.columns.map(\.name))
        plan.diffNamed(
            pair.want.indexes, pair.have.indexes, kind: .index, pair: pair, context: context,
            phase: { _ in .indexes }, dropPhase: { _ in .dropIndexes },
            create: { [.createIndex(pair.written.indexes[$0.name] ?? $0, table: name, columns: columns)] },
            drop: { [.dropIndex($0.name, schema: name.schema)] },
            rename: { .renameIndex($0, to: $1, schema: name.schema) },
            describe: { SQLRenderer.createIndex($0, on: pair.want).text },
            createHazards: { index in
                let id = pair.id(.index, index.name).description
                return pair.isNew ? [] : [Hazard(.locksTable, object: id, detail: "CREATE INDEX blocks writes to the table while it builds")]
                    + (index.unique ? [Hazard(.mayFail, object: id, detail: "a unique index fails on duplicate rows")] : [])
            },
            dropHazard: { _ in nil })
    }
}
