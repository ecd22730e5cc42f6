/// Tables: created as written, renamed (`renamed_from`), dropped when managed before. Pairs
/// each desired table with the live one for the per-table kinds.
public enum TableKind: ObjectKind {
    public static let type = Change.ObjectType.table
    public static let catalogs = ["pg_class"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.rename, "renamed"), (.drop, "dropped")]
    /// With the RLS flags, the comment and the owner (RLSKind, CommentKind, OwnerKind).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "t", select: """
        rel.nspname, rel.relname, NULL, rel.relrowsecurity::text, rel.relforcerowsecurity::text,
               obj_description(rel.oid, 'pg_class'), pg_get_userbyid(rel.relowner), NULL, NULL, NULL
          FROM rel
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        var table = Table(name: row.table, columns: [], rlsEnabled: row[0] == "true", rlsForced: row[1] == "true", grants: [:], comment: row[2])
        table.owner = row[3]
        reader.catalog.tables[row.table] = table
    }

    /// The table with its columns (their types, defaults and NOT NULL are the server's after).
    public static func scratch(_ table: Table) -> [ScratchStatement] {
        [ScratchStatement(sql: SQLRenderer.createTable(table, schemaOverride: "pg_temp"), origin: table.origin, table: table.name.name, createsTable: true)]
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.tables.keys.map(ObjectID.table) }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for name in context.desired.tables.keys.sorted() {
            let want = context.desired.tables[name]!
            let written = context.source?.tables[name] ?? want
            if let have = context.actual.tables[name] {
                plan.pairs.append(ColumnKind.renamingColumns(TablePair(want: want, have: have, written: written, isNew: false), &plan))
            } else if let previous = want.renamedFrom.map({ QualifiedName(schema: name.schema, name: $0) }),
                      var have = context.actual.tables[previous], context.desired.tables[previous] == nil {
                plan.renamedAway.insert(previous)
                plan.add(.changed, .table(name), .rename, phase: .renameTable, [.renameTable(previous, to: name.name)],
                         desired: name.description, actual: previous.description, origin: want.origin)
                have.name = name
                plan.pairs.append(ColumnKind.renamingColumns(TablePair(want: want, have: have, written: written, isNew: false), &plan))
            } else {
                plan.add(.missing, .table(name), .create, phase: .createTable, [.createTable(written)], desired: "table", origin: want.origin)
                // What CREATE TABLE leaves: the columns, but no comments (COMMENT ON comes later).
                let created = Table(name: name, columns: want.columns.map { column in
                    var bare = column
                    bare.comment = nil
                    return bare
                })
                plan.pairs.append(TablePair(want: want, have: created, written: written, isNew: true))
            }
        }
        for name in context.actual.tables.keys.sorted()
        where context.desired.tables[name] == nil && !plan.renamedAway.contains(name) && context.managedSchemas.contains(name.schema) {
            plan.removed(.table(name), phase: .dropTables, [.dropTable(name)], hazard: .deletesData, detail: "DROP TABLE",
                         actual: "table", context: context)
        }
    }
}
