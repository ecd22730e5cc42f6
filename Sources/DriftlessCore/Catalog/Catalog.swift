/// The model both sides of a diff share: what the blueprints want (after canonicalization
/// through the server) and what the database has (from introspection). Text fields hold what
/// the server prints (`format_type`, `pg_get_expr`), never what a user typed, so equal objects
/// compare equal.
public struct Catalog: Sendable, Equatable, Codable {
    public var enums: [QualifiedName: EnumType] = [:]
    public var tables: [QualifiedName: Table] = [:]
    /// Sequences other than identity columns' (docs/blueprints.md, Sequences).
    public var sequences: [QualifiedName: SequenceObject] = [:]
    /// Functions by name and argument types (docs/blueprints.md, Functions).
    public var functions: [FunctionKey: FunctionObject] = [:]
    /// Triggers by table and name, on managed tables and on tables outside the managed schemas
    /// (`auth.users`) alike (docs/blueprints.md, Triggers).
    public var triggers: [TriggerKey: TriggerObject] = [:]
    /// Extensions by name (docs/blueprints.md, Extensions).
    public var extensions: [String: ExtensionObject] = [:]
    /// Views and materialized views (docs/blueprints.md, Views).
    public var views: [QualifiedName: ViewObject] = [:]
    /// Actual side: objects of the managed schemas that no kind models yet (docs/engine.md,
    /// Unsupported objects). Reported by `drift` and `import`, never changed or dropped.
    public var unsupported: [UnsupportedObject] = []
    /// Actual side: the publication `supabase_realtime`, nil when the database has none
    /// (docs/blueprints.md, Realtime).
    public var realtimePublication: RealtimePublication?
    /// Storage buckets and `storage.objects` policies (docs/blueprints.md, Storage). Desired
    /// side: nil when no blueprint has `storage`. Actual side: nil when the database has no
    /// storage schema, or when it was not read (no blueprint has `storage`).
    public var storage: StorageState?

    public init(enums: [QualifiedName: EnumType] = [:], tables: [QualifiedName: Table] = [:], sequences: [QualifiedName: SequenceObject] = [:],
                functions: [FunctionKey: FunctionObject] = [:], triggers: [TriggerKey: TriggerObject] = [:],
                extensions: [String: ExtensionObject] = [:], views: [QualifiedName: ViewObject] = [:]) {
        self.enums = enums
        self.tables = tables
        self.sequences = sequences
        self.functions = functions
        self.triggers = triggers
        self.extensions = extensions
        self.views = views
    }

    /// This catalog with only `tables` of its tables: every object that belongs to no table
    /// stays (what canonicalization of a part of the tables builds beside them).
    public func with(tables: [QualifiedName: Table]) -> Catalog {
        var part = self
        part.tables = tables
        part.unsupported = []
        return part
    }

    /// Adds `other`'s objects (read from other schemas), its entries winning.
    public mutating func merge(_ other: Catalog) {
        enums.merge(other.enums) { $1 }
        tables.merge(other.tables) { $1 }
        sequences.merge(other.sequences) { $1 }
        functions.merge(other.functions) { $1 }
        triggers.merge(other.triggers) { $1 }
        extensions.merge(other.extensions) { $1 }
        views.merge(other.views) { $1 }
        unsupported = (unsupported + other.unsupported).sorted()
        realtimePublication = other.realtimePublication ?? realtimePublication
        storage = other.storage ?? storage
    }

    /// How many objects the catalog holds (tables, views, functions, triggers, sequences,
    /// enums, extensions): a measure of its size in memory.
    public var objectCount: Int {
        enums.count + tables.count + sequences.count + functions.count + triggers.count + extensions.count + views.count
    }

    /// The schemas this catalog mentions.
    public var schemas: Set<String> {
        Set(enums.keys.map(\.schema)).union(tables.keys.map(\.schema)).union(sequences.keys.map(\.schema))
            .union(functions.keys.map(\.name.schema)).union(triggers.values.compactMap(\.declaredIn)).union(views.keys.map(\.schema))
    }

    /// The tables `name` is a partition of, nearest first, as far as this catalog holds them
    /// (a parent it does not hold ends the chain there; a cycle ends it before the repeat).
    public func ancestors(of name: QualifiedName) -> [QualifiedName] {
        var chain: [QualifiedName] = []
        var next = tables[name]?.partitionOf
        while let parent = next, parent != name, !chain.contains(parent), let table = tables[parent] {
            chain.append(parent)
            next = table.partitionOf
        }
        return chain
    }
}

/// An object in a managed schema that Driftless does not model: a function, view, trigger,
/// partition, ... (docs/engine.md, Unsupported objects).
public struct UnsupportedObject: Sendable, Equatable, Codable, Comparable {
    public var type: Change.ObjectType
    public var schema: String
    /// The table it belongs to (triggers, rules, publication membership, partitions' parents).
    public var table: String?
    public var name: String

    public init(type: Change.ObjectType, schema: String, table: String? = nil, name: String) {
        self.type = type
        self.schema = schema
        self.table = table
        self.name = name
    }

    /// `public.handle_new_user()`, `public.profiles.on_update`: how reports name it.
    public var description: String { ([schema] + (table.map { [$0] } ?? []) + [name]).joined(separator: ".") }

    public static func < (lhs: UnsupportedObject, rhs: UnsupportedObject) -> Bool {
        (lhs.schema, lhs.table ?? "", lhs.type.rawValue, lhs.name) < (rhs.schema, rhs.table ?? "", rhs.type.rawValue, rhs.name)
    }
}

public struct EnumType: Sendable, Equatable, Codable {
    public var name: QualifiedName
    public var values: [String]
    @NotCompared public var origin: Origin?

    public init(name: QualifiedName, values: [String], origin: Origin? = nil) {
        self.name = name
        self.values = values
        self.origin = origin
    }

}

/// A column of a table, by the table's qualified name.
public struct TableColumn: Sendable, Equatable, Codable, Hashable {
    public var table: QualifiedName
    public var column: String

    public init(table: QualifiedName, column: String) {
        self.table = table
        self.column = column
    }
}

/// A sequence as `pg_sequence` holds it. Its current value is data and never compared
/// (docs/blueprints.md, Sequences).
public struct SequenceObject: Sendable, Equatable, Codable {
    /// The column that owns it (`OWNED BY`): dropped with that column or its table.
    public typealias Owner = TableColumn

    public var name: QualifiedName
    /// `format_type(seqtypid, NULL)`: `smallint`, `integer` or `bigint`.
    public var type: String
    public var start: Int64
    public var increment: Int64
    public var min: Int64
    public var max: Int64
    public var cache: Int64
    public var cycle: Bool
    public var ownedBy: Owner?
    /// Privileges per role (`usage`, `select`, `update`). Desired side: nil leaves them as they are.
    public var grants: [String: Set<String>]?
    /// Desired side: nil means any role but the API roles, as for tables (docs/security.md, Owners).
    public var owner: String?
    @NotCompared public var origin: Origin?

    public init(name: QualifiedName, type: String = "bigint", start: Int64? = nil, increment: Int64 = 1, min: Int64? = nil,
                max: Int64? = nil, cache: Int64 = 1, cycle: Bool = false, ownedBy: Owner? = nil,
                grants: [String: Set<String>]? = nil, owner: String? = nil, origin: Origin? = nil) {
        let bounds = SequenceObject.bounds(of: type)
        // PostgreSQL's defaults (CREATE SEQUENCE): ascending from 1 to the type's maximum,
        // descending from -1 to its minimum; the start is the bound it counts away from.
        let low = min ?? (increment > 0 ? 1 : bounds.min)
        let high = max ?? (increment > 0 ? bounds.max : -1)
        self.name = name
        self.type = type
        self.start = start ?? (increment > 0 ? low : high)
        self.increment = increment
        self.min = low
        self.max = high
        self.cache = cache
        self.cycle = cycle
        self.ownedBy = ownedBy
        self.grants = grants
        self.owner = owner
        self.origin = origin
    }

    /// The type names a sequence may have, as `format_type` prints them, by what users write.
    public static let types: [String: String] = [
        "smallint": "smallint", "int2": "smallint", "integer": "integer", "int": "integer", "int4": "integer",
        "bigint": "bigint", "int8": "bigint",
    ]

    /// The range of a sequence type.
    public static func bounds(of type: String) -> (min: Int64, max: Int64) {
        switch type {
        case "smallint": return (Int64(Int16.min), Int64(Int16.max))
        case "integer": return (Int64(Int32.min), Int64(Int32.max))
        default: return (Int64.min, Int64.max)
        }
    }

    /// Every privilege `all` stands for on a sequence.
    public static let allPrivileges: Set<String> = ["usage", "select", "update"]

    /// `bigint, start 1, increment 1, 1..9223372036854775807, cache 1`: how reports show it.
    public var settings: String {
        "\(type), start \(start), increment \(increment), \(min)..\(max), cache \(cache)\(cycle ? ", cycle" : "")"
    }
}

public struct Table: Sendable, Equatable, Codable {
    public var name: QualifiedName
    public var columns: [Column]
    /// Primary key, unique, check and foreign key constraints, by name.
    public var constraints: [String: Constraint]
    /// Indexes that do not back a constraint, by name.
    public var indexes: [String: Index]
    public var rlsEnabled: Bool
    public var rlsForced: Bool
    public var policies: [String: Policy]
    /// Table privileges per role. Desired side: `nil` means "leave as is"; only listed roles count.
    public var grants: [String: Set<String>]?
    /// Desired side only: the privileges the tenancy roles of a tenant table without `grants`
    /// must hold at least, granted when missing and never revoked (docs/blueprints.md, Tenant
    /// tables, point 4).
    public var tenantGrants: [String: Set<String>]?
    public var comment: String?
    /// Desired side only: the previous name to rename from (not part of the definition).
    @NotCompared public var renamedFrom: String?
    @NotCompared public var origin: Origin?
    /// The owning role. Desired side: nil means "any role but the API roles" (docs/security.md,
    /// Owners).
    public var owner: String?
    /// A partitioned table's key as the server prints it (`RANGE (created_at)`), and the
    /// blueprint's structured form it is rendered from (docs/blueprints.md, Partitions).
    public var partitionKey: String?
    @NotCompared public var partitioning: PartitionKey?
    /// A partition's parent and bound as the server prints it (`FOR VALUES IN ('eu')`,
    /// `DEFAULT`), and the structured bound it is rendered from.
    public var partitionOf: QualifiedName?
    public var partitionBound: String?
    @NotCompared public var bound: PartitionBound?
    /// Membership in the publication `supabase_realtime`. Desired side: nil leaves it as it is
    /// (docs/blueprints.md, Realtime).
    public var realtime: Bool?
    /// How UPDATE and DELETE identify the old row to logical replication. Desired side: nil
    /// leaves it as it is.
    public var replicaIdentity: ReplicaIdentity?

    public init(
        name: QualifiedName, columns: [Column] = [], constraints: [String: Constraint] = [:],
        indexes: [String: Index] = [:], rlsEnabled: Bool = false, rlsForced: Bool = false,
        policies: [String: Policy] = [:], grants: [String: Set<String>]? = nil, comment: String? = nil,
        renamedFrom: String? = nil, origin: Origin? = nil
    ) {
        self.name = name
        self.columns = columns
        self.constraints = constraints
        self.indexes = indexes
        self.rlsEnabled = rlsEnabled
        self.rlsForced = rlsForced
        self.policies = policies
        self.grants = grants
        self.comment = comment
        self.renamedFrom = renamedFrom
        self.origin = origin
    }

    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }


    /// Roles that must never own a table: the owner bypasses RLS unless it is forced, and these
    /// are the roles of every Data API request.
    public static let apiRoles: Set<String> = ["anon", "authenticated", "public"]
}

/// `REPLICA IDENTITY`: what an UPDATE or DELETE sends of the old row to logical replication
/// (Realtime): the primary key (`default`), every column (`full`), nothing, or the columns of
/// one unique index.
public enum ReplicaIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    case `default`, full, nothing
    case index(String)

    public var description: String {
        switch self {
        case .default: return "default"
        case .full: return "full"
        case .nothing: return "nothing"
        case .index(let name): return "index \(name)"
        }
    }
}

/// Supabase Storage as Driftless manages it: the rows of `storage.buckets` and the policies on
/// `storage.objects` (docs/blueprints.md, Storage).
public struct StorageState: Sendable, Equatable, Codable {
    public static let objects = QualifiedName(schema: "storage", name: "objects")
    public var buckets: [String: Bucket] = [:]
    /// Desired: the declared policies. Actual: every policy on `storage.objects`.
    public var policies: [String: Policy] = [:]

    public init(buckets: [String: Bucket] = [:], policies: [String: Policy] = [:]) {
        self.buckets = buckets
        self.policies = policies
    }
}

/// A row of `storage.buckets`: compared by id and the three settings.
public struct Bucket: Sendable, Equatable, Codable {
    public var id: String
    public var isPublic: Bool
    /// Bytes; nil is no limit.
    public var fileSizeLimit: Int64?
    /// nil is any type.
    public var allowedMimeTypes: [String]?
    /// Actual side: the bucket holds objects (it is then never dropped).
    @NotCompared public var hasObjects: Bool
    @NotCompared public var origin: Origin?

    public init(id: String, isPublic: Bool = false, fileSizeLimit: Int64? = nil, allowedMimeTypes: [String]? = nil,
                hasObjects: Bool = false, origin: Origin? = nil) {
        self.id = id
        self.isPublic = isPublic
        self.fileSizeLimit = fileSizeLimit
        self.allowedMimeTypes = allowedMimeTypes
        self.hasObjects = hasObjects
        self.origin = origin
    }
}

/// The publication Supabase Realtime streams (`supabase_realtime`).
public struct RealtimePublication: Sendable, Equatable, Codable {
    /// `FOR ALL TABLES`: every table is a member and none can be added or removed.
    public var allTables: Bool

    public init(allTables: Bool) { self.allTables = allTables }
}

public struct Column: Sendable, Equatable, Codable {
    public enum Identity: String, Sendable, Codable { case always, byDefault = "by_default" }

    public var name: String
    /// `format_type(atttypid, atttypmod)`: `character varying(80)`, `integer[]`, `task_status`.
    public var type: String
    public var notNull: Bool
    /// `pg_get_expr(adbin, adrelid)`.
    public var defaultExpression: String?
    public var identity: Identity?
    /// A stored generated column's expression (`GENERATED ALWAYS AS (...) STORED`,
    /// `attgenerated = 's'`), as `pg_get_expr(adbin, adrelid)` prints it.
    public var generated: String?
    public var comment: String?
    @NotCompared public var renamedFrom: String?
    /// How existing values reach a new type (`ALTER COLUMN ... TYPE ... USING`): the blueprint's
    /// instruction for a change, never read from a database.
    @NotCompared public var using: String?
    @NotCompared public var origin: Origin?

    public init(
        name: String, type: String, notNull: Bool = false, defaultExpression: String? = nil,
        identity: Identity? = nil, generated: String? = nil, comment: String? = nil, renamedFrom: String? = nil,
        using: String? = nil, origin: Origin? = nil
    ) {
        self.name = name
        self.type = type
        self.notNull = notNull
        self.defaultExpression = defaultExpression
        self.identity = identity
        self.generated = generated
        self.comment = comment
        self.renamedFrom = renamedFrom
        self.using = using
        self.origin = origin
    }

}

public struct Constraint: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case primaryKey = "primary_key", unique, check, foreignKey = "foreign_key" }

    public var name: String
    public var kind: Kind
    public var columns: [String]
    /// Check constraints: the boolean expression as the server prints it.
    public var expression: String?
    /// Foreign keys: the referenced table and columns, and the actions.
    public var referencedTable: QualifiedName?
    public var referencedColumns: [String]?
    public var onDelete: ReferentialAction?
    public var onUpdate: ReferentialAction?
    /// False for NOT VALID (existing rows were not checked).
    public var validated = true
    /// NO INHERIT (check constraints).
    public var noInherit = false
    /// DEFERRABLE and INITIALLY DEFERRED (unique, primary key and foreign key constraints).
    public var deferral = Deferral()
    @NotCompared public var origin: Origin?

    public init(
        name: String, kind: Kind, columns: [String], expression: String? = nil, referencedTable: QualifiedName? = nil,
        referencedColumns: [String]? = nil, onDelete: ReferentialAction? = nil, onUpdate: ReferentialAction? = nil,
        origin: Origin? = nil
    ) {
        self.name = name
        self.kind = kind
        self.columns = columns
        self.expression = expression
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
        self.onDelete = onDelete
        self.onUpdate = onUpdate
        self.origin = origin
    }

    /// Equal definitions, whatever the names.
    public func sameDefinition(as other: Constraint) -> Bool { renamed(other.name) == other }

}

/// How one index key is ordered and compared; every field at its default is `IndexKeyOptions()`.
public struct IndexKeyOptions: Sendable, Equatable, Codable {
    public var descending = false
    /// Only when it is not the order's default (NULLS LAST ascending, NULLS FIRST descending).
    public var nullsFirst: Bool?
    /// A non-default operator class (`text_pattern_ops`), possibly schema-qualified.
    public var opclass: String?
    /// A collation other than the key's own.
    public var collation: String?

    public init(descending: Bool = false, nullsFirst: Bool? = nil, opclass: String? = nil, collation: String? = nil) {
        self.descending = descending
        // NULLS FIRST is the default of DESC and NULLS LAST of ASC: say only what differs.
        self.nullsFirst = nullsFirst == descending ? nil : nullsFirst
        self.opclass = opclass
        self.collation = collation
    }

    public var isDefault: Bool { self == IndexKeyOptions() }
}

public struct Index: Sendable, Equatable, Codable {
    public var name: String
    public var method: IndexMethod
    /// Each key as the server prints it: a column name or an expression.
    public var keys: [String]
    public var unique: Bool
    public var predicate: String?
    /// Per key, in the order of `keys`; empty when every key has the defaults.
    public var options: [IndexKeyOptions] = []
    /// INCLUDE columns.
    public var include: [String] = []
    /// Storage parameters (`WITH (fillfactor = 90)`), values as the server stores them.
    public var storage: [String: String] = [:]
    /// PostgreSQL 15's `NULLS NOT DISTINCT` (unique indexes only).
    public var nullsNotDistinct = false
    /// False for an index a failed `CREATE INDEX CONCURRENTLY` left behind (`indisvalid`): it
    /// serves no query and differs from the one wanted, so it is rebuilt (production.md).
    public var valid = true
    @NotCompared public var origin: Origin?

    public init(name: String, method: IndexMethod, keys: [String], unique: Bool, predicate: String? = nil,
                options: [IndexKeyOptions] = [], include: [String] = [], storage: [String: String] = [:],
                nullsNotDistinct: Bool = false, origin: Origin? = nil) {
        self.name = name
        self.method = method
        self.keys = keys
        self.unique = unique
        self.predicate = predicate
        self.options = options.allSatisfy(\.isDefault) ? [] : options
        self.include = include
        self.storage = storage
        self.nullsNotDistinct = nullsNotDistinct
        self.origin = origin
    }

    /// The options of key `position`.
    public func options(at position: Int) -> IndexKeyOptions { position < options.count ? options[position] : IndexKeyOptions() }

    /// Equal definitions, whatever the names.
    public func sameDefinition(as other: Index) -> Bool { renamed(other.name) == other }

}

public struct Policy: Sendable, Equatable, Codable {
    public var name: String
    public var command: PolicyCommand
    /// Role names; `public` for PUBLIC. Compared as a set.
    public var roles: Set<String>
    public var permissive: Bool
    public var using: String?
    public var withCheck: String?
    /// Whether Driftless generated it (tenant policies).
    @NotCompared public var generated: Bool
    @NotCompared public var origin: Origin?
    /// `COMMENT ON POLICY`: compared and set by `CommentKind`, never a reason to touch the policy.
    @NotCompared public var comment: String?

    public init(
        name: String, command: PolicyCommand, roles: Set<String>, permissive: Bool = true, using: String? = nil,
        withCheck: String? = nil, generated: Bool = false, origin: Origin? = nil
    ) {
        self.name = name
        self.command = command
        self.roles = roles
        self.permissive = permissive
        self.using = using
        self.withCheck = withCheck
        self.generated = generated
        self.origin = origin
    }

    /// Equal definitions, whatever the names.
    public func sameDefinition(as other: Policy) -> Bool { renamed(other.name) == other }

}

/// A named object of a table: a constraint, an index or a policy.
public protocol NamedTableObject: Equatable, Sendable {
    var name: String { get set }
    var origin: Origin? { get }
}

extension NamedTableObject {
    /// This object under another name (to compare definitions whatever the names).
    public func renamed(_ name: String) -> Self {
        var copy = self
        copy.name = name
        return copy
    }
}

extension Constraint: NamedTableObject {}
extension Index: NamedTableObject {}
extension Policy: NamedTableObject {}
