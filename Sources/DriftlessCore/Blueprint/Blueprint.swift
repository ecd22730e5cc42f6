import Foundation

/// One blueprint document as written: the desired state of some tables of one schema.
///
/// Optional fields stay optional here; defaults are applied when the desired catalog is built,
/// so `validate` can tell "absent" from "written as the default".
public struct Blueprint: Sendable, Equatable {
    public var origin: Origin
    public var version: Int
    public var tenantID: String
    public var schema: String
    public var tenancy: Tenancy
    public var enums: [EnumDefinition]
    public var tables: [TableDefinition]
    public var sequences: [SequenceDefinition] = []
    public var functions: [FunctionDefinition] = []
    public var triggers: [TriggerDefinition] = []
    public var extensions: [ExtensionDefinition] = []
    public var views: [ViewDefinition] = []
    /// `storage:` buckets and `storage.objects` policies (docs/blueprints.md, Storage).
    public var storage: StorageDefinition?
    /// Line and column of every value, by JSON path (`$.tables[0].columns[1].type`).
    public var positions: Positions

    /// The origin of the value at `path`, or of its nearest parent the decoder saw.
    public func origin(at path: String) -> Origin {
        var probe = path
        while true {
            if let position = positions[probe] {
                return Origin(file: origin.file, line: position.line, column: position.column, path: path)
            }
            guard let cut = probe.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            probe = String(probe[..<cut])
        }
        return Origin(file: origin.file, line: nil, column: nil, path: path)
    }
}

/// Line and column of every value of a blueprint, by JSON path: sorted paths and their
/// positions side by side (a dictionary took 4 KB per ordinary table file, 42 MB for 10,000
/// files, kept for as long as the controller keeps the decoded set; docs/operations.md, Memory).
public struct Positions: Sendable, Equatable {
    private struct Mark: Sendable, Equatable {
        var line: Int32
        var column: Int32
    }
    private var paths: [String] = []
    private var marks: [Mark] = []

    public init() {}

    public init(_ positions: [String: Position]) {
        // `map` allocates exactly what it needs; appending left up to half of each array unused.
        let sorted = positions.sorted { $0.key < $1.key }
        paths = sorted.map(\.key)
        marks = sorted.map { Mark(line: Int32(clamping: $0.value.line), column: Int32(clamping: $0.value.column)) }
    }

    public var count: Int { paths.count }

    public subscript(path: String) -> Position? {
        var low = 0, high = paths.count
        while low < high {
            let middle = (low + high) / 2
            if paths[middle] < path { low = middle + 1 } else { high = middle }
        }
        guard low < paths.count, paths[low] == path else { return nil }
        return Position(line: Int(marks[low].line), column: Int(marks[low].column))
    }

    /// Replaces each path by the equal one in `names`, adding it there when new: the documents
    /// of a set share one copy of each path (most files spell the same ones).
    public mutating func share(_ names: inout Set<String>) {
        for index in paths.indices {
            paths[index] = names.insert(paths[index]).memberAfterInsert
        }
    }
}

/// A line and column (1-based) in a blueprint file.
public struct Position: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// How tenant tables are isolated (blueprint.md, "Tenant tables and generated RLS").
public struct Tenancy: Sendable, Equatable {
    public var column = "tenant_id"
    public var claim = "app_metadata.tenant_id"
    public var roles = ["authenticated"]
    public var expression: String?
    public var origin: Origin?

    public init() {}
}

public struct EnumDefinition: Sendable, Equatable {
    public var name: String
    public var values: [String]
    public var origin: Origin
}

/// `sequences:` (docs/blueprints.md, Sequences). Absent settings take PostgreSQL's defaults.
public struct SequenceDefinition: Sendable, Equatable {
    public var name: String
    public var type: String?
    public var start: Int64?
    public var increment: Int64?
    public var min: Int64?
    public var max: Int64?
    public var cache: Int64?
    public var cycle: Bool?
    /// `owned_by: table.column` (or `{table, column}`): a column of a table of the same schema.
    public var ownedBy: OwnedBy?
    public var grants: [GrantDefinition]?
    public var owner: String?
    public var origin: Origin

    public struct OwnedBy: Sendable, Equatable {
        public var table: String
        public var column: String
    }
}

/// `functions:` (docs/blueprints.md, Functions).
public struct FunctionDefinition: Sendable, Equatable {
    public struct Argument: Sendable, Equatable {
        public var name: String?
        public var type: String
        public var mode: FunctionObject.Argument.Mode?
        public var defaultExpression: String?
    }

    public var name: String
    public var arguments: [Argument]
    /// As written: a type, `setof T`, `void`, `trigger`.
    public var returns: String
    public var language: String
    public var volatility: FunctionObject.Volatility?
    public var security: FunctionObject.Security?
    /// `""` for an empty search_path; nil for none.
    public var searchPath: String?
    public var strict: Bool?
    public var parallel: FunctionObject.Parallel?
    public var body: String
    public var grants: [GrantDefinition]?
    public var owner: String?
    public var origin: Origin

    /// The result type without `setof`, and whether it is a set.
    public var result: (setof: Bool, type: String) {
        let trimmed = returns.trimmingCharacters(in: .whitespacesAndNewlines)
        let words = trimmed.split(maxSplits: 1, whereSeparator: \.isWhitespace)
        if words.count == 2, words[0].lowercased() == "setof" {
            return (true, words[1].trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (false, trimmed)
    }

    /// Whether `returns` is `table (...)`.
    public var returnsTable: Bool {
        let trimmed = returns.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.lowercased().hasPrefix("table") && trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces).hasPrefix("(")
            && trimmed.hasSuffix(")")
    }

    /// The columns of `returns: table (a int, b text)`: nil for another result, or when the
    /// list is not plain names and types.
    public var tableColumns: [(name: String, type: String)]? {
        guard returnsTable else { return nil }
        let trimmed = returns.trimmingCharacters(in: .whitespacesAndNewlines)
        let open = trimmed.firstIndex(of: "(")!
        return SQLSplit.columns(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]))
    }

    /// The search_path's schemas (empty for `""`), nil when the function sets none.
    public var searchPathSchemas: [String]? {
        searchPath.map { text in
            text.split(separator: ",").map { part in
                var name = part.trimmingCharacters(in: .whitespaces)
                if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                    name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
                }
                return name
            }.filter { !$0.isEmpty }
        }
    }
}

/// `triggers:` (docs/blueprints.md, Triggers).
public struct TriggerDefinition: Sendable, Equatable {
    public var name: String
    /// A table of the document's schema, or `schema.table` (or `{schema, name}`) outside it,
    /// as `BlueprintValidator.qualify` reads it.
    public var table: String
    public var timing: TriggerObject.Timing
    public var events: [TriggerObject.Event]
    public var updateColumns: [String]
    public var level: TriggerObject.Level?
    public var when: String?
    /// `name` (the document's schema) or `schema.name`.
    public var function: String
    public var arguments: [String]
    public var enabled: TriggerObject.Enabled?
    public var origin: Origin
}

/// `views:` (docs/blueprints.md, Views).
public struct ViewDefinition: Sendable, Equatable {
    public var name: String
    public var query: String
    public var securityInvoker: Bool?
    public var securityBarrier: Bool?
    public var checkOption: ViewObject.CheckOption?
    public var materialized: Bool?
    /// Materialized views only.
    public var withData: Bool?
    public var indexes: [IndexDefinition]
    public var comment: String?
    public var grants: [GrantDefinition]?
    public var owner: String?
    public var origin: Origin
}

/// `storage:` (docs/blueprints.md, Storage): rows of `storage.buckets` and policies on
/// `storage.objects`. Only what is declared here is ever touched.
public struct StorageDefinition: Sendable, Equatable {
    public var buckets: [BucketDefinition] = []
    public var policies: [PolicyDefinition] = []
    public var origin: Origin
}

/// One bucket. Absent settings are the bucket defaults: private, no size limit, any type.
public struct BucketDefinition: Sendable, Equatable {
    public var id: String
    public var isPublic: Bool?
    public var fileSizeLimit: Int64?
    public var allowedMimeTypes: [String]?
    public var origin: Origin
}

/// `extensions:` (docs/blueprints.md, Extensions).
public struct ExtensionDefinition: Sendable, Equatable {
    public var name: String
    public var schema: String?
    public var version: String?
    public var origin: Origin
}

public struct TableDefinition: Sendable, Equatable {
    public var name: String
    public var renamedFrom: String?
    public var comment: String?
    public var columns: [ColumnDefinition]
    public var primaryKey: [String]?
    public var unique: [UniqueDefinition]
    public var checks: [CheckDefinition]
    public var foreignKeys: [ForeignKeyDefinition]
    public var indexes: [IndexDefinition]
    public var rls: RLSDefinition
    /// `nil`: leave privileges as they are. Present: exact table privileges per listed role.
    public var grants: [GrantDefinition]?
    public var origin: Origin
    /// `owner: ROLE`; absent: any owner but the API roles (docs/blueprints.md, Owners).
    public var owner: String?
    /// `partition_by: {strategy, columns | expression}`.
    public var partitionBy: PartitionKey?
    /// `partition_of: {table, bound}`: a partition takes its columns from its parent.
    public var partitionOf: PartitionOfDefinition?
    /// `realtime: true | false`: membership in `supabase_realtime`; absent leaves it.
    public var realtime: Bool?
    /// `replica_identity: default | full | nothing | {index: NAME}`; absent leaves it.
    public var replicaIdentity: ReplicaIdentity?
}

public struct PartitionOfDefinition: Sendable, Equatable {
    /// The parent: a table of the blueprints in the same schema.
    public var table: String
    public var bound: PartitionBound
    public var origin: Origin
}

/// The privileges a blueprint lists for one role.
public struct GrantDefinition: Sendable, Equatable {
    public var role: String
    public var privileges: [String]
}

public struct ColumnDefinition: Sendable, Equatable {
    public var name: String
    public var type: String
    public var nullable: Bool?
    public var primaryKey = false
    public var defaultExpression: String?
    public var unique = false
    public var check: String?
    public var renamedFrom: String?
    public var comment: String?
    public var references: ColumnReference?
    public var identity: Identity?
    /// `GENERATED ALWAYS AS (expression) STORED`.
    public var generated: String?
    /// `ALTER COLUMN ... TYPE ... USING (expression)` when the type changes.
    public var using: String?
    public var origin: Origin

    public enum Identity: String, Sendable, Equatable, CaseIterable {
        case always
        case byDefault = "by_default"
    }
}

/// `references: {table, column, on_delete, on_update}` on a column.
public struct ColumnReference: Sendable, Equatable {
    public var table: String
    public var column: String
    public var onDelete: ReferentialAction
    public var onUpdate: ReferentialAction
    public var origin: Origin
}

public enum ReferentialAction: String, Sendable, Equatable, CaseIterable, Codable {
    case noAction = "no_action"
    case restrict
    case cascade
    case setNull = "set_null"
    case setDefault = "set_default"

    /// The SQL words (`NO ACTION`, `SET NULL`, ...). Spelled out: Foundation's
    /// `replacingOccurrences` was a tenth of the diff's time at 1,000 tables.
    public var sql: String {
        switch self {
        case .noAction: "NO ACTION"
        case .restrict: "RESTRICT"
        case .cascade: "CASCADE"
        case .setNull: "SET NULL"
        case .setDefault: "SET DEFAULT"
        }
    }
}

public struct UniqueDefinition: Sendable, Equatable {
    public var columns: [String]
    public var name: String?
    public var origin: Origin
    /// `deferrable:` and `initially_deferred:` (DEFERRABLE, INITIALLY DEFERRED).
    public var deferral = Deferral()
}

/// When a unique or foreign key constraint is checked: `deferrable: true` lets a transaction
/// postpone the check with SET CONSTRAINTS, `initially_deferred: true` postpones it by default.
public struct Deferral: Sendable, Equatable, Codable {
    public var deferrable = false
    public var initiallyDeferred = false

    public init(deferrable: Bool = false, initiallyDeferred: Bool = false) {
        self.deferrable = deferrable
        self.initiallyDeferred = initiallyDeferred
    }
}

public struct CheckDefinition: Sendable, Equatable {
    public var name: String?
    public var expression: String
    /// `valid: false`: NOT VALID (existing rows are not checked).
    public var valid = true
    /// `no_inherit: true`: NO INHERIT (not on partitions or children).
    public var noInherit = false
    public var origin: Origin
}

public struct ForeignKeyDefinition: Sendable, Equatable {
    public var name: String?
    public var columns: [String]
    public var referencedTable: String
    public var referencedColumns: [String]
    public var onDelete: ReferentialAction
    public var onUpdate: ReferentialAction
    /// `valid: false`: NOT VALID (existing rows are not checked).
    public var valid = true
    public var origin: Origin
    public var deferral = Deferral()
}

public struct IndexDefinition: Sendable, Equatable {
    public var columns: [String]?
    public var expression: String?
    public var name: String?
    public var unique: Bool
    public var method: IndexMethod
    public var predicate: String?
    public var origin: Origin
    /// Per key (`{name, order, nulls, opclass, collation}`); empty when every key is plain.
    public var keyOptions: [IndexKeyOptions] = []
    public var include: [String] = []
    /// `with:` storage parameters.
    public var storage: [String: String] = [:]
    public var nullsNotDistinct = false
}

public enum IndexMethod: String, Sendable, Equatable, CaseIterable, Codable {
    case btree, hash, gin, gist, brin
}

public struct RLSDefinition: Sendable, Equatable {
    public var enabled = true
    public var force = false
    public var tenantPolicies: TenantPolicyMode = .auto
    public var policies: [PolicyDefinition] = []
    public var origin: Origin?

    public init() {}
}

/// `rls.tenant_policies`: `auto` (when the column exists), `true` (required), `false` (never).
public enum TenantPolicyMode: String, Sendable, Equatable {
    case auto
    case required = "true"
    case never = "false"
}

public struct PolicyDefinition: Sendable, Equatable {
    public var name: String
    public var command: PolicyCommand
    public var roles: [String]
    public var permissive: Bool
    public var using: String?
    public var withCheck: String?
    public var origin: Origin
    public var comment: String?
}

public enum PolicyCommand: String, Sendable, Equatable, CaseIterable, Codable {
    case select, insert, update, delete, all
}
