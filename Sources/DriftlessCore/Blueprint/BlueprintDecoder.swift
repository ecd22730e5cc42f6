/// Reads blueprint documents (YAML or JSON text) into `Blueprint` values, collecting every
/// structural problem (unknown fields, wrong kinds of value, missing fields) instead of
/// stopping at the first. Semantic rules are `BlueprintValidator`'s.
public enum BlueprintDecoder {
    /// Keys accepted only on the HTTP API (`POST /v1/blueprints`), never in files.
    public static let apiOnlyKeys: Set<String> = ["trigger_id", "dry_run", "allow"]
    /// Keys accepted only in files, never on the HTTP API: a function or a trigger runs code
    /// with its owner's rights (the applying role, which bypasses RLS on Supabase), so does a
    /// view that is not security_invoker, and an extension is the whole database's
    /// (docs/security.md, API callers). Storage policies govern every tenant's files, and a
    /// bucket is the project's.
    public static let fileOnlyKeys: Set<String> = ["functions", "triggers", "extensions", "views", "storage"]

    /// Decodes one document. Returns `nil` (with diagnostics) when it is unusable.
    public static func decode(
        file: String, text: String, allowAPIKeys: Bool = false
    ) -> (blueprint: Blueprint?, diagnostics: [Diagnostic], json: JSONValue?) {
        let root: SourceNode?
        do {
            root = try SourceParser.parse(text)
        } catch let failure as SourceParseFailure {
            return (nil, [Diagnostic(
                code: failure.code, message: failure.message, file: file, line: failure.line,
                column: failure.column, path: "$")], nil)
        } catch {
            return (nil, [Diagnostic(code: "parse_error", message: "\(error)", file: file, path: "$")], nil)
        }
        var reader = Reader(file: file)
        guard let root else {
            reader.error("empty_document", "the file is empty; a blueprint needs at least `version` and `tenant_id`", path: "$", mark: nil)
            return (nil, reader.diagnostics, nil)
        }
        let blueprint = reader.document(root, allowAPIKeys: allowAPIKeys)
        return (blueprint, reader.diagnostics, root.json)
    }
}

/// Walks the node tree; every `read*` records the value's position by its JSON path.
private struct Reader {
    let file: String
    var diagnostics: [Diagnostic] = []
    var positions: [String: Position] = [:]

    init(file: String) { self.file = file }

    mutating func error(_ code: String, _ message: String, path: String, mark: SourceNode.Mark?) {
        diagnostics.append(Diagnostic(code: code, message: message, file: file, line: mark?.line, column: mark?.column, path: path))
    }

    func origin(_ path: String, _ node: SourceNode) -> Origin {
        Origin(file: file, line: node.mark?.line, column: node.mark?.column, path: path)
    }

    // MARK: - Generic readers

    /// The fields of a mapping, with unknown keys reported (with a suggestion for typos).
    mutating func fields(_ node: SourceNode, path: String, what: String, allowed: [String]) -> [String: SourceNode]? {
        guard case .mapping(let pairs, _) = node else {
            error("bad_value", "expected \(what) (a mapping), found \(node.kindName)", path: path, mark: node.mark)
            return nil
        }
        record(path, node)
        var result: [String: SourceNode] = [:]
        for pair in pairs {
            guard allowed.contains(pair.key) else {
                var message = "unknown field '\(pair.key)' in \(what)"
                if let suggestion = closest(pair.key, in: allowed) { message += "; did you mean '\(suggestion)'?" }
                error("unknown_field", message, path: "\(path).\(pair.key)", mark: pair.keyMark)
                continue
            }
            // A key with a null value (`comment:` or `renamed_from: null`) counts as absent.
            if pair.value.isNull { continue }
            result[pair.key] = pair.value
        }
        return result
    }

    mutating func record(_ path: String, _ node: SourceNode) {
        if let mark = node.mark { positions[path] = Position(line: mark.line, column: mark.column) }
    }

    mutating func string(_ node: SourceNode?, path: String) -> String? {
        guard let node else { return nil }
        record(path, node)
        guard case .scalar(let scalar) = node else {
            error("bad_value", "expected a string, found \(node.kindName)", path: path, mark: node.mark)
            return nil
        }
        return scalar.text
    }

    mutating func bool(_ node: SourceNode?, path: String) -> Bool? {
        guard let node else { return nil }
        record(path, node)
        if case .scalar(let scalar) = node {
            switch scalar.text {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        error("bad_value", "expected true or false, found \(describe(node))", path: path, mark: node.mark)
        return nil
    }

    mutating func list(_ node: SourceNode?, path: String) -> [SourceNode]? {
        guard let node else { return nil }
        record(path, node)
        guard case .sequence(let items, _) = node else {
            error("bad_value", "expected a list, found \(node.kindName)", path: path, mark: node.mark)
            return nil
        }
        return items
    }

    mutating func strings(_ node: SourceNode?, path: String) -> [String]? {
        guard let items = list(node, path: path) else { return nil }
        var values: [String] = []
        for (index, item) in items.enumerated() {
            if let value = string(item, path: "\(path)[\(index)]") { values.append(value) }
        }
        return values
    }

    mutating func choice<T: RawRepresentable>(_ node: SourceNode?, path: String, as: T.Type) -> T? where T.RawValue == String, T: CaseIterable {
        guard let text = string(node, path: path) else { return nil }
        if let value = T(rawValue: text) { return value }
        let options = T.allCases.map(\.rawValue)
        var message = "'\(text)' is not one of \(options.joined(separator: ", "))"
        if let suggestion = closest(text, in: options) { message += "; did you mean '\(suggestion)'?" }
        error("invalid_value", message, path: path, mark: node?.mark)
        return nil
    }

    func describe(_ node: SourceNode) -> String {
        if case .scalar(let scalar) = node { return "'\(scalar.text)'" }
        return node.kindName
    }

    // MARK: - The document

    mutating func document(_ node: SourceNode, allowAPIKeys: Bool) -> Blueprint? {
        var allowed = ["version", "tenant_id", "schema", "tenancy", "enums", "tables", "sequences", "functions", "triggers", "extensions", "views",
                       "storage"]
        if allowAPIKeys { allowed += BlueprintDecoder.apiOnlyKeys }
        if case .mapping(let pairs, _) = node, !allowAPIKeys {
            for pair in pairs where BlueprintDecoder.apiOnlyKeys.contains(pair.key) {
                error("api_only_field", "'\(pair.key)' is accepted only in a POST /v1/blueprints request, not in a blueprint file",
                      path: "$.\(pair.key)", mark: pair.keyMark)
            }
            allowed += BlueprintDecoder.apiOnlyKeys  // reported above; not again as unknown
        }
        if case .mapping(let pairs, _) = node, allowAPIKeys {
            for pair in pairs where BlueprintDecoder.fileOnlyKeys.contains(pair.key) {
                error("file_only_field", "'\(pair.key)' is accepted only in blueprint files from git, not in a POST /v1/blueprints request: it runs code with the applying role's rights",
                      path: "$.\(pair.key)", mark: pair.keyMark)
            }
        }
        guard let fields = fields(node, path: "$", what: "a blueprint document", allowed: allowed) else { return nil }

        var version = 0
        if let versionNode = fields["version"] {
            record("$.version", versionNode)
            if case .scalar(let scalar) = versionNode, scalar.kind == .int, let value = Int(scalar.text) {
                version = value
            } else {
                error("bad_value", "expected the number 1, found \(describe(versionNode))", path: "$.version", mark: versionNode.mark)
            }
        } else {
            error("missing_field", "missing required field 'version' (write `version: 1`)", path: "$.version", mark: node.mark)
        }
        let tenantID = string(fields["tenant_id"], path: "$.tenant_id")
        if fields["tenant_id"] == nil {
            error("missing_field", "missing required field 'tenant_id' (the UUID of the owner of this blueprint)", path: "$.tenant_id", mark: node.mark)
        }
        let schema = string(fields["schema"], path: "$.schema") ?? "public"
        let tenancy = fields["tenancy"].flatMap { tenancyBlock($0) } ?? Tenancy()

        var enums: [EnumDefinition] = []
        for (index, item) in (list(fields["enums"], path: "$.enums") ?? []).enumerated() {
            if let value = enumDefinition(item, path: "$.enums[\(index)]") { enums.append(value) }
        }
        var tables: [TableDefinition] = []
        for (index, item) in (list(fields["tables"], path: "$.tables") ?? []).enumerated() {
            if let value = table(item, path: "$.tables[\(index)]") { tables.append(value) }
        }
        var sequences: [SequenceDefinition] = []
        for (index, item) in (list(fields["sequences"], path: "$.sequences") ?? []).enumerated() {
            if let value = sequence(item, path: "$.sequences[\(index)]") { sequences.append(value) }
        }
        var blueprint = Blueprint(
            origin: origin("$", node), version: version, tenantID: tenantID ?? "", schema: schema,
            tenancy: tenancy, enums: enums, tables: tables, sequences: sequences, positions: Positions())
        for (index, item) in (list(fields["functions"], path: "$.functions") ?? []).enumerated() {
            if let value = function(item, path: "$.functions[\(index)]") { blueprint.functions.append(value) }
        }
        for (index, item) in (list(fields["triggers"], path: "$.triggers") ?? []).enumerated() {
            if let value = trigger(item, path: "$.triggers[\(index)]") { blueprint.triggers.append(value) }
        }
        for (index, item) in (list(fields["extensions"], path: "$.extensions") ?? []).enumerated() {
            if let value = extensionDefinition(item, path: "$.extensions[\(index)]") { blueprint.extensions.append(value) }
        }
        for (index, item) in (list(fields["views"], path: "$.views") ?? []).enumerated() {
            if let value = view(item, path: "$.views[\(index)]") { blueprint.views.append(value) }
        }
        if let node = fields["storage"] { blueprint.storage = storage(node) }
        blueprint.positions = Positions(positions)
        return blueprint
    }

    mutating func tenancyBlock(_ node: SourceNode) -> Tenancy? {
        let path = "$.tenancy"
        guard let fields = fields(node, path: path, what: "the tenancy block", allowed: ["column", "claim", "roles", "expression"]) else { return nil }
        var tenancy = Tenancy()
        tenancy.origin = origin(path, node)
        if let column = string(fields["column"], path: "\(path).column") { tenancy.column = column }
        if let claim = string(fields["claim"], path: "\(path).claim") { tenancy.claim = claim }
        if let roles = strings(fields["roles"], path: "\(path).roles") { tenancy.roles = roles }
        tenancy.expression = string(fields["expression"], path: "\(path).expression")
        return tenancy
    }

    mutating func enumDefinition(_ node: SourceNode, path: String) -> EnumDefinition? {
        guard let fields = fields(node, path: path, what: "an enum", allowed: ["name", "values"]) else { return nil }
        guard let name = required(fields, "name", path: path, what: "an enum", node: node) else { return nil }
        let values = strings(fields["values"], path: "\(path).values")
        if fields["values"] == nil {
            error("missing_field", "enum '\(name)' needs 'values' (a list of labels, in order)", path: "\(path).values", mark: node.mark)
        }
        return EnumDefinition(name: name, values: values ?? [], origin: origin(path, node))
    }

    mutating func required(_ fields: [String: SourceNode], _ key: String, path: String, what: String, node: SourceNode) -> String? {
        guard fields[key] != nil else {
            error("missing_field", "\(what) needs '\(key)'", path: "\(path).\(key)", mark: node.mark)
            return nil
        }
        return string(fields[key], path: "\(path).\(key)")
    }

    /// A reference to a table: `name`, `schema.name`, or the mapping `{schema, name}` for a
    /// name with a dot in it (kept as the quoted `"schema"."name"`, which
    /// `BlueprintValidator.qualify` reads back).
    mutating func tableReference(_ fields: [String: SourceNode], path: String, what: String, node: SourceNode) -> String? {
        guard let reference = fields["table"] else { return required(fields, "table", path: path, what: what, node: node) }
        guard case .mapping = reference else { return string(reference, path: "\(path).table") }
        let tablePath = "\(path).table"
        guard let parts = self.fields(reference, path: tablePath, what: "a table reference", allowed: ["schema", "name"]),
              let name = required(parts, "name", path: tablePath, what: "a table reference", node: reference)
        else { return nil }
        let schema = string(parts["schema"], path: "\(tablePath).schema")
        return schema.map { "\(quoteIdentifier($0)).\(quoteIdentifier(name))" } ?? quoteIdentifier(name)
    }

    mutating func table(_ node: SourceNode, path: String) -> TableDefinition? {
        let allowed = ["name", "renamed_from", "comment", "columns", "primary_key", "unique", "checks",
                       "foreign_keys", "indexes", "rls", "grants", "owner", "partition_by", "partition_of", "realtime", "replica_identity"]
        guard let fields = fields(node, path: path, what: "a table", allowed: allowed) else { return nil }
        guard let name = required(fields, "name", path: path, what: "a table", node: node) else { return nil }
        var columns: [ColumnDefinition] = []
        // A partition takes its columns from its parent.
        if fields["columns"] == nil && fields["partition_of"] == nil {
            error("missing_field", "table '\(name)' needs 'columns'", path: "\(path).columns", mark: node.mark)
        }
        for (index, item) in (list(fields["columns"], path: "\(path).columns") ?? []).enumerated() {
            if let column = column(item, path: "\(path).columns[\(index)]") { columns.append(column) }
        }
        var unique: [UniqueDefinition] = []
        for (index, item) in (list(fields["unique"], path: "\(path).unique") ?? []).enumerated() {
            let itemPath = "\(path).unique[\(index)]"
            guard let f = self.fields(item, path: itemPath, what: "a unique constraint", allowed: ["columns", "name", "deferrable", "initially_deferred"]) else { continue }
            let cols = strings(f["columns"], path: "\(itemPath).columns")
            if cols == nil { error("missing_field", "a unique constraint needs 'columns'", path: "\(itemPath).columns", mark: item.mark) }
            unique.append(UniqueDefinition(columns: cols ?? [], name: string(f["name"], path: "\(itemPath).name"), origin: origin(itemPath, item),
                                           deferral: deferral(f, path: itemPath)))
        }
        var checks: [CheckDefinition] = []
        for (index, item) in (list(fields["checks"], path: "\(path).checks") ?? []).enumerated() {
            let itemPath = "\(path).checks[\(index)]"
            guard let f = self.fields(item, path: itemPath, what: "a check constraint", allowed: ["name", "expression", "valid", "no_inherit"]) else { continue }
            guard let expression = required(f, "expression", path: itemPath, what: "a check constraint", node: item) else { continue }
            checks.append(CheckDefinition(name: string(f["name"], path: "\(itemPath).name"), expression: expression,
                                          valid: bool(f["valid"], path: "\(itemPath).valid") ?? true,
                                          noInherit: bool(f["no_inherit"], path: "\(itemPath).no_inherit") ?? false, origin: origin(itemPath, item)))
        }
        var foreignKeys: [ForeignKeyDefinition] = []
        for (index, item) in (list(fields["foreign_keys"], path: "\(path).foreign_keys") ?? []).enumerated() {
            if let fk = foreignKey(item, path: "\(path).foreign_keys[\(index)]") { foreignKeys.append(fk) }
        }
        let indexes = indexDefinitions(fields["indexes"], path: "\(path).indexes")
        let grants = self.grants(fields["grants"], path: "\(path).grants")
        return TableDefinition(
            name: name,
            renamedFrom: string(fields["renamed_from"], path: "\(path).renamed_from"),
            comment: string(fields["comment"], path: "\(path).comment"),
            columns: columns,
            primaryKey: strings(fields["primary_key"], path: "\(path).primary_key"),
            unique: unique, checks: checks, foreignKeys: foreignKeys, indexes: indexes,
            rls: fields["rls"].flatMap { rls($0, path: "\(path).rls") } ?? RLSDefinition(),
            grants: grants, origin: origin(path, node), owner: string(fields["owner"], path: "\(path).owner"),
            partitionBy: fields["partition_by"].flatMap { partitionKey($0, path: "\(path).partition_by") },
            partitionOf: fields["partition_of"].flatMap { partitionOf($0, path: "\(path).partition_of") },
            realtime: bool(fields["realtime"], path: "\(path).realtime"),
            replicaIdentity: fields["replica_identity"].flatMap { replicaIdentity($0, path: "\(path).replica_identity") })
    }

    /// `replica_identity:` as `default`, `full`, `nothing` or `{index: NAME}`.
    mutating func replicaIdentity(_ node: SourceNode, path: String) -> ReplicaIdentity? {
        record(path, node)
        if case .mapping = node {
            guard let fields = fields(node, path: path, what: "a replica identity", allowed: ["index"]),
                  let index = required(fields, "index", path: path, what: "a replica identity", node: node) else { return nil }
            return .index(index)
        }
        switch string(node, path: path) {
        case "default": return .default
        case "full": return .full
        case "nothing": return .nothing
        case nil: return nil
        case let other?:
            error("bad_value", "replica_identity must be default, full, nothing or {index: NAME}, found '\(other)'", path: path, mark: node.mark)
            return nil
        }
    }

    /// `grants:` as a mapping of role to a list of privileges (null or `[]`: none).
    mutating func grants(_ node: SourceNode?, path: String) -> [GrantDefinition]? {
        guard let node else { return nil }
        guard case .mapping(let pairs, _) = node else {
            error("bad_value", "expected grants as a mapping of role to privileges, found \(node.kindName)", path: path, mark: node.mark)
            return nil
        }
        record(path, node)
        var grants: [GrantDefinition] = []
        for pair in pairs {
            if pair.value.isNull {
                grants.append(GrantDefinition(role: pair.key, privileges: []))
            } else if let privileges = strings(pair.value, path: "\(path).\(pair.key)") {
                grants.append(GrantDefinition(role: pair.key, privileges: privileges))
            }
        }
        return grants
    }

    /// A whole number (a YAML or JSON integer) that fits 64 bits.
    mutating func integer(_ node: SourceNode?, path: String) -> Int64? {
        guard let node else { return nil }
        record(path, node)
        if case .scalar(let scalar) = node, scalar.kind == .int, let value = Int64(scalar.text) { return value }
        error("bad_value", "expected a whole number between -9223372036854775808 and 9223372036854775807, found \(describe(node))",
              path: path, mark: node.mark)
        return nil
    }

    mutating func sequence(_ node: SourceNode, path: String) -> SequenceDefinition? {
        let allowed = ["name", "type", "start", "increment", "min", "max", "cache", "cycle", "owned_by", "grants", "owner"]
        guard let fields = fields(node, path: path, what: "a sequence", allowed: allowed) else { return nil }
        guard let name = required(fields, "name", path: path, what: "a sequence", node: node) else { return nil }
        var ownedBy: SequenceDefinition.OwnedBy?
        if let owner = fields["owned_by"] {
            let ownerPath = "\(path).owned_by"
            if case .mapping = owner {
                if let parts = self.fields(owner, path: ownerPath, what: "owned_by", allowed: ["table", "column"]),
                   let table = required(parts, "table", path: ownerPath, what: "owned_by", node: owner),
                   let column = required(parts, "column", path: ownerPath, what: "owned_by", node: owner) {
                    ownedBy = SequenceDefinition.OwnedBy(table: table, column: column)
                }
            } else if let text = string(owner, path: ownerPath) {
                if let dot = text.lastIndex(of: "."), dot != text.startIndex, text.index(after: dot) != text.endIndex {
                    ownedBy = SequenceDefinition.OwnedBy(table: String(text[..<dot]), column: String(text[text.index(after: dot)...]))
                } else {
                    error("invalid_value", "owned_by '\(text)' must be table.column (or {table, column} for names with dots)",
                          path: ownerPath, mark: owner.mark)
                }
            }
        }
        return SequenceDefinition(
            name: name, type: string(fields["type"], path: "\(path).type"),
            start: integer(fields["start"], path: "\(path).start"), increment: integer(fields["increment"], path: "\(path).increment"),
            min: integer(fields["min"], path: "\(path).min"), max: integer(fields["max"], path: "\(path).max"),
            cache: integer(fields["cache"], path: "\(path).cache"), cycle: bool(fields["cycle"], path: "\(path).cycle"),
            ownedBy: ownedBy, grants: grants(fields["grants"], path: "\(path).grants"),
            owner: string(fields["owner"], path: "\(path).owner"), origin: origin(path, node))
    }

    mutating func function(_ node: SourceNode, path: String) -> FunctionDefinition? {
        let allowed = ["name", "arguments", "returns", "language", "volatility", "security", "search_path", "strict", "parallel",
                       "body", "grants", "owner"]
        guard let fields = fields(node, path: path, what: "a function", allowed: allowed) else { return nil }
        guard let name = required(fields, "name", path: path, what: "a function", node: node) else { return nil }
        var arguments: [FunctionDefinition.Argument] = []
        for (index, item) in (list(fields["arguments"], path: "\(path).arguments") ?? []).enumerated() {
            let argumentPath = "\(path).arguments[\(index)]"
            guard let parts = self.fields(item, path: argumentPath, what: "an argument", allowed: ["name", "type", "mode", "default"]),
                  let type = required(parts, "type", path: argumentPath, what: "an argument", node: item) else { continue }
            arguments.append(FunctionDefinition.Argument(
                name: string(parts["name"], path: "\(argumentPath).name"), type: type,
                mode: choice(parts["mode"], path: "\(argumentPath).mode", as: FunctionObject.Argument.Mode.self),
                defaultExpression: parts["default"].flatMap { $0.isNull ? nil : string($0, path: "\(argumentPath).default") }))
        }
        let returns = required(fields, "returns", path: path, what: "a function", node: node)
        let language = required(fields, "language", path: path, what: "a function", node: node)
        let body = required(fields, "body", path: path, what: "a function", node: node)
        let searchPath = fields["search_path"].flatMap { $0.isNull ? nil : string($0, path: "\(path).search_path") }
        guard let returns, let language, let body else { return nil }
        return FunctionDefinition(
            name: name, arguments: arguments, returns: returns, language: language,
            volatility: choice(fields["volatility"], path: "\(path).volatility", as: FunctionObject.Volatility.self),
            security: choice(fields["security"], path: "\(path).security", as: FunctionObject.Security.self),
            searchPath: searchPath, strict: bool(fields["strict"], path: "\(path).strict"),
            parallel: choice(fields["parallel"], path: "\(path).parallel", as: FunctionObject.Parallel.self),
            body: body, grants: grants(fields["grants"], path: "\(path).grants"), owner: string(fields["owner"], path: "\(path).owner"),
            origin: origin(path, node))
    }

    mutating func trigger(_ node: SourceNode, path: String) -> TriggerDefinition? {
        let allowed = ["name", "table", "timing", "events", "level", "when", "function", "arguments", "enabled"]
        guard let fields = fields(node, path: path, what: "a trigger", allowed: allowed) else { return nil }
        guard let name = required(fields, "name", path: path, what: "a trigger", node: node) else { return nil }
        let table = tableReference(fields, path: path, what: "a trigger", node: node)
        let function = required(fields, "function", path: path, what: "a trigger", node: node)
        var timing: TriggerObject.Timing?
        if fields["timing"] == nil {
            error("missing_field", "a trigger needs 'timing' (before, after or instead_of)", path: "\(path).timing", mark: node.mark)
        } else {
            timing = choice(fields["timing"], path: "\(path).timing", as: TriggerObject.Timing.self)
        }
        var events: [TriggerObject.Event] = []
        var updateColumns: [String] = []
        if fields["events"] == nil {
            error("missing_field", "a trigger needs 'events' (insert, update, delete, truncate, or {update: [columns]})",
                  path: "\(path).events", mark: node.mark)
        }
        for (index, item) in (list(fields["events"], path: "\(path).events") ?? []).enumerated() {
            let eventPath = "\(path).events[\(index)]"
            if case .mapping = item {
                guard let parts = self.fields(item, path: eventPath, what: "an event", allowed: ["update"]),
                      let columns = strings(parts["update"], path: "\(eventPath).update") else { continue }
                events.append(.update)
                updateColumns += columns
            } else if let event = choice(item, path: eventPath, as: TriggerObject.Event.self) {
                events.append(event)
            }
        }
        guard let table, let function, let timing else { return nil }
        return TriggerDefinition(
            name: name, table: table, timing: timing, events: events, updateColumns: updateColumns,
            level: choice(fields["level"], path: "\(path).level", as: TriggerObject.Level.self),
            when: fields["when"].flatMap { $0.isNull ? nil : string($0, path: "\(path).when") }, function: function,
            arguments: strings(fields["arguments"], path: "\(path).arguments") ?? [],
            enabled: choice(fields["enabled"], path: "\(path).enabled", as: TriggerObject.Enabled.self), origin: origin(path, node))
    }

    mutating func view(_ node: SourceNode, path: String) -> ViewDefinition? {
        let allowed = ["name", "query", "security_invoker", "security_barrier", "check_option", "materialized", "with_data", "indexes",
                       "comment", "grants", "owner"]
        guard let fields = fields(node, path: path, what: "a view", allowed: allowed) else { return nil }
        guard let name = required(fields, "name", path: path, what: "a view", node: node),
              let query = required(fields, "query", path: path, what: "a view", node: node) else { return nil }
        return ViewDefinition(
            name: name, query: query, securityInvoker: bool(fields["security_invoker"], path: "\(path).security_invoker"),
            securityBarrier: bool(fields["security_barrier"], path: "\(path).security_barrier"),
            checkOption: fields["check_option"].flatMap { $0.isNull ? nil : choice($0, path: "\(path).check_option", as: ViewObject.CheckOption.self) },
            materialized: bool(fields["materialized"], path: "\(path).materialized"), withData: bool(fields["with_data"], path: "\(path).with_data"),
            indexes: indexDefinitions(fields["indexes"], path: "\(path).indexes"), comment: string(fields["comment"], path: "\(path).comment"),
            grants: grants(fields["grants"], path: "\(path).grants"), owner: string(fields["owner"], path: "\(path).owner"),
            origin: origin(path, node))
    }

    mutating func storage(_ node: SourceNode) -> StorageDefinition? {
        let path = "$.storage"
        guard let fields = fields(node, path: path, what: "the storage block", allowed: ["buckets", "policies"]) else { return nil }
        var storage = StorageDefinition(origin: origin(path, node))
        for (index, item) in (list(fields["buckets"], path: "\(path).buckets") ?? []).enumerated() {
            let itemPath = "\(path).buckets[\(index)]"
            guard let f = self.fields(item, path: itemPath, what: "a bucket", allowed: ["id", "public", "file_size_limit", "allowed_mime_types"]),
                  let id = required(f, "id", path: itemPath, what: "a bucket", node: item)
            else { continue }
            storage.buckets.append(BucketDefinition(
                id: id, isPublic: bool(f["public"], path: "\(itemPath).public"),
                fileSizeLimit: integer(f["file_size_limit"], path: "\(itemPath).file_size_limit"),
                allowedMimeTypes: strings(f["allowed_mime_types"], path: "\(itemPath).allowed_mime_types"), origin: origin(itemPath, item)))
        }
        for (index, item) in (list(fields["policies"], path: "\(path).policies") ?? []).enumerated() {
            if let policy = policy(item, path: "\(path).policies[\(index)]") { storage.policies.append(policy) }
        }
        return storage
    }

    mutating func extensionDefinition(_ node: SourceNode, path: String) -> ExtensionDefinition? {
        guard let fields = fields(node, path: path, what: "an extension", allowed: ["name", "schema", "version"]) else { return nil }
        guard let name = required(fields, "name", path: path, what: "an extension", node: node) else { return nil }
        return ExtensionDefinition(name: name, schema: string(fields["schema"], path: "\(path).schema"),
                                   version: string(fields["version"], path: "\(path).version"), origin: origin(path, node))
    }

    mutating func partitionKey(_ node: SourceNode, path: String) -> PartitionKey? {
        guard let f = fields(node, path: path, what: "partition_by", allowed: ["strategy", "columns", "expression"]) else { return nil }
        guard f["strategy"] != nil else {
            error("missing_field", "partition_by needs a 'strategy' (range, list or hash)", path: "\(path).strategy", mark: node.mark)
            return nil
        }
        guard let strategy = choice(f["strategy"], path: "\(path).strategy", as: PartitionKey.Strategy.self) else { return nil }
        let columns = strings(f["columns"], path: "\(path).columns")
        let expression = string(f["expression"], path: "\(path).expression")
        guard (columns == nil) != (expression == nil) else {
            error("partition_definition", "partition_by takes 'columns' or 'expression', exactly one of them", path: path, mark: node.mark)
            return nil
        }
        return PartitionKey(strategy: strategy, columns: columns, expression: expression)
    }

    mutating func partitionOf(_ node: SourceNode, path: String) -> PartitionOfDefinition? {
        guard let f = fields(node, path: path, what: "partition_of", allowed: ["table", "bound"]),
              let table = required(f, "table", path: path, what: "partition_of", node: node),
              let text = required(f, "bound", path: path, what: "partition_of", node: node)
        else { return nil }
        guard let bound = PartitionBound(text) else {
            error("invalid_value",
                  "bound '\(text)' is not a partition bound: write FOR VALUES IN (...), FOR VALUES FROM (...) TO (...), FOR VALUES WITH (MODULUS m, REMAINDER r) or default",
                  path: "\(path).bound", mark: f["bound"]?.mark)
            return nil
        }
        return PartitionOfDefinition(table: table, bound: bound, origin: origin(path, node))
    }

    mutating func column(_ node: SourceNode, path: String) -> ColumnDefinition? {
        let allowed = ["name", "type", "nullable", "primary_key", "default", "unique", "check", "renamed_from",
                       "comment", "references", "identity", "generated", "using"]
        guard let fields = fields(node, path: path, what: "a column", allowed: allowed) else { return nil }
        guard let name = required(fields, "name", path: path, what: "a column", node: node) else { return nil }
        if fields["type"] == nil {
            error("missing_field", "column '\(name)' needs a 'type'", path: "\(path).type", mark: node.mark)
        }
        var column = ColumnDefinition(
            name: name, type: string(fields["type"], path: "\(path).type") ?? "",
            origin: origin(path, node))
        column.nullable = bool(fields["nullable"], path: "\(path).nullable")
        column.primaryKey = bool(fields["primary_key"], path: "\(path).primary_key") ?? false
        column.defaultExpression = string(fields["default"], path: "\(path).default")
        column.unique = bool(fields["unique"], path: "\(path).unique") ?? false
        column.check = string(fields["check"], path: "\(path).check")
        column.renamedFrom = string(fields["renamed_from"], path: "\(path).renamed_from")
        column.comment = string(fields["comment"], path: "\(path).comment")
        column.identity = choice(fields["identity"], path: "\(path).identity", as: ColumnDefinition.Identity.self)
        column.generated = string(fields["generated"], path: "\(path).generated")
        column.using = string(fields["using"], path: "\(path).using")
        if let referenceNode = fields["references"] {
            let refPath = "\(path).references"
            if let f = self.fields(referenceNode, path: refPath, what: "a column reference", allowed: ["table", "column", "on_delete", "on_update"]) {
                if let table = tableReference(f, path: refPath, what: "a reference", node: referenceNode) {
                    column.references = ColumnReference(
                        table: table,
                        column: string(f["column"], path: "\(refPath).column") ?? "id",
                        onDelete: choice(f["on_delete"], path: "\(refPath).on_delete", as: ReferentialAction.self) ?? .noAction,
                        onUpdate: choice(f["on_update"], path: "\(refPath).on_update", as: ReferentialAction.self) ?? .noAction,
                        origin: origin(refPath, referenceNode))
                }
            }
        }
        return column
    }

    mutating func foreignKey(_ node: SourceNode, path: String) -> ForeignKeyDefinition? {
        guard let fields = fields(node, path: path, what: "a foreign key", allowed: ["name", "columns", "references", "on_delete", "on_update", "valid", "deferrable", "initially_deferred"]) else { return nil }
        let columns = strings(fields["columns"], path: "\(path).columns")
        if columns == nil { error("missing_field", "a foreign key needs 'columns'", path: "\(path).columns", mark: node.mark) }
        guard let referenceNode = fields["references"] else {
            error("missing_field", "a foreign key needs 'references: {table, columns}'", path: "\(path).references", mark: node.mark)
            return nil
        }
        let refPath = "\(path).references"
        guard let f = self.fields(referenceNode, path: refPath, what: "a foreign key reference", allowed: ["table", "columns"]),
              let table = tableReference(f, path: refPath, what: "a foreign key reference", node: referenceNode)
        else { return nil }
        let referenced = strings(f["columns"], path: "\(refPath).columns")
        if referenced == nil { error("missing_field", "a foreign key reference needs 'columns'", path: "\(refPath).columns", mark: referenceNode.mark) }
        return ForeignKeyDefinition(
            name: string(fields["name"], path: "\(path).name"), columns: columns ?? [],
            referencedTable: table, referencedColumns: referenced ?? [],
            onDelete: choice(fields["on_delete"], path: "\(path).on_delete", as: ReferentialAction.self) ?? .noAction,
            onUpdate: choice(fields["on_update"], path: "\(path).on_update", as: ReferentialAction.self) ?? .noAction,
            valid: bool(fields["valid"], path: "\(path).valid") ?? true, origin: origin(path, node),
            deferral: deferral(fields, path: path))
    }

    /// `deferrable:` and `initially_deferred:` of a unique or foreign key constraint; an
    /// initially deferred constraint must be deferrable (PostgreSQL refuses the other way).
    mutating func deferral(_ fields: [String: SourceNode], path: String) -> Deferral {
        let deferrable = bool(fields["deferrable"], path: "\(path).deferrable")
        let deferred = bool(fields["initially_deferred"], path: "\(path).initially_deferred") ?? false
        if deferred && deferrable != true, let node = fields["initially_deferred"] {
            error("invalid_value", "initially_deferred: true needs deferrable: true (a constraint that cannot be deferred cannot start deferred)",
                  path: "\(path).initially_deferred", mark: node.mark)
        }
        return Deferral(deferrable: deferrable ?? deferred, initiallyDeferred: deferred)
    }

    /// `indexes:` of a table or a materialized view.
    mutating func indexDefinitions(_ node: SourceNode?, path: String) -> [IndexDefinition] {
        (list(node, path: path) ?? []).enumerated().compactMap { index, item in indexDefinition(item, path: "\(path)[\(index)]") }
    }

    mutating func indexDefinition(_ node: SourceNode, path: String) -> IndexDefinition? {
        let allowed = ["columns", "expression", "name", "unique", "using", "where", "include", "with", "nulls_not_distinct"]
        guard let fields = fields(node, path: path, what: "an index", allowed: allowed) else { return nil }
        // A key is a column name or {name, order, nulls, opclass, collation}.
        var columns: [String]?
        var options: [IndexKeyOptions] = []
        if let items = list(fields["columns"], path: "\(path).columns") {
            columns = []
            for (index, item) in items.enumerated() {
                let keyPath = "\(path).columns[\(index)]"
                if case .mapping = item {
                    guard let key = self.fields(item, path: keyPath, what: "an index key", allowed: ["name", "order", "nulls", "opclass", "collation"]),
                          let name = required(key, "name", path: keyPath, what: "an index key", node: item) else { continue }
                    let descending = choice(key["order"], path: "\(keyPath).order", as: KeyOrder.self) == .desc
                    let nulls = choice(key["nulls"], path: "\(keyPath).nulls", as: NullsOrder.self)
                    columns?.append(name)
                    options.append(IndexKeyOptions(
                        descending: descending, nullsFirst: nulls.map { $0 == .first } ?? descending,
                        opclass: string(key["opclass"], path: "\(keyPath).opclass"),
                        collation: string(key["collation"], path: "\(keyPath).collation")))
                } else if let name = string(item, path: keyPath) {
                    columns?.append(name)
                    options.append(IndexKeyOptions())
                }
            }
        }
        var storage: [String: String] = [:]
        if let with = fields["with"], let parameters = self.fields(with, path: "\(path).with", what: "storage parameters", allowed: Self.indexStorageParameters) {
            for (key, value) in parameters {
                if case .scalar(let scalar) = value { storage[key] = scalar.text } else {
                    error("bad_value", "a storage parameter is a number, a boolean or a string", path: "\(path).with.\(key)", mark: value.mark)
                }
            }
        }
        var definition = IndexDefinition(
            columns: columns,
            expression: string(fields["expression"], path: "\(path).expression"),
            name: string(fields["name"], path: "\(path).name"),
            unique: bool(fields["unique"], path: "\(path).unique") ?? false,
            method: choice(fields["using"], path: "\(path).using", as: IndexMethod.self) ?? .btree,
            predicate: string(fields["where"], path: "\(path).where"),
            origin: origin(path, node))
        definition.keyOptions = options.allSatisfy(\.isDefault) ? [] : options
        definition.include = strings(fields["include"], path: "\(path).include") ?? []
        definition.storage = storage
        definition.nullsNotDistinct = bool(fields["nulls_not_distinct"], path: "\(path).nulls_not_distinct") ?? false
        return definition
    }

    enum KeyOrder: String, CaseIterable { case asc, desc }
    enum NullsOrder: String, CaseIterable { case first, last }
    /// The index storage parameters PostgreSQL 15 knows, over all built-in methods.
    static let indexStorageParameters = [
        "fillfactor", "deduplicate_items", "buffering", "fastupdate", "gin_pending_list_limit", "pages_per_range", "autosummarize",
    ]

    mutating func rls(_ node: SourceNode, path: String) -> RLSDefinition? {
        guard let fields = fields(node, path: path, what: "the rls block", allowed: ["enabled", "force", "tenant_policies", "policies"]) else { return nil }
        var rls = RLSDefinition()
        rls.origin = origin(path, node)
        rls.enabled = bool(fields["enabled"], path: "\(path).enabled") ?? true
        rls.force = bool(fields["force"], path: "\(path).force") ?? false
        if let modeNode = fields["tenant_policies"] {
            let modePath = "\(path).tenant_policies"
            record(modePath, modeNode)
            if case .scalar(let scalar) = modeNode, let mode = TenantPolicyMode(rawValue: scalar.text.lowercased()) {
                rls.tenantPolicies = mode
            } else {
                error("invalid_value", "tenant_policies is auto, true or false, found \(describe(modeNode))", path: modePath, mark: modeNode.mark)
            }
        }
        for (index, item) in (list(fields["policies"], path: "\(path).policies") ?? []).enumerated() {
            if let policy = policy(item, path: "\(path).policies[\(index)]") { rls.policies.append(policy) }
        }
        return rls
    }

    /// A policy, of a table's `rls` block or of `storage`.
    mutating func policy(_ item: SourceNode, path itemPath: String) -> PolicyDefinition? {
        guard let f = self.fields(item, path: itemPath, what: "a policy", allowed: ["name", "command", "roles", "permissive", "using", "with_check", "comment"]),
              let name = required(f, "name", path: itemPath, what: "a policy", node: item)
        else { return nil }
        return PolicyDefinition(
            name: name,
            command: choice(f["command"], path: "\(itemPath).command", as: PolicyCommand.self) ?? .all,
            roles: strings(f["roles"], path: "\(itemPath).roles") ?? ["authenticated"],
            permissive: bool(f["permissive"], path: "\(itemPath).permissive") ?? true,
            using: string(f["using"], path: "\(itemPath).using"),
            withCheck: string(f["with_check"], path: "\(itemPath).with_check"),
            origin: origin(itemPath, item), comment: string(f["comment"], path: "\(itemPath).comment"))
    }
}

/// The allowed word closest to a typo, when it is close enough to be a likely intent.
func closest(_ word: String, in options: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let letters = Array(word)
    let best = options.map { ($0, distance(letters, Array($0))) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}
