/// Builds the desired catalog from validated blueprints: defaults applied, names generated,
/// tenant policies and tenancy indexes added. Text fields still hold what the user wrote;
/// canonicalization through the server replaces them with what the server prints.
public enum DesiredCatalog {
    /// The desired catalog of a valid blueprint set.
    public static func build(_ set: BlueprintSet) -> Catalog {
        var catalog = Catalog()
        for blueprint in set.documents {
            for definition in blueprint.enums {
                let name = QualifiedName(schema: blueprint.schema, name: definition.name)
                catalog.enums[name] = EnumType(name: name, values: definition.values, origin: definition.origin)
            }
            for definition in blueprint.tables {
                let table = self.table(definition, in: blueprint)
                catalog.tables[table.name] = table
            }
            for definition in blueprint.sequences {
                let sequence = self.sequence(definition, in: blueprint)
                catalog.sequences[sequence.name] = sequence
            }
            for definition in blueprint.functions {
                let function = self.function(definition, in: blueprint)
                catalog.functions[function.key] = function
            }
            for definition in blueprint.triggers {
                let trigger = self.trigger(definition, in: blueprint)
                catalog.triggers[trigger.key] = trigger
            }
            for definition in blueprint.views {
                let name = QualifiedName(schema: blueprint.schema, name: definition.name)
                let materialized = definition.materialized ?? false
                catalog.views[name] = ViewObject(
                    name: name, query: ViewKind.trimmed(definition.query), securityInvoker: materialized ? false : definition.securityInvoker ?? true,
                    securityBarrier: definition.securityBarrier ?? false, checkOption: definition.checkOption, materialized: materialized,
                    comment: definition.comment,
                    grants: privileges(definition.grants, all: allPrivileges), owner: definition.owner,
                    indexes: Dictionary(definition.indexes.map { index($0, of: definition.name) }.map { ($0.name, $0) }) { first, _ in first },
                    withData: definition.withData ?? true, origin: definition.origin)
            }
            if let storage = blueprint.storage {
                var state = catalog.storage ?? StorageState()
                for bucket in storage.buckets {
                    state.buckets[bucket.id] = Bucket(id: bucket.id, isPublic: bucket.isPublic ?? false, fileSizeLimit: bucket.fileSizeLimit,
                                                      allowedMimeTypes: bucket.allowedMimeTypes, origin: bucket.origin)
                }
                for policy in storage.policies { state.policies[policy.name] = self.policy(policy) }
                catalog.storage = state
            }
            for definition in blueprint.extensions {
                catalog.extensions[definition.name] = ExtensionObject(name: definition.name, schema: definition.schema ?? "extensions",
                                                                      version: definition.version, origin: definition.origin)
            }
        }
        inheritPartitionColumns(&catalog)
        return catalog
    }

    /// A partition's columns are its parent's (docs/blueprints.md, Partitions): without their
    /// comments, which stay the parent's.
    static func inheritPartitionColumns(_ catalog: inout Catalog) {
        let tables = catalog.tables
        for name in tables.keys where tables[name]?.partitionOf != nil {
            // The root of the chain holds the columns; a chain that ends at a table the
            // blueprints do not hold (refused by the validator) has none.
            let root = catalog.ancestors(of: name).last.flatMap { tables[$0] }
            let columns = root.flatMap { $0.partitionOf == nil ? $0.columns : nil } ?? []
            catalog.tables[name]?.columns = columns.map { column in
                var inherited = column
                inherited.comment = nil
                inherited.renamedFrom = nil
                inherited.origin = tables[name]?.origin
                return inherited
            }
        }
    }

    /// A sequence with PostgreSQL's defaults for what the blueprint leaves out.
    static func sequence(_ definition: SequenceDefinition, in blueprint: Blueprint) -> SequenceObject {
        let name = QualifiedName(schema: blueprint.schema, name: definition.name)
        let grants = privileges(definition.grants, all: SequenceObject.allPrivileges)
        return SequenceObject(
            name: name, type: definition.type.flatMap { SequenceObject.types[$0.lowercased()] } ?? "bigint", start: definition.start,
            increment: definition.increment ?? 1, min: definition.min, max: definition.max, cache: definition.cache ?? 1,
            cycle: definition.cycle ?? false,
            ownedBy: definition.ownedBy.map { SequenceObject.Owner(table: QualifiedName(schema: blueprint.schema, name: $0.table), column: $0.column) },
            grants: grants, owner: definition.owner, origin: definition.origin)
    }

    /// An index of a table or materialized view named `relation`, named as written or generated.
    static func index(_ index: IndexDefinition, of relation: String) -> Index {
        let keys = index.columns.map { $0.map(quoteIdentifier) } ?? ["(\(index.expression ?? ""))"]
        let name = index.name ?? (index.columns.map { Naming.index(table: relation, columns: $0) }
            ?? Naming.expressionIndex(table: relation, expression: index.expression ?? ""))
        return Index(name: name, method: index.method, keys: keys, unique: index.unique, predicate: index.predicate,
                     options: index.keyOptions, include: index.include, storage: index.storage, nullsNotDistinct: index.nullsNotDistinct,
                     origin: index.origin)
    }

    /// A function as written; canonicalization gives it the server's argument list, result,
    /// config and identity (docs/blueprints.md, Functions). With `grants`, PUBLIC's EXECUTE,
    /// which every new function has, is revoked unless `public` is listed.
    static func function(_ definition: FunctionDefinition, in blueprint: Blueprint) -> FunctionObject {
        let name = QualifiedName(schema: blueprint.schema, name: definition.name)
        var arguments = definition.arguments.map {
            FunctionObject.Argument(name: $0.name, type: $0.type.trimmingCharacters(in: .whitespaces), mode: $0.mode ?? .in,
                                    defaultExpression: $0.defaultExpression)
        }
        // RETURNS TABLE's columns are output arguments (pg_proc's mode 't').
        let table = definition.tableColumns
        arguments += (table ?? []).map { FunctionObject.Argument(name: $0.name, type: $0.type, mode: .out) }
        let key = FunctionKey(name: name, arguments: arguments.filter { $0.mode != .out }.map { $0.type.lowercased() })
        var grants = privileges(definition.grants, all: FunctionObject.allPrivileges)
        if grants != nil && grants?["public"] == nil { grants?["public"] = [] }
        let result = definition.result
        let searchPath = definition.searchPathSchemas
        return FunctionObject(
            key: key, result: table.map { "TABLE(" + $0.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ")" } ?? ((result.setof ? "SETOF " : "") + result.type), language: definition.language.lowercased(),
            volatility: definition.volatility ?? .volatile, security: definition.security ?? .invoker, strict: definition.strict ?? false,
            parallel: definition.parallel ?? .unsafe,
            config: searchPath.map { ["search_path=" + ($0.isEmpty ? "\"\"" : $0.joined(separator: ", "))] } ?? [],
            body: definition.body, grants: grants, owner: definition.owner, arguments: arguments, returnsSet: result.setof,
            returnType: table == nil ? result.type : "record", returnsTable: table != nil, searchPath: searchPath, origin: definition.origin)
    }

    /// A trigger as written: its table and function resolved against the document's schema.
    static func trigger(_ definition: TriggerDefinition, in blueprint: Blueprint) -> TriggerObject {
        let table = BlueprintValidator.qualify(definition.table, defaultSchema: blueprint.schema)
        return TriggerObject(
            key: TriggerKey(table: table, name: definition.name), timing: definition.timing, events: definition.events,
            updateColumns: definition.updateColumns, level: definition.level ?? .row, when: definition.when,
            function: BlueprintValidator.qualify(definition.function, defaultSchema: blueprint.schema), arguments: definition.arguments,
            enabled: definition.enabled ?? .origin, declaredIn: blueprint.schema, origin: definition.origin)
    }

    /// A `grants` mapping as privileges per role, `all` standing for every privilege of `all`
    /// (tables, views, sequences and functions alike), `all with grant option` for each of them
    /// grantable; a privilege listed both ways is held with its grant option. Nil when the
    /// blueprint lists none.
    static func privileges(_ grants: [GrantDefinition]?, all: Set<String>) -> [String: Set<String>]? {
        grants.map { list in
            Dictionary(list.map { grant in
                let expanded = grant.privileges.flatMap { privilege in
                    Privilege.base(privilege) != "all" ? [privilege]
                        : all.map { Privilege.isGrantable(privilege) ? Privilege.grantable($0) : $0 }
                }
                let levels = Privilege.levels(Set(expanded))
                return (grant.role, Set(levels.map { $0.value ? Privilege.grantable($0.key) : $0.key }))
            }) { $0.union($1) }
        }
    }

    /// Every privilege `all` stands for.
    public static let allPrivileges: Set<String> = ["select", "insert", "update", "delete", "truncate", "references", "trigger"]

    static func table(_ definition: TableDefinition, in blueprint: Blueprint) -> Table {
        let name = QualifiedName(schema: blueprint.schema, name: definition.name)
        var table = Table(
            name: name, rlsEnabled: definition.rls.enabled, rlsForced: definition.rls.force,
            comment: definition.comment, renamedFrom: definition.renamedFrom, origin: definition.origin)
        table.owner = definition.owner
        table.realtime = definition.realtime
        table.replicaIdentity = definition.replicaIdentity
        if let key = definition.partitionBy {
            table.partitionKey = key.text
            table.partitioning = key
        }
        if let partition = definition.partitionOf {
            table.partitionOf = QualifiedName(schema: blueprint.schema, name: partition.table)
            table.bound = partition.bound
            table.partitionBound = SQLRenderer.boundText(partition.bound)
        }
        let primaryKey = definition.primaryKey ?? definition.columns.filter(\.primaryKey).map(\.name)
        for column in definition.columns {
            let notNull = column.nullable == false || primaryKey.contains(column.name) || column.identity != nil
            table.columns.append(Column(
                name: column.name, type: normalizedType(column.type, schema: blueprint.schema), notNull: notNull,
                defaultExpression: column.defaultExpression,
                identity: column.identity.map { $0 == .always ? .always : .byDefault }, generated: column.generated,
                comment: column.comment, renamedFrom: column.renamedFrom, using: column.using, origin: column.origin))
        }
        func add(_ constraint: Constraint) { table.constraints[constraint.name] = constraint }
        if !primaryKey.isEmpty {
            add(Constraint(name: Naming.primaryKey(table: definition.name), kind: .primaryKey, columns: primaryKey,
                           origin: blueprint.origin(at: "\(definition.origin.path).primary_key")))
        }
        for column in definition.columns {
            if column.unique {
                add(Constraint(name: Naming.unique(table: definition.name, columns: [column.name]), kind: .unique,
                               columns: [column.name], origin: blueprint.origin(at: "\(column.origin.path).unique")))
            }
            if let check = column.check {
                add(Constraint(name: Naming.columnCheck(table: definition.name, column: column.name), kind: .check,
                               columns: [], expression: check, origin: blueprint.origin(at: "\(column.origin.path).check")))
            }
            if let reference = column.references {
                add(Constraint(
                    name: Naming.foreignKey(table: definition.name, columns: [column.name]), kind: .foreignKey,
                    columns: [column.name],
                    referencedTable: BlueprintValidator.qualify(reference.table, defaultSchema: blueprint.schema),
                    referencedColumns: [reference.column], onDelete: reference.onDelete, onUpdate: reference.onUpdate,
                    origin: reference.origin))
            }
        }
        for unique in definition.unique {
            var constraint = Constraint(name: unique.name ?? Naming.unique(table: definition.name, columns: unique.columns),
                                        kind: .unique, columns: unique.columns, origin: unique.origin)
            constraint.deferral = unique.deferral
            add(constraint)
        }
        for (ordinal, check) in definition.checks.enumerated() {
            var constraint = Constraint(name: check.name ?? Naming.tableCheck(table: definition.name, ordinal: ordinal),
                                        kind: .check, columns: [], expression: check.expression,
                                        origin: blueprint.origin(at: "\(check.origin.path).expression"))
            constraint.validated = check.valid
            constraint.noInherit = check.noInherit
            add(constraint)
        }
        for foreignKey in definition.foreignKeys {
            var constraint = Constraint(
                name: foreignKey.name ?? Naming.foreignKey(table: definition.name, columns: foreignKey.columns),
                kind: .foreignKey, columns: foreignKey.columns,
                referencedTable: BlueprintValidator.qualify(foreignKey.referencedTable, defaultSchema: blueprint.schema),
                referencedColumns: foreignKey.referencedColumns, onDelete: foreignKey.onDelete, onUpdate: foreignKey.onUpdate,
                origin: foreignKey.origin)
            constraint.validated = foreignKey.valid
            constraint.deferral = foreignKey.deferral
            add(constraint)
        }
        for written in definition.indexes {
            let index = self.index(written, of: table.name.name)
            table.indexes[index.name] = index
        }
        for policy in definition.rls.policies { table.policies[policy.name] = self.policy(policy) }
        table.grants = privileges(definition.grants, all: allPrivileges)
        if BlueprintValidator.isTenantTable(definition, tenancy: blueprint.tenancy) {
            addTenancy(to: &table, blueprint: blueprint, primaryKey: primaryKey)
        }
        return table
    }

    /// A declared policy, of a table or of `storage.objects`.
    static func policy(_ definition: PolicyDefinition) -> Policy {
        var policy = Policy(name: definition.name, command: definition.command, roles: Set(definition.roles), permissive: definition.permissive,
                            using: definition.using, withCheck: definition.withCheck, origin: definition.origin)
        policy.comment = definition.comment
        return policy
    }

    /// RLS on, four policies, and an index leading with the tenancy column unless one exists.
    static func addTenancy(to table: inout Table, blueprint: Blueprint, primaryKey: [String]) {
        let tenancy = blueprint.tenancy
        guard let column = table.column(tenancy.column) else { return }
        table.rlsEnabled = true
        let predicate = "\(quoteIdentifier(column.name)) = \(tenantExpression(tenancy, type: column.type))"
        let roles = Set(tenancy.roles)
        let origin = table.origin.map { blueprint.origin(at: "\($0.path).rls") }
        let policies: [(PolicyCommand, String?, String?)] = [
            (.select, predicate, nil), (.insert, nil, predicate), (.update, predicate, predicate), (.delete, predicate, nil),
        ]
        for (command, using, withCheck) in policies {
            let name = Naming.tenantPolicy(table: table.name.name, command: command)
            table.policies[name] = Policy(
                name: name, command: command, roles: roles, permissive: true, using: using, withCheck: withCheck,
                generated: true, origin: origin)
        }
        let leading = quoteIdentifier(column.name)
        let hasLeadingIndex = table.indexes.values.contains { $0.keys.first == leading }
            || table.constraints.values.contains { ($0.kind == .primaryKey || $0.kind == .unique) && $0.columns.first == column.name }
        if !hasLeadingIndex {
            let name = Naming.index(table: table.name.name, columns: [column.name])
            table.indexes[name] = Index(name: name, method: .btree, keys: [leading], unique: false, origin: origin)
        }
        // Without privileges the policies are dead code: a project without Supabase's legacy
        // default privileges grants nothing to the API roles on a new table.
        if table.grants == nil {
            table.tenantGrants = Dictionary(uniqueKeysWithValues: tenancy.roles.map { ($0, tenantPrivileges) })
        }
    }

    /// What the tenancy roles need on a tenant table: the four commands its policies cover.
    public static let tenantPrivileges: Set<String> = ["select", "insert", "update", "delete"]

    /// `((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid`, or the expression override.
    public static func tenantExpression(_ tenancy: Tenancy, type: String) -> String {
        if let expression = tenancy.expression { return "(\(expression))::\(type)" }
        let path = tenancy.claim.split(separator: ".").map { SQLText.literal(String($0)) }
        var text = "(select auth.jwt())"
        for (index, key) in path.enumerated() {
            text += index == path.count - 1 ? " ->> \(key)" : " -> \(key)"
        }
        return "(\(text))::\(type)"
    }

    /// `public.task_status` in a blueprint of schema public → `task_status`, so the scratch copy
    /// of the enum is used during canonicalization.
    static func normalizedType(_ type: String, schema: String) -> String {
        let trimmed = type.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("\(schema).") ? String(trimmed.dropFirst(schema.count + 1)) : trimmed
    }
}
