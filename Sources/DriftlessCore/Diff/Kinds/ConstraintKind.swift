/// Primary key, unique, check and foreign key constraints of a table.
public enum ConstraintKind: ObjectKind {
    public static let type = Change.ObjectType.constraint
    public static let catalogs = ["pg_constraint"]
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "k", select: """
        rel.nspname, rel.relname, con.conname, con.contype::text,
               (SELECT coalesce(array_agg(a.attname ORDER BY k.ord), '{}') FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)::text,
               CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
               rn.nspname, rc.relname,
               (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)::text,
               con.confdeltype::text || con.confupdtype::text || con.convalidated::text || ':' || con.connoinherit::text
                 || ':' || con.condeferrable::text || ':' || con.condeferred::text
          FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid
          LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE con.contype IN ('p', 'u', 'c', 'f') AND con.conparentid = 0 AND con.conislocal
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let kind: Constraint.Kind = switch row[0] {
        case "p": .primaryKey
        case "u": .unique
        case "c": .check
        default: .foreignKey
        }
        // v7: delete and update action codes, then `true:false:false:false` (validated, no
        // inherit, deferrable, initially deferred).
        let flags = Array(row[6] ?? "aatrue:false:false:false")
        let states = String(flags.dropFirst(2)).split(separator: ":")
        var constraint = Constraint(
            name: row.name, kind: kind, columns: kind == .check ? [] : row.array(1) ?? [], expression: row[2],
            referencedTable: row[4].map { QualifiedName(schema: row[3] ?? row.schema, name: $0) }, referencedColumns: row.array(5),
            onDelete: kind == .foreignKey ? action(flags.first) : nil, onUpdate: kind == .foreignKey ? action(flags.dropFirst().first) : nil)
        constraint.validated = states.first != "false"
        constraint.noInherit = kind == .check && states.count > 1 && states[1] == "true"
        if states.count > 3 { constraint.deferral = Deferral(deferrable: states[2] == "true", initiallyDeferred: states[3] == "true") }
        reader.catalog.tables[row.table]?.constraints[row.name] = constraint
    }

    static func action(_ code: Character?) -> ReferentialAction {
        switch code {
        case "r": .restrict
        case "c": .cascade
        case "n": .setNull
        case "d": .setDefault
        default: .noAction
        }
    }

    /// Primary, unique and check constraints; foreign keys are compared structurally and never
    /// built there (no lock on a live table).
    public static func scratch(_ table: Table) -> [ScratchStatement] {
        table.constraints.values.sorted { $0.name < $1.name }.filter { $0.kind != .foreignKey }.map {
            ScratchStatement(sql: SQLRenderer.addConstraint($0, to: table.name, schemaOverride: "pg_temp"), origin: $0.origin, table: table.name.name)
        }
    }

    public static func adopt(_ scratch: Table, into table: inout Table) {
        // Validity, NO INHERIT and deferral are the blueprint's; the scratch copy only prints the text.
        for (key, constraint) in scratch.constraints where table.constraints[key] != nil {
            table.constraints[key]?.expression = constraint.expression
            table.constraints[key]?.columns = constraint.columns
        }
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in table.constraints.keys.map { ObjectID.member(.constraint, of: table.name, $0) } }
    }

    /// A foreign key stands on a unique index of the table it references (PostgreSQL records
    /// it in pg_depend): that primary key or unique constraint cannot be dropped under it
    /// (2BP01), for example when a unique constraint becomes the primary key. Such a foreign
    /// key, kept by the blueprints, is dropped first and added again after the key's drop,
    /// when it finds the new key (docs/engine.md, Constraints).
    static func liftForeignKeysOverReplacedKeys(_ context: DiffContext, _ plan: inout PlanBuilder) {
        var goes: [QualifiedName: [(key: String, columns: Set<String>)]] = [:]
        for pair in plan.pairs where !pair.isNew {
            for (key, have) in pair.have.constraints where have.kind == .unique || have.kind == .primaryKey {
                let want = pair.want.constraints[key]
                guard want != have, want != nil || context.willDrop(pair.id(.constraint, key)) else { continue }
                // A constraint renamed in place keeps its index: only a drop matters.
                if want == nil, pair.want.constraints.values.contains(where: { renamed($0, have) }) { continue }
                goes[pair.name, default: []].append((key, Set(have.columns)))
            }
        }
        guard !goes.isEmpty else { return }
        for index in plan.pairs.indices where !plan.pairs[index].isNew {
            let pair = plan.pairs[index]
            for (key, foreignKey) in pair.have.constraints.sorted(by: { $0.key < $1.key }) where foreignKey.kind == .foreignKey {
                guard let target = foreignKey.referencedTable, pair.want.constraints[key] != nil,
                      let under = goes[target]?.first(where: { $0.columns == Set(foreignKey.referencedColumns ?? []) }) else { continue }
                let id = pair.id(.constraint, key)
                var drop = Change(kind: .changed, id: id, action: .drop, operations: [.dropConstraint(key, table: pair.name)],
                                  actual: foreignKey.name, phase: .dropDependents)
                drop.isRecreate = true
                plan.add(drop)
                plan.pairs[index].have.constraints[key] = nil
                plan.foreignKeysAfter[id] = .member(.constraint, of: target, under.key)
            }
        }
    }

    /// What adding a constraint of `kind` to a table with rows holds, and what `--online` does instead.
    static func lockDetail(_ kind: Constraint.Kind) -> String {
        switch kind {
        case .check: return "ADD CHECK scans every row under ACCESS EXCLUSIVE (--online: NOT VALID, then VALIDATE)"
        case .foreignKey: return "ADD FOREIGN KEY scans every row, blocking writes to both tables (--online: NOT VALID, then VALIDATE)"
        case .unique: return "ADD UNIQUE builds its index under ACCESS EXCLUSIVE (--online: a concurrent unique index, then USING INDEX)"
        case .primaryKey: return "ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE"
        }
    }

    static func renamed(_ a: Constraint, _ b: Constraint) -> Bool {
        var a = a
        a.name = b.name
        return a == b
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        let start = plan.changes.count
        defer {
            let after = plan.foreignKeysAfter
            plan.amend(from: start) { change in
                if change.action == .create, let key = after[change.id] { change.dependsOn.insert(key) }
                // VALIDATE and ALTER CONSTRAINT let reads and writes go on.
                if change.operations.allSatisfy({ if case .addConstraint = $0 { return false } else { return true } }) {
                    change.hazards.removeAll { $0.hazard == .locksTable }
                }
            }
        }
        plan.diffNamed(
            pair.want.constraints, pair.have.constraints, kind: .constraint, pair: pair, context: context,
            phase: { $0.kind == .foreignKey ? .foreignKeys : .constraints },
            dropPhase: { $0.kind == .foreignKey ? .dropForeignKeys : .dropConstraints },
            create: { [.addConstraint(pair.written.constraints[$0.name] ?? $0, table: name)] },
            drop: { [.dropConstraint($0.name, table: name)] },
            rename: { .renameConstraint($0, to: $1, table: name) },
            describe: { SQLRenderer.namedConstraint($0).text },
            alter: { want, have in
                // Only the validity (to be checked) and, for a foreign key, when it is checked
                // differ: VALIDATE and ALTER CONSTRAINT in place.
                var altered = have
                altered.validated = want.validated
                if want.kind == .foreignKey { altered.deferral = want.deferral }
                guard altered == want, want.validated || !have.validated else { return nil }
                var operations: [Operation] = []
                if have.deferral != want.deferral { operations.append(.alterConstraintDeferral(want.name, table: name, want.deferral)) }
                if want.validated && !have.validated { operations.append(.validateConstraint(want.name, table: name)) }
                return operations
            },
            createHazards: { constraint in
                guard !pair.isNew else { return [] }
                let id = pair.id(.constraint, constraint.name).description
                return [Hazard(.mayFail, object: id, detail: "new \(constraint.kind.rawValue) constraint is checked against existing rows")]
                    + (constraint.validated ? [Hazard(.locksTable, object: id, detail: lockDetail(constraint.kind))] : [])
            },
            dropHazard: { _ in nil })
    }
}
