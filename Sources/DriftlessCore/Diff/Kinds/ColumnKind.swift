/// Columns: renamed (`renamed_from`), added, changed (type, default, identity, NOT NULL),
/// dropped when managed before. A type change or a drop under policies has the table's policies
/// recreated (`PolicyKind`).
public enum ColumnKind: ObjectKind {
    public static let type = Change.ObjectType.column
    public static let catalogs = ["pg_attribute", "pg_attrdef"]
    public static let summary: [(action: Change.Action, participle: String)] = [
        (.create, "added"), (.rename, "renamed"), (.alter, "changed"), (.drop, "dropped"),
    ]

    /// A column default cannot refer to another column (a generated column's expression can),
    /// so it is printed without the relation as context: the same text, a tenth of the
    /// server's time (90 → 10 ms for the 5,000 defaults of 1,000 tables). With the column's
    /// comment (CommentKind), joined from `pg_description` rather than asked of
    /// `col_description()`, a SQL function run once per row (docs/engine.md, Introspection).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "c", select: """
        rel.nspname, rel.relname, a.attname, a.attnum::text, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
               CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0) ELSE pg_get_expr(ad.adbin, ad.adrelid) END,
               a.attidentity::text, d.description, a.attgenerated::text
          FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
          LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let identity = row[4] == "a" ? Column.Identity.always : (row[4] == "d" ? .byDefault : nil)
        let generated = row[6] == "s"
        reader.columns[row.table, default: []].append((Int(row[0] ?? "") ?? 0, Column(
            name: row.name, type: row[1] ?? "", notNull: row[2] == "true", defaultExpression: generated ? nil : row[3], identity: identity,
            generated: generated ? row[3] : nil, comment: row[5])))
    }

    public static func adopt(_ scratch: Table, into table: inout Table) {
        for index in table.columns.indices {
            guard let column = scratch.column(table.columns[index].name) else { continue }
            table.columns[index].type = column.type
            table.columns[index].defaultExpression = column.defaultExpression
            table.columns[index].generated = column.generated
            table.columns[index].notNull = column.notNull
        }
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in table.columns.map { ObjectID.member(.column, of: table.name, $0.name) } }
    }

    /// Column renames come first, so every kind compares against the new names.
    static func renamingColumns(_ pair: TablePair, _ plan: inout PlanBuilder) -> TablePair {
        var pair = pair
        for column in pair.want.columns where pair.have.column(column.name) == nil {
            guard let previous = column.renamedFrom, pair.have.column(previous) != nil, pair.want.column(previous) == nil else { continue }
            plan.add(.changed, pair.id(.column, column.name), .rename, phase: .renameColumn,
                     [.renameColumn(previous, to: column.name, table: pair.name)], desired: column.name, actual: previous, origin: column.origin)
            pair.have = CatalogRename.renameColumn(previous, to: column.name, in: pair.have)
        }
        return pair
    }

    /// How values reach a new type: the blueprint's `using`; between two enums (no cast
    /// exists) through text, label for label; otherwise a cast.
    static func conversion(_ have: Column, _ want: Column, schema: String, _ context: DiffContext) -> TypeConversion {
        if let using = want.using { return .using(using) }
        let enumToEnum = have.type.hasSuffix("[]") == want.type.hasSuffix("[]")
            && EnumKind.used(by: have.type, schema: schema, among: Set(context.actual.enums.keys)) != nil
            && EnumKind.used(by: want.type, schema: schema, among: Set(context.desired.enums.keys)) != nil
        return enumToEnum ? .throughText : .cast
    }

    /// Whether a column is dropped and added again: it gains a generation expression or
    /// changes it.
    static func regenerated(_ have: Column, _ want: Column?) -> Bool {
        guard let want, let expression = want.generated else { return false }
        return have.generated != expression
    }

    /// The indexes and constraints on a column that is dropped and added again go with it
    /// (PostgreSQL drops them): they are dropped first and created again after it by their
    /// kinds, which no longer find them.
    static func regeneratingColumns(_ pair: TablePair, _ plan: inout PlanBuilder) -> TablePair {
        var pair = pair
        let columns = Set(pair.have.columns.filter { regenerated($0, pair.want.column($0.name)) }.map(\.name))
        guard !columns.isEmpty else { return pair }
        // The words of an expression as the server prints it (quoted names lose their quotes):
        // a column named there may be read by it.
        func mentions(_ text: String?) -> Bool {
            guard let text else { return false }
            let words = text.split { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") }.map(String.init)
            return words.contains(where: columns.contains)
        }
        // The column comes back without its comment: CommentKind sets it again.
        for index in pair.have.columns.indices where columns.contains(pair.have.columns[index].name) { pair.have.columns[index].comment = nil }
        for (key, index) in pair.have.indexes where pair.have.constraints[key] == nil
            && (index.keys.contains(where: mentions) || index.include.contains(where: columns.contains) || mentions(index.predicate)) {
            var drop = Change(kind: .changed, id: pair.id(.index, key), action: .drop, operations: [.dropIndex(key, schema: pair.name.schema)],
                              phase: .dropDependents)
            drop.isRecreate = true
            plan.add(drop)
            pair.have.indexes[key] = nil
        }
        for (key, constraint) in pair.have.constraints
            where constraint.columns.contains(where: columns.contains) || mentions(constraint.expression) {
            var drop = Change(kind: .changed, id: pair.id(.constraint, key), action: .drop, operations: [.dropConstraint(key, table: pair.name)],
                              phase: .dropDependents)
            drop.isRecreate = true
            plan.add(drop)
            pair.have.constraints[key] = nil
            pair.have.indexes[key] = nil
        }
        return pair
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        let (want, have) = (pair.want, pair.have)
        // A partition's columns are its parent's: changed there, PostgreSQL changes them here
        // (docs/blueprints.md, Partitions).
        if want.partitionOf != nil && have.partitionOf != nil { return }
        for column in want.columns {
            let id = pair.id(.column, column.name)
            guard let existing = have.column(column.name) else {
                var hazards: [Hazard] = []
                if column.notNull && column.defaultExpression == nil && column.identity == nil {
                    hazards.append(Hazard(.mayFail, object: id.description, detail: "ADD COLUMN NOT NULL without a default fails on a table with rows"))
                }
                if let value = column.defaultExpression, Volatility.isVolatile(value) {
                    hazards.append(Hazard(.rewritesTable, object: id.description, detail: "a volatile default (\(value)) rewrites every row"))
                }
                if let value = column.generated, !pair.isNew {
                    hazards.append(Hazard(.rewritesTable, object: id.description, detail: "a stored generated column (\(value)) is computed for every row"))
                }
                plan.add(.missing, id, .create, phase: .columns, [.addColumn(pair.writtenColumn(column), table: name)],
                         desired: Describe.column(column), hazards: hazards, origin: column.origin)
                continue
            }
            func changed(_ operations: [Operation], hazards: [Hazard] = []) -> Change {
                Change(kind: .changed, id: id, action: .alter, operations: operations, desired: Describe.column(column),
                       actual: Describe.column(existing), hazards: hazards, phase: .columns, origin: column.origin)
            }
            let writtenDefault = pair.writtenColumn(column).defaultExpression
            if regenerated(existing, column) {
                // PostgreSQL 15 cannot change a generation expression, nor give one to a plain
                // column: the column is dropped and added again, its values computed anew
                // (its indexes and constraints go and come back: `regeneratingColumns`).
                var hazards = [Hazard(.rewritesTable, object: id.description, detail: "a stored generated column (\(column.generated ?? "")) is computed for every row")]
                if existing.generated == nil {
                    hazards.append(Hazard(.deletesData, object: id.description, detail: "the plain column's values are replaced by the generation expression"))
                }
                plan.add(changed([.dropColumn(column.name, table: name), .addColumn(pair.writtenColumn(column), table: name)], hazards: hazards))
                if !have.policies.isEmpty { plan.recreatePolicies.insert(name) }
                continue
            }
            if existing.generated != nil && column.generated == nil {
                plan.add(changed([.dropExpression(column: column.name, table: name)]))
            }
            if existing.type != column.type {
                let hazards = TypeChange.hazards(from: existing.type, to: column.type).map {
                    Hazard($0, object: id.description, detail: "type \(existing.type) → \(column.type)")
                }
                var operations: [Operation] = []
                if existing.defaultExpression != nil { operations.append(.setDefault(nil, column: column.name, table: name)) }
                operations.append(.setType(column.type, column: column.name, table: name, conversion(existing, column, schema: name.schema, context)))
                if let writtenDefault { operations.append(.setDefault(writtenDefault, column: column.name, table: name)) }
                plan.add(changed(operations, hazards: hazards))
                if !have.policies.isEmpty { plan.recreatePolicies.insert(name) }
            } else if !pair.isNew, EnumKind.used(by: column.type, schema: name.schema, among: plan.recreatedEnums) != nil {
                // Its enum is recreated: the column moves to the new type through text.
                var operations: [Operation] = []
                if existing.defaultExpression != nil { operations.append(.setDefault(nil, column: column.name, table: name)) }
                operations.append(.setType(column.type, column: column.name, table: name, .throughText))
                if let writtenDefault { operations.append(.setDefault(writtenDefault, column: column.name, table: name)) }
                var change = changed(operations)
                change.isRecreate = existing == column
                plan.add(change)
                if !have.policies.isEmpty { plan.recreatePolicies.insert(name) }
            } else if existing.defaultExpression != column.defaultExpression && existing.identity == column.identity {
                plan.add(changed([.setDefault(writtenDefault, column: column.name, table: name)]))
            }
            if existing.identity != column.identity {
                var operations: [Operation] = []
                switch (existing.identity, column.identity) {
                case (nil, .some(let identity)):
                    if existing.defaultExpression != nil { operations.append(.setDefault(nil, column: column.name, table: name)) }
                    if !existing.notNull { operations.append(.setNotNull(true, column: column.name, table: name)) }
                    operations.append(.addIdentity(identity, column: column.name, table: name))
                case (.some, .some(let identity)):
                    operations.append(.setIdentity(identity, column: column.name, table: name))
                case (.some, nil):
                    operations.append(.dropIdentity(column: column.name, table: name))
                    if let writtenDefault { operations.append(.setDefault(writtenDefault, column: column.name, table: name)) }
                case (nil, nil): break
                }
                plan.add(changed(operations))
            }
            if existing.notNull != column.notNull && !(column.identity != nil && existing.identity == nil) {
                var change = changed([.setNotNull(column.notNull, column: column.name, table: name)],
                                     hazards: column.notNull ? [Hazard(.mayFail, object: id.description, detail: "SET NOT NULL"),
                                                                Hazard(.locksTable, object: id.description,
                                                                       detail: "SET NOT NULL scans every row under ACCESS EXCLUSIVE (--online: through a validated CHECK)")] : [])
                // A primary key keeps its columns NOT NULL: drop it first (ConstraintKind).
                if !column.notNull {
                    for (key, constraint) in have.constraints where constraint.kind == .primaryKey && constraint.columns.contains(column.name)
                        && want.constraints[key] != constraint {
                        change.dependsOn.insert(pair.id(.constraint, key))
                    }
                }
                plan.add(change)
            }
        }
        for column in have.columns where want.column(column.name) == nil {
            let id = pair.id(.column, column.name)
            // A policy may use the column: a drop that will run needs the policies out of the way.
            if context.willDrop(id) && !have.policies.isEmpty { plan.recreatePolicies.insert(name) }
            plan.removed(id, phase: .dropColumns, [.dropColumn(column.name, table: name)], hazard: .deletesData, detail: "DROP COLUMN",
                         actual: Describe.column(column), context: context)
        }
    }
}

/// How reports print a definition.
enum Describe {
    static func column(_ column: Column) -> String {
        var text = column.type
        if let identity = column.identity { text += identity == .always ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY" }
        if let value = column.defaultExpression { text += " DEFAULT \(value)" }
        if let value = column.generated { text += " GENERATED ALWAYS AS (\(value)) STORED" }
        if column.notNull { text += " NOT NULL" }
        return text
    }

    static func policy(_ policy: Policy) -> String {
        var text = "\(policy.permissive ? "PERMISSIVE" : "RESTRICTIVE") FOR \(policy.command.rawValue.uppercased()) TO \(policy.roles.sorted().joined(separator: ", "))"
        if let using = policy.using { text += " USING (\(using))" }
        if let withCheck = policy.withCheck { text += " WITH CHECK (\(withCheck))" }
        return text
    }
}
