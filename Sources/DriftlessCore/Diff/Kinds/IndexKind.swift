/// Indexes that do not back a constraint, of tables and of materialized views (whose indexes
/// ViewKind compares).
public enum IndexKind: ObjectKind {
    public static let type = Change.ObjectType.index
    public static let catalogs = ["pg_index"]
    public static let nouns = (one: "index", many: "indexes")
    /// A key's operator class is named only when it is not the default: the defaults are one
    /// hashed set, asked first, because the planner looks each name up by scanning `pg_opclass`
    /// (docs/engine.md, Introspection).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "i", select: """
        rel.nspname, rel.relname, i.relname, am.amname, x.indisunique::text,
               (SELECT array_agg(pg_get_indexdef(x.indexrelid, k, true) ORDER BY k) FROM generate_series(1, x.indnkeyatts) k)::text,
               pg_get_expr(x.indpred, x.indrelid),
               (SELECT array_agg(((x.indoption[k - 1] & 1) <> 0)::int::text || ((x.indoption[k - 1] & 2) <> 0)::int::text
                   || '|' || CASE WHEN x.indclass[k - 1] IN (SELECT oid FROM pg_opclass WHERE opcdefault) THEN ''
                             ELSE coalesce((SELECT CASE WHEN o.opcdefault THEN '' WHEN on_.nspname = 'pg_catalog' THEN o.opcname
                                                        ELSE on_.nspname || '.' || o.opcname END
                                            FROM pg_opclass o JOIN pg_namespace on_ ON on_.oid = o.opcnamespace WHERE o.oid = x.indclass[k - 1]), '') END
                   || '|' || CASE WHEN x.indcollation[k - 1] IN (0, 100, coalesce((SELECT a.attcollation FROM pg_attribute a
                                     WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1] AND x.indkey[k - 1] <> 0), 0))
                                  THEN '' ELSE (SELECT collname FROM pg_collation WHERE oid = x.indcollation[k - 1]) END
                   ORDER BY k) FROM generate_series(1, x.indnkeyatts) k)::text,
               (SELECT array_agg(a.attname ORDER BY k) FROM generate_series(x.indnkeyatts, x.indnatts - 1) k
                  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k])::text,
               (ARRAY[x.indnullsnotdistinct::text, x.indisvalid::text] || coalesce(i.reloptions, '{}'))::text
          FROM pg_index x
          JOIN (SELECT oid, nspname, relname FROM rel
                UNION ALL
                SELECT m.oid, mn.nspname, m.relname FROM pg_class m JOIN pg_namespace mn ON mn.oid = m.relnamespace
                 WHERE m.relkind = 'm' AND mn.nspname = ANY($1::text[])) rel ON rel.oid = x.indrelid
          JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
          WHERE NOT i.relispartition
            AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x'))
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let options = (row.array(4) ?? []).map(keyOptions)
        let flags = row.array(6) ?? []
        var storage: [String: String] = [:]
        for option in flags.dropFirst(2) {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { storage[parts[0]] = parts[1] }
        }
        var index = Index(
            name: row.name, method: IndexMethod(rawValue: row[0] ?? "") ?? .btree, keys: row.array(2) ?? [], unique: row[1] == "true",
            predicate: row[3], options: options, include: row.array(5) ?? [], storage: storage, nullsNotDistinct: flags.first == "true")
        index.valid = flags.count < 2 || flags[1] != "false"
        if reader.catalog.tables[row.table] != nil {
            reader.catalog.tables[row.table]?.indexes[row.name] = index
        } else {
            // A materialized view's: its row may come before the view's.
            reader.viewIndexes[row.table, default: [:]][row.name] = index
        }
    }

    /// `"10|text_pattern_ops|C"`: DESC and NULLS FIRST bits, then the non-default operator class
    /// and collation (empty for the defaults).
    static func keyOptions(_ text: String) -> IndexKeyOptions {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let bits = Array(parts.first ?? "00")
        let descending = bits.first == "1"
        return IndexKeyOptions(
            descending: descending, nullsFirst: bits.count > 1 ? bits[1] == "1" : descending,
            opclass: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil,
            collation: parts.count > 2 && !parts[2].isEmpty ? parts[2] : nil)
    }

    public static func scratch(_ table: Table) -> [ScratchStatement] {
        table.indexes.values.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createIndex($0, on: table, schemaOverride: "pg_temp"), origin: $0.origin, table: table.name.name)
        }
    }

    public static func adopt(_ scratch: Table, into table: inout Table) {
        adopt(scratch.indexes, into: &table.indexes)
    }

    /// The server's form of every index of `indexes` that `scratch` has under its name.
    static func adopt(_ scratch: [String: Index], into indexes: inout [String: Index]) {
        for (key, index) in scratch where indexes[key] != nil {
            indexes[key]?.keys = index.keys
            indexes[key]?.predicate = index.predicate
            indexes[key]?.unique = index.unique
            indexes[key]?.method = index.method
            indexes[key]?.options = index.options
            indexes[key]?.include = index.include
            indexes[key]?.storage = index.storage
            indexes[key]?.nullsNotDistinct = index.nullsNotDistinct
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
                return pair.isNew ? [] : [Hazard(.locksTable, object: id, detail: "CREATE INDEX blocks writes to the table while it builds (--online builds it concurrently)")]
                    + (index.unique ? [Hazard(.mayFail, object: id, detail: "a unique index fails on duplicate rows")] : [])
            },
            dropHazard: { _ in nil })
    }
}
