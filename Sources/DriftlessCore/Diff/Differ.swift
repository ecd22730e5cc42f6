/// Computes the changes that turn `actual` into `desired` (both canonical), in the order of
/// reconcile.md: schemas → enums → tables → columns → constraints → foreign keys → indexes →
/// RLS → policies → grants → comments, then drops in reverse.
public struct Differ {
    public var desired: Catalog
    public var actual: Catalog
    /// Schemas the blueprints manage; objects outside them are never touched.
    public var managedSchemas: Set<String>
    /// Schemas that exist in the database.
    public var existingSchemas: Set<String>
    /// Objects an earlier reconciliation managed: absent now, they are dropped (with hazards),
    /// where never-managed ones are only reported as unmanaged.
    public var previouslyManaged: Set<String>
    /// Drop unmanaged objects too.
    public var prune: Bool
    /// The desired catalog as the user wrote it. Statements are rendered from it: the server's
    /// printed expressions are for comparing, and re-parsing them does not always print the same.
    public var source: Catalog?

    public init(
        desired: Catalog, actual: Catalog, managedSchemas: Set<String>, existingSchemas: Set<String>,
        previouslyManaged: Set<String> = [], prune: Bool = false, source: Catalog? = nil
    ) {
        self.source = source
        self.desired = desired
        self.actual = actual
        self.managedSchemas = managedSchemas
        self.existingSchemas = existingSchemas
        self.previouslyManaged = previouslyManaged
        self.prune = prune
    }

    /// Every change, ordered by phase (stable within a phase).
    public func changes() -> [Change] {
        var output = Output()
        for schema in managedSchemas.sorted() where !existingSchemas.contains(schema) {
            output.add(.missing, .schema, schema, phase: .schema, statements: [SQLRenderer.createSchema(schema)], desired: "schema")
        }
        diffEnums(&output)
        var renamedAway: Set<QualifiedName> = []
        for name in desired.tables.keys.sorted() {
            let want = desired.tables[name]!
            if var have = actual.tables[name] {
                have.renamedFrom = nil
                diffTable(want, have, isNew: false, &output)
            } else if let previous = want.renamedFrom.map({ QualifiedName(schema: name.schema, name: $0) }),
                      var have = actual.tables[previous], desired.tables[previous] == nil {
                renamedAway.insert(previous)
                output.add(.changed, .table, name.description, phase: .renameTable,
                           statements: [SQLRenderer.renameTable(previous, to: name.name)],
                           desired: name.description, actual: previous.description, table: name, origin: want.origin)
                have.name = name
                diffTable(want, have, isNew: false, &output)
            } else {
                output.add(.missing, .table, name.description, phase: .createTable,
                           statements: [SQLRenderer.createTable(source?.tables[name] ?? want)], desired: "table", table: name, origin: want.origin)
                // What CREATE TABLE leaves: the columns, but no comments (COMMENT ON comes later).
                let created = Table(name: name, columns: want.columns.map { column in
                    var bare = column
                    bare.comment = nil
                    return bare
                }, grants: nil)
                diffTable(want, created, isNew: true, &output)
            }
        }
        for name in actual.tables.keys.sorted() where desired.tables[name] == nil && !renamedAway.contains(name) && managedSchemas.contains(name.schema) {
            removed(&output, .table, name.description, phase: .dropTables, statements: [SQLRenderer.dropTable(name)],
                    hazard: .deletesData, detail: "DROP TABLE", actual: "table", table: name)
        }
        return output.changes.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(\.element)
    }

    // MARK: - Enums

    func diffEnums(_ output: inout Output) {
        for name in desired.enums.keys.sorted() {
            let want = desired.enums[name]!
            guard let have = actual.enums[name] else {
                output.add(.missing, .enum, name.description, phase: .enumCreate, statements: [SQLRenderer.createEnum(want)],
                           desired: want.values.joined(separator: ", "), origin: want.origin)
                continue
            }
            guard want.values != have.values else { continue }
            let kept = want.values.filter { have.values.contains($0) }
            if kept == have.values {
                // Only additions, existing labels in their order: ADD VALUE each, after its predecessor.
                var statements: [SQL] = []
                for (index, value) in want.values.enumerated() where !have.values.contains(value) {
                    statements.append(SQLRenderer.addEnumValue(name, value: value, after: index > 0 ? want.values[index - 1] : nil))
                }
                if want.values.first.map({ !have.values.contains($0) }) == true {
                    // A value before every existing one: ADD VALUE ... BEFORE the first old label.
                    statements[0] = SQLRenderer.addEnumValue(name, value: want.values[0], before: have.values[0])
                }
                output.add(.changed, .enum, name.description, phase: .enumValues, statements: statements,
                           desired: want.values.joined(separator: ", "), actual: have.values.joined(separator: ", "), origin: want.origin)
            } else {
                output.add(.changed, .enum, name.description, phase: .enumValues, statements: recreateEnum(want),
                           desired: want.values.joined(separator: ", "), actual: have.values.joined(separator: ", "),
                           hazards: [Hazard(.deletesData, object: name.description, detail: "enum labels removed or reordered: the type is recreated and rows holding a removed label fail")],
                           origin: want.origin)
            }
        }
        for name in actual.enums.keys.sorted() where desired.enums[name] == nil && managedSchemas.contains(name.schema) {
            removed(&output, .enum, name.description, phase: .dropEnums, statements: [SQLRenderer.dropType(name)],
                    hazard: .deletesData, detail: "DROP TYPE", actual: actual.enums[name]!.values.joined(separator: ", "), table: nil)
        }
    }

    /// Rename the old type away, create the new one, move every column over, drop the old.
    func recreateEnum(_ type: EnumType) -> [SQL] {
        let old = QualifiedName(schema: type.name.schema, name: "\(type.name.name)__driftless_old")
        var statements = [SQLRenderer.renameType(type.name, to: old.name), SQLRenderer.createEnum(type)]
        for table in desired.tables.values.sorted(by: { $0.name < $1.name }) where table.name.schema == type.name.schema {
            for column in table.columns where column.type == type.name.name || column.type == "\(type.name.name)[]" {
                if column.defaultExpression != nil {
                    statements.append(SQLRenderer.setDefault(nil, column: column.name, of: table.name))
                }
                statements.append(SQLRenderer.setType(column.type, column: column.name, of: table.name, throughText: true))
                if let value = (source?.tables[table.name]?.column(column.name) ?? column).defaultExpression {
                    statements.append(SQLRenderer.setDefault(value, column: column.name, of: table.name))
                }
            }
        }
        statements.append(SQLRenderer.dropType(old))
        return statements
    }

    // MARK: - Tables

    func diffTable(_ want: Table, _ start: Table, isNew: Bool, _ output: inout Output) {
        var have = start
        let name = want.name
        let written = source?.tables[name] ?? want
        func writtenColumn(_ column: Column) -> Column { written.column(column.name) ?? column }
        func object(_ suffix: String) -> String { "\(name).\(suffix)" }
        var recreatePolicies = false

        // Column renames first, so everything below compares against the new names.
        for column in want.columns where have.column(column.name) == nil {
            guard let previous = column.renamedFrom, have.column(previous) != nil, want.column(previous) == nil else { continue }
            output.add(.changed, .column, object(column.name), phase: .renameColumn,
                       statements: [SQLRenderer.renameColumn(previous, to: column.name, in: name)],
                       desired: column.name, actual: previous, table: name, origin: column.origin)
            have = CatalogRename.renameColumn(previous, to: column.name, in: have)
        }

        // Columns.
        for column in want.columns {
            guard let existing = have.column(column.name) else {
                var hazards: [Hazard] = []
                if column.notNull && column.defaultExpression == nil && column.identity == nil {
                    hazards.append(Hazard(.mayFail, object: object(column.name), detail: "ADD COLUMN NOT NULL without a default fails on a table with rows"))
                }
                if let value = column.defaultExpression, Volatility.isVolatile(value) {
                    hazards.append(Hazard(.rewritesTable, object: object(column.name), detail: "a volatile default (\(value)) rewrites every row"))
                }
                output.add(.missing, .column, object(column.name), phase: .columns,
                           statements: [SQLRenderer.addColumn(writtenColumn(column), to: name)],
                           desired: describe(column), hazards: hazards, table: name, origin: column.origin)
                continue
            }
            if existing.type != column.type {
                let hazards = TypeChange.hazards(from: existing.type, to: column.type).map {
                    Hazard($0, object: object(column.name), detail: "type \(existing.type) → \(column.type)")
                }
                var statements: [SQL] = []
                if existing.defaultExpression != nil { statements.append(SQLRenderer.setDefault(nil, column: column.name, of: name)) }
                statements.append(SQLRenderer.setType(column.type, column: column.name, of: name))
                if let value = writtenColumn(column).defaultExpression { statements.append(SQLRenderer.setDefault(value, column: column.name, of: name)) }
                output.add(.changed, .column, object(column.name), phase: .columns, statements: statements,
                           desired: describe(column), actual: describe(existing), hazards: hazards, table: name, origin: column.origin)
                recreatePolicies = recreatePolicies || !have.policies.isEmpty
            } else if existing.defaultExpression != column.defaultExpression && existing.identity == column.identity {
                output.add(.changed, .column, object(column.name), phase: .columns,
                           statements: [SQLRenderer.setDefault(writtenColumn(column).defaultExpression, column: column.name, of: name)],
                           desired: describe(column), actual: describe(existing), table: name, origin: column.origin)
            }
            if existing.identity != column.identity {
                var statements: [SQL] = []
                switch (existing.identity, column.identity) {
                case (nil, .some(let identity)):
                    if existing.defaultExpression != nil { statements.append(SQLRenderer.setDefault(nil, column: column.name, of: name)) }
                    if !existing.notNull { statements.append(SQLRenderer.setNotNull(true, column: column.name, of: name)) }
                    statements.append(SQLRenderer.addIdentity(identity, column: column.name, of: name))
                case (.some, .some(let identity)):
                    statements.append(SQLRenderer.setIdentity(identity, column: column.name, of: name))
                case (.some, nil):
                    statements.append(SQLRenderer.dropIdentity(column: column.name, of: name))
                    if let value = writtenColumn(column).defaultExpression { statements.append(SQLRenderer.setDefault(value, column: column.name, of: name)) }
                case (nil, nil): break
                }
                output.add(.changed, .column, object(column.name), phase: .columns, statements: statements,
                           desired: describe(column), actual: describe(existing), table: name, origin: column.origin)
            }
            if existing.notNull != column.notNull && !(column.identity != nil && existing.identity == nil) {
                output.add(.changed, .column, object(column.name), phase: .columns,
                           statements: [SQLRenderer.setNotNull(column.notNull, column: column.name, of: name)],
                           desired: describe(column), actual: describe(existing),
                           hazards: column.notNull ? [Hazard(.mayFail, object: object(column.name), detail: "SET NOT NULL")] : [],
                           table: name, origin: column.origin)
            }
            if let comment = column.comment, comment != existing.comment {
                output.add(existing.comment == nil ? .missing : .changed, .comment, object(column.name), phase: .comments,
                           statements: [SQLRenderer.comment(onColumn: column.name, of: name, comment)],
                           desired: comment, actual: existing.comment, table: name, origin: column.origin)
            }
        }
        for column in have.columns where want.column(column.name) == nil {
            // A policy may use the column: a drop that will run needs the policies out of the way.
            let willDrop = previouslyManaged.contains(object(column.name)) || prune
            recreatePolicies = recreatePolicies || (willDrop && !have.policies.isEmpty)
            removed(&output, .column, object(column.name), phase: .dropColumns,
                    statements: [SQLRenderer.dropColumn(column.name, from: name)],
                    hazard: .deletesData, detail: "DROP COLUMN", actual: describe(column), table: name)
        }

        // Constraints (primary, unique, check; then foreign keys).
        diffNamed(
            want.constraints, have.constraints, output: &output, objectType: .constraint, table: name,
            same: { $0.sameDefinition(as: $1) },
            phase: { $0.kind == .foreignKey ? .foreignKeys : .constraints },
            dropPhase: { $0.kind == .foreignKey ? .dropForeignKeys : .dropConstraints },
            create: { [SQLRenderer.addConstraint(written.constraints[$0.name] ?? $0, to: name)] },
            drop: { [SQLRenderer.dropConstraint($0.name, from: name)] },
            rename: { SQLRenderer.renameConstraint($0, to: $1, on: name) },
            describe: { SQLRenderer.constraintDefinition($0).text },
            createHazards: { constraint in
                isNew ? [] : [Hazard(.mayFail, object: object(constraint.name), detail: "new \(constraint.kind.rawValue) constraint is checked against existing rows")]
            },
            dropHazard: { _ in nil })

        // Indexes.
        diffNamed(
            want.indexes, have.indexes, output: &output, objectType: .index, table: name,
            same: { $0.sameDefinition(as: $1) }, phase: { _ in .indexes }, dropPhase: { _ in .dropIndexes },
            create: { [SQLRenderer.createIndex(written.indexes[$0.name] ?? $0, on: written)] },
            drop: { [SQLRenderer.dropIndex($0.name, schema: name.schema)] },
            rename: { SQLRenderer.renameIndex($0, to: $1, schema: name.schema) },
            describe: { SQLRenderer.createIndex($0, on: want).text },
            createHazards: { index in
                isNew ? [] : [Hazard(.locksTable, object: object(index.name), detail: "CREATE INDEX blocks writes to the table while it builds")]
                    + (index.unique ? [Hazard(.mayFail, object: object(index.name), detail: "a unique index fails on duplicate rows")] : [])
            },
            dropHazard: { _ in nil })

        // RLS.
        if want.rlsEnabled != have.rlsEnabled {
            output.add(have.rlsEnabled ? .changed : .missing, .rls, name.description, phase: .rls,
                       statements: [SQLRenderer.enableRLS(want.rlsEnabled, on: name)],
                       desired: want.rlsEnabled ? "enabled" : "disabled", actual: have.rlsEnabled ? "enabled" : "disabled",
                       hazards: want.rlsEnabled ? [] : [Hazard(.relaxesSecurity, object: name.description, detail: "DISABLE ROW LEVEL SECURITY")],
                       table: name, origin: want.origin)
        }
        if want.rlsForced != have.rlsForced {
            output.add(.changed, .rls, name.description, phase: .rls,
                       statements: [SQLRenderer.forceRLS(want.rlsForced, on: name)],
                       desired: want.rlsForced ? "forced" : "not forced", actual: have.rlsForced ? "forced" : "not forced",
                       hazards: want.rlsForced ? [] : [Hazard(.relaxesSecurity, object: name.description, detail: "NO FORCE ROW LEVEL SECURITY")],
                       table: name, origin: want.origin)
        }

        // Policies. A column type change or drop needs the table's policies out of the way.
        var havePolicies = have.policies
        let policiesStart = output.changes.count
        if recreatePolicies {
            for policy in havePolicies.values.sorted(by: { $0.name < $1.name }) {
                output.add(.changed, .policy, object(policy.name), phase: .dropPoliciesForColumns,
                           statements: [SQLRenderer.dropPolicy(policy.name, on: name)], desired: nil, actual: describe(policy),
                           table: name, origin: want.policies[policy.name]?.origin)
            }
            havePolicies = [:]
        }
        defer {
            // Recreated policies are reported by what really differs from the database.
            if recreatePolicies {
                for index in policiesStart..<output.changes.count where output.changes[index].objectType == .policy {
                    let key = String(output.changes[index].object.dropFirst(name.description.count + 1))
                    if output.changes[index].phase == .dropPoliciesForColumns {
                        output.changes[index].isRecreate = true
                    } else if let existing = have.policies[key], let wanted = want.policies[key] {
                        output.changes[index].isRecreate = existing.sameDefinition(as: wanted)
                        output.changes[index].kind = .changed
                        output.changes[index].actual = describe(existing)
                    }
                }
            }
        }
        diffNamed(
            want.policies, havePolicies, output: &output, objectType: .policy, table: name,
            same: { $0.sameDefinition(as: $1) }, phase: { _ in .policies }, dropPhase: { _ in .dropPolicies },
            create: { [SQLRenderer.createPolicy(written.policies[$0.name] ?? $0, on: name)] },
            drop: { [SQLRenderer.dropPolicy($0.name, on: name)] },
            rename: { SQLRenderer.renamePolicy($0, to: $1, on: name) },
            describe: describe,
            alter: { want, have in
                want.command == have.command && want.permissive == have.permissive
                    && (want.using == nil) == (have.using == nil) && (want.withCheck == nil) == (have.withCheck == nil)
                    ? [SQLRenderer.alterPolicy(written.policies[want.name] ?? want, on: name)] : nil
            },
            // Creating a policy is what the blueprint asked for; the RLS lints judge how open it is.
            createHazards: { _ in [] },
            dropHazard: { policy in
                // Dropping a permissive policy only takes access away; dropping a restrictive one widens it.
                policy.permissive ? nil : Hazard(.relaxesSecurity, object: object(policy.name), detail: "DROP of a restrictive policy")
            })

        // Grants: only for the roles the blueprint lists.
        if let grants = want.grants {
            for role in grants.keys.sorted() {
                let wanted = grants[role]!
                let current = isNew ? DesiredCatalog.allPrivileges : (have.grants?[role] ?? [])
                let missing = wanted.subtracting(isNew ? [] : current)
                let extra = current.subtracting(wanted)
                var statements: [SQL] = []
                if !extra.isEmpty { statements.append(SQLRenderer.revoke(extra, on: name, from: role)) }
                if !missing.isEmpty { statements.append(SQLRenderer.grant(missing, on: name, to: role)) }
                guard !statements.isEmpty else { continue }
                let hazards = (role == "anon" || role == "public") && !missing.isEmpty
                    ? [Hazard(.relaxesSecurity, object: object(role), detail: "GRANT to \(role)")] : []
                output.add(isNew ? .missing : .changed, .grant, object(role), phase: .grants, statements: statements,
                           desired: wanted.sorted().joined(separator: ", "),
                           actual: isNew ? nil : current.sorted().joined(separator: ", "), hazards: hazards, table: name, origin: want.origin)
            }
        }

        // Owner: the blueprint's, or at least none of the API roles (they would bypass RLS).
        if !isNew, let current = have.owner,
           want.owner.map({ $0 != current }) ?? Table.apiRoles.contains(current) {
            let target = want.owner
            output.add(.changed, .owner, name.description, phase: .owners, statements: [SQLRenderer.alterOwner(name, to: target)],
                       desired: target ?? "the applying role (not \(Table.apiRoles.sorted().joined(separator: ", ")))", actual: current,
                       hazards: target.map(Table.apiRoles.contains) == true
                           ? [Hazard(.relaxesSecurity, object: name.description, detail: "OWNER TO \(target!): the owner bypasses RLS")] : [],
                       table: name, origin: want.origin)
        }
        // Triggers disabled by hand: the blueprints never ask for a disabled trigger.
        for trigger in (have.disabledTriggers ?? []).sorted() {
            output.add(.changed, .trigger, "\(name).\(trigger)", phase: .triggers, statements: [SQLRenderer.enableTrigger(trigger, on: name)],
                       desired: "enabled", actual: "disabled", table: name, origin: want.origin)
        }

        if let comment = want.comment, comment != have.comment {
            output.add(have.comment == nil ? .missing : .changed, .comment, name.description, phase: .comments,
                       statements: [SQLRenderer.comment(onTable: name, comment)], desired: comment, actual: have.comment,
                       table: name, origin: want.origin)
        }
    }

    /// Named objects of a table: same name and definition → nothing; same definition under
    /// another name → RENAME; changed → ALTER where possible, else drop + create; absent → create.
    func diffNamed<T>(
        _ want: [String: T], _ have: [String: T], output: inout Output, objectType: Change.ObjectType, table: QualifiedName,
        same: (T, T) -> Bool, phase: (T) -> Change.Phase, dropPhase: (T) -> Change.Phase,
        create: (T) -> [SQL], drop: (T) -> [SQL], rename: (String, String) -> SQL, describe: (T) -> String,
        alter: ((T, T) -> [SQL]?)? = nil, createHazards: (T) -> [Hazard], dropHazard: (T) -> Hazard?
    ) {
        var unmatchedHave = Set(have.keys.filter { want[$0] == nil })
        for key in want.keys.sorted() {
            let item = want[key]!
            let origin = (item as? HasOrigin)?.objectOrigin
            let objectName = "\(table).\(key)"
            if let existing = have[key] {
                guard !same(item, existing) else { continue }
                let statements = alter?(item, existing) ?? (drop(existing) + create(item))
                output.add(.changed, objectType, objectName, phase: phase(item), statements: statements,
                           desired: describe(item), actual: describe(existing), hazards: createHazards(item), table: table, origin: origin)
            } else if let previous = unmatchedHave.sorted().first(where: { same(item, have[$0]!) }) {
                unmatchedHave.remove(previous)
                output.add(.changed, objectType, objectName, phase: phase(item), statements: [rename(previous, key)],
                           desired: key, actual: previous, table: table, origin: origin)
            } else {
                output.add(.missing, objectType, objectName, phase: phase(item), statements: create(item),
                           desired: describe(item), hazards: createHazards(item), table: table, origin: origin)
            }
        }
        for key in unmatchedHave.sorted() {
            let item = have[key]!
            removed(&output, objectType, "\(table).\(key)", phase: dropPhase(item), statements: drop(item),
                    hazard: dropHazard(item)?.hazard, detail: dropHazard(item)?.detail ?? "DROP", actual: describe(item), table: table)
        }
    }

    /// An object in the database that no blueprint wants: dropped (with its hazard) when an earlier
    /// reconciliation managed it or when pruning; otherwise only reported as unmanaged.
    func removed(
        _ output: inout Output, _ objectType: Change.ObjectType, _ object: String, phase: Change.Phase, statements: [SQL],
        hazard: HazardKind?, detail: String, actual: String, table: QualifiedName?
    ) {
        let wasManaged = previouslyManaged.contains(object)
        let hazards = hazard.map { [Hazard($0, object: object, detail: detail)] } ?? []
        output.add(wasManaged ? .changed : .unmanaged, objectType, object, phase: phase, statements: statements,
                   desired: nil, actual: actual, hazards: hazards, applied: wasManaged || prune, table: table, origin: nil)
    }

    func describe(_ column: Column) -> String {
        var text = column.type
        if let identity = column.identity { text += identity == .always ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY" }
        if let value = column.defaultExpression { text += " DEFAULT \(value)" }
        if column.notNull { text += " NOT NULL" }
        return text
    }

    func describe(_ policy: Policy) -> String {
        var text = "\(policy.permissive ? "PERMISSIVE" : "RESTRICTIVE") FOR \(policy.command.rawValue.uppercased()) TO \(policy.roles.sorted().joined(separator: ", "))"
        if let using = policy.using { text += " USING (\(using))" }
        if let withCheck = policy.withCheck { text += " WITH CHECK (\(withCheck))" }
        return text
    }
}

/// Collects changes as they are found.
struct Output {
    var changes: [Change] = []

    mutating func add(
        _ kind: Change.Kind, _ objectType: Change.ObjectType, _ object: String, phase: Change.Phase, statements: [SQL],
        desired: String? = nil, actual: String? = nil, hazards: [Hazard] = [], applied: Bool = true,
        table: QualifiedName? = nil, origin: Origin? = nil
    ) {
        changes.append(Change(
            kind: kind, objectType: objectType, object: object, desired: desired, actual: actual, sql: statements,
            hazards: hazards, applied: applied, phase: phase, table: table, origin: origin))
    }
}

protocol HasOrigin { var objectOrigin: Origin? { get } }
extension Constraint: HasOrigin { var objectOrigin: Origin? { origin } }
extension Index: HasOrigin { var objectOrigin: Origin? { origin } }
extension Policy: HasOrigin { var objectOrigin: Origin? { origin } }
