/// One kind of database object, in one place (docs/engine.md, Object kinds): its identities,
/// the catalogs that hold it, how its desired and actual forms differ as typed operations, and
/// how summaries name it. Every kind is registered in `ObjectKinds.all`, which the differ, the
/// steady-state fingerprint, the managed-object record and the summaries iterate.
public protocol ObjectKind: Sendable {
    /// The kind's `object_type`.
    static var type: Change.ObjectType { get }
    /// The system catalogs whose rows hold this kind's objects: the steady-state fingerprint
    /// covers every catalog a registered kind names.
    static var catalogs: [String] { get }
    /// Summary phrases ("created", "dropped") by action, in the order they are printed.
    static var summary: [(action: Change.Action, participle: String)] { get }
    /// The singular and plural noun of summaries.
    static var nouns: (one: String, many: String) { get }
    /// The identities of this kind's objects in a (desired) catalog: what a reconciliation
    /// records as managed, so a later removal is a drop and not an unmanaged object.
    static func identities(in catalog: Catalog) -> [ObjectID]
    /// Its part of the introspection statement (`CatalogQuery`); nil when its fields come with
    /// another kind's rows (RLS flags, owners and table comments with the table's row, column
    /// comments with the column's).
    static var introspection: IntrospectionPart? { get }
    /// Reads one of its rows.
    static func read(_ row: CatalogRow, into reader: inout CatalogReader)
    /// The scratch copies (in `pg_temp`) of its desired objects of `schema` that belong to no
    /// table (enums), built before any table's.
    static func scratch(_ catalog: Catalog, schema: String) -> [ScratchStatement]
    /// The scratch copies of one desired table's objects of this kind.
    static func scratch(_ table: Table) -> [ScratchStatement]
    /// Takes the server's text of this kind's fields from the scratch copy of a table.
    static func adopt(_ scratch: Table, into table: inout Table)
    /// Changes of objects that do not belong to one table (schemas, enums, tables themselves).
    static func diff(_ context: DiffContext, _ plan: inout PlanBuilder)
    /// Changes of one table's objects of this kind.
    static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder)
}

extension ObjectKind {
    public static var introspection: IntrospectionPart? { nil }
    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {}
    public static func scratch(_ catalog: Catalog, schema: String) -> [ScratchStatement] { [] }
    public static func scratch(_ table: Table) -> [ScratchStatement] { [] }
    public static func adopt(_ scratch: Table, into table: inout Table) {}
    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {}
    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {}
    public static var summary: [(action: Change.Action, participle: String)] { [(.create, "created"), (.alter, "changed"), (.rename, "changed"), (.drop, "changed")] }
    public static var nouns: (one: String, many: String) { (type.rawValue, type.rawValue + "s") }
    public static func identities(in catalog: Catalog) -> [ObjectID] { [] }
}

/// The registry: every kind, in the order the differ visits them (which is also the order of
/// changes that neither a dependency nor a phase orders, and of summary phrases). Catalog-level
/// diffs (schemas, extensions, tables, enums, sequences, functions, triggers) all run before
/// the per-table ones; functions after enums (an enum recreated under a function) and
/// triggers after functions (a function recreated under a trigger).
public enum ObjectKinds {
    public static let all: [any ObjectKind.Type] = [
        SchemaKind.self, ExtensionKind.self, TableKind.self, ColumnKind.self, EnumKind.self, SequenceKind.self, FunctionKind.self,
        TriggerKind.self, ViewKind.self, ConstraintKind.self, IndexKind.self, RLSKind.self, PolicyKind.self, GrantKind.self, OwnerKind.self,
        CommentKind.self, RealtimeKind.self, StorageKind.self,
    ]

    /// The kind registered for `type`.
    public static func kind(_ type: Change.ObjectType) -> any ObjectKind.Type {
        all.first { $0.type == type }!
    }

    /// Every catalog some kind is stored in.
    public static var catalogs: Set<String> { Set(all.flatMap { $0.catalogs }) }

    /// Every managed identity of `catalog`, over all kinds.
    public static func identities(in catalog: Catalog) -> Set<ObjectID> {
        Set(all.flatMap { $0.identities(in: catalog) })
    }
}

/// What every kind's diff reads.
public struct DiffContext: Sendable {
    public var desired: Catalog
    public var actual: Catalog
    /// The desired catalog as the user wrote it: statements are rendered from it (the server's
    /// printed expressions are for comparing; re-parsing them does not always print the same).
    public var source: Catalog?
    public var managedSchemas: Set<String>
    public var existingSchemas: Set<String>
    /// Objects an earlier reconciliation of this schema set managed: absent now, they are
    /// dropped (with hazards); never-managed ones are only reported as unmanaged.
    public var previouslyManaged: Set<ObjectID>
    /// Drop unmanaged objects too.
    public var prune: Bool

    /// Whether a removed object is dropped when applied (managed before, or pruning).
    public func willDrop(_ id: ObjectID) -> Bool { prune || previouslyManaged.contains(id) }
}

/// One desired table and the live table it is compared with (after renames), or what CREATE
/// TABLE leaves for a new one.
public struct TablePair: Sendable {
    public var want: Table
    public var have: Table
    /// The table as the blueprints wrote it.
    public var written: Table
    public var isNew: Bool
    public var name: QualifiedName { want.name }

    public func writtenColumn(_ column: Column) -> Column { written.column(column.name) ?? column }
    public func id(_ kind: Change.ObjectType, _ member: String) -> ObjectID { .member(kind, of: name, member) }
}

/// Collects the changes of a diff, and what one kind's changes tell the kinds after it.
public struct PlanBuilder: Sendable {
    public private(set) var changes: [Change] = []
    /// Tables whose policies must be dropped and created again (a column under them changes type
    /// or is dropped).
    public var recreatePolicies: Set<QualifiedName> = []
    /// Enums recreated under their own name: the columns that use them change type through text.
    public var recreatedEnums: Set<QualifiedName> = []
    /// Triggers and policies dropped before a function under them is dropped and created
    /// again: their kinds create them again (FunctionKind).
    public var droppedTriggers: Set<TriggerKey> = []
    public var droppedPolicies: Set<ObjectID> = []
    /// Views dropped before a function they call is dropped (FunctionKind): ViewKind creates
    /// them again, or leaves them dropped when they are removed.
    public var droppedViews: Set<QualifiedName> = []
    /// Foreign keys dropped and added again around the key they stand on, which goes: each
    /// is added after that key's drop (ConstraintKind).
    public var foreignKeysAfter: [ObjectID: ObjectID] = [:]
    /// Tables renamed away: not dropped.
    public var renamedAway: Set<QualifiedName> = []
    /// The table pairs the table kind found, for the per-table kinds.
    public var pairs: [TablePair] = []
    /// The policies some change creates, by table (a created policy has no comment yet; asked
    /// per table, so kept as the changes are added rather than searched for).
    public private(set) var createdPolicies: [QualifiedName: Set<String>] = [:]

    public init() {}

    public mutating func add(_ change: Change) {
        for case .createPolicy(let policy, let table) in change.operations { createdPolicies[table, default: []].insert(policy.name) }
        changes.append(change)
    }

    /// This builder's state without its changes: where a share of the per-table kinds starts
    /// (`Differ.plan`).
    func withoutChanges() -> PlanBuilder {
        var copy = self
        copy.changes = []
        return copy
    }

    /// Changes a share of the per-table kinds added, in their order (`Differ.plan`); the state
    /// they recorded for their own tables is not needed once every table is done.
    mutating func append(_ added: [Change]) {
        changes.append(contentsOf: added)
    }

    /// Edits the changes added since `start`.
    mutating func amend(from start: Int, _ edit: (inout Change) -> Void) {
        for index in start..<changes.count { edit(&changes[index]) }
    }

    /// Adds a change of `id`.
    public mutating func add(
        _ kind: Change.Kind, _ id: ObjectID, _ action: Change.Action, phase: Change.Phase, _ operations: [Operation],
        desired: String? = nil, actual: String? = nil, hazards: [Hazard] = [], origin: Origin? = nil
    ) {
        add(Change(kind: kind, id: id, action: action, operations: operations, desired: desired, actual: actual,
                   hazards: hazards, phase: phase, origin: origin))
    }

    /// An object in the database that no blueprint wants: dropped (with its hazard) when an
    /// earlier reconciliation managed it or when pruning; otherwise only reported as unmanaged.
    public mutating func removed(
        _ id: ObjectID, phase: Change.Phase, _ operations: [Operation], hazard: HazardKind?, detail: String, actual: String,
        context: DiffContext
    ) {
        let wasManaged = context.previouslyManaged.contains(id)
        let hazards = hazard.map { [Hazard($0, object: id.description, detail: detail)] } ?? []
        add(Change(kind: wasManaged ? .changed : .unmanaged, id: id, action: .drop, operations: operations,
                   actual: actual, hazards: hazards, applied: wasManaged || context.prune, phase: phase))
    }

    /// Named objects of a table (constraints, indexes, policies): same name and definition →
    /// nothing; same definition under another name → RENAME; changed → ALTER where possible,
    /// else drop + create; absent → create; present only in the database → removed.
    mutating func diffNamed<T: NamedTableObject>(
        _ want: [String: T], _ have: [String: T], kind: Change.ObjectType, pair: TablePair, context: DiffContext,
        phase: (T) -> Change.Phase, dropPhase: (T) -> Change.Phase,
        create: (T) -> [Operation], drop: (T) -> [Operation], rename: (String, String) -> Operation, describe: (T) -> String,
        alter: ((T, T) -> [Operation]?)? = nil, createHazards: (T) -> [Hazard], dropHazard: (T) -> Hazard?
    ) {
        var unmatchedHave = Set(have.keys.filter { want[$0] == nil })
        for key in want.keys.sorted() {
            let item = want[key]!
            let id = pair.id(kind, key)
            if let existing = have[key] {
                guard item != existing else { continue }
                add(.changed, id, .alter, phase: phase(item), alter?(item, existing) ?? (drop(existing) + create(item)),
                    desired: describe(item), actual: describe(existing), hazards: createHazards(item), origin: item.origin)
            } else if let previous = unmatchedHave.sorted().first(where: { item.renamed($0) == have[$0]! }) {
                unmatchedHave.remove(previous)
                add(.changed, id, .rename, phase: phase(item), [rename(previous, key)], desired: key, actual: previous, origin: item.origin)
            } else {
                add(.missing, id, .create, phase: phase(item), create(item), desired: describe(item), hazards: createHazards(item),
                    origin: item.origin)
            }
        }
        for key in unmatchedHave.sorted() {
            let item = have[key]!
            let hazard = dropHazard(item)
            removed(pair.id(kind, key), phase: dropPhase(item), drop(item), hazard: hazard?.hazard, detail: hazard?.detail ?? "DROP",
                    actual: describe(item), context: context)
        }
    }
}
