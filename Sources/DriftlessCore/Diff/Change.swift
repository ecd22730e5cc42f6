/// A risk that a change carries (reconcile.md, Hazards).
public enum HazardKind: String, Sendable, Codable, CaseIterable, Comparable {
    case deletesData = "deletes_data"
    case rewritesTable = "rewrites_table"
    case relaxesSecurity = "relaxes_security"
    case mayFail = "may_fail"
    case locksTable = "locks_table"

    /// Allowed unless asked otherwise: they are reported, not blocking.
    public static let allowedByDefault: Set<HazardKind> = [.mayFail, .locksTable]

    public static func < (lhs: HazardKind, rhs: HazardKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses `deletes_data,may_fail`.
    /// - Throws: `HazardListError` naming the unknown word.
    public static func parseList(_ text: String) throws -> Set<HazardKind> {
        var result: Set<HazardKind> = []
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !word.isEmpty {
            guard let hazard = HazardKind(rawValue: word) else { throw HazardListError(word: word) }
            result.insert(hazard)
        }
        return result
    }
}

/// An unknown hazard name in `--allow` or a `Driftless-Allow:` trailer.
public struct HazardListError: Error, CustomStringConvertible {
    public var word: String
    public var description: String {
        "unknown hazard '\(word)' (known: \(HazardKind.allCases.map(\.rawValue).joined(separator: ", ")))"
    }
}

/// One hazard of one change, as the Result reports it.
public struct Hazard: Sendable, Codable, Equatable, Hashable {
    public var hazard: HazardKind
    public var object: String
    public var detail: String

    public init(_ hazard: HazardKind, object: String, detail: String) {
        self.hazard = hazard
        self.object = object
        self.detail = detail
    }
}

/// One difference between the desired and the actual catalog: the typed operations that fix
/// it, rendered once by the SQL layer, with their hazards and where the blueprints asked for it.
public struct Change: Sendable, Equatable {
    /// `unsupported`: an object no kind models, only ever reported (drift, import).
    public enum Kind: String, Sendable, Codable { case missing, changed, unmanaged, unsupported }
    /// The kinds of object. The first twelve, `sequence`, `function`, `extension`, `view` `publication` (Realtime) and `bucket` (Storage) are modelled (`ObjectKinds.all`); the rest are,
    /// for now, only reported as `unsupported` (docs/engine.md, Unsupported objects).
    public enum ObjectType: String, Sendable, Codable, CaseIterable {
        case schema, table, column, constraint, index, `enum`, rls, policy, grant, comment, owner, trigger
        case function, procedure, aggregate, view, sequence, `extension`, publication, rule, type, partition
        case materializedView = "materialized_view", foreignTable = "foreign_table", bucket

        /// The types some registered kind models (`ObjectKinds.all`).
        public static let modelled: Set<ObjectType> = [
            .schema, .table, .column, .constraint, .index, .enum, .rls, .policy, .grant, .comment, .owner, .trigger, .sequence, .function, .extension, .view,
            .publication, .bucket,
        ]
    }

    /// What the change does to its object (for summaries and reports).
    public enum Action: String, Sendable, Codable { case create, rename, alter, drop }

    /// The rank of a change when no dependency edge orders it (docs/engine.md, Order): drops
    /// of removed objects come last, in reverse.
    public enum Phase: Int, Sendable, Codable, Comparable {
        case schema, extensions, dropDependents, enumCreate, sequences, enumValues, functions, renameTable, createTable, renameColumn
        case dropPoliciesForColumns, columns, sequenceOwnership, constraints, foreignKeys, indexes, views, rls, policies, grants, comments
        case owners, triggers
        case dropViews, dropTriggers, dropPolicies, dropIndexes, dropForeignKeys, dropConstraints, dropColumns, dropTables, dropFunctions
        case dropSequences, dropEnums, dropExtensions
        public static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The fields, behind one reference: a plan of 10,000 tables copies its changes many times
    /// (filters, orderings, batches), and a copy is then one reference count instead of one per
    /// field (docs/engine.md, Copies). Copied on write.
    private final class Storage: @unchecked Sendable {
        var kind: Kind
        var id: ObjectID
        var action: Action
        var desired: String?
        var actual: String?
        var operations: [Operation]
        var sql: [SQL]
        var hazards: [Hazard]
        var applied: Bool
        var phase: Phase
        var origin: Origin?
        var isRecreate = false
        var dependsOn: Set<ObjectID> = []
        var execution: ExecutionPhase = .transaction

        init(kind: Kind, id: ObjectID, action: Action, desired: String?, actual: String?, operations: [Operation], sql: [SQL],
             hazards: [Hazard], applied: Bool, phase: Phase, origin: Origin?) {
            self.kind = kind
            self.id = id
            self.action = action
            self.desired = desired
            self.actual = actual
            self.operations = operations
            self.sql = sql
            self.hazards = hazards
            self.applied = applied
            self.phase = phase
            self.origin = origin
        }

        func copy() -> Storage {
            let copy = Storage(kind: kind, id: id, action: action, desired: desired, actual: actual, operations: operations, sql: sql,
                               hazards: hazards, applied: applied, phase: phase, origin: origin)
            copy.isRecreate = isRecreate
            copy.dependsOn = dependsOn
            copy.execution = execution
            return copy
        }
    }

    private var storage: Storage

    /// The storage, this value's own before it is written.
    private var unique: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    public var kind: Kind {
        get { storage.kind }
        set { unique.kind = newValue }
    }
    /// The object it is about.
    public var id: ObjectID {
        get { storage.id }
        set { unique.id = newValue }
    }
    public var action: Action {
        get { storage.action }
        set { unique.action = newValue }
    }
    /// What the blueprints want and what the database has, as the server prints them (for
    /// people; nothing reads them back).
    public var desired: String? {
        get { storage.desired }
        set { unique.desired = newValue }
    }
    public var actual: String? {
        get { storage.actual }
        set { unique.actual = newValue }
    }
    /// The typed steps, in order.
    public var operations: [Operation] { storage.operations }
    /// Their statements, each with the template `StatementGuard` checks it against.
    public var sql: [SQL] { storage.sql }
    public var hazards: [Hazard] {
        get { storage.hazards }
        set { unique.hazards = newValue }
    }
    /// `false` for unmanaged objects when not pruning: reported, never applied.
    public var applied: Bool {
        get { storage.applied }
        set { unique.applied = newValue }
    }
    public var phase: Phase {
        get { storage.phase }
        set { unique.phase = newValue }
    }
    /// The blueprint element that asked for it.
    public var origin: Origin? {
        get { storage.origin }
        set { unique.origin = newValue }
    }
    /// A policy dropped and created again unchanged, only because a column under it changes type
    /// or is dropped: a step of the plan, not a difference to report.
    public var isRecreate: Bool {
        get { storage.isRecreate }
        set { unique.isRecreate = newValue }
    }
    /// Objects whose changes must run before this one, whatever the phases say (Plan).
    public var dependsOn: Set<ObjectID> {
        get { storage.dependsOn }
        set { unique.dependsOn = newValue }
    }
    /// Where its statements run: in the one transaction (always, unless `--online` moved it;
    /// production.md, Online changes).
    public var execution: ExecutionPhase {
        get { storage.execution }
        set { unique.execution = newValue }
    }

    public init(
        kind: Kind, id: ObjectID, action: Action, operations: [Operation], desired: String? = nil, actual: String? = nil,
        hazards: [Hazard] = [], applied: Bool = true, phase: Phase, origin: Origin? = nil
    ) {
        storage = Storage(kind: kind, id: id, action: action, desired: desired, actual: actual, operations: operations,
                          sql: operations.map(SQLRenderer.render), hazards: hazards, applied: applied, phase: phase, origin: origin)
    }

    public static func == (lhs: Change, rhs: Change) -> Bool {
        let l = lhs.storage, r = rhs.storage
        return l === r || (l.kind == r.kind && l.id == r.id && l.action == r.action && l.desired == r.desired && l.actual == r.actual
            && l.operations == r.operations && l.sql == r.sql && l.hazards == r.hazards && l.applied == r.applied && l.phase == r.phase
            && l.origin == r.origin && l.isRecreate == r.isRecreate && l.dependsOn == r.dependsOn && l.execution == r.execution)
    }

    /// The same change with `operations` instead (rendered anew), run in `execution`.
    public func with(_ operations: [Operation], execution: ExecutionPhase, hazards: [Hazard]? = nil) -> Change {
        var change = Change(kind: kind, id: id, action: action, operations: operations, desired: desired, actual: actual,
                            hazards: hazards ?? self.hazards, applied: applied, phase: phase, origin: origin)
        change.isRecreate = isRecreate
        change.dependsOn = dependsOn
        change.execution = execution
        return change
    }

    public var objectType: ObjectType { id.kind }
    /// `public.projects`, `public.projects.name`, ...: how reports name the object.
    public var object: String { id.description }
    /// The table it belongs to, when it belongs to one.
    public var table: QualifiedName? { id.tableName }
    /// The text of `sql`.
    public var statements: [String] { sql.map(\.text) }
    /// The strongest lock its statements take.
    public var lock: LockLevel { operations.map(\.lock).max() ?? .none }

    /// Whether the change creates or changes RLS or policies (for `rls_tables`).
    public var touchesRLS: Bool { objectType == .rls || objectType == .policy }
}

/// Where a change's statements run (production.md, Online changes): `transaction`, the one
/// transaction of the apply; `concurrent`, after it, each statement on its own outside any
/// transaction (index builds and swaps); `validate`, then, each change in a transaction of its
/// own under locks that let reads and writes go on, or hold a strong one only for a moment.
public enum ExecutionPhase: String, Sendable, Codable, CaseIterable, Comparable {
    case transaction, concurrent, validate

    public static func < (lhs: ExecutionPhase, rhs: ExecutionPhase) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// `Driftless-Allow: deletes_data, rewrites_table` trailers of a commit message.
public enum CommitTrailers {
    /// The hazards a commit message allows for its own revision; unknown words are ignored.
    public static func allowedHazards(in message: String) -> Set<HazardKind> {
        var result: Set<HazardKind> = []
        for line in message.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix("driftless-allow:") else { continue }
            let list = trimmed.dropFirst("driftless-allow:".count)
            for word in list.split(separator: ",") {
                if let hazard = HazardKind(rawValue: word.trimmingCharacters(in: .whitespaces)) { result.insert(hazard) }
            }
        }
        return result
    }
}
