import Foundation
import Yams

/// An ordered document tree, written as YAML or JSON with keys in the order given.
public indirect enum DocumentValue: Equatable, Sendable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case list([DocumentValue])
    case map([(String, DocumentValue)])

    public static func == (lhs: DocumentValue, rhs: DocumentValue) -> Bool { lhs.json(indent: 0) == rhs.json(indent: 0) }

    /// Pretty JSON, two spaces per level, keys in order.
    public func json(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch self {
        case .string(let text):
            var output = ""
            JSONValue.escape(text, into: &output)
            return output
        case .bool(let value): return value ? "true" : "false"
        case .int(let value): return String(value)
        case .list(let items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy({ if case .string = $0 { return true } else { return false } }) {
                return "[" + items.map { $0.json() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { pad + $0.json(indent: indent + 1) }.joined(separator: ",\n") + "\n\(closing)]"
        case .map(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { pad + DocumentValue.string($0.0).json() + ": " + $0.1.json(indent: indent + 1) }.joined(separator: ",\n") + "\n\(closing)}"
        }
    }

    var node: Node {
        switch self {
        // An empty string written plain would read back as null (`search_path: ""` is not absent).
        case .string(let text): return Node.scalar(.init(text, Tag(.str), text.isEmpty ? .singleQuoted : .any))
        case .bool(let value): return Node.scalar(.init(value ? "true" : "false", Tag(.bool), .plain))
        case .int(let value): return Node.scalar(.init(String(value), Tag(.int), .plain))
        case .list(let items):
            let flow = items.allSatisfy { if case .string = $0 { return true } else { return false } } && !items.isEmpty
            return Node.sequence(.init(items.map(\.node), Tag(.seq), flow ? .flow : .block))
        case .map(let pairs):
            return Node.mapping(.init(pairs.map { (Node.scalar(.init($0.0, Tag(.str), .plain)), $0.1.node) }, Tag(.map), .block))
        }
    }

    /// YAML text.
    /// - Throws: Yams' emitter error (it does not happen for these trees).
    public func yaml() throws -> String {
        try Yams.serialize(node: node, width: -1, allowUnicode: true, sortKeys: false)
    }
}

/// Writes blueprints that describe a live schema, so a team can adopt Driftless for the
/// database it already has: `validate` passes them and `plan` against the same database finds
/// nothing to do.
public enum BlueprintWriter {
    /// One document for the enums (when there are any) and one per table, by file name; a
    /// schema with neither gets one document that only names it (so applying it manages the
    /// schema, and drops what it no longer has). `roles`: roles whose privileges every table
    /// states, even when they have none (the API roles of a Supabase project), so a revoked
    /// privilege is imported as revoked.
    ///
    /// `tenantTables`: tables written as tenant tables (`tenant_policies` left to `auto`, the four
    /// generated policies left out), because their live policies are what Driftless generates
    /// (the caller proves it by planning them: `import` in the CLI). Every other table keeps
    /// its policies exactly, with `tenant_policies: false`.
    ///
    /// `applyingRole`: the role that will apply the blueprints (the connecting role); a table
    /// owned by another role says `owner:`.
    public static func documents(
        _ catalog: Catalog, schema: String, tenantID: String, roles: Set<String> = [], tenantTables: Set<QualifiedName> = [],
        applyingRole: String? = nil
    ) -> [(file: String, document: DocumentValue)] {
        var documents: [(String, DocumentValue)] = []
        func header() -> [(String, DocumentValue)] {
            var pairs: [(String, DocumentValue)] = [("version", .int(1)), ("tenant_id", .string(tenantID))]
            if schema != "public" { pairs.append(("schema", .string(schema))) }
            return pairs
        }
        let enums = catalog.enums.values.filter { $0.name.schema == schema }.sorted { $0.name < $1.name }
        if !enums.isEmpty {
            documents.append(("enums", .map(header() + [("enums", .list(enums.map {
                .map([("name", .string($0.name.name)), ("values", .list($0.values.map(DocumentValue.string)))])
            }))])))
        }
        let sequences = catalog.sequences.values.filter { $0.name.schema == schema }.sorted { $0.name < $1.name }
        if !sequences.isEmpty {
            documents.append(("sequences", .map(header() + [("sequences", .list(sequences.map {
                sequence($0, roles: roles, applyingRole: applyingRole)
            }))])))
        }
        let functions = catalog.functions.values.filter { $0.name.schema == schema }.sorted { $0.key < $1.key }
        if !functions.isEmpty {
            documents.append(("functions", .map(header() + [("functions", .list(functions.map {
                function($0, roles: roles, applyingRole: applyingRole)
            }))])))
        }
        // Triggers of this schema's tables, and triggers elsewhere (auth.users) calling its functions.
        let triggers = catalog.triggers.values.filter {
            $0.table.schema == schema || ($0.function.schema == schema && catalog.tables[$0.table] == nil)
        }.sorted { $0.key < $1.key }
        if !triggers.isEmpty {
            documents.append(("triggers", .map(header() + [("triggers", .list(triggers.map { trigger($0, schema: schema) }))])))
        }
        let views = catalog.views.values.filter { $0.name.schema == schema }.sorted { $0.name < $1.name }
        if !views.isEmpty {
            documents.append(("views", .map(header() + [("views", .list(views.map { view($0, roles: roles, applyingRole: applyingRole) }))])))
        }
        // Extensions of this schema; those of `extensions` (Supabase's place for them) go with `public`.
        let extensions = catalog.extensions.values.filter { $0.schema == schema || (schema == "public" && $0.schema == "extensions") }
            .sorted { $0.name < $1.name }
        if !extensions.isEmpty {
            documents.append(("extensions", .map(header() + [("extensions", .list(extensions.map {
                .map([("name", .string($0.name)), ("schema", .string($0.schema))] + ($0.version.map { [("version", .string($0))] } ?? []))
            }))])))
        }
        var files = FileNames()
        for table in catalog.tables.values.filter({ $0.name.schema == schema }).sorted(by: { $0.name < $1.name }) {
            let written = self.table(table, schema: schema, roles: roles, tenant: tenantTables.contains(table.name), applyingRole: applyingRole)
            documents.append((files.name(for: table.name.name), .map(header() + [("tables", .list([written]))])))
        }
        if documents.isEmpty {
            var only = header()
            if schema == "public" { only.append(("schema", .string(schema))) }
            documents.append(("schema", .map(only + [("tables", .list([]))])))
        }
        return documents
    }

    /// File names for tables: any name PostgreSQL allows becomes a name every file system keeps
    /// and the loader reads (no `/`, no leading `.` or `_`, which it skips), distinct even where
    /// case does not count (`User` and `user`).
    struct FileNames {
        private var taken: Set<String> = ["enums", "schema", "sequences", "functions", "triggers", "extensions", "views", "storage"]

        mutating func name(for table: String) -> String {
            var base = String(table.unicodeScalars.map { scalar -> Character in
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" ? Character(scalar) : "_"
            })
            if base.hasPrefix("_") || base.hasPrefix("-") { base = "t" + base }
            while base.utf8.count > 200 { base.removeLast() }
            var candidate = base
            var counter = 2
            while taken.contains(candidate.lowercased()) {
                candidate = "\(base)-\(counter)"
                counter += 1
            }
            taken.insert(candidate.lowercased())
            return candidate
        }
    }

    /// A policy as a blueprint writes it.
    static func policy(_ policy: Policy) -> DocumentValue {
        var fields: [(String, DocumentValue)] = [
            ("name", .string(policy.name)), ("command", .string(policy.command.rawValue)),
            ("roles", .list(policy.roles.sorted().map(DocumentValue.string))),
        ]
        if !policy.permissive { fields.append(("permissive", .bool(false))) }
        if let using = policy.using { fields.append(("using", .string(using))) }
        if let withCheck = policy.withCheck { fields.append(("with_check", .string(withCheck))) }
        if let comment = policy.comment { fields.append(("comment", .string(comment))) }
        return .map(fields)
    }

    /// The `storage` document (docs/blueprints.md, Storage): every bucket with its settings and
    /// every policy on `storage.objects`; nil when there are none.
    public static func storage(_ storage: StorageState, tenantID: String) -> DocumentValue? {
        guard !storage.buckets.isEmpty || !storage.policies.isEmpty else { return nil }
        var block: [(String, DocumentValue)] = []
        if !storage.buckets.isEmpty {
            block.append(("buckets", .list(storage.buckets.values.sorted { $0.id < $1.id }.map { bucket in
                var fields: [(String, DocumentValue)] = [("id", .string(bucket.id))]
                if bucket.isPublic { fields.append(("public", .bool(true))) }
                if let limit = bucket.fileSizeLimit { fields.append(("file_size_limit", .int(Int(limit)))) }
                if let types = bucket.allowedMimeTypes { fields.append(("allowed_mime_types", .list(types.map(DocumentValue.string)))) }
                return .map(fields)
            })))
        }
        if !storage.policies.isEmpty {
            block.append(("policies", .list(storage.policies.values.sorted { $0.name < $1.name }.map(policy))))
        }
        return .map([("version", .int(1)), ("tenant_id", .string(tenantID)), ("storage", .map(block))])
    }

    /// The four policies `tenancy` generates for `table`, by name.
    public static func generatedPolicyNames(_ table: String) -> Set<String> {
        Set(PolicyCommand.allCases.filter { $0 != .all }.map { Naming.tenantPolicy(table: table, command: $0) })
    }

    static func table(_ table: Table, schema: String, roles: Set<String> = [], tenant: Bool = false, applyingRole: String? = nil) -> DocumentValue {
        var pairs: [(String, DocumentValue)] = [("name", .string(table.name.name))]
        if let comment = table.comment { pairs.append(("comment", .string(comment))) }
        if let owner = table.owner, let applyingRole, owner != applyingRole { pairs.append(("owner", .string(owner))) }
        if let key = table.partitionKey.flatMap(PartitionKey.init(server:)) { pairs.append(("partition_by", partitionBy(key))) }
        if let parent = table.partitionOf {
            // A partition takes its columns from its parent, in the same schema (others are unsupported: TableKind.setAsideUnrepresentablePartitions).
            let bound = table.partitionBound == "DEFAULT" ? "default" : table.partitionBound ?? "default"
            pairs.append(("partition_of", .map([("table", .string(parent.name)), ("bound", .string(bound))])))
        }
        let primaryKey = table.constraints.values.first { $0.kind == .primaryKey }
        if table.partitionOf == nil { pairs.append(("columns", .list(table.columns.map { column in
            var fields: [(String, DocumentValue)] = [("name", .string(column.name)), ("type", .string(column.type))]
            let inKey = primaryKey?.columns.contains(column.name) == true
            if column.notNull && !inKey && column.identity == nil { fields.append(("nullable", .bool(false))) }
            if let value = column.defaultExpression { fields.append(("default", .string(value))) }
            if let identity = column.identity { fields.append(("identity", .string(identity.rawValue))) }
            if let value = column.generated { fields.append(("generated", .string(value))) }
            if let comment = column.comment { fields.append(("comment", .string(comment))) }
            return .map(fields)
        }))) }
        if let primaryKey { pairs.append(("primary_key", .list(primaryKey.columns.map(DocumentValue.string)))) }
        let constraints = table.constraints.values.sorted { $0.name < $1.name }
        let uniques = constraints.filter { $0.kind == .unique }
        if !uniques.isEmpty {
            pairs.append(("unique", .list(uniques.map {
                .map([("columns", .list($0.columns.map(DocumentValue.string))), ("name", .string($0.name))] + deferral($0.deferral))
            })))
        }
        let checks = constraints.filter { $0.kind == .check }
        if !checks.isEmpty {
            pairs.append(("checks", .list(checks.map { check in
                var fields: [(String, DocumentValue)] = [("name", .string(check.name)), ("expression", .string(check.expression ?? "true"))]
                if !check.validated { fields.append(("valid", .bool(false))) }
                if check.noInherit { fields.append(("no_inherit", .bool(true))) }
                return .map(fields)
            })))
        }
        let foreignKeys = constraints.filter { $0.kind == .foreignKey }
        if !foreignKeys.isEmpty {
            pairs.append(("foreign_keys", .list(foreignKeys.map { fk in
                let target = fk.referencedTable.map { reference($0, from: schema) } ?? .string("")
                var fields: [(String, DocumentValue)] = [
                    ("name", .string(fk.name)), ("columns", .list(fk.columns.map(DocumentValue.string))),
                    ("references", .map([("table", target), ("columns", .list((fk.referencedColumns ?? []).map(DocumentValue.string)))])),
                ]
                if let onDelete = fk.onDelete, onDelete != .noAction { fields.append(("on_delete", .string(onDelete.rawValue))) }
                if let onUpdate = fk.onUpdate, onUpdate != .noAction { fields.append(("on_update", .string(onUpdate.rawValue))) }
                if !fk.validated { fields.append(("valid", .bool(false))) }
                return .map(fields + deferral(fk.deferral))
            })))
        }
        let columnNames = Set(table.columns.map(\.name))
        let indexes = self.indexes(table.indexes, isColumn: columnNames.contains)
        if !indexes.isEmpty { pairs.append(("indexes", .list(indexes))) }
        var rls: [(String, DocumentValue)] = [("enabled", .bool(table.rlsEnabled))]
        if table.rlsForced { rls.append(("force", .bool(true))) }
        // Imported policies are kept exactly as they are: no generated tenant policies on top,
        // unless the table is a tenant table whose generated policies these are.
        let generated = tenant ? generatedPolicyNames(table.name.name) : []
        if !tenant { rls.append(("tenant_policies", .bool(false))) }
        let policies = table.policies.values.filter { !generated.contains($0.name) }.sorted { $0.name < $1.name }
        if !policies.isEmpty { rls.append(("policies", .list(policies.map(policy)))) }
        // Realtime as it is: membership only when published (absent leaves it), the replica
        // identity when it is not the default.
        switch table.replicaIdentity {
        case .index(let index)?: pairs.append(("replica_identity", .map([("index", .string(index))])))
        case let identity? where identity != .default: pairs.append(("replica_identity", .string(identity.description)))
        default: break
        }
        if table.realtime == true { pairs.append(("realtime", .bool(true))) }
        pairs.append(("rls", .map(rls)))
        // Privileges as they are: every grantee but the owner (who holds them all anyway), and
        // `roles` even with none.
        let byRole = table.grants ?? [:]
        let grantees = Set(byRole.keys).union(roles).subtracting(table.owner.map { [$0] } ?? [])
        if !grantees.isEmpty {
            pairs.append(("grants", .map(grantees.sorted().map { role in
                (role, .list((byRole[role] ?? []).sorted().map(DocumentValue.string)))
            })))
        }
        return .map(pairs)
    }

    /// A sequence with the settings that differ from PostgreSQL's defaults, its owning column,
    /// owner and privileges (as for tables: every grantee but the owner, and `roles` even with none).
    static func sequence(_ sequence: SequenceObject, roles: Set<String>, applyingRole: String?) -> DocumentValue {
        let defaults = SequenceObject(name: sequence.name, type: sequence.type, increment: sequence.increment)
        var pairs: [(String, DocumentValue)] = [("name", .string(sequence.name.name))]
        if sequence.type != "bigint" { pairs.append(("type", .string(sequence.type))) }
        let numbers: [(String, Int64, Int64)] = [
            ("start", sequence.start, defaults.start), ("increment", sequence.increment, 1), ("min", sequence.min, defaults.min),
            ("max", sequence.max, defaults.max), ("cache", sequence.cache, 1),
        ]
        for (key, value, standard) in numbers where value != standard { pairs.append((key, .int(Int(value)))) }
        if sequence.cycle { pairs.append(("cycle", .bool(true))) }
        if let owner = sequence.ownedBy {
            pairs.append(("owned_by", owner.table.name.contains(".") || owner.column.contains(".")
                ? .map([("table", .string(owner.table.name)), ("column", .string(owner.column))])
                : .string("\(owner.table.name).\(owner.column)")))
        }
        if let owner = sequence.owner, let applyingRole, owner != applyingRole, sequence.ownedBy == nil { pairs.append(("owner", .string(owner))) }
        let byRole = sequence.grants ?? [:]
        let grantees = Set(byRole.keys).union(roles).subtracting(sequence.owner.map { [$0] } ?? [])
        if !grantees.isEmpty {
            pairs.append(("grants", .map(grantees.sorted().map { role in
                (role, .list((byRole[role] ?? []).sorted().map(DocumentValue.string)))
            })))
        }
        return .map(pairs)
    }

    /// A function with every attribute that differs from the defaults, its search_path, owner
    /// and EXECUTE privileges (every grantee but the owner, and `roles` even without; PUBLIC when
    /// it holds EXECUTE, since a blueprint's `grants` revoke it otherwise).
    static func function(_ function: FunctionObject, roles: Set<String>, applyingRole: String?) -> DocumentValue {
        var pairs: [(String, DocumentValue)] = [("name", .string(function.name.name))]
        let listed = function.returnsTable ? function.arguments.filter { $0.mode != .out } : function.arguments
        if !listed.isEmpty {
            pairs.append(("arguments", .list(listed.map { argument in
                var fields: [(String, DocumentValue)] = []
                if let name = argument.name { fields.append(("name", .string(name))) }
                fields.append(("type", .string(argument.type)))
                if argument.mode != .in { fields.append(("mode", .string(argument.mode.rawValue))) }
                if let value = argument.defaultExpression { fields.append(("default", .string(value))) }
                return .map(fields)
            })))
        }
        if function.returnsTable {
            let columns = function.arguments.filter { $0.mode == .out }.map { "\(columnName($0.name ?? "")) \($0.type)" }
            pairs.append(("returns", .string("table (\(columns.joined(separator: ", ")))")))
        } else {
            pairs.append(("returns", .string(function.returnsSet ? "setof \(function.returnType)" : function.returnType)))
        }
        pairs.append(("language", .string(function.language)))
        if function.volatility != .volatile { pairs.append(("volatility", .string(function.volatility.rawValue))) }
        if function.security != .invoker { pairs.append(("security", .string(function.security.rawValue))) }
        if let path = function.configuredSearchPath { pairs.append(("search_path", .string(path == "\"\"" ? "" : path))) }
        if function.strict { pairs.append(("strict", .bool(true))) }
        if function.parallel != .unsafe { pairs.append(("parallel", .string(function.parallel.rawValue))) }
        pairs.append(("body", .string(function.body)))
        if let owner = function.owner, let applyingRole, owner != applyingRole { pairs.append(("owner", .string(owner))) }
        let byRole = function.grants ?? [:]
        let grantees = Set(byRole.keys).union(roles).subtracting(function.owner.map { [$0] } ?? [])
        if !grantees.isEmpty {
            pairs.append(("grants", .map(grantees.sorted().filter { $0 != "public" || byRole[$0] != nil }.map { role in
                (role, .list((byRole[role] ?? []).sorted().map(DocumentValue.string)))
            })))
        }
        return .map(pairs)
    }

    /// A column name of `returns: table (...)` as the parser reads it back: bare when it
    /// comes back as itself (`id`), else quoted (`"Total"`, `"order"`).
    static func columnName(_ name: String) -> String {
        SQLSplit.columns("\(name) int")?.first?.name == name ? name : quoteIdentifier(name)
    }

    /// The indexes of a table or materialized view; `isColumn` says which keys are its columns.
    /// An index whose keys mix expressions is left out: the format cannot say it.
    static func indexes(_ indexes: [String: Index], isColumn: (String) -> Bool) -> [DocumentValue] {
        indexes.values.sorted { $0.name < $1.name }.compactMap { index -> DocumentValue? in
            var fields: [(String, DocumentValue)] = []
            let keys = index.keys.map { $0.hasPrefix("\"") && $0.hasSuffix("\"") ? String($0.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"") : $0 }
            if keys.allSatisfy(isColumn) {
                fields.append(("columns", .list(keys.enumerated().map { position, key in
                    let options = index.options(at: position)
                    guard !options.isDefault else { return .string(key) }
                    var parts: [(String, DocumentValue)] = [("name", .string(key))]
                    if options.descending { parts.append(("order", .string("desc"))) }
                    if let nullsFirst = options.nullsFirst { parts.append(("nulls", .string(nullsFirst ? "first" : "last"))) }
                    if let opclass = options.opclass { parts.append(("opclass", .string(opclass))) }
                    if let collation = options.collation { parts.append(("collation", .string(collation))) }
                    return .map(parts)
                })))
            } else if keys.count == 1 && index.options.isEmpty {
                fields.append(("expression", .string(keys[0])))
            } else {
                return nil  // several keys mixing expressions: the format cannot say it
            }
            fields.append(("name", .string(index.name)))
            if index.unique { fields.append(("unique", .bool(true))) }
            if index.method != .btree { fields.append(("using", .string(index.method.rawValue))) }
            if !index.include.isEmpty { fields.append(("include", .list(index.include.map(DocumentValue.string)))) }
            if !index.storage.isEmpty {
                fields.append(("with", .map(index.storage.keys.sorted().map { ($0, .string(index.storage[$0]!)) })))
            }
            if index.nullsNotDistinct { fields.append(("nulls_not_distinct", .bool(true))) }
            if let predicate = index.predicate { fields.append(("where", .string(predicate))) }
            return .map(fields)
        }
    }

    /// A view with its options, comment, owner and privileges (as for tables).
    static func view(_ view: ViewObject, roles: Set<String>, applyingRole: String?) -> DocumentValue {
        var pairs: [(String, DocumentValue)] = [("name", .string(view.name.name)), ("query", .string(view.query))]
        if view.materialized {
            pairs.append(("materialized", .bool(true)))
        } else if !view.securityInvoker {
            pairs.append(("security_invoker", .bool(false)))
        }
        if view.securityBarrier { pairs.append(("security_barrier", .bool(true))) }
        if let check = view.checkOption { pairs.append(("check_option", .string(check.rawValue))) }
        // Whether a materialized view is populated is data: with_data is left at its default.
        let indexes = self.indexes(view.indexes) { key in view.columns.contains { $0.hasPrefix(key + " ") } }
        if !indexes.isEmpty { pairs.append(("indexes", .list(indexes))) }
        if let comment = view.comment { pairs.append(("comment", .string(comment))) }
        if let owner = view.owner, let applyingRole, owner != applyingRole { pairs.append(("owner", .string(owner))) }
        let byRole = view.grants ?? [:]
        let grantees = Set(byRole.keys).union(roles).subtracting(view.owner.map { [$0] } ?? [])
        if !grantees.isEmpty {
            pairs.append(("grants", .map(grantees.sorted().map { role in (role, .list((byRole[role] ?? []).sorted().map(DocumentValue.string))) })))
        }
        return .map(pairs)
    }

    /// A trigger; its table and function named relative to `schema`.
    static func trigger(_ trigger: TriggerObject, schema: String) -> DocumentValue {
        func reference(_ name: QualifiedName) -> DocumentValue {
            if name.schema == schema && !name.name.contains(".") { return .string(name.name) }
            if name.schema.contains(".") || name.name.contains(".") { return .map([("schema", .string(name.schema)), ("name", .string(name.name))]) }
            return .string(name.description)
        }
        var pairs: [(String, DocumentValue)] = [("name", .string(trigger.name)), ("table", reference(trigger.table)),
                                                ("timing", .string(trigger.timing.rawValue))]
        pairs.append(("events", .list(trigger.events.map { event in
            event == .update && !trigger.updateColumns.isEmpty
                ? .map([("update", .list(trigger.updateColumns.map(DocumentValue.string)))]) : .string(event.rawValue)
        })))
        if trigger.level != .row { pairs.append(("level", .string(trigger.level.rawValue))) }
        if let when = trigger.when { pairs.append(("when", .string(when))) }
        pairs.append(("function", .string(trigger.function.schema == schema ? trigger.function.name : trigger.function.description)))
        if !trigger.arguments.isEmpty { pairs.append(("arguments", .list(trigger.arguments.map(DocumentValue.string)))) }
        if trigger.enabled != .origin { pairs.append(("enabled", .string(trigger.enabled.rawValue))) }
        return .map(pairs)
    }

    /// Index keys whose expressions the blueprint format cannot hold (skipped, with a warning).
    public static func skippedIndexes(_ catalog: Catalog, schema: String) -> [String] {
        catalog.tables.values.filter { $0.name.schema == schema }.flatMap { table -> [String] in
            let columns = Set(table.columns.map(\.name))
            return table.indexes.values.filter { index in
                (index.keys.count > 1 || !index.options.isEmpty)
                    && !index.keys.allSatisfy { columns.contains($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
            }.map { "\(table.name).\($0.name)" }
        }.sorted()
    }

    /// `deferrable:` and `initially_deferred:` when the constraint can be deferred.
    private static func deferral(_ deferral: Deferral) -> [(String, DocumentValue)] {
        guard deferral.deferrable else { return [] }
        return [("deferrable", .bool(true))] + (deferral.initiallyDeferred ? [("initially_deferred", .bool(true))] : [])
    }

    /// `partition_by` as the blueprint writes it, from the server's text of the key.
    private static func partitionBy(_ key: PartitionKey) -> DocumentValue {
        var fields: [(String, DocumentValue)] = [("strategy", .string(key.strategy.rawValue))]
        if let columns = key.columns { fields.append(("columns", .list(columns.map(DocumentValue.string)))) }
        if let expression = key.expression { fields.append(("expression", .string(expression))) }
        return .map(fields)
    }

    /// A referenced table as blueprints write it (docs/blueprints.md, Names): `name` in the same
    /// schema, `schema.name` elsewhere, and `{schema, name}` when a part has a dot or starts with
    /// a double quote and the short forms would read differently.

    private static func reference(_ table: QualifiedName, from schema: String) -> DocumentValue {
        let plain = { (part: String) in !part.contains(".") && !part.hasPrefix("\"") }
        guard plain(table.schema), plain(table.name) else {
            return .map([("schema", .string(table.schema)), ("name", .string(table.name))])
        }
        return .string(table.schema == schema ? table.name : table.description)
    }
}
