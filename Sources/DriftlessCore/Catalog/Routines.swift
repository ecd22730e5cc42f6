import Foundation

/// A function's identity: its schema, name and input argument types as `format_type` prints
/// them (docs/blueprints.md, Functions). Two functions of one name with other argument types
/// are two objects.
public struct FunctionKey: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var name: QualifiedName
    /// The input (IN, INOUT, VARIADIC) argument types, in order.
    public var arguments: [String]

    public init(name: QualifiedName, arguments: [String]) {
        self.name = name
        self.arguments = arguments
    }

    /// `public.authorize(uuid, text)`: how reports and identities name it.
    public var description: String { "\(name)(\(arguments.joined(separator: ", ")))" }
    /// `authorize(uuid, text)`: the name part of its `ObjectID`.
    public var signature: String { "\(name.name)(\(arguments.joined(separator: ", ")))" }
    public var id: ObjectID { .function(self) }

    public static func < (lhs: FunctionKey, rhs: FunctionKey) -> Bool { (lhs.name, lhs.signature) < (rhs.name, rhs.signature) }
}

/// A function as `pg_proc` holds it (docs/blueprints.md, Functions). What is compared is what
/// the server prints of it (`pg_get_function_arguments`, `pg_get_function_result`, `prosrc`,
/// the attribute columns), on the desired side read back from a scratch copy in `pg_temp`.
public struct FunctionObject: Sendable, Equatable, Codable {
    public enum Volatility: String, Sendable, Codable, CaseIterable { case immutable, stable, volatile }
    public enum Parallel: String, Sendable, Codable, CaseIterable { case unsafe, restricted, safe }
    public enum Security: String, Sendable, Codable, CaseIterable { case invoker, definer }

    /// One argument, as written (desired side, for rendering) or as `pg_proc` lists it (actual
    /// side, for import).
    public struct Argument: Sendable, Equatable, Codable {
        public enum Mode: String, Sendable, Codable, CaseIterable { case `in`, out, `inout`, variadic }
        public var name: String?
        public var type: String
        public var mode: Mode
        /// The default expression.
        public var defaultExpression: String?

        public init(name: String?, type: String, mode: Mode = .in, defaultExpression: String? = nil) {
            self.name = name
            self.type = type
            self.mode = mode
            self.defaultExpression = defaultExpression
        }
    }

    public var key: FunctionKey
    /// `pg_get_function_arguments`: `p_org uuid, p_limit integer DEFAULT 10`.
    public var argumentList: String
    /// `pg_get_function_result`: `trigger`, `SETOF tasks`, `boolean`.
    public var result: String
    public var language: String
    public var volatility: Volatility
    public var security: Security
    public var strict: Bool
    public var parallel: Parallel
    /// `proconfig`: `search_path=""`, `search_path=public, extensions`.
    public var config: [String]
    /// `prosrc`: the body exactly as written.
    public var body: String
    /// EXECUTE per role (`execute` or none). Desired side: nil leaves them as they are.
    public var grants: [String: Set<String>]?
    /// Desired side: nil means any role but the API roles (docs/security.md, Owners).
    public var owner: String?
    /// The arguments one by one (what CREATE renders and import writes; `argumentList` is compared).
    @NotCompared public var arguments: [Argument]
    /// Whether the result is a set, and its type as written (desired side, for rendering).
    @NotCompared public var returnsSet: Bool
    @NotCompared public var returnType: String
    /// `RETURNS TABLE (...)`: the output arguments are its columns (pg_proc's mode `t`).
    @NotCompared public var returnsTable: Bool
    /// The search_path as written (desired side, for rendering): nil for none, empty for `''`.
    @NotCompared public var searchPath: [String]?
    /// Actual side: what uses it (`pg_depend`), for a drop and create.
    @NotCompared public var dependents: FunctionDependents?
    @NotCompared public var origin: Origin?

    public init(key: FunctionKey, argumentList: String = "", result: String, language: String, volatility: Volatility = .volatile,
                security: Security = .invoker, strict: Bool = false, parallel: Parallel = .unsafe, config: [String] = [], body: String,
                grants: [String: Set<String>]? = nil, owner: String? = nil, arguments: [Argument] = [], returnsSet: Bool = false,
                returnType: String? = nil, returnsTable: Bool = false, searchPath: [String]? = nil, origin: Origin? = nil) {
        self.key = key
        self.argumentList = argumentList
        self.result = result
        self.language = language
        self.volatility = volatility
        self.security = security
        self.strict = strict
        self.parallel = parallel
        self.config = config
        self.body = body
        self.grants = grants
        self.owner = owner
        self.arguments = arguments
        self.returnsSet = returnsSet
        self.returnType = returnType ?? result
        self.returnsTable = returnsTable
        self.searchPath = searchPath
        self.origin = origin
    }

    public var name: QualifiedName { key.name }

    /// Every privilege `all` stands for on a function.
    public static let allPrivileges: Set<String> = ["execute"]

    /// The search_path the function sets, as `proconfig` holds it; nil when it sets none.
    public var configuredSearchPath: String? {
        config.first { $0.hasPrefix("search_path=") }.map { String($0.dropFirst("search_path=".count)) }
    }

    /// Whether `CREATE OR REPLACE FUNCTION` can turn `have` into `self`: PostgreSQL refuses a
    /// new result type, renamed arguments and removed defaults (docs/engine.md, Functions).
    public func replaceable(from have: FunctionObject) -> Bool {
        result == have.result && inputNames == have.inputNames && outputs == have.outputs && defaults >= have.defaults
    }

    var inputs: [Argument] { arguments.filter { $0.mode != .out } }
    var inputNames: [String] { inputs.map { $0.name ?? "" } }
    var defaults: Int { inputs.filter { $0.defaultExpression != nil }.count }

    var outputs: [String] {
        arguments.filter { $0.mode == .out || $0.mode == .inout }.map(\.type)
    }

    /// `plpgsql, volatile, invoker, search_path=""`: how reports show its attributes.
    public var attributes: String {
        var parts = ["\(language)", volatility.rawValue, "security \(security.rawValue)"]
        if strict { parts.append("strict") }
        if parallel != .unsafe { parts.append("parallel \(parallel.rawValue)") }
        parts += config
        return "(\(argumentList)) returns \(result), " + parts.joined(separator: ", ")
    }
}

/// A trigger's identity: its table and name.
public struct TriggerKey: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var table: QualifiedName
    public var name: String

    public init(table: QualifiedName, name: String) {
        self.table = table
        self.name = name
    }

    public var description: String { "\(table).\(name)" }
    public var id: ObjectID { .member(.trigger, of: table, name) }

    public static func < (lhs: TriggerKey, rhs: TriggerKey) -> Bool { (lhs.table, lhs.name) < (rhs.table, rhs.name) }
}

/// A trigger as `pg_trigger` holds it, compared part by part (docs/blueprints.md, Triggers).
public struct TriggerObject: Sendable, Equatable, Codable {
    public enum Timing: String, Sendable, Codable, CaseIterable { case before, after, insteadOf = "instead_of" }
    public enum Event: String, Sendable, Codable, CaseIterable, Comparable {
        case insert, update, delete, truncate
        public static func < (lhs: Event, rhs: Event) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }
    public enum Level: String, Sendable, Codable, CaseIterable { case row, statement }
    /// `pg_trigger.tgenabled`: O origin, A always, R replica, D disabled.
    public enum Enabled: String, Sendable, Codable, CaseIterable { case origin, always, replica, disabled }

    public var key: TriggerKey
    public var timing: Timing
    /// Sorted, each at most once.
    public var events: [Event]
    /// `UPDATE OF` columns, in the order the table has them.
    public var updateColumns: [String]
    public var level: Level
    /// The WHEN condition as the server prints it (read back from a scratch copy where one can be
    /// made), without its outer parentheses.
    public var when: String?
    public var function: QualifiedName
    public var arguments: [String]
    public var enabled: Enabled
    /// Desired side: the blueprint schema that declared it (its scratch copy is made with that
    /// schema's objects).
    @NotCompared public var declaredIn: String?
    /// Desired side: the WHEN condition as written, for rendering.
    @NotCompared public var writtenWhen: String?
    @NotCompared public var origin: Origin?

    public init(key: TriggerKey, timing: Timing, events: [Event], updateColumns: [String] = [], level: Level = .row, when: String? = nil,
                function: QualifiedName, arguments: [String] = [], enabled: Enabled = .origin, declaredIn: String? = nil,
                origin: Origin? = nil) {
        self.key = key
        self.timing = timing
        self.events = Array(Set(events)).sorted()
        self.updateColumns = updateColumns
        self.level = level
        self.when = when
        self.function = function
        self.arguments = arguments
        self.enabled = enabled
        self.declaredIn = declaredIn
        self.writtenWhen = when
        self.origin = origin
    }

    public var table: QualifiedName { key.table }
    public var name: String { key.name }

    /// `after insert or update of (status) for each row when (...) execute public.touch()`: how reports show it.
    public var definition: String {
        var text = "\(timing.rawValue.replacingOccurrences(of: "_", with: " ")) "
        text += events.map { $0 == .update && !updateColumns.isEmpty ? "update of \(updateColumns.joined(separator: ", "))" : $0.rawValue }
            .joined(separator: " or ")
        text += " for each \(level.rawValue)"
        if let when { text += " when (\(when))" }
        text += " execute \(function)(\(arguments.map { "'\($0)'" }.joined(separator: ", ")))"
        if enabled != .origin { text += ", \(enabled.rawValue)" }
        return text
    }
}

/// An installed extension (docs/blueprints.md, Extensions). Its member objects are never in scope.
public struct ExtensionObject: Sendable, Equatable, Codable {
    public var name: String
    public var schema: String
    /// Desired side: nil accepts any installed version.
    public var version: String?
    @NotCompared public var origin: Origin?

    public init(name: String, schema: String, version: String? = nil, origin: Origin? = nil) {
        self.name = name
        self.schema = schema
        self.version = version
        self.origin = origin
    }

    public var id: ObjectID { .extensionObject(name) }
}

/// A view or materialized view (docs/blueprints.md, Views). The query is compared as
/// `pg_get_viewdef` prints it, on the desired side read back from a scratch copy in `pg_temp`
/// (or, for a view on what does not exist yet, from the view itself once created).
public struct ViewObject: Sendable, Equatable, Codable {
    public enum CheckOption: String, Sendable, Codable, CaseIterable { case local, cascaded }
    /// A column a view reads (`pg_depend`): a type change under it recreates the view.
    public typealias ColumnUse = TableColumn

    public var name: QualifiedName
    /// `pg_get_viewdef`, without its final semicolon.
    public var query: String
    /// `name type` of each column, in order.
    public var columns: [String]
    public var securityInvoker: Bool
    public var securityBarrier: Bool
    public var checkOption: CheckOption?
    public var materialized: Bool
    public var comment: String?
    /// Privileges per role. Desired side: nil leaves them as they are.
    public var grants: [String: Set<String>]?
    /// Desired side: nil means any role but the API roles (docs/security.md, Owners).
    public var owner: String?
    /// A materialized view's indexes, by name (compared one by one, as a table's).
    public var indexes: [String: Index]
    /// A materialized view created `WITH DATA` (the default) or `WITH NO DATA`. How it is
    /// created only: whether it is populated later is data, not schema (docs/blueprints.md, Views).
    @NotCompared public var withData: Bool
    /// Desired side: the query as written, for rendering.
    @NotCompared public var writtenQuery: String?
    /// Actual side: the views that read this one, and the table columns it reads.
    @NotCompared public var dependentViews: [QualifiedName]
    @NotCompared public var reads: [ColumnUse]
    @NotCompared public var origin: Origin?

    public init(name: QualifiedName, query: String, columns: [String] = [], securityInvoker: Bool = true, securityBarrier: Bool = false,
                checkOption: CheckOption? = nil, materialized: Bool = false, comment: String? = nil,
                grants: [String: Set<String>]? = nil, owner: String? = nil, indexes: [String: Index] = [:], withData: Bool = true,
                origin: Origin? = nil) {
        self.name = name
        self.query = query
        self.indexes = indexes
        self.withData = withData
        self.columns = columns
        self.securityInvoker = securityInvoker
        self.securityBarrier = securityBarrier
        self.checkOption = checkOption
        self.materialized = materialized
        self.comment = comment
        self.grants = grants
        self.owner = owner
        self.writtenQuery = query
        self.dependentViews = []
        self.reads = []
        self.origin = origin
    }

    /// How reports show it.
    public var definition: String {
        var options: [String] = []
        if materialized { options.append("materialized") }
        if !securityInvoker && !materialized { options.append("security definer") }
        if securityBarrier { options.append("security barrier") }
        if let checkOption { options.append("\(checkOption.rawValue) check option") }
        return (options.isEmpty ? "" : "(\(options.joined(separator: ", "))) ") + query
    }

    /// Whether `CREATE OR REPLACE VIEW` can turn `have` into `self`: both plain views, and the
    /// old columns, names and types, the first of the new ones.
    public func replaceable(from have: ViewObject) -> Bool {
        !materialized && !have.materialized && !columns.isEmpty && columns.starts(with: have.columns)
    }
}
