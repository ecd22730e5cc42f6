import Foundation

/// The static rules of blueprint.md, over all documents of a revision at once. Every problem
/// is reported, each with file, line, column, JSON path, code and sentence.
public enum BlueprintValidator {
    /// Schemas Supabase owns; a blueprint never manages them.
    public static let reservedSchemas: Set<String> = [
        "auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "vault", "pgsodium",
        "pgsodium_masks", "supabase_functions", "supabase_migrations", "cron", "net", "pgbouncer",
        "information_schema",
    ]

    static let integerTypes: Set<String> = ["smallint", "integer", "bigint", "int", "int2", "int4", "int8"]
    static let builtinTypes: Set<String> = [
        "smallint", "integer", "bigint", "int", "int2", "int4", "int8", "real", "float", "float4", "float8",
        "double precision", "numeric", "decimal", "money", "text", "varchar", "character varying", "char",
        "character", "bpchar", "name", "bytea", "boolean", "bool", "date", "time", "timetz", "timestamp",
        "timestamptz", "time with time zone", "time without time zone", "timestamp with time zone",
        "timestamp without time zone", "interval", "uuid", "json", "jsonb", "xml", "inet", "cidr", "macaddr",
        "macaddr8", "point", "line", "lseg", "box", "path", "polygon", "circle", "tsvector", "tsquery", "bit",
        "varbit", "bit varying", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
        "int4multirange", "int8multirange", "nummultirange", "tsmultirange", "tstzmultirange", "datemultirange",
        "oid", "regclass", "regtype", "pg_lsn", "txid_snapshot", "pg_snapshot",
    ]
    static let privileges: Set<String> = ["select", "insert", "update", "delete", "truncate", "references", "trigger", "all"]
    static let sequencePrivileges: Set<String> = ["usage", "select", "update", "all"]

    /// Validates decoded documents; returns every error and warning.
    public static func validate(_ blueprints: [Blueprint], parallelism: Parallelism = .sequential) -> [Diagnostic] {
        var context = Context(blueprints: blueprints)
        context.fragments = checkFragments(blueprints, parallelism: parallelism)
        context.run(parallelism: parallelism)
        return context.diagnostics
    }

    /// A fragment and the category it is parsed as.
    struct Fragment: Hashable, Sendable {
        var text: String
        var category: SQLFragment.Category
    }

    /// The parser's verdict on every fragment of the blueprints, computed on every core: parsing
    /// them is most of validating a large set.
    static func checkFragments(_ blueprints: [Blueprint], parallelism: Parallelism) -> [Fragment: SQLFragment.Problem?] {
        var all: Set<Fragment> = []
        func add(_ text: String?, _ category: SQLFragment.Category = .expression) {
            if let text { all.insert(Fragment(text: category == .typeName ? text.trimmingCharacters(in: .whitespaces) : text, category: category)) }
        }
        for blueprint in blueprints {
            add(blueprint.tenancy.expression)
            for table in blueprint.tables {
                for column in table.columns {
                    add(column.type, .typeName)
                    add(column.defaultExpression)
                    add(column.check)
                }
                for check in table.checks { add(check.expression) }
                for index in table.indexes {
                    add(index.expression)
                    add(index.predicate)
                }
                for policy in table.rls.policies {
                    add(policy.using)
                    add(policy.withCheck)
                }
            }
            for policy in blueprint.storage?.policies ?? [] {
                add(policy.using)
                add(policy.withCheck)
            }
            for function in blueprint.functions {
                for argument in function.arguments {
                    add(argument.type, .typeName)
                    add(argument.defaultExpression)
                }
                add(function.result.type, .typeName)
            }
            for trigger in blueprint.triggers { add(trigger.when) }
            for view in blueprint.views {
                add(view.query, .query)
                for index in view.indexes {
                    add(index.expression)
                    add(index.predicate)
                }
            }
        }
        let list = Array(all)
        let problems = parallelism.map(list) { SQLFragment.problem(in: $0.text, as: $0.category) }
        return Dictionary(uniqueKeysWithValues: zip(list, problems))
    }

    /// Resolves `name`, `schema.name` or the quoted `"schema"."name"` / `"name"` (written for a
    /// name with a dot in it) against the document's schema.
    public static func qualify(_ reference: String, defaultSchema: String) -> QualifiedName {
        if reference.hasPrefix("\""), let parts = quotedParts(reference) {
            return parts.count == 2 ? QualifiedName(schema: parts[0], name: parts[1]) : QualifiedName(schema: defaultSchema, name: parts[0])
        }
        let parts = reference.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.count == 2 ? QualifiedName(schema: parts[0], name: parts[1]) : QualifiedName(schema: defaultSchema, name: reference)
    }

    /// `"a"."b"` → `["a", "b"]`, `"a"` → `["a"]` (doubled quotes inside), nil when it is not
    /// exactly one or two quoted identifiers joined by a dot.
    static func quotedParts(_ text: String) -> [String]? {
        var parts: [String] = []
        var current = ""
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == "\"" else { return nil }
            index = text.index(after: index)
            current = ""
            while true {
                guard index < text.endIndex else { return nil }
                if text[index] == "\"" {
                    let next = text.index(after: index)
                    if next < text.endIndex && text[next] == "\"" {
                        current.append("\"")
                        index = text.index(after: next)
                        continue
                    }
                    index = next
                    break
                }
                current.append(text[index])
                index = text.index(after: index)
            }
            parts.append(current)
            if index < text.endIndex {
                guard text[index] == ".", parts.count < 2 else { return nil }
                index = text.index(after: index)
                guard index < text.endIndex else { return nil }
            }
        }
        return (1...2).contains(parts.count) ? parts : nil
    }

    /// Whether `table` is a tenant table under `tenancy`.
    public static func isTenantTable(_ table: TableDefinition, tenancy: Tenancy) -> Bool {
        table.rls.tenantPolicies != .never && table.columns.contains { $0.name == tenancy.column }
    }

    /// The base type name of a type expression: `varchar(80)[]` → `varchar`, `public.mood` → `public.mood`.
    static func baseType(_ type: String) -> String {
        var text = type.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix("[]") { text = String(text.dropLast(2)).trimmingCharacters(in: .whitespaces) }
        if let paren = text.firstIndex(of: "(") {
            // `timestamp(3) with time zone`: drop the modifier but keep the words after it.
            let after = text[text.index(after: paren)...].drop(while: { $0 != ")" }).dropFirst()
            text = (String(text[..<paren]) + after).trimmingCharacters(in: .whitespaces)
        }
        return text.split(separator: " ").joined(separator: " ")
    }
}

/// A schema-qualified name.
public struct QualifiedName: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var schema: String
    public var name: String
    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }
    public var description: String { "\(schema).\(name)" }
    /// `"schema"."name"`, quoted for SQL.
    public var sql: String { "\(quoteIdentifier(schema)).\(quoteIdentifier(name))" }
    public static func < (lhs: QualifiedName, rhs: QualifiedName) -> Bool { (lhs.schema, lhs.name) < (rhs.schema, rhs.name) }
}

/// Double-quotes an identifier for SQL text.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + SQLText.doubling("\"", in: name) + "\""
}

struct Context {
    let blueprints: [Blueprint]
    var diagnostics: [Diagnostic] = []
    /// Every table of every document, by qualified name (first definition wins).
    var tables: [QualifiedName: (table: TableDefinition, blueprint: Blueprint)] = [:]
    var enums: [QualifiedName: (definition: EnumDefinition, blueprint: Blueprint)] = [:]
    var managedSchemas: Set<String> = []
    /// Storage bucket ids and `storage.objects` policy names, across all documents.
    var buckets: [String: Origin] = [:]
    var storagePolicies: [String: Origin] = [:]
    /// Every fragment's verdict, computed beforehand (`BlueprintValidator.checkFragments`).
    var fragments: [BlueprintValidator.Fragment: SQLFragment.Problem?] = [:]

    /// Every view (first definition wins) and every function by qualified name, so a trigger
    /// finds its table or view and its function without a walk over every document.
    let views: [QualifiedName: ViewDefinition]
    let functions: [QualifiedName: [FunctionDefinition]]

    init(blueprints: [Blueprint]) {
        self.blueprints = blueprints
        var views: [QualifiedName: ViewDefinition] = [:]
        var functions: [QualifiedName: [FunctionDefinition]] = [:]
        for blueprint in blueprints {
            for view in blueprint.views where views[QualifiedName(schema: blueprint.schema, name: view.name)] == nil {
                views[QualifiedName(schema: blueprint.schema, name: view.name)] = view
            }
            for function in blueprint.functions { functions[QualifiedName(schema: blueprint.schema, name: function.name), default: []].append(function) }
        }
        self.views = views
        self.functions = functions
    }

    func fragmentProblem(_ text: String, _ category: SQLFragment.Category) -> SQLFragment.Problem? {
        if let known = fragments[BlueprintValidator.Fragment(text: text, category: category)] { return known }
        return SQLFragment.problem(in: text, as: category)
    }

    mutating func error(_ code: String, _ message: String, _ blueprint: Blueprint, _ path: String) {
        diagnostics.append(Diagnostic(code: code, message: message, at: blueprint.origin(at: path)))
    }

    mutating func warning(_ code: String, _ message: String, _ blueprint: Blueprint, _ path: String) {
        diagnostics.append(Diagnostic(.warning, code: code, message: message, at: blueprint.origin(at: path)))
    }

    /// Checks a name against PostgreSQL's identifier rule; names of the kinds that `snakeCase`
    /// says get the `non_snake_case_name` warning when they are not lower snake case
    /// (docs/blueprints.md, Names).
    mutating func name(_ name: String, _ blueprint: Blueprint, _ path: String, snakeCase: Bool = false) {
        if let problem = Naming.problem(with: name) {
            error(name.utf8.count > Naming.maximumBytes ? "name_too_long" : "invalid_name", problem, blueprint, path)
        } else if snakeCase && !Naming.isSnakeCase(name) {
            warning("non_snake_case_name",
                    "'\(name)' is not lower snake case, so every query must double-quote it; it is accepted as written",
                    blueprint, path)
        }
    }

    /// An expression field: PostgreSQL's parser must see exactly one expression in it.
    mutating func sql(_ text: String?, _ blueprint: Blueprint, _ path: String) {
        guard let text, let problem = fragmentProblem(text, .expression) else { return }
        error(problem.code, problem.message, blueprint, path)
    }

    /// Checks a partition against its parent and returns the columns it takes from it
    /// (docs/blueprints.md, Partitions).
    mutating func partitionOf(_ partition: PartitionOfDefinition, of table: TableDefinition, _ blueprint: Blueprint, _ path: String) -> Set<String> {
        let ofPath = "\(path).partition_of"
        if !table.columns.isEmpty {
            error("partition_columns", "partition '\(table.name)' takes its columns from '\(partition.table)'; leave 'columns' out", blueprint, "\(path).columns")
        }
        for (index, value) in partition.bound.values.enumerated() {
            guard let problem = fragmentProblem(value, .expression) else { continue }
            error(problem.code, "bound value \(index + 1): \(problem.message)", blueprint, "\(ofPath).bound")
        }
        // The parent, and its own parents up to a table with columns.
        var seen: Set<String> = [table.name]
        var current = partition.table
        var first = true
        while true {
            guard let parent = tables[QualifiedName(schema: blueprint.schema, name: current)]?.table else {
                error("unknown_reference", "'\(current)' is not a table of the blueprints in schema \(blueprint.schema); a partition's parent is declared with it, in the same schema",
                      blueprint, "\(ofPath).table")
                return []
            }
            guard seen.insert(current).inserted else {
                error("partition_definition", "'\(table.name)' is a partition of itself through '\(current)'", blueprint, "\(ofPath).table")
                return []
            }
            if first {
                first = false
                guard let key = parent.partitionBy else {
                    error("partition_definition", "'\(current)' has no partition_by, so it cannot have partitions", blueprint, "\(ofPath).table")
                    return []
                }
                if !partition.bound.fits(key.strategy) {
                    error("partition_definition", "this bound does not fit '\(current)', which is partitioned by \(key.strategy.rawValue)", blueprint, "\(ofPath).bound")
                }
            }
            guard let next = parent.partitionOf else { return Set(parent.columns.map(\.name)) }
            current = next.table
        }
    }

    mutating func generated(_ name: String, what: String, _ blueprint: Blueprint, _ path: String) {
        if name.utf8.count > Naming.maximumBytes {
            error("generated_name_too_long",
                  "the generated \(what) name '\(name)' is \(name.utf8.count) bytes, over PostgreSQL's \(Naming.maximumBytes); give it an explicit 'name' (or a shorter table name)",
                  blueprint, path)
        }
    }

    // MARK: - Run

    mutating func run(parallelism: Parallelism = .sequential) {
        // First pass: collect tables and enums across files, reporting duplicates with both places.
        for blueprint in blueprints {
            managedSchemas.insert(blueprint.schema)
            for (index, definition) in blueprint.enums.enumerated() {
                let key = QualifiedName(schema: blueprint.schema, name: definition.name)
                if let first = enums[key] {
                    error("duplicate_enum",
                          "enum \(key) is defined twice: at \(first.definition.origin.location) and here",
                          blueprint, "$.enums[\(index)].name")
                } else {
                    enums[key] = (definition, blueprint)
                }
            }
            for (index, table) in blueprint.tables.enumerated() {
                let key = QualifiedName(schema: blueprint.schema, name: table.name)
                if let first = tables[key] {
                    error("duplicate_table",
                          "table \(key) is defined twice: at \(first.table.origin.location) and here",
                          blueprint, "$.tables[\(index)].name")
                } else {
                    tables[key] = (table, blueprint)
                }
            }
        }
        // Each document on a copy of this context, on every core: what a document's checks
        // read was collected above, and they write only their diagnostics, except the storage
        // checks (bucket ids and policy names are unique across documents, the first place
        // wins), which run after, document by document, as the last of each. So the
        // diagnostics come in the order of one pass.
        var base = self
        base.diagnostics = []
        let found = parallelism.map(Array(blueprints.indices)) { index -> [Diagnostic] in
            var copy = base
            copy.document(blueprints[index])
            return copy.diagnostics
        }
        for (blueprint, diagnostics) in zip(blueprints, found) {
            self.diagnostics += diagnostics
            if let storage = blueprint.storage { self.storage(storage, blueprint) }
        }
        relationNames()
    }

    /// A document's checks, its storage section's aside (`run`).
    mutating func document(_ blueprint: Blueprint) {
        if blueprint.version != 1 && blueprint.positions["$.version"] != nil {
            error("unsupported_version", "version \(blueprint.version) is not supported; this Driftless reads version 1", blueprint, "$.version")
        }
        if blueprint.positions["$.tenant_id"] != nil && UUID(uuidString: blueprint.tenantID) == nil {
            error("invalid_uuid", "tenant_id '\(blueprint.tenantID)' is not a UUID (like 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b)", blueprint, "$.tenant_id")
        }
        name(blueprint.schema, blueprint, "$.schema")
        if BlueprintValidator.reservedSchemas.contains(blueprint.schema) || blueprint.schema.hasPrefix("pg_")
            || blueprint.schema.hasPrefix("supabase_") || blueprint.schema == "driftless" {
            error("reserved_schema", "schema '\(blueprint.schema)' belongs to Supabase or Driftless and is never managed", blueprint, "$.schema")
        }
        tenancy(blueprint)
        for (index, definition) in blueprint.enums.enumerated() {
            let path = "$.enums[\(index)]"
            name(definition.name, blueprint, "\(path).name", snakeCase: true)
            var seen: Set<String> = []
            for (valueIndex, value) in definition.values.enumerated() {
                let valuePath = "\(path).values[\(valueIndex)]"
                if value.isEmpty {
                    error("invalid_enum_value", "an enum label cannot be empty", blueprint, valuePath)
                } else if value.utf8.count > Naming.maximumBytes {
                    error("name_too_long", "enum label '\(value)' is \(value.utf8.count) bytes; PostgreSQL allows \(Naming.maximumBytes)", blueprint, valuePath)
                }
                if !seen.insert(value).inserted {
                    error("duplicate_enum_value", "enum '\(definition.name)' lists '\(value)' twice", blueprint, valuePath)
                }
            }
        }
        for (index, table) in blueprint.tables.enumerated() {
            self.table(table, blueprint, "$.tables[\(index)]")
        }
        for (index, sequence) in blueprint.sequences.enumerated() {
            self.sequence(sequence, blueprint, "$.sequences[\(index)]")
        }
        routines(blueprint)
    }

    /// A sequence's settings as PostgreSQL's CREATE SEQUENCE checks them, so `validate` says
    /// where without a server (docs/blueprints.md, Sequences).
    mutating func sequence(_ sequence: SequenceDefinition, _ blueprint: Blueprint, _ path: String) {
        name(sequence.name, blueprint, "\(path).name", snakeCase: true)
        let type = sequence.type.map { SequenceObject.types[$0.lowercased()] } ?? "bigint"
        if type == nil {
            error("invalid_value", "'\(sequence.type ?? "")' is not a sequence type (smallint, integer or bigint)", blueprint, "\(path).type")
        }
        if sequence.increment == 0 {
            error("invalid_value", "increment cannot be zero", blueprint, "\(path).increment")
        }
        if let cache = sequence.cache, cache < 1 {
            error("invalid_value", "cache must be at least 1, not \(cache)", blueprint, "\(path).cache")
        }
        if let type, sequence.increment != 0 {
            let bounds = SequenceObject.bounds(of: type)
            for (value, field) in [(sequence.min, "min"), (sequence.max, "max"), (sequence.start, "start")] {
                if let value, value < bounds.min || value > bounds.max {
                    error("invalid_value", "\(field) \(value) is out of range for \(type) (\(bounds.min)..\(bounds.max))", blueprint, "\(path).\(field)")
                }
            }
            let settled = SequenceObject(name: QualifiedName(schema: blueprint.schema, name: sequence.name), type: type, start: sequence.start,
                                   increment: sequence.increment ?? 1, min: sequence.min, max: sequence.max)
            if settled.min >= settled.max {
                error("invalid_value", "min \(settled.min) must be less than max \(settled.max)", blueprint, "\(path).\(sequence.min != nil ? "min" : "max")")
            } else if settled.start < settled.min || settled.start > settled.max {
                error("invalid_value", "start \(settled.start) is outside \(settled.min)..\(settled.max)", blueprint, "\(path).\(sequence.start != nil ? "start" : "min")")
            }
        }
        if let owned = sequence.ownedBy {
            let ownerPath = "\(path).owned_by"
            if let table = tables[QualifiedName(schema: blueprint.schema, name: owned.table)]?.table {
                let columns = table.partitionOf == nil ? Set(table.columns.map(\.name)) : []
                if table.partitionOf != nil {
                    error("unknown_reference", "a sequence is owned by a column of the partitioned table, not of partition '\(owned.table)'", blueprint, ownerPath)
                } else if !columns.contains(owned.column) {
                    error("unknown_reference", "table '\(owned.table)' has no column '\(owned.column)'", blueprint, ownerPath)
                }
            } else {
                error("unknown_reference", "'\(owned.table)' is not a table of the blueprints in schema \(blueprint.schema); a sequence is owned by a column of a table in its own schema",
                      blueprint, ownerPath)
            }
        }
        if let owner = sequence.owner {
            name(owner, blueprint, "\(path).owner")
            if sequence.ownedBy != nil {
                error("invalid_value", "a sequence with owned_by belongs to its table's owner; leave 'owner' out (or set it on the table)", blueprint, "\(path).owner")
            }
        }
        grants(sequence.grants, allowed: BlueprintValidator.sequencePrivileges, what: "sequence", blueprint, path)
    }

    /// The roles and privileges of a `grants` mapping.
    mutating func grants(_ grants: [GrantDefinition]?, allowed: Set<String>, what: String, _ blueprint: Blueprint, _ path: String) {
        guard let grants else { return }
        var roles: Set<String> = []
        for grant in grants {
            let grantPath = "\(path).grants.\(grant.role)"
            name(grant.role, blueprint, grantPath)
            if !roles.insert(grant.role).inserted {
                error("duplicate_grant", "role '\(grant.role)' appears twice in grants", blueprint, grantPath)
            }
            for (index, privilege) in grant.privileges.enumerated() where !allowed.contains(Privilege.base(privilege)) {
                error("invalid_privilege",
                      "'\(privilege)' is not a \(what) privilege (\(allowed.sorted().joined(separator: ", ")), each alone or followed by 'with grant option')",
                      blueprint, "\(grantPath)[\(index)]")
            }
        }
    }

    mutating func tenancy(_ blueprint: Blueprint) {
        let tenancy = blueprint.tenancy
        name(tenancy.column, blueprint, "$.tenancy.column")
        let segments = tenancy.claim.split(separator: ".", omittingEmptySubsequences: false)
        if tenancy.claim.isEmpty || segments.contains(where: { $0.isEmpty || !$0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } }) {
            error("invalid_claim", "claim '\(tenancy.claim)' must be a dotted path of JWT keys, like app_metadata.tenant_id", blueprint, "$.tenancy.claim")
        } else if segments.first == "user_metadata" || segments.first == "raw_user_meta_data" {
            error("user_metadata_claim",
                  "claim '\(tenancy.claim)' is under user_metadata, which every user can write for themselves; put the tenant in app_metadata",
                  blueprint, "$.tenancy.claim")
        }
        for (index, role) in tenancy.roles.enumerated() { name(role, blueprint, "$.tenancy.roles[\(index)]") }
        if tenancy.roles.isEmpty && blueprint.positions["$.tenancy.roles"] != nil {
            error("invalid_value", "tenancy.roles cannot be empty", blueprint, "$.tenancy.roles")
        }
        sql(tenancy.expression, blueprint, "$.tenancy.expression")
    }

    mutating func table(_ table: TableDefinition, _ blueprint: Blueprint, _ path: String) {
        name(table.name, blueprint, "\(path).name", snakeCase: true)
        if let previous = table.renamedFrom {
            name(previous, blueprint, "\(path).renamed_from")
            if previous == table.name {
                error("invalid_rename", "renamed_from names the table itself", blueprint, "\(path).renamed_from")
            } else if tables[QualifiedName(schema: blueprint.schema, name: previous)] != nil {
                error("invalid_rename", "renamed_from '\(previous)' is still defined as a table of its own", blueprint, "\(path).renamed_from")
            }
        }
        // `columns: []` is a table without columns, which PostgreSQL allows (an import of a
        // table whose last column was dropped writes one).
        var columnNames: Set<String> = []
        if let partition = table.partitionOf {
            columnNames = partitionOf(partition, of: table, blueprint, path)
        }
        for (index, column) in table.columns.enumerated() {
            let columnPath = "\(path).columns[\(index)]"
            if !columnNames.insert(column.name).inserted {
                error("duplicate_column", "column '\(column.name)' appears twice in table '\(table.name)'", blueprint, "\(columnPath).name")
            }
            self.column(column, table, blueprint, columnPath)
        }
        for (index, column) in table.columns.enumerated() where column.renamedFrom != nil && columnNames.contains(column.renamedFrom!) {
            error("invalid_rename", "renamed_from '\(column.renamedFrom!)' is still a column of '\(table.name)'", blueprint, "\(path).columns[\(index)].renamed_from")
        }

        func checkColumns(_ columns: [String], _ listPath: String, what: String) {
            if columns.isEmpty {
                error("invalid_value", "\(what) needs at least one column", blueprint, listPath)
            }
            for (index, column) in columns.enumerated() where !columnNames.contains(column) {
                error("unknown_column", "\(what) names column '\(column)', which table '\(table.name)' does not have", blueprint, "\(listPath)[\(index)]")
            }
        }

        let columnPrimaryKeys = table.columns.filter(\.primaryKey)
        if let primaryKey = table.primaryKey {
            if !columnPrimaryKeys.isEmpty {
                error("primary_key_conflict", "table '\(table.name)' declares its primary key twice: 'primary_key: true' on a column and 'primary_key: [...]' on the table; keep one form", blueprint, "\(path).primary_key")
            }
            checkColumns(primaryKey, "\(path).primary_key", what: "the primary key")
            for column in table.columns where primaryKey.contains(column.name) && column.nullable == true {
                error("nullable_primary_key", "column '\(column.name)' is in the primary key, so it cannot be nullable", blueprint, "\(column.origin.path).nullable")
            }
        } else if columnPrimaryKeys.count > 1 {
            error("primary_key_conflict", "more than one column says 'primary_key: true'; use 'primary_key: [a, b]' on the table for a composite key", blueprint, "\(columnPrimaryKeys[1].origin.path).primary_key")
        }
        generated(Naming.primaryKey(table: table.name), what: "primary key", blueprint, "\(path).name")

        for (index, unique) in table.unique.enumerated() {
            let uniquePath = "\(path).unique[\(index)]"
            checkColumns(unique.columns, "\(uniquePath).columns", what: "a unique constraint")
            if let name = unique.name { self.name(name, blueprint, "\(uniquePath).name", snakeCase: true) } else {
                generated(Naming.unique(table: table.name, columns: unique.columns), what: "unique constraint", blueprint, uniquePath)
            }
        }
        for (index, check) in table.checks.enumerated() {
            let checkPath = "\(path).checks[\(index)]"
            if let name = check.name { self.name(name, blueprint, "\(checkPath).name", snakeCase: true) } else {
                generated(Naming.tableCheck(table: table.name, ordinal: index), what: "check constraint", blueprint, checkPath)
            }
            sql(check.expression, blueprint, "\(checkPath).expression")
        }
        for (index, foreignKey) in table.foreignKeys.enumerated() {
            let fkPath = "\(path).foreign_keys[\(index)]"
            checkColumns(foreignKey.columns, "\(fkPath).columns", what: "a foreign key")
            if let name = foreignKey.name { self.name(name, blueprint, "\(fkPath).name", snakeCase: true) } else {
                generated(Naming.foreignKey(table: table.name, columns: foreignKey.columns), what: "foreign key", blueprint, fkPath)
            }
            if foreignKey.columns.count != foreignKey.referencedColumns.count {
                error("reference_arity", "the foreign key has \(foreignKey.columns.count) column(s) but references \(foreignKey.referencedColumns.count)", blueprint, "\(fkPath).references.columns")
            }
            reference(
                foreignKey.referencedTable, columns: foreignKey.referencedColumns, blueprint, "\(fkPath).references",
                columnPath: { "\(fkPath).references.columns[\($0)]" })
        }
        indexes(table.indexes, of: table.name, columns: columnNames, blueprint, path)
        if let key = table.partitionBy {
            if let columns = key.columns { checkColumns(columns, "\(path).partition_by.columns", what: "the partition key") }
            sql(key.expression, blueprint, "\(path).partition_by.expression")
        }
        rls(table, blueprint, path, columnNames: columnNames)
        grants(table.grants, allowed: BlueprintValidator.privileges, what: "table", blueprint, path)
    }

    /// The indexes of a table or a materialized view named `relation`. `columns`: the
    /// relation's columns, nil when only the server knows them (a view's query).
    mutating func indexes(_ list: [IndexDefinition], of relation: String, columns relationColumns: Set<String>?, _ blueprint: Blueprint,
                          _ path: String) {
        func checkColumns(_ columns: [String], _ listPath: String, what: String) {
            if columns.isEmpty {
                error("invalid_value", "\(what) needs at least one column", blueprint, listPath)
            }
            guard let relationColumns else { return }
            for (index, column) in columns.enumerated() where !relationColumns.contains(column) {
                error("unknown_column", "\(what) names column '\(column)', which table '\(relation)' does not have", blueprint, "\(listPath)[\(index)]")
            }
        }
        for (index, definition) in list.enumerated() {
            let indexPath = "\(path).indexes[\(index)]"
            switch (definition.columns, definition.expression) {
            case (nil, nil):
                error("index_definition", "an index needs 'columns' or 'expression'", blueprint, indexPath)
            case (.some, .some):
                error("index_definition", "an index takes 'columns' or 'expression', not both", blueprint, indexPath)
            case (.some(let columns), nil):
                checkColumns(columns, "\(indexPath).columns", what: "an index")
                if definition.name == nil {
                    generated(Naming.index(table: relation, columns: columns), what: "index", blueprint, indexPath)
                }
            case (nil, .some(let expression)):
                sql(expression, blueprint, "\(indexPath).expression")
                if definition.name == nil {
                    generated(Naming.expressionIndex(table: relation, expression: expression), what: "index", blueprint, indexPath)
                }
            }
            if !definition.include.isEmpty { checkColumns(definition.include, "\(indexPath).include", what: "an index's include") }
            if definition.nullsNotDistinct && !definition.unique {
                error("invalid_index", "nulls_not_distinct applies to unique indexes only", blueprint, "\(indexPath).nulls_not_distinct")
            }
            for (position, options) in definition.keyOptions.enumerated() {
                let keyPath = "\(indexPath).columns[\(position)]"
                if let opclass = options.opclass {
                    for part in opclass.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false) {
                        name(String(part), blueprint, "\(keyPath).opclass")
                    }
                }
                if let collation = options.collation { name(collation, blueprint, "\(keyPath).collation") }
            }
            if let name = definition.name { self.name(name, blueprint, "\(indexPath).name", snakeCase: true) }
            sql(definition.predicate, blueprint, "\(indexPath).where")
        }
    }

    mutating func column(_ column: ColumnDefinition, _ table: TableDefinition, _ blueprint: Blueprint, _ path: String) {
        name(column.name, blueprint, "\(path).name", snakeCase: true)
        if let previous = column.renamedFrom {
            name(previous, blueprint, "\(path).renamed_from")
            if previous == column.name { error("invalid_rename", "renamed_from names the column itself", blueprint, "\(path).renamed_from") }
        }
        type(column.type, blueprint, "\(path).type")
        sql(column.defaultExpression, blueprint, "\(path).default")
        sql(column.check, blueprint, "\(path).check")
        sql(column.generated, blueprint, "\(path).generated")
        sql(column.using, blueprint, "\(path).using")
        if column.generated != nil {
            if column.defaultExpression != nil {
                error("generated_with_default", "column '\(column.name)' is generated and also has a default; keep one", blueprint, "\(path).default")
            }
            if column.identity != nil {
                error("generated_with_identity", "column '\(column.name)' is generated and also an identity; keep one", blueprint, "\(path).identity")
            }
        }
        if column.primaryKey && column.nullable == true {
            error("nullable_primary_key", "column '\(column.name)' is a primary key, so it cannot be nullable", blueprint, "\(path).nullable")
        }
        if let identity = column.identity {
            if !BlueprintValidator.integerTypes.contains(BlueprintValidator.baseType(column.type)) {
                error("bad_identity", "identity columns must be smallint, integer or bigint, not '\(column.type)'", blueprint, "\(path).identity")
            }
            if column.defaultExpression != nil {
                error("identity_with_default", "column '\(column.name)' is identity \(identity.rawValue) and also has a default; keep one", blueprint, "\(path).default")
            }
        }
        if column.unique { generated(Naming.unique(table: table.name, columns: [column.name]), what: "unique constraint", blueprint, "\(path).unique") }
        if column.check != nil { generated(Naming.columnCheck(table: table.name, column: column.name), what: "check constraint", blueprint, "\(path).check") }
        if let reference = column.references {
            generated(Naming.foreignKey(table: table.name, columns: [column.name]), what: "foreign key", blueprint, "\(path).references")
            self.reference(
                reference.table, columns: [reference.column], blueprint, "\(path).references",
                columnPath: { _ in "\(path).references.column" })
        }
    }

    mutating func type(_ type: String, _ blueprint: Blueprint, _ path: String) {
        let trimmed = type.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            error("bad_type", "the type is empty", blueprint, path)
            return
        }
        if let problem = fragmentProblem(trimmed, .typeName) {
            error(problem.code, "'\(type)' is not one type name: \(problem.message)", blueprint, path)
            return
        }
        let base = BlueprintValidator.baseType(trimmed)
        if ["serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"].contains(base) {
            error("bad_type", "'\(type)' creates a hidden sequence Driftless cannot compare; use integer or bigint with 'identity: by_default'", blueprint, path)
            return
        }
        if base.contains(".") {
            let name = BlueprintValidator.qualify(base, defaultSchema: blueprint.schema)
            if managedSchemas.contains(name.schema) && enums[name] == nil {
                error("unknown_enum", "type '\(type)' names \(name), which is not an enum of the blueprints", blueprint, path)
            }
        } else if !BlueprintValidator.builtinTypes.contains(base) && enums[QualifiedName(schema: blueprint.schema, name: base)] == nil {
            warning("unknown_type", "'\(type)' is neither a built-in type nor an enum of these blueprints; the server will check it (an extension type?)", blueprint, path)
        }
    }

    /// `columnPath` gives the JSON path of the i-th referenced column.
    mutating func reference(
        _ reference: String, columns: [String], _ blueprint: Blueprint, _ path: String, columnPath: (Int) -> String
    ) {
        let target = BlueprintValidator.qualify(reference, defaultSchema: blueprint.schema)
        if let (table, _) = tables[target] {
            let names = Set(table.columns.map(\.name))
            for (index, column) in columns.enumerated() where !names.contains(column) {
                error("unknown_reference", "\(target) has no column '\(column)'", blueprint, columnPath(index))
            }
        } else if managedSchemas.contains(target.schema) {
            error("unknown_reference", "table '\(reference)' is not defined by any blueprint (write schema.table for a table outside them, like auth.users)", blueprint, "\(path).table")
        }
    }

    mutating func rls(_ table: TableDefinition, _ blueprint: Blueprint, _ path: String, columnNames: Set<String>) {
        let rls = table.rls
        let tenantColumn = blueprint.tenancy.column
        let isTenant = BlueprintValidator.isTenantTable(table, tenancy: blueprint.tenancy)
        if rls.tenantPolicies == .required && !columnNames.contains(tenantColumn) {
            error("tenant_column_missing", "tenant_policies is true but table '\(table.name)' has no '\(tenantColumn)' column", blueprint, "\(path).rls.tenant_policies")
        }
        if !rls.enabled {
            if isTenant {
                error("tenant_rls_disabled", "'\(table.name)' is a tenant table, so RLS cannot be disabled (set tenant_policies: false to opt out)", blueprint, "\(path).rls.enabled")
            } else {
                warning("rls_disabled", "RLS is disabled on '\(table.name)': in public, Supabase's Data API then serves every row to anyone with the anon key", blueprint, "\(path).rls.enabled")
            }
        }
        if table.realtime == true && rls.enabled && table.replicaIdentity != .full {
            warning("realtime_replica_identity",
                    "'\(table.name)' is in Realtime with RLS but without replica_identity: full: subscribers get no old row of its updates and deletes",
                    blueprint, "\(path).realtime")
        }
        if case .index(let index)? = table.replicaIdentity { name(index, blueprint, "\(path).replica_identity.index") }
        var policyNames: Set<String> = []
        if isTenant {
            for command in [PolicyCommand.select, .insert, .update, .delete] {
                let generatedName = Naming.tenantPolicy(table: table.name, command: command)
                policyNames.insert(generatedName)
                generated(generatedName, what: "tenant policy", blueprint, "\(path).name")
            }
            let generatedIndex = Naming.index(table: table.name, columns: [tenantColumn])
            generated(generatedIndex, what: "tenancy index", blueprint, "\(path).name")
        }
        for (index, policy) in rls.policies.enumerated() {
            let policyPath = "\(path).rls.policies[\(index)]"
            if !policyNames.insert(policy.name).inserted {
                error("duplicate_policy", "policy '\(policy.name)' is defined twice on '\(table.name)' (generated tenant policies count)", blueprint, "\(policyPath).name")
            }
            self.policy(policy, blueprint, policyPath)
        }
    }

    /// One policy's name, roles, expressions and command, on a table or on `storage.objects`.
    mutating func policy(_ policy: PolicyDefinition, _ blueprint: Blueprint, _ policyPath: String) {
        name(policy.name, blueprint, "\(policyPath).name")
        for (roleIndex, role) in policy.roles.enumerated() where role != "public" {
            name(role, blueprint, "\(policyPath).roles[\(roleIndex)]")
        }
        sql(policy.using, blueprint, "\(policyPath).using")
        sql(policy.withCheck, blueprint, "\(policyPath).with_check")
        if policy.command == .insert && policy.using != nil {
            error("invalid_policy", "an INSERT policy takes only with_check (PostgreSQL refuses USING for INSERT)", blueprint, "\(policyPath).using")
        }
        if (policy.command == .select || policy.command == .delete) && policy.withCheck != nil {
            error("invalid_policy", "a \(policy.command.rawValue.uppercased()) policy takes only using (PostgreSQL refuses WITH CHECK for it)", blueprint, "\(policyPath).with_check")
        }
        if policy.using == nil && policy.withCheck == nil {
            error("invalid_policy", "policy '\(policy.name)' needs using or with_check", blueprint, policyPath)
        }
    }

    /// `storage`: bucket ids and policy names once across all files; bucket settings in range
    /// (docs/blueprints.md, Storage).
    mutating func storage(_ storage: StorageDefinition, _ blueprint: Blueprint) {
        for (index, bucket) in storage.buckets.enumerated() {
            let path = "$.storage.buckets[\(index)]"
            // Supabase's Storage API takes ids of letters, digits and `!-_.*'() &$@=;:+,?` (its
            // bucket name rule); a slash or a control character can never be a bucket.
            if bucket.id.isEmpty || bucket.id.utf8.count > 100 || bucket.id.contains(where: { $0 == "/" || $0.isNewline || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true })
                || bucket.id.unicodeScalars.contains(where: { !$0.isASCII }) {
                error("invalid_name", "bucket id '\(bucket.id)' is not a Storage bucket id: 1 to 100 ASCII characters, no slash, no control character", blueprint, "\(path).id")
            }
            if let first = buckets[bucket.id] {
                error("duplicate_bucket", "bucket '\(bucket.id)' is defined twice: at \(first.location) and here", blueprint, "\(path).id")
            } else {
                buckets[bucket.id] = bucket.origin
            }
            if let limit = bucket.fileSizeLimit, limit <= 0 {
                error("invalid_value", "file_size_limit is a number of bytes above 0 (or null for no limit), found \(limit)", blueprint, "\(path).file_size_limit")
            }
            for (typeIndex, type) in (bucket.allowedMimeTypes ?? []).enumerated()
            where type.isEmpty || type.contains(where: { $0.isWhitespace || $0 == "," || $0.asciiValue == nil }) {
                error("invalid_value", "'\(type)' is not a MIME type (like image/png or image/*)", blueprint, "\(path).allowed_mime_types[\(typeIndex)]")
            }
        }
        for (index, policy) in storage.policies.enumerated() {
            let path = "$.storage.policies[\(index)]"
            if let first = storagePolicies[policy.name] {
                error("duplicate_policy", "policy '\(policy.name)' on storage.objects is defined twice: at \(first.location) and here", blueprint, "\(path).name")
            } else {
                storagePolicies[policy.name] = policy.origin
            }
            self.policy(policy, blueprint, path)
        }
    }

    /// Tables, sequences, indexes and the indexes behind primary keys and unique constraints
    /// share one namespace per schema; constraint names must be unique per table.
    mutating func relationNames() {
        var relations: [QualifiedName: String] = [:]
        for blueprint in blueprints {
            func claim(_ name: String, _ what: String, _ at: String) {
                let key = QualifiedName(schema: blueprint.schema, name: name)
                if let other = relations[key] {
                    error("duplicate_name", "\(what) name '\(name)' is already used by \(other) in schema \(blueprint.schema)", blueprint, at)
                } else {
                    relations[key] = "\(what) at \(blueprint.origin(at: at).location)"
                }
            }
            for (index, sequence) in blueprint.sequences.enumerated() { claim(sequence.name, "sequence", "$.sequences[\(index)].name") }
            for (index, view) in blueprint.views.enumerated() {
                claim(view.name, "view", "$.views[\(index)].name")
                for (position, definition) in view.indexes.enumerated() {
                    claim(DesiredCatalog.index(definition, of: view.name).name, "index", "$.views[\(index)].indexes[\(position)]")
                }
            }
            for (tableIndex, table) in blueprint.tables.enumerated() {
                let path = "$.tables[\(tableIndex)]"
                guard tables[QualifiedName(schema: blueprint.schema, name: table.name)]?.table.origin == table.origin else { continue }
                claim(table.name, "table", "\(path).name")
                if table.primaryKey != nil || table.columns.contains(where: \.primaryKey) {
                    claim(Naming.primaryKey(table: table.name), "primary key", "\(path).primary_key")
                }
                for (index, column) in table.columns.enumerated() where column.unique {
                    claim(Naming.unique(table: table.name, columns: [column.name]), "unique constraint", "\(path).columns[\(index)].unique")
                }
                for (index, unique) in table.unique.enumerated() {
                    claim(unique.name ?? Naming.unique(table: table.name, columns: unique.columns), "unique constraint", "\(path).unique[\(index)]")
                }
                for (index, definition) in table.indexes.enumerated() {
                    let name = definition.name ?? (definition.columns.map { Naming.index(table: table.name, columns: $0) }
                        ?? Naming.expressionIndex(table: table.name, expression: definition.expression ?? ""))
                    claim(name, "index", "\(path).indexes[\(index)]")
                }
                var constraints: Set<String> = []
                var ordinal = 0
                let names = table.checks.map { check -> String in
                    defer { ordinal += 1 }
                    return check.name ?? Naming.tableCheck(table: table.name, ordinal: ordinal)
                } + table.foreignKeys.map { $0.name ?? Naming.foreignKey(table: table.name, columns: $0.columns) }
                    + table.columns.filter { $0.check != nil }.map { Naming.columnCheck(table: table.name, column: $0.name) }
                    + table.columns.filter { $0.references != nil }.map { Naming.foreignKey(table: table.name, columns: [$0.name]) }
                for name in names where !constraints.insert(name).inserted {
                    error("duplicate_constraint", "constraint name '\(name)' is used twice on table '\(table.name)'", blueprint, path)
                }
            }
        }
    }
}
