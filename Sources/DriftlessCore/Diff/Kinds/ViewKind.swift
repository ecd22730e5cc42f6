import Foundation
import SQLParser

/// Views and materialized views (docs/blueprints.md, Views): created after the tables, in the
/// order their queries read each other; replaced in place (`CREATE OR REPLACE VIEW`) when
/// PostgreSQL allows it (the old columns first, the same), else dropped and created with the
/// views that read them; dropped and created around a type change of a column they read;
/// privileges, comment and owner set as for tables.
public enum ViewKind: ObjectKind {
    public static let type = Change.ObjectType.view
    public static let catalogs = ["pg_class", "pg_rewrite"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.alter, "changed"), (.drop, "dropped")]
    /// v1 the query, v2 the options, v3 the columns (`name \t type`), v4 `{relkind, owner}`, v5
    /// the comment, v6 the privileges (`role:privilege`), v7 the views that read it (`view \t
    /// schema \t name`) and the columns it reads (`column \t schema \t table \t column`).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "w", select: """
        n.nspname, NULL, c.relname, pg_get_viewdef(c.oid), coalesce(c.reloptions, '{}')::text,
               (SELECT array_agg(a.attname || E'\\t' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
                  FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::text,
               ARRAY[c.relkind::text, pg_get_userbyid(c.relowner)]::text, obj_description(c.oid, 'pg_class'),
               (SELECT array_agg(CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END || ':' || lower(x.privilege_type)
                                  || \(Privilege.grantOptionSQL))
                  FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner)::text,
               (SELECT array_agg(DISTINCT x.d) FROM (
                  SELECT 'view' || E'\\t' || vn.nspname || E'\\t' || v.relname AS d
                    FROM pg_depend dp JOIN pg_rewrite r ON r.oid = dp.objid JOIN pg_class v ON v.oid = r.ev_class
                    JOIN pg_namespace vn ON vn.oid = v.relnamespace
                    WHERE dp.classid = 'pg_rewrite'::regclass AND dp.refclassid = 'pg_class'::regclass AND dp.refobjid = c.oid AND v.oid <> c.oid
                  UNION ALL
                  SELECT 'column' || E'\\t' || tn.nspname || E'\\t' || t.relname || E'\\t' || a.attname
                    FROM pg_rewrite r JOIN pg_depend dp ON dp.classid = 'pg_rewrite'::regclass AND dp.objid = r.oid
                      AND dp.refclassid = 'pg_class'::regclass AND dp.refobjsubid > 0
                    JOIN pg_class t ON t.oid = dp.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = dp.refobjsubid
                    WHERE r.ev_class = c.oid AND t.oid <> c.oid) x)::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """)

    /// A query as PostgreSQL prints it or a user wrote it, without surrounding blanks and final
    /// semicolons.
    public static func trimmed(_ query: String) -> String {
        var text = query.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(";") { text = String(text.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        return text
    }

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let name = QualifiedName(schema: row.schema, name: row.name)
        var options: [String: String] = [:]
        for entry in row.array(1) ?? [] {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            options[String(entry[..<equals])] = String(entry[entry.index(after: equals)...]).lowercased()
        }
        func flag(_ key: String) -> Bool { ["true", "on", "1", "yes"].contains(options[key] ?? "false") }
        let kind = row.array(3) ?? []
        let grants = row.privileges(5)
        let materialized = kind.first == "m"
        var view = ViewObject(
            name: name, query: trimmed(row[0] ?? ""), columns: (row.array(2) ?? []).map { $0.replacingOccurrences(of: "\t", with: " ") },
            securityInvoker: !materialized && flag("security_invoker"), securityBarrier: flag("security_barrier"),
            checkOption: options["check_option"].flatMap(ViewObject.CheckOption.init(rawValue:)), materialized: materialized,
            comment: row[4], grants: grants, owner: kind.count > 1 ? kind[1] : nil)
        for entry in row.array(6) ?? [] {
            let parts = entry.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if parts.first == "view", parts.count == 3 {
                view.dependentViews.append(QualifiedName(schema: parts[1], name: parts[2]))
            } else if parts.first == "column", parts.count == 4 {
                view.reads.append(ViewObject.ColumnUse(table: QualifiedName(schema: parts[1], name: parts[2]), column: parts[3]))
            }
        }
        view.dependentViews.sort()
        reader.catalog.views[name] = view
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.views.values.flatMap { view in [ObjectID.view(view.name)] + view.indexes.keys.map { ObjectID.member(.index, of: view.name, $0) } }
    }

    /// The relations a query names (`FROM`, `JOIN`, subqueries), qualified with `schema` when
    /// it names none: what PostgreSQL's parser finds, so views can be ordered among themselves.
    public static func references(_ query: String, schema: String) -> Set<QualifiedName> {
        Set(namedRelations(query, schema: schema).keys)
    }

    /// The same relations, each with whether the query names it with its schema (somewhere).
    static func namedRelations(_ query: String, schema: String) -> [QualifiedName: Bool] {
        guard let statements = try? SQLParser.parse(query) else { return [:] }
        var found: [QualifiedName: Bool] = [:]
        func walk(_ node: ParseNode) {
            switch node {
            case .object(let fields):
                if let range = fields["RangeVar"], let relation = range["relname"]?.text {
                    let written = range["schemaname"]?.text
                    let name = QualifiedName(schema: written ?? schema, name: relation)
                    found[name] = (found[name] ?? false) || written != nil
                }
                for value in fields.values { walk(value) }
            case .array(let items):
                for item in items { walk(item) }
            case .scalar:
                break
            }
        }
        for statement in statements { walk(statement.node) }
        return found
    }

    /// `names` ordered so that a view comes after the views of `catalog` its query reads.
    static func ordered(_ names: [QualifiedName], in catalog: Catalog) -> [QualifiedName] {
        let wanted = Set(names)
        var done: Set<QualifiedName> = []
        var visiting: Set<QualifiedName> = []
        var order: [QualifiedName] = []
        func visit(_ name: QualifiedName) {
            guard !done.contains(name), !visiting.contains(name), let view = catalog.views[name] else { return }
            visiting.insert(name)
            for reference in references(view.writtenQuery ?? view.query, schema: name.schema).sorted() where wanted.contains(reference) {
                visit(reference)
            }
            visiting.remove(name)
            done.insert(name)
            order.append(name)
        }
        for name in names.sorted() { visit(name) }
        return order
    }

    /// Scratch copies of `schema`'s views in `pg_temp`, after the tables, each after the views it
    /// reads; a materialized view's copy is a plain view (same query, same columns). A view that
    /// reads a table of the blueprints without a copy here (a new one, taken as written) gets none:
    /// it is read back after it is created.
    public static func scratchViews(_ catalog: Catalog, live: Catalog, allTables: Set<QualifiedName>, schema: String) -> [ScratchStatement] {
        let names = ordered(catalog.views.keys.filter { $0.schema == schema }, in: catalog)
        var made: Set<QualifiedName> = []
        var statements: [ScratchStatement] = []
        for name in names {
            let view = catalog.views[name]!
            let query = view.writtenQuery ?? view.query
            // A relation named with its schema (`public.notes`) is looked up there, not among the
            // copies in pg_temp: one that does not exist yet leaves the view without a copy,
            // read back once it is created (docs/blueprints.md, Views).
            let missing = namedRelations(query, schema: schema).contains { reference, qualified in
                (allTables.contains(reference) && catalog.tables[reference] == nil && live.tables[reference] == nil)
                    || (catalog.views[reference] != nil && !made.contains(reference) && live.views[reference] == nil)
                    || (qualified && (catalog.tables[reference] != nil || catalog.views[reference] != nil)
                        && live.tables[reference] == nil && live.views[reference] == nil)
            }
            guard !missing else { continue }
            made.insert(name)
            var copy = view
            copy.materialized = false
            statements.append(ScratchStatement(sql: SQLRenderer.createView(copy, schemaOverride: "pg_temp"), origin: view.origin))
            // A materialized view's indexes on a table of its columns (a temporary materialized
            // view cannot be made): the server prints an index of either alike.
            guard let standIn = indexStandIns(catalog, schema: schema)[name] else { continue }
            let table = QualifiedName(schema: "pg_temp", name: standIn)
            statements.append(ScratchStatement(
                sql: "CREATE TABLE \(table) AS SELECT * FROM \(QualifiedName(schema: "pg_temp", name: name.name)) WITH NO DATA", origin: view.origin))
            for index in view.indexes.values.sorted(by: { $0.name < $1.name }) {
                statements.append(ScratchStatement(sql: SQLRenderer.createIndex(index, table: table, columns: []), origin: index.origin))
            }
        }
        return statements
    }

    /// The scratch table standing in for each materialized view of `schema` with indexes.
    public static func indexStandIns(_ catalog: Catalog, schema: String) -> [QualifiedName: String] {
        let names = catalog.views.values.filter { $0.name.schema == schema && $0.materialized && !$0.indexes.isEmpty }.map(\.name).sorted()
        return Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, "driftless_matview_\($0)") })
    }

    /// The server's query and columns of the scratch copies of `schema`'s views.
    public static func adoptViews(_ scratch: Catalog, from tempSchema: String, into desired: inout Catalog, schema: String) {
        let standIns = indexStandIns(desired, schema: schema)
        for (name, _) in desired.views where name.schema == schema {
            guard let copy = scratch.views[QualifiedName(schema: tempSchema, name: name.name)] else { continue }
            desired.views[name]?.query = copy.query
            desired.views[name]?.columns = copy.columns
            if let standIn = standIns[name], let table = scratch.tables[QualifiedName(schema: tempSchema, name: standIn)] {
                IndexKind.adopt(table.indexes, into: &desired.views[name]!.indexes)
            }
        }
    }

    /// Views whose columns their scratch copies cannot tell: those calling a function whose
    /// result changes (a copy calls the live function, as PostgreSQL never looks up a function
    /// in `pg_temp` by an unqualified name), with the views that read them. Their columns are
    /// left empty, so they are created again and read back once they exist (docs/engine.md,
    /// Functions).
    public static func forgetColumnsOverChangedResults(_ desired: inout Catalog, live: Catalog) {
        var affected: Set<QualifiedName> = []
        for (key, function) in desired.functions {
            guard let have = live.functions[key], have.result != function.result else { continue }
            affected.formUnion(have.dependents?.views ?? [])
        }
        var pending = Array(affected)
        while let name = pending.popLast() {
            for reader in live.views[name]?.dependentViews ?? [] where affected.insert(reader).inserted { pending.append(reader) }
        }
        for name in affected where desired.views[name] != nil { desired.views[name]!.columns = [] }
    }

    /// After apply, a view that had no scratch copy as the server printed it once created.
    public static func adoptCreated(_ live: ViewObject, into view: inout ViewObject) {
        view.query = live.query
        view.columns = live.columns
        IndexKind.adopt(live.indexes, into: &view.indexes)
    }

    /// The live views that are dropped and created again: views PostgreSQL will not change in
    /// place, views over a column whose type changes or that goes, and every view that reads
    /// one of them (undeclared ones among them only when they are not dropped for good).
    static func recreated(_ context: DiffContext, _ plan: PlanBuilder) -> Set<QualifiedName> {
        recreateSet(context, plan).filter { context.desired.views[$0] != nil || !context.willDrop(.view($0)) }
    }

    /// The views that are dropped for good: undeclared views of the managed schemas that may go.
    static func removed(_ context: DiffContext) -> Set<QualifiedName> {
        Set(context.actual.views.keys.filter { context.desired.views[$0] == nil && context.managedSchemas.contains($0.schema) })
    }

    static func recreateSet(_ context: DiffContext, _ plan: PlanBuilder) -> Set<QualifiedName> {
        let desired = context.desired.views
        let actual = context.actual.views
        var recreate: Set<QualifiedName> = []
        for (name, have) in actual {
            if let want = desired[name], definition(want) != definition(have), !want.replaceable(from: have) { recreate.insert(name) }
            let underChange = have.reads.contains { use in
                guard let table = context.actual.tables[use.table], let column = table.column(use.column),
                      let wanted = context.desired.tables[use.table] else { return false }
                return TriggerKind.changesUnder(column, wanted.column(use.column), schema: use.table.schema, plan.recreatedEnums)
            }
            if underChange { recreate.insert(name) }
        }
        // Views dropped for a function under them (FunctionKind) are created again too.
        recreate.formUnion(plan.droppedViews)
        var pending = Array(recreate)
        while let name = pending.popLast() {
            for dependent in actual[name]?.dependentViews ?? [] where actual[dependent] != nil && recreate.insert(dependent).inserted {
                pending.append(dependent)
            }
        }
        return recreate
    }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        let desired = context.desired.views
        let actual = context.actual.views
        let recreate = recreateSet(context, plan)
        let removed = removed(context)
        // Readers before what they read.
        for name in dropOrder(recreate.union(removed), actual) where !plan.droppedViews.contains(name) {
            let have = actual[name]!
            if recreate.contains(name) && (desired[name] != nil || !context.willDrop(.view(name))) {
                var drop = Change(kind: .changed, id: .view(name), action: .drop, operations: [.dropView(name, materialized: have.materialized)],
                                  actual: have.definition, phase: .dropDependents, origin: desired[name]?.origin)
                drop.isRecreate = true
                plan.add(drop)
            } else if removed.contains(name) {
                plan.removed(.view(name), phase: .dropViews, [.dropView(name, materialized: have.materialized)], hazard: nil,
                             detail: "DROP VIEW", actual: have.definition, context: context)
            }
        }
        // What goes back: the declared views, and undeclared ones dropped only to be recreated.
        var catalog = context.desired
        for name in recreate where desired[name] == nil && !context.willDrop(.view(name)) { catalog.views[name] = actual[name] }
        for name in ordered(Array(catalog.views.keys), in: catalog) {
            let want = catalog.views[name]!
            let have = actual[name]
            let again = recreate.contains(name)
            if have == nil || again {
                var change = Change(kind: have == nil ? .missing : .changed, id: .view(name), action: have == nil ? .create : .alter,
                                    operations: [.createView(want, replace: false)], desired: want.definition, actual: have?.definition,
                                    hazards: again && (want.materialized || have?.materialized == true)
                                        ? [Hazard(.rewritesTable, object: name.description, detail: "a materialized view is created again: its rows are computed anew")]
                                        : [],
                                    phase: .views, origin: want.origin)
                change.isRecreate = again && have.map { definition($0) == definition(want) } == true
                plan.add(change)
            } else if let have, definition(want) != definition(have) {
                plan.add(.changed, .view(name), .alter, phase: .views, [.createView(want, replace: true)], desired: want.definition,
                         actual: have.definition, origin: want.origin)
            }
            let fresh = have == nil || again
            // An undeclared view is only ever put back: with its comment, privileges and indexes.
            guard desired[name] != nil || fresh else { continue }
            if want.materialized { indexes(want, current: fresh ? [:] : have?.indexes ?? [:], fresh: fresh, declared: desired[name] != nil, context, &plan) }
            if let comment = want.comment, fresh || comment != have?.comment {
                plan.add(have?.comment == nil ? .missing : .changed, .property(.comment, of: name), .alter, phase: .comments,
                         [.commentOnView(name, materialized: want.materialized, comment)], desired: comment, actual: have?.comment, origin: want.origin)
            }
            if let grants = fresh ? want.grants ?? have?.grants : want.grants {
                // Privileges given back to a view created again widen nothing.
                GrantKind.add(grants, of: name, current: fresh ? nil : have?.grants ?? [:], all: DesiredCatalog.allPrivileges,
                              grant: { .grant($0, table: name, role: $1) }, revoke: { .revoke($0, table: name, role: $1) },
                              origin: want.origin, widens: desired[name]?.grants != nil, &plan)
            }
            guard desired[name] != nil else { continue }
            OwnerKind.add(name, want: want.owner, current: fresh ? nil : have?.owner, isNew: fresh,
                          operation: { .alterViewOwner(name, materialized: want.materialized, to: $0) }, origin: want.origin, &plan)
        }
    }

    /// A materialized view's indexes: created after it (with it when it is new or created
    /// again), a changed one dropped and created, an undeclared one removed. Building an index on
    /// a materialized view that has rows blocks writes to it (`REFRESH`) while it builds.
    static func indexes(_ view: ViewObject, current: [String: Index], fresh: Bool, declared: Bool, _ context: DiffContext,
                        _ plan: inout PlanBuilder) {
        let name = view.name
        func describe(_ index: Index) -> String { SQLRenderer.createIndex(index, table: name, columns: []).text }
        for key in view.indexes.keys.sorted() {
            let index = view.indexes[key]!
            let id = ObjectID.member(.index, of: name, key)
            let create = Operation.createIndex(index, table: name, columns: [])
            let hazards = fresh ? [] : [Hazard(.locksTable, object: id.description, detail: "CREATE INDEX blocks REFRESH of the materialized view while it builds")]
            if let existing = current[key] {
                guard existing != index else { continue }
                plan.add(.changed, id, .alter, phase: .views, [.dropIndex(key, schema: name.schema), create], desired: describe(index),
                         actual: describe(existing), hazards: hazards, origin: index.origin)
            } else {
                plan.add(.missing, id, .create, phase: .views, [create], desired: describe(index), hazards: hazards, origin: index.origin)
            }
        }
        guard declared else { return }
        for key in current.keys.sorted() where view.indexes[key] == nil {
            plan.removed(.member(.index, of: name, key), phase: .dropIndexes, [.dropIndex(key, schema: name.schema)], hazard: nil,
                         detail: "DROP INDEX", actual: describe(current[key]!), context: context)
        }
    }

    /// What is compared of a view besides its privileges, comment, owner and indexes.
    static func definition(_ view: ViewObject) -> ViewObject {
        var copy = view
        copy.grants = nil
        copy.owner = nil
        copy.comment = nil
        copy.indexes = [:]
        return copy
    }

    /// `names` with every view after the views (of `actual`) that read it.
    static func dropOrder(_ names: Set<QualifiedName>, _ actual: [QualifiedName: ViewObject]) -> [QualifiedName] {
        var done: Set<QualifiedName> = []
        var order: [QualifiedName] = []
        func visit(_ name: QualifiedName) {
            guard done.insert(name).inserted else { return }
            for dependent in actual[name]?.dependentViews ?? [] where names.contains(dependent) { visit(dependent) }
            order.append(name)
        }
        for name in names.sorted() { visit(name) }
        // Post-order puts readers first.
        return order
    }
}
