/// Tables: created as written, renamed (`renamed_from`), dropped when managed before. Pairs
/// each desired table with the live one for the per-table kinds.
public enum TableKind: ObjectKind {
    public static let type = Change.ObjectType.table
    public static let catalogs = ["pg_class", "pg_inherits", "pg_partitioned_table"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.rename, "renamed"), (.alter, "recreated"), (.drop, "dropped")]
    /// With the RLS flags, the comment, the owner (RLSKind, CommentKind, OwnerKind) and the
    /// partitioning: the key of a partitioned table, a partition's parent and bound.
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "t", select: """
        rel.nspname, rel.relname, NULL, rel.relrowsecurity::text, rel.relforcerowsecurity::text,
               d.description, pg_get_userbyid(rel.relowner),
               CASE WHEN rel.relkind = 'p' THEN pg_get_partkeydef(rel.oid) END,
               CASE WHEN rel.relispartition THEN (SELECT ARRAY[pn.nspname, pc.relname]::text FROM pg_inherits i
                   JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = rel.oid) END,
               CASE WHEN rel.relispartition THEN pg_get_expr(rel.relpartbound, rel.oid) END
          FROM rel LEFT JOIN pg_description d ON d.objoid = rel.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        var table = Table(name: row.table, columns: [], rlsEnabled: row[0] == "true", rlsForced: row[1] == "true", grants: [:], comment: row[2])
        table.owner = row[3]
        table.partitionKey = row[4]
        if let parent = row.array(5), parent.count == 2 {
            table.partitionOf = QualifiedName(schema: parent[0], name: parent[1])
            table.partitionBound = row[6]
        }
        reader.catalog.tables[row.table] = table
    }

    /// Partitioned tables and partitions a blueprint cannot hold become `unsupported` (object
    /// type `partition`, never changed or dropped; docs/blueprints.md, Partitions): a key the
    /// format cannot write, a parent in another schema or not managed (an extension's), and
    /// with them every partition below.
    static func setAsideUnrepresentablePartitions(_ catalog: inout Catalog) {
        let read = catalog
        let tables = read.tables
        func representable(_ name: QualifiedName, _ table: Table) -> Bool {
            table.partitionKey.map { PartitionKey(server: $0) != nil } ?? true
                && table.partitionOf.map { $0.schema == name.schema && tables[$0] != nil } ?? true
        }
        for name in tables.keys {
            let chain = [name] + read.ancestors(of: name)
            guard !chain.allSatisfy({ representable($0, tables[$0]!) }) else { continue }
            catalog.tables[name] = nil
            catalog.unsupported.append(UnsupportedObject(type: .partition, schema: name.schema, name: name.name))
        }
    }

    /// The server's text of the key and the bound; the parent stays the blueprint's (the
    /// scratch copy's parent is in `pg_temp`).
    public static func adopt(_ scratch: Table, into table: inout Table) {
        if table.partitionKey != nil { table.partitionKey = scratch.partitionKey }
        if table.partitionOf != nil { table.partitionBound = scratch.partitionBound }
    }

    /// The table with its columns (their types, defaults and NOT NULL are the server's after).
    public static func scratch(_ table: Table) -> [ScratchStatement] {
        [ScratchStatement(sql: SQLRenderer.createTable(table, schemaOverride: "pg_temp"), origin: table.origin, table: table.name.name, createsTable: true)]
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.tables.keys.map(ObjectID.table) }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        // Tables whose partitioning changes are dropped and created again (PostgreSQL cannot
        // change it in place: deletes_data), and with them the partitions they hold.
        let recreated = Set(context.desired.tables.values.filter { want in
            context.actual.tables[want.name].map { $0.partitionKey != want.partitionKey } ?? false
        }.map(\.name))
        func gone(_ name: QualifiedName) -> Bool {
            ([name] + context.actual.ancestors(of: name)).contains(where: recreated.contains)
        }
        for name in context.desired.tables.keys.sorted() {
            let want = context.desired.tables[name]!
            let written = context.source?.tables[name] ?? want
            if let have = context.actual.tables[name], !gone(name) {
                partitioning(want: want, have: have, written: written, &plan)
                plan.pairs.append(ColumnKind.regeneratingColumns(ColumnKind.renamingColumns(TablePair(want: want, have: have, written: written, isNew: false), &plan), &plan))
            } else if context.actual.tables[name] == nil, let previous = want.renamedFrom.map({ QualifiedName(schema: name.schema, name: $0) }),
                      var have = context.actual.tables[previous], context.desired.tables[previous] == nil {
                plan.renamedAway.insert(previous)
                plan.add(.changed, .table(name), .rename, phase: .renameTable, [.renameTable(previous, to: name.name)],
                         desired: name.description, actual: previous.description, origin: want.origin)
                have.name = name
                plan.pairs.append(ColumnKind.regeneratingColumns(ColumnKind.renamingColumns(TablePair(want: want, have: have, written: written, isNew: false), &plan), &plan))
            } else {
                if recreated.contains(name), let have = context.actual.tables[name] {
                    func key(_ table: Table) -> String { table.partitionKey.map { "PARTITION BY \($0)" } ?? "not partitioned" }
                    plan.add(.changed, .table(name), .alter, phase: .createTable, [.dropTable(name), .createTable(written)],
                             desired: key(want), actual: key(have),
                             hazards: [Hazard(.deletesData, object: name.description,
                                              detail: "PostgreSQL cannot change how a table is partitioned: DROP TABLE and CREATE TABLE lose its rows and partitions")],
                             origin: want.origin)
                } else {
                    plan.add(.missing, .table(name), .create, phase: .createTable, [.createTable(written)], desired: "table", origin: want.origin)
                }
                // A partition after its parent.
                if let parent = want.partitionOf { plan.amend(from: plan.changes.count - 1) { $0.dependsOn.insert(.table(parent)) } }
                // What CREATE TABLE leaves: the columns, but no comments (COMMENT ON comes later).
                var created = Table(name: name, columns: want.columns.map { column in
                    var bare = column
                    bare.comment = nil
                    return bare
                })
                (created.partitionKey, created.partitionOf, created.partitionBound) = (want.partitionKey, want.partitionOf, want.partitionBound)
                plan.pairs.append(TablePair(want: want, have: created, written: written, isNew: true))
            }
        }
        ConstraintKind.liftForeignKeysOverReplacedKeys(context, &plan)
        // Removed partitions whose parent is removed too: dropped before it.
        var dropsAfter: [QualifiedName: Set<ObjectID>] = [:]
        for name in context.actual.tables.keys.sorted()
        where context.desired.tables[name] == nil && !plan.renamedAway.contains(name) && context.managedSchemas.contains(name.schema) && !gone(name) {
            let have = context.actual.tables[name]!
            plan.removed(.table(name), phase: .dropTables, [.dropTable(name)], hazard: .deletesData,
                         detail: have.partitionKey == nil ? "DROP TABLE" : "DROP TABLE (with every partition)",
                         actual: have.partitionOf == nil ? "table" : "partition of \(have.partitionOf!)", context: context)
            // A partition removed with its parent goes first (DROP TABLE of the parent takes it along).
            if let parent = have.partitionOf, context.desired.tables[parent] == nil, context.actual.tables[parent] != nil {
                dropsAfter[parent, default: []].insert(.table(name))
            }
        }
        if !dropsAfter.isEmpty {
            plan.amend(from: 0) { change in
                if change.action == .drop, let table = change.table, change.id == .table(table), let partitions = dropsAfter[table] {
                    change.dependsOn.formUnion(partitions)
                }
            }
        }
    }

    /// A partition's parent or bound changed: DETACH and ATTACH (the rows must fit the new
    /// bound: may_fail; docs/blueprints.md, Partitions).
    static func partitioning(want: Table, have: Table, written: Table, _ plan: inout PlanBuilder) {
        let name = want.name
        guard want.partitionOf != have.partitionOf || want.partitionBound != have.partitionBound else { return }
        var operations: [Operation] = []
        if let parent = have.partitionOf { operations.append(.detachPartition(name, parent: parent)) }
        if let parent = want.partitionOf, let bound = written.bound { operations.append(.attachPartition(name, parent: parent, bound)) }
        func describe(_ table: Table) -> String {
            table.partitionOf.map { "partition of \($0) \(table.partitionBound ?? "")" } ?? "not a partition"
        }
        plan.add(.changed, .property(.partition, of: name), want.partitionOf == nil ? .drop : .alter, phase: .constraints, operations,
                 desired: describe(want), actual: describe(have),
                 hazards: want.partitionOf == nil ? [] : [Hazard(.mayFail, object: name.description, detail: "ATTACH PARTITION checks every row against the bound")],
                 origin: want.origin)
    }
}
