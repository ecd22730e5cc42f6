import Foundation
import SQLParser

// Validation of functions, triggers and extensions (docs/blueprints.md, Functions, Triggers,
// Extensions): what PostgreSQL would refuse, said with the place, before any server is asked.

extension BlueprintValidator {
    static let functionPrivileges: Set<String> = ["execute", "all"]
}

extension Context {
    mutating func routines(_ blueprint: Blueprint) {
        var signatures: [String: Int] = [:]
        for (index, function) in blueprint.functions.enumerated() {
            let path = "$.functions[\(index)]"
            self.function(function, blueprint, path)
            let signature = "\(function.name)(\(function.arguments.filter { $0.mode != .out }.map { $0.type.lowercased().filter { !$0.isWhitespace } }.joined(separator: ",")))"
            if let first = signatures[signature] {
                error("duplicate_function", "function \(function.name) with these argument types is declared twice: at $.functions[\(first)] and here",
                      blueprint, "\(path).name")
            } else {
                signatures[signature] = index
            }
        }
        var triggerNames: Set<String> = []
        for (index, trigger) in blueprint.triggers.enumerated() {
            let path = "$.triggers[\(index)]"
            self.trigger(trigger, blueprint, path)
            let table = BlueprintValidator.qualify(trigger.table, defaultSchema: blueprint.schema)
            if !triggerNames.insert("\(table.sql).\(trigger.name)").inserted {
                error("duplicate_trigger", "trigger '\(trigger.name)' on \(table) is declared twice", blueprint, "\(path).name")
            }
        }
        for (index, view) in blueprint.views.enumerated() {
            self.view(view, blueprint, "$.views[\(index)]")
        }
        var extensionNames: Set<String> = []
        for (index, definition) in blueprint.extensions.enumerated() {
            let path = "$.extensions[\(index)]"
            name(definition.name, blueprint, "\(path).name")
            if let schema = definition.schema { name(schema, blueprint, "\(path).schema") }
            if !extensionNames.insert(definition.name).inserted {
                error("duplicate_extension", "extension '\(definition.name)' is listed twice", blueprint, "\(path).name")
            }
        }
    }

    mutating func function(_ function: FunctionDefinition, _ blueprint: Blueprint, _ path: String) {
        name(function.name, blueprint, "\(path).name", snakeCase: true)
        var defaulted = false
        for (index, argument) in function.arguments.enumerated() {
            let argumentPath = "\(path).arguments[\(index)]"
            if let name = argument.name { self.name(name, blueprint, "\(argumentPath).name") }
            if let problem = fragmentProblem(argument.type.trimmingCharacters(in: .whitespaces), .typeName) {
                error(problem.code, problem.message, blueprint, "\(argumentPath).type")
            }
            sql(argument.defaultExpression, blueprint, "\(argumentPath).default")
            if argument.mode == .variadic && index != function.arguments.count - 1 {
                error("invalid_value", "a variadic argument must be the last one", blueprint, "\(argumentPath).mode")
            }
            if argument.mode != .out {
                if argument.defaultExpression != nil {
                    defaulted = true
                } else if defaulted {
                    error("invalid_value", "an argument after one with a default needs a default too", blueprint, "\(argumentPath).default")
                }
            }
        }
        let result = function.result
        if function.returnsTable {
            if let columns = function.tableColumns {
                var seen: Set<String> = []
                for column in columns {
                    if let problem = fragmentProblem(column.type, .typeName) {
                        error(problem.code, "column '\(column.name)': \(problem.message)", blueprint, "\(path).returns")
                    }
                    if !seen.insert(column.name).inserted {
                        error("invalid_value", "column '\(column.name)' appears twice in returns: table (...)", blueprint, "\(path).returns")
                    }
                }
            } else {
                error("invalid_value", "returns: table (...) lists columns as a name and a type each (table (id uuid, title text)), found '\(function.returns)'",
                      blueprint, "\(path).returns")
            }
            if let index = function.arguments.firstIndex(where: { $0.mode == .out || $0.mode == .inout }) {
                error("invalid_value", "a function returning table (...) takes no out or inout arguments: its columns are the output",
                      blueprint, "\(path).arguments[\(index)].mode")
            }
        } else if let problem = fragmentProblem(result.type, .typeName) {
            error(problem.code, problem.message, blueprint, "\(path).returns")
        }
        name(function.language, blueprint, "\(path).language")
        if let problem = bodyProblem(function) {
            error("invalid_function_body", problem, blueprint, "\(path).body")
        }
        if function.security == .definer && function.searchPath == nil {
            error("definer_search_path",
                  "a security definer function runs with its owner's rights: set search_path (\"\" and schema-qualified names, say) so a caller's objects cannot stand in for yours",
                  blueprint, "\(path).search_path")
        } else if function.searchPath == nil {
            warning("function_search_path_mutable",
                    "function '\(function.name)' has no search_path: it resolves names with each caller's (set search_path: \"\")",
                    blueprint, "\(path).name")
        }
        for (index, schema) in (function.searchPathSchemas ?? []).enumerated() where schema != "$user" {
            name(schema, blueprint, "\(path).search_path[\(index)]")
        }
        if let owner = function.owner { name(owner, blueprint, "\(path).owner") }
        grants(function.grants, allowed: BlueprintValidator.functionPrivileges, what: "function", blueprint, path)
    }

    /// The parser's objection to a body, or nil: SQL bodies as statements, PL/pgSQL bodies by
    /// PostgreSQL's PL/pgSQL parser. Bodies of other languages are the language's business.
    func bodyProblem(_ function: FunctionDefinition) -> String? {
        switch function.language.lowercased() {
        case "sql":
            do {
                _ = try SQLParser.parse(function.body)
                return nil
            } catch {
                return "PostgreSQL's parser refuses this SQL body: \(error.message)" + (error.position.map { " at character \($0) of the body" } ?? "")
            }
        case "plpgsql":
            // The PL/pgSQL parser reads a whole CREATE FUNCTION: one is made around the body with
            // the function's own result type (a trigger function knows NEW and OLD).
            let returns = function.result.type.lowercased() == "trigger" ? "trigger" : "void"
            let statement = "CREATE FUNCTION f() RETURNS \(returns) LANGUAGE plpgsql AS \(SQLText.literal(function.body))"
            do {
                _ = try SQLParser.parsePLpgSQL(statement)
                return nil
            } catch {
                return "PostgreSQL's PL/pgSQL parser refuses this body: \(error.message)"
            }
        default:
            return nil
        }
    }

    mutating func view(_ view: ViewDefinition, _ blueprint: Blueprint, _ path: String) {
        name(view.name, blueprint, "\(path).name", snakeCase: true)
        if let problem = fragmentProblem(view.query, .query) {
            error(problem.code, problem.message, blueprint, "\(path).query")
        }
        let materialized = view.materialized ?? false
        if materialized && view.checkOption != nil {
            error("invalid_value", "a materialized view has no check option", blueprint, "\(path).check_option")
        }
        if materialized && view.securityInvoker != nil {
            error("invalid_value", "a materialized view has no security_invoker: its rows are computed with its owner's rights when it is refreshed",
                  blueprint, "\(path).security_invoker")
        }
        if !materialized && view.securityInvoker == false {
            warning("security_definer_view",
                    "view '\(view.name)' runs its query with its owner's rights, so the RLS of the tables under it does not apply to who reads it",
                    blueprint, "\(path).security_invoker")
        }
        if !materialized && !view.indexes.isEmpty {
            error("invalid_value", "only a materialized view has indexes: a plain view reads its tables' indexes", blueprint, "\(path).indexes")
        }
        if !materialized && view.withData != nil {
            error("invalid_value", "with_data is for materialized views", blueprint, "\(path).with_data")
        }
        indexes(view.indexes, of: view.name, columns: nil, blueprint, path)
        if let owner = view.owner { name(owner, blueprint, "\(path).owner") }
        grants(view.grants, allowed: BlueprintValidator.privileges, what: "view", blueprint, path)
    }

    mutating func trigger(_ trigger: TriggerDefinition, _ blueprint: Blueprint, _ path: String) {
        name(trigger.name, blueprint, "\(path).name")
        let table = BlueprintValidator.qualify(trigger.table, defaultSchema: blueprint.schema)
        let declared = tables[table]?.table
        let view = views[table]
        let level = trigger.level ?? .row
        if managedSchemas.contains(table.schema) && declared == nil && view == nil {
            error("unknown_reference", "'\(trigger.table)' is not a table or view of the blueprints; a trigger on a table of a managed schema is declared with the table",
                  blueprint, "\(path).table")
        }
        if let view {
            // PostgreSQL's rules for triggers on views (CREATE TRIGGER): INSTEAD OF per row,
            // BEFORE and AFTER per statement only; a materialized view has none.
            if view.materialized == true {
                error("invalid_value", "'\(view.name)' is a materialized view: it has no triggers", blueprint, "\(path).table")
            } else if trigger.timing != .insteadOf && level == .row {
                error("invalid_value", "a row-level trigger on view '\(view.name)' is instead_of (before and after triggers on a view are level: statement)",
                      blueprint, "\(path).timing")
            }
        } else if trigger.timing == .insteadOf && (declared != nil || managedSchemas.contains(table.schema)) {
            error("invalid_value", "instead_of triggers are for views; '\(trigger.table)' is a table", blueprint, "\(path).timing")
        }
        if trigger.timing == .insteadOf {
            if level == .statement {
                error("invalid_value", "an instead_of trigger is row-level", blueprint, "\(path).level")
            }
            if trigger.when != nil {
                error("invalid_value", "an instead_of trigger has no when condition", blueprint, "\(path).when")
            }
            if !trigger.updateColumns.isEmpty {
                error("invalid_value", "an instead_of trigger fires on update of any column: list update without columns", blueprint, "\(path).events")
            }
            if trigger.events.contains(.truncate) {
                error("invalid_value", "an instead_of trigger fires on insert, update or delete", blueprint, "\(path).events")
            }
        }
        if let declared {
            let columns = Set(declared.columns.map(\.name))
            for (index, column) in trigger.updateColumns.enumerated() where declared.partitionOf == nil && !columns.contains(column) {
                error("unknown_reference", "table '\(declared.name)' has no column '\(column)'", blueprint, "\(path).events[\(index)]")
            }
        }
        if trigger.events.isEmpty {
            error("missing_field", "a trigger needs at least one event", blueprint, "\(path).events")
        }
        if level == .row && trigger.events.contains(.truncate) && trigger.timing != .insteadOf {
            error("invalid_value", "truncate triggers are statement-level: set level: statement", blueprint, "\(path).events")
        }
        if let when = trigger.when {
            sql(when, blueprint, "\(path).when")
            if level == .statement {
                error("invalid_value", "a statement-level trigger has no row to test: 'when' needs level: row", blueprint, "\(path).when")
            }
        }
        let function = BlueprintValidator.qualify(trigger.function, defaultSchema: blueprint.schema)
        if managedSchemas.contains(function.schema) {
            let candidates = functions[function] ?? []
            if candidates.isEmpty {
                error("unknown_reference", "'\(trigger.function)' is not a function of the blueprints", blueprint, "\(path).function")
            } else if !candidates.contains(where: { $0.result.type.lowercased() == "trigger" && $0.arguments.allSatisfy { $0.mode == .out } }) {
                error("unknown_reference", "function '\(trigger.function)' is not a trigger function (no arguments, returns trigger)",
                      blueprint, "\(path).function")
            }
        }
    }
}
