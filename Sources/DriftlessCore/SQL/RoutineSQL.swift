// Statements of functions, triggers and extensions (docs/blueprints.md, Functions, Triggers,
// Extensions). Every user text goes in through a marker (`type:`, `expression:`, `literal:`),
// so `StatementGuard` checks the statement has the shape rendered here.

extension SQLRenderer {
    /// `CREATE [OR REPLACE] FUNCTION` with every attribute spelled out, so a replace leaves
    /// nothing of the old definition behind. The body is one string literal.
    public static func createFunction(_ function: FunctionObject, replace: Bool = false, schemaOverride: String? = nil) -> SQL {
        let listed = function.returnsTable ? function.arguments.filter { $0.mode != .out } : function.arguments
        let arguments = SQL.joined(listed.map(argument), separator: ", ")
        var sql: SQL = "CREATE \(keyword: replace ? "OR REPLACE " : "")FUNCTION \(qualified(function.name, schemaOverride))(\(arguments))"
        if function.returnsTable {
            let columns = SQL.joined(function.arguments.filter { $0.mode == .out }.map { "\(ident: $0.name ?? "") \(type: $0.type)" }, separator: ", ")
            sql = "\(sql) RETURNS TABLE (\(columns)) LANGUAGE \(ident: function.language)"
        } else {
            sql = "\(sql) RETURNS \(keyword: function.returnsSet ? "SETOF " : "")\(type: function.returnType) LANGUAGE \(ident: function.language)"
        }
        sql = "\(sql) \(keyword: function.volatility.rawValue.uppercased()) SECURITY \(keyword: function.security.rawValue.uppercased())"
        sql = "\(sql) \(keyword: function.strict ? "STRICT" : "CALLED ON NULL INPUT") PARALLEL \(keyword: function.parallel.rawValue.uppercased())"
        if let path = function.searchPath {
            let schemas: SQL = path.isEmpty ? "\(literal: "")" : SQL.joined(path.map { "\(ident: $0)" }, separator: ", ")
            sql = "\(sql) SET search_path = \(schemas)"
        }
        return "\(sql) AS \(literal: function.body)"
    }

    static func argument(_ argument: FunctionObject.Argument) -> SQL {
        var sql: SQL = "\(keyword: argument.mode.rawValue.uppercased()) "
        if let name = argument.name { sql = "\(sql)\(ident: name) " }
        sql = "\(sql)\(type: argument.type)"
        if let value = argument.defaultExpression { sql = "\(sql) DEFAULT \(expression: value)" }
        return sql
    }

    /// `"schema"."name"(type, ...)`: a function by its identity.
    static func function(_ key: FunctionKey) -> SQL {
        "\(key.name)(\(SQL.joined(key.arguments.map { "\(type: $0)" }, separator: ", ")))"
    }

    public static func dropFunction(_ key: FunctionKey) -> SQL {
        "DROP FUNCTION \(function(key))"
    }

    public static func grant(_ privileges: Set<String>, onFunction key: FunctionKey, to role: String) -> SQL {
        grant(privileges, on: "FUNCTION \(function(key))", to: role)
    }

    public static func revoke(_ privileges: Set<String>, onFunction key: FunctionKey, from role: String) -> SQL {
        revoke(privileges, on: "FUNCTION \(function(key))", from: role)
    }

    public static func alterOwner(function key: FunctionKey, to role: String?) -> SQL {
        guard let role else { return "ALTER FUNCTION \(function(key)) OWNER TO CURRENT_USER" }
        return "ALTER FUNCTION \(function(key)) OWNER TO \(ident: role)"
    }

    /// `CREATE [OR REPLACE] TRIGGER`. `table` and `function` stand in for the trigger's own on a
    /// scratch copy.
    public static func createTrigger(_ trigger: TriggerObject, replace: Bool = false, table: QualifiedName? = nil,
                                     function: QualifiedName? = nil) -> SQL {
        let events = SQL.joined(trigger.events.map { event -> SQL in
            guard event == .update, !trigger.updateColumns.isEmpty else { return "\(keyword: event.rawValue.uppercased())" }
            return "UPDATE OF \(SQL.joined(trigger.updateColumns.map { "\(ident: $0)" }, separator: ", "))"
        }, separator: " OR ")
        let timing = trigger.timing == .insteadOf ? "INSTEAD OF" : trigger.timing.rawValue.uppercased()
        var sql: SQL = "CREATE \(keyword: replace ? "OR REPLACE " : "")TRIGGER \(ident: trigger.name) \(keyword: timing) \(events)"
        sql = "\(sql) ON \(table ?? trigger.table) FOR EACH \(keyword: trigger.level.rawValue.uppercased())"
        if let when = trigger.writtenWhen ?? trigger.when { sql = "\(sql) WHEN \(expression: when)" }
        let arguments = SQL.joined(trigger.arguments.map { "\(literal: $0)" }, separator: ", ")
        return "\(sql) EXECUTE FUNCTION \(function ?? trigger.function)(\(arguments))"
    }

    public static func dropTrigger(_ key: TriggerKey) -> SQL {
        "DROP TRIGGER \(ident: key.name) ON \(key.table)"
    }

    public static func setTrigger(_ key: TriggerKey, _ enabled: TriggerObject.Enabled) -> SQL {
        let action: String
        switch enabled {
        case .origin: action = "ENABLE"
        case .always: action = "ENABLE ALWAYS"
        case .replica: action = "ENABLE REPLICA"
        case .disabled: action = "DISABLE"
        }
        return "ALTER TABLE \(key.table) \(keyword: action) TRIGGER \(ident: key.name)"
    }

    /// `CREATE [OR REPLACE] VIEW` with every option spelled out (a replace sets them all), or
    /// `CREATE MATERIALIZED VIEW ... WITH DATA`. The query is the user's, as one SELECT.
    public static func createView(_ view: ViewObject, replace: Bool = false, schemaOverride: String? = nil) -> SQL {
        let name = qualified(view.name, schemaOverride)
        let query = view.writtenQuery ?? view.query
        if view.materialized { return "CREATE MATERIALIZED VIEW \(name) AS \(query: query)\n \(keyword: view.withData ? "WITH DATA" : "WITH NO DATA")" }
        let options = "security_invoker = \(view.securityInvoker), security_barrier = \(view.securityBarrier)"
        var sql: SQL = "CREATE \(keyword: replace ? "OR REPLACE " : "")VIEW \(name) WITH (\(keyword: options)) AS \(query: query)"
        if let check = view.checkOption { sql = "\(sql)\n WITH \(keyword: check.rawValue.uppercased()) CHECK OPTION" }
        return sql
    }

    static func viewNoun(_ materialized: Bool) -> String { materialized ? "MATERIALIZED VIEW" : "VIEW" }

    public static func dropView(_ name: QualifiedName, materialized: Bool) -> SQL {
        "DROP \(keyword: viewNoun(materialized)) \(name)"
    }

    public static func comment(onView name: QualifiedName, materialized: Bool, _ text: String?) -> SQL {
        guard let text else { return "COMMENT ON \(keyword: viewNoun(materialized)) \(name) IS NULL" }
        return "COMMENT ON \(keyword: viewNoun(materialized)) \(name) IS \(literal: text)"
    }

    public static func alterOwner(view name: QualifiedName, materialized: Bool, to role: String?) -> SQL {
        guard let role else { return "ALTER \(keyword: viewNoun(materialized)) \(name) OWNER TO CURRENT_USER" }
        return "ALTER \(keyword: viewNoun(materialized)) \(name) OWNER TO \(ident: role)"
    }

    public static func createExtension(_ extensionObject: ExtensionObject) -> SQL {
        var sql: SQL = "CREATE EXTENSION IF NOT EXISTS \(ident: extensionObject.name) WITH SCHEMA \(ident: extensionObject.schema)"
        if let version = extensionObject.version { sql = "\(sql) VERSION \(literal: version)" }
        return sql
    }

    public static func updateExtension(_ name: String, to version: String) -> SQL {
        "ALTER EXTENSION \(ident: name) UPDATE TO \(literal: version)"
    }

    public static func moveExtension(_ name: String, to schema: String) -> SQL {
        "ALTER EXTENSION \(ident: name) SET SCHEMA \(ident: schema)"
    }

    public static func dropExtension(_ name: String) -> SQL {
        "DROP EXTENSION \(ident: name)"
    }
}
