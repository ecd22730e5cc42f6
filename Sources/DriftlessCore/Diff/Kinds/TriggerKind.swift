/// Triggers (docs/blueprints.md, Triggers): on managed tables, and on tables outside the
/// managed schemas (`auth.users`) where only the declared ones are touched. Read are the
/// triggers of managed tables and every trigger calling a function of a managed schema.
/// Changed with `CREATE OR REPLACE TRIGGER`; enabled or disabled as declared; an undeclared
/// trigger of a managed table found disabled by hand is enabled again (the blueprints never
/// ask for a disabled trigger they do not declare).
public enum TriggerKind: ObjectKind {
    public static let type = Change.ObjectType.trigger
    public static let catalogs = ["pg_trigger"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.alter, "changed"), (.drop, "dropped")]
    /// v1 `{timing, level, enabled, function schema, function name}`, v2 the events, v3 the
    /// `UPDATE OF` columns, v4 the WHEN condition as `pg_get_triggerdef` prints it, v5 the
    /// arguments (`tgargs` in bytea's escape format).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "r", select: """
        tn.nspname, tc.relname, tg.tgname,
               ARRAY[CASE WHEN tg.tgtype & 2 <> 0 THEN 'before' WHEN tg.tgtype & 64 <> 0 THEN 'instead_of' ELSE 'after' END,
                     CASE WHEN tg.tgtype & 1 <> 0 THEN 'row' ELSE 'statement' END,
                     CASE tg.tgenabled WHEN 'A' THEN 'always' WHEN 'R' THEN 'replica' WHEN 'D' THEN 'disabled' ELSE 'origin' END,
                     fn.nspname, fp.proname]::text,
               array_remove(ARRAY[CASE WHEN tg.tgtype & 4 <> 0 THEN 'insert' END, CASE WHEN tg.tgtype & 16 <> 0 THEN 'update' END,
                                  CASE WHEN tg.tgtype & 8 <> 0 THEN 'delete' END, CASE WHEN tg.tgtype & 32 <> 0 THEN 'truncate' END], NULL)::text,
               (SELECT array_agg(a.attname ORDER BY k.o) FROM unnest(tg.tgattr) WITH ORDINALITY k(n, o)
                  JOIN pg_attribute a ON a.attrelid = tg.tgrelid AND a.attnum = k.n)::text,
               substring(pg_get_triggerdef(tg.oid) from ' WHEN \\((.*)\\) EXECUTE FUNCTION '),
               encode(tg.tgargs, 'escape'), NULL, NULL
          FROM pg_trigger tg JOIN pg_class tc ON tc.oid = tg.tgrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_proc fp ON fp.oid = tg.tgfoid JOIN pg_namespace fn ON fn.oid = fp.pronamespace
          WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND (tn.nspname = ANY($1::text[]) OR fn.nspname = ANY($1::text[]))
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let parts = row.array(0) ?? []
        guard parts.count == 5 else { return }
        let key = TriggerKey(table: row.table, name: row.name)
        reader.catalog.triggers[key] = TriggerObject(
            key: key, timing: TriggerObject.Timing(rawValue: parts[0]) ?? .after,
            events: (row.array(1) ?? []).compactMap(TriggerObject.Event.init(rawValue:)), updateColumns: row.array(2) ?? [],
            level: parts[1] == "row" ? .row : .statement, when: row[3], function: QualifiedName(schema: parts[3], name: parts[4]),
            arguments: arguments(row[4] ?? ""), enabled: TriggerObject.Enabled(rawValue: parts[2]) ?? .origin)
    }

    /// The arguments of `tgargs` as `encode(..., 'escape')` prints it: each ends with a zero
    /// byte (`\000`); a backslash is doubled; other bytes may be octal escapes.
    static func arguments(_ escaped: String) -> [String] {
        var bytes: [UInt8] = []
        let input = Array(escaped.utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "\\"), index + 1 < input.count {
                if input[index + 1] == UInt8(ascii: "\\") {
                    bytes.append(UInt8(ascii: "\\"))
                    index += 2
                    continue
                }
                if index + 3 < input.count, let value = UInt8(String(decoding: input[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                    bytes.append(value)
                    index += 4
                    continue
                }
            }
            bytes.append(input[index])
            index += 1
        }
        var arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if arguments.last == "" { arguments.removeLast() }
        return arguments
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.triggers.keys.map(\.id) }

    /// The name of the scratch stand-in of the `index`-th table outside the blueprints that a
    /// trigger with a WHEN condition is declared on.
    static func standIn(_ index: Int) -> String { "driftless_trigger_table_\(index)" }
    static let stub = "driftless_trigger_stub"

    /// The tables outside the blueprints that the scratch copies of `schema`'s triggers need a
    /// stand-in for (`CREATE TABLE ... (LIKE ...)`), in a fixed order.
    static func foreignTables(_ catalog: Catalog, schema: String) -> [QualifiedName] {
        let blueprintSchemas = catalog.schemas
        return Array(Set(catalog.triggers.values.filter { $0.declaredIn == schema && $0.when != nil && !blueprintSchemas.contains($0.table.schema) }
            .map(\.table))).sorted()
    }

    /// Scratch copies of the triggers with a WHEN condition (the one part the server prints
    /// otherwise than written), on the tables' scratch copies or on stand-ins made `LIKE` a table
    /// of a schema outside the blueprints, all calling one stub trigger function. Made after the
    /// tables.
    public static func scratchTriggers(_ catalog: Catalog, schema: String) -> [ScratchStatement] {
        let foreign = foreignTables(catalog, schema: schema)
        // A table of the blueprints without a scratch copy here is new: its triggers are read
        // back after they are created (Canonicalizer.merge).
        let triggers = catalog.triggers.values.filter {
            $0.declaredIn == schema && $0.when != nil && (catalog.tables[$0.table] != nil || foreign.contains($0.table))
        }.sorted { $0.key < $1.key }
        guard !triggers.isEmpty else { return [] }
        var statements = [ScratchStatement(sql: """
            CREATE FUNCTION pg_temp.\(ident: stub)() RETURNS trigger LANGUAGE plpgsql AS \(literal: "BEGIN RETURN NULL; END")
            """)]
        for (index, table) in foreign.enumerated() {
            statements.append(ScratchStatement(sql: "CREATE TABLE pg_temp.\(ident: standIn(index)) (LIKE \(table))"))
        }
        for trigger in triggers {
            let table = foreign.firstIndex(of: trigger.table).map { QualifiedName(schema: "pg_temp", name: standIn($0)) }
                ?? QualifiedName(schema: "pg_temp", name: trigger.table.name)
            statements.append(ScratchStatement(sql: SQLRenderer.createTrigger(trigger, table: table, function: QualifiedName(schema: "pg_temp", name: stub)),
                                               origin: trigger.origin, table: catalog.tables[trigger.table] == nil ? nil : trigger.table.name))
        }
        return statements
    }

    /// The WHEN conditions of the scratch copies of `schema`'s triggers (in `tempSchema`).
    public static func adoptWhen(_ scratch: Catalog, from tempSchema: String, into desired: inout Catalog, schema: String) {
        let foreign = foreignTables(desired, schema: schema)
        for (key, trigger) in desired.triggers where trigger.declaredIn == schema && trigger.when != nil {
            let table = foreign.firstIndex(of: key.table).map(standIn) ?? key.table.name
            if let copy = scratch.triggers[TriggerKey(table: QualifiedName(schema: tempSchema, name: table), name: key.name)] {
                desired.triggers[key]?.when = copy.when
            }
        }
    }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        // PostgreSQL refuses a column's type change under a trigger that names it (UPDATE OF,
        // WHEN): such triggers are dropped before the columns change and created again after.
        for key in context.actual.triggers.keys.sorted() where !plan.droppedTriggers.contains(key) {
            let have = context.actual.triggers[key]!
            guard let table = context.actual.tables[key.table], let wanted = context.desired.tables[key.table],
                  table.columns.contains(where: { column in
                      (have.updateColumns.contains(column.name) || (have.when?.contains(column.name) ?? false))
                          && changesUnder(column, wanted.column(column.name), schema: key.table.schema, plan.recreatedEnums)
                  }) else { continue }
            plan.droppedTriggers.insert(key)
            var drop = Change(kind: .changed, id: key.id, action: .drop, operations: [.dropTrigger(key)], actual: have.definition,
                              phase: .dropPoliciesForColumns, origin: context.desired.triggers[key]?.origin)
            drop.isRecreate = true
            plan.add(drop)
        }
        // A view dropped, or dropped and created again, takes its triggers with it: they are
        // dropped first, listed in the plan, and those of a recreated view created again after it.
        let recreatedViews = ViewKind.recreated(context, plan)
        let goneViews = ViewKind.removed(context).filter { context.willDrop(.view($0)) }
        var goneWithTheirView: Set<TriggerKey> = []
        for key in context.actual.triggers.keys.sorted() where !plan.droppedTriggers.contains(key)
            && (recreatedViews.contains(key.table) || goneViews.contains(key.table)) {
            let gone = goneViews.contains(key.table)
            if gone { goneWithTheirView.insert(key) } else { plan.droppedTriggers.insert(key) }
            var drop = Change(kind: .changed, id: key.id, action: .drop, operations: [.dropTrigger(key)],
                              actual: context.actual.triggers[key]!.definition, phase: .dropDependents,
                              origin: context.desired.triggers[key]?.origin)
            drop.isRecreate = !gone
            plan.add(drop)
        }
        for key in context.desired.triggers.keys.sorted() {
            let want = context.desired.triggers[key]!
            let recreated = plan.droppedTriggers.contains(key)
            let enable: [Operation] = want.enabled == .origin ? [] : [.setTrigger(key, want.enabled)]
            guard let have = context.actual.triggers[key], !recreated else {
                var change = Change(kind: recreated ? .changed : .missing, id: key.id, action: recreated ? .alter : .create,
                                    operations: [.createTrigger(want, replace: false)] + enable, desired: want.definition,
                                    actual: context.actual.triggers[key]?.definition, phase: .triggers, origin: want.origin)
                change.isRecreate = recreated && context.actual.triggers[key].map { same($0, want) } == true
                plan.add(change)
                continue
            }
            if !same(have, want, comparingEnabled: false) {
                plan.add(.changed, key.id, .alter, phase: .triggers, [.createTrigger(want, replace: true)] + enable, desired: want.definition,
                         actual: have.definition, origin: want.origin)
            } else if have.enabled != want.enabled {
                plan.add(.changed, key.id, .alter, phase: .triggers, [.setTrigger(key, want.enabled)], desired: want.enabled.rawValue,
                         actual: have.enabled.rawValue, origin: want.origin)
            }
        }
        for key in context.actual.triggers.keys.sorted() where context.desired.triggers[key] == nil && !goneWithTheirView.contains(key) {
            let have = context.actual.triggers[key]!
            if plan.droppedTriggers.contains(key) {
                // Nobody declared it, and it was dropped for a function under it: back as it was.
                var back = Change(kind: .changed, id: key.id, action: .create, operations: [.createTrigger(have, replace: false)]
                                      + (have.enabled == .origin ? [] : [.setTrigger(key, have.enabled)]),
                                  desired: have.definition, actual: have.definition, phase: .triggers)
                back.isRecreate = true
                plan.add(back)
                continue
            }
            let id = key.id
            let onManagedTable = context.desired.tables[key.table] != nil || context.desired.views[key.table] != nil
            guard onManagedTable || context.previouslyManaged.contains(id) else { continue }
            if onManagedTable && have.enabled == .disabled && !context.willDrop(id) {
                plan.add(.changed, id, .alter, phase: .triggers, [.enableTrigger(key.name, table: key.table)], desired: "enabled",
                         actual: "disabled", origin: context.desired.tables[key.table]?.origin ?? context.desired.views[key.table]?.origin)
                continue
            }
            plan.removed(id, phase: .dropTriggers, [.dropTrigger(key)], hazard: nil, detail: "DROP TRIGGER", actual: have.definition,
                         context: context)
        }
    }

    /// Whether a column under a trigger changes type (or moves to a recreated enum) or goes.
    static func changesUnder(_ have: Column, _ want: Column?, schema: String, _ recreatedEnums: Set<QualifiedName>) -> Bool {
        guard let want else { return true }
        return want.type != have.type || ColumnKind.regenerated(have, want) || EnumKind.used(by: have.type, schema: schema, among: recreatedEnums) != nil
    }

    /// Whether two triggers are the same (the declared-in schema and the written text aside).
    static func same(_ a: TriggerObject, _ b: TriggerObject, comparingEnabled: Bool = true) -> Bool {
        var left = a
        var right = b
        if !comparingEnabled { right.enabled = left.enabled }
        left.declaredIn = nil
        right.declaredIn = nil
        return left == right
    }
}
