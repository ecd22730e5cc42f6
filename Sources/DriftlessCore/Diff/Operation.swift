/// One DDL step of a plan, as a typed value: what the differ decides. `SQLRenderer.render`
/// turns it into SQL; nothing between the diff and the renderer is a string of SQL
/// (docs/engine.md, Operations).
public enum Operation: Sendable, Equatable {
    public enum EnumPosition: Sendable, Equatable {
        /// At the end, or after a label.
        case after(String?)
        case before(String)
    }

    case createSchema(String)
    case createEnum(EnumType)
    case addEnumValue(QualifiedName, value: String, EnumPosition)
    case renameType(QualifiedName, to: String)
    case dropType(QualifiedName)
    case createTable(Table)
    case renameTable(QualifiedName, to: String)
    case dropTable(QualifiedName)
    case attachPartition(QualifiedName, parent: QualifiedName, PartitionBound)
    case detachPartition(QualifiedName, parent: QualifiedName)
    case addColumn(Column, table: QualifiedName)
    case renameColumn(String, to: String, table: QualifiedName)
    case dropColumn(String, table: QualifiedName)
    case setDefault(String?, column: String, table: QualifiedName)
    /// `TYPE t USING ...`: a cast, a cast through text (an enum recreated) or the blueprint's
    /// expression.
    case setType(String, column: String, table: QualifiedName, TypeConversion)
    /// A generated column made plain (`DROP EXPRESSION`).
    case dropExpression(column: String, table: QualifiedName)
    case setNotNull(Bool, column: String, table: QualifiedName)
    case addIdentity(Column.Identity, column: String, table: QualifiedName)
    case setIdentity(Column.Identity, column: String, table: QualifiedName)
    case dropIdentity(column: String, table: QualifiedName)
    case addConstraint(Constraint, table: QualifiedName)
    case dropConstraint(String, table: QualifiedName)
    case renameConstraint(String, to: String, table: QualifiedName)
    /// `VALIDATE CONSTRAINT`: checks the existing rows of a NOT VALID constraint.
    case validateConstraint(String, table: QualifiedName)
    /// `ALTER CONSTRAINT … [NOT] DEFERRABLE INITIALLY …` (foreign keys).
    case alterConstraintDeferral(String, table: QualifiedName, Deferral)
    /// `columns`: the table's column names (a key that names one is a column key).
    case createIndex(Index, table: QualifiedName, columns: Set<String>)
    case dropIndex(String, schema: String)
    /// `CREATE INDEX CONCURRENTLY`, outside any transaction (production.md, Online changes).
    case createIndexConcurrently(Index, table: QualifiedName, columns: Set<String>)
    /// `DROP INDEX CONCURRENTLY`, outside any transaction.
    case dropIndexConcurrently(String, schema: String)
    /// `ADD CONSTRAINT name UNIQUE USING INDEX name`: a unique index built concurrently becomes the constraint.
    case addUniqueUsingIndex(String, table: QualifiedName)
    case renameIndex(String, to: String, schema: String)
    case enableRLS(Bool, table: QualifiedName)
    case forceRLS(Bool, table: QualifiedName)
    case createPolicy(Policy, table: QualifiedName)
    case alterPolicy(Policy, table: QualifiedName)
    case dropPolicy(String, table: QualifiedName)
    case renamePolicy(String, to: String, table: QualifiedName)
    case grant(Set<String>, table: QualifiedName, role: String)
    case revoke(Set<String>, table: QualifiedName, role: String)
    case commentOnTable(QualifiedName, String?)
    case commentOnColumn(String, table: QualifiedName, String?)
    case commentOnPolicy(String, table: QualifiedName, String?)
    /// To `CURRENT_USER` when the role is nil.
    case alterOwner(QualifiedName, to: String?)
    case enableTrigger(String, table: QualifiedName)
    case createSequence(SequenceObject)
    /// `ALTER SEQUENCE` to every setting of the sequence (never `RESTART`: the current value is data).
    case alterSequence(SequenceObject)
    /// `OWNED BY table.column`, or `OWNED BY NONE` for nil.
    case setSequenceOwner(QualifiedName, column: SequenceObject.Owner?)
    case dropSequence(QualifiedName)
    case grantOnSequence(Set<String>, sequence: QualifiedName, role: String)
    case revokeOnSequence(Set<String>, sequence: QualifiedName, role: String)
    /// To `CURRENT_USER` when the role is nil.
    case alterSequenceRole(QualifiedName, to: String?)
    case createFunction(FunctionObject, replace: Bool)
    case dropFunction(FunctionKey)
    case grantOnFunction(Set<String>, function: FunctionKey, role: String)
    case revokeOnFunction(Set<String>, function: FunctionKey, role: String)
    /// To `CURRENT_USER` when the role is nil.
    case alterFunctionOwner(FunctionKey, to: String?)
    case createTrigger(TriggerObject, replace: Bool)
    case dropTrigger(TriggerKey)
    case setTrigger(TriggerKey, TriggerObject.Enabled)
    case createExtension(ExtensionObject)
    case updateExtension(String, to: String)
    case moveExtension(String, to: String)
    case dropExtension(String)
    case createView(ViewObject, replace: Bool)
    case dropView(QualifiedName, materialized: Bool)
    case commentOnView(QualifiedName, materialized: Bool, String?)
    /// To `CURRENT_USER` when the role is nil.
    case alterViewOwner(QualifiedName, materialized: Bool, to: String?)
    /// `CREATE PUBLICATION supabase_realtime` with no table (docs/blueprints.md, Realtime).
    case createRealtimePublication
    /// A table added to (true) or removed from `supabase_realtime`.
    case publish(QualifiedName, Bool)
    case setReplicaIdentity(QualifiedName, ReplicaIdentity)
    /// A row of `storage.buckets` inserted, updated or deleted (docs/blueprints.md, Storage).
    case createBucket(Bucket)
    case updateBucket(Bucket)
    case deleteBucket(String)

    /// The strongest table lock the statement takes (PostgreSQL's documentation of each
    /// command; docs/engine.md, Operations and SQL).
    public var lock: LockLevel {
        switch self {
        // A partition created under a live parent locks the parent.
        case .createTable(let table) where table.partitionOf != nil: return .accessExclusive
        case .createSchema, .createEnum, .addEnumValue, .renameType, .dropType, .createTable, .commentOnTable, .commentOnColumn, .commentOnPolicy,
             .grant, .revoke, .createSequence, .setSequenceOwner, .grantOnSequence, .revokeOnSequence, .alterSequenceRole:
            return .none
        // Writers drawing numbers from it wait; no table is locked.
        case .alterSequence, .dropSequence: return .none
        // Calls of a function wait for a replace; no table is locked.
        case .createFunction, .dropFunction, .grantOnFunction, .revokeOnFunction, .alterFunctionOwner: return .none
        case .createExtension, .updateExtension, .moveExtension, .dropExtension: return .none
        // ALTER PUBLICATION ... ADD/DROP TABLE takes SHARE UPDATE EXCLUSIVE: reads and writes go on.
        case .createRealtimePublication, .publish: return .none
        // Row writes to storage.buckets: ROW EXCLUSIVE, which blocks no reader or writer.
        case .createBucket, .updateBucket, .deleteBucket: return .none
        // CREATE TRIGGER and ALTER TABLE ... ENABLE/DISABLE TRIGGER take SHARE ROW EXCLUSIVE;
        // DROP TRIGGER takes ACCESS EXCLUSIVE.
        case .createTrigger, .setTrigger: return .shareRowExclusive
        case .dropTrigger: return .accessExclusive
        // A view's own lock; the tables under it are not locked (a new materialized view reads them).
        case .createView(_, let replace): return replace ? .accessExclusive : .none
        case .dropView: return .accessExclusive
        case .commentOnView, .alterViewOwner: return .none
        case .createIndex: return .share
        // SHARE UPDATE EXCLUSIVE: reads and writes go on while the index builds or goes.
        case .createIndexConcurrently, .dropIndexConcurrently: return .none
        case .addConstraint(let constraint, _): return constraint.kind == .foreignKey ? .shareRowExclusive : .accessExclusive
        case .enableTrigger: return .shareRowExclusive
        // VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE: reads and writes go on.
        case .validateConstraint: return .none
        default: return .accessExclusive
        }
    }
}

/// How a column's values reach its new type.
public enum TypeConversion: Sendable, Equatable {
    /// `USING c::t`.
    case cast
    /// `USING c::text::t`: the enum under the column is recreated.
    case throughText
    /// The blueprint's `using` expression.
    case using(String)
}

/// Table lock levels an operation may take, weakest first.
public enum LockLevel: Int, Sendable, Codable, Comparable {
    /// Nothing that blocks reads or writes of a table with rows (new objects, comments, types,
    /// privileges).
    case none
    /// SHARE: blocks writes, not reads (CREATE INDEX).
    case share
    /// SHARE ROW EXCLUSIVE: blocks writes (ADD FOREIGN KEY, on both tables; ENABLE TRIGGER).
    case shareRowExclusive
    /// ACCESS EXCLUSIVE: blocks reads and writes (most ALTER TABLE forms, DROP).
    case accessExclusive

    public static func < (lhs: LockLevel, rhs: LockLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension SQLRenderer {
    /// The statement of one operation.
    public static func render(_ operation: Operation) -> SQL {
        switch operation {
        case .createSchema(let schema): return createSchema(schema)
        case .createEnum(let type): return createEnum(type)
        case .addEnumValue(let type, let value, .after(let after)): return addEnumValue(type, value: value, after: after)
        case .addEnumValue(let type, let value, .before(let before)): return addEnumValue(type, value: value, before: before)
        case .renameType(let type, let name): return renameType(type, to: name)
        case .dropType(let type): return dropType(type)
        case .createTable(let table): return createTable(table)
        case .renameTable(let table, let name): return renameTable(table, to: name)
        case .dropTable(let table): return dropTable(table)
        case .attachPartition(let partition, let parent, let bound): return attachPartition(partition, to: parent, bound)
        case .detachPartition(let partition, let parent): return detachPartition(partition, from: parent)
        case .addColumn(let column, let table): return addColumn(column, to: table)
        case .renameColumn(let column, let name, let table): return renameColumn(column, to: name, in: table)
        case .dropColumn(let column, let table): return dropColumn(column, from: table)
        case .setDefault(let value, let column, let table): return setDefault(value, column: column, of: table)
        case .setType(let type, let column, let table, let conversion): return setType(type, column: column, of: table, conversion: conversion)
        case .dropExpression(let column, let table): return dropExpression(column: column, of: table)
        case .setNotNull(let notNull, let column, let table): return setNotNull(notNull, column: column, of: table)
        case .addIdentity(let identity, let column, let table): return addIdentity(identity, column: column, of: table)
        case .setIdentity(let identity, let column, let table): return setIdentity(identity, column: column, of: table)
        case .dropIdentity(let column, let table): return dropIdentity(column: column, of: table)
        case .addConstraint(let constraint, let table): return addConstraint(constraint, to: table)
        case .dropConstraint(let name, let table): return dropConstraint(name, from: table)
        case .renameConstraint(let name, let newName, let table): return renameConstraint(name, to: newName, on: table)
        case .validateConstraint(let name, let table): return validateConstraint(name, on: table)
        case .alterConstraintDeferral(let name, let table, let deferral): return alterConstraintDeferral(name, on: table, to: deferral)
        case .createIndex(let index, let table, let columns): return createIndex(index, table: table, columns: columns)
        case .dropIndex(let name, let schema): return dropIndex(name, schema: schema)
        case .createIndexConcurrently(let index, let table, let columns): return createIndex(index, table: table, columns: columns, concurrently: true)
        case .dropIndexConcurrently(let name, let schema): return dropIndex(name, schema: schema, concurrently: true)
        case .addUniqueUsingIndex(let name, let table): return addUniqueUsingIndex(name, to: table)
        case .renameIndex(let name, let newName, let schema): return renameIndex(name, to: newName, schema: schema)
        case .enableRLS(let enabled, let table): return enableRLS(enabled, on: table)
        case .forceRLS(let forced, let table): return forceRLS(forced, on: table)
        case .createPolicy(let policy, let table): return createPolicy(policy, on: table)
        case .alterPolicy(let policy, let table): return alterPolicy(policy, on: table)
        case .dropPolicy(let name, let table): return dropPolicy(name, on: table)
        case .renamePolicy(let name, let newName, let table): return renamePolicy(name, to: newName, on: table)
        case .grant(let privileges, let table, let role): return grant(privileges, on: table, to: role)
        case .revoke(let privileges, let table, let role): return revoke(privileges, on: table, from: role)
        case .commentOnTable(let table, let text): return comment(onTable: table, text)
        case .commentOnColumn(let column, let table, let text): return comment(onColumn: column, of: table, text)
        case .commentOnPolicy(let policy, let table, let text): return comment(onPolicy: policy, of: table, text)
        case .alterOwner(let table, let role): return alterOwner(table, to: role)
        case .enableTrigger(let trigger, let table): return enableTrigger(trigger, on: table)
        case .createSequence(let sequence): return createSequence(sequence)
        case .alterSequence(let sequence): return alterSequence(sequence)
        case .setSequenceOwner(let sequence, let column): return setSequenceOwner(sequence, column)
        case .dropSequence(let sequence): return dropSequence(sequence)
        case .grantOnSequence(let privileges, let sequence, let role): return grant(privileges, onSequence: sequence, to: role)
        case .revokeOnSequence(let privileges, let sequence, let role): return revoke(privileges, onSequence: sequence, from: role)
        case .alterSequenceRole(let sequence, let role): return alterOwner(sequence: sequence, to: role)
        case .createFunction(let function, let replace): return createFunction(function, replace: replace)
        case .dropFunction(let key): return dropFunction(key)
        case .grantOnFunction(let privileges, let key, let role): return grant(privileges, onFunction: key, to: role)
        case .revokeOnFunction(let privileges, let key, let role): return revoke(privileges, onFunction: key, from: role)
        case .alterFunctionOwner(let key, let role): return alterOwner(function: key, to: role)
        case .createTrigger(let trigger, let replace): return createTrigger(trigger, replace: replace)
        case .dropTrigger(let key): return dropTrigger(key)
        case .setTrigger(let key, let enabled): return setTrigger(key, enabled)
        case .createExtension(let extensionObject): return createExtension(extensionObject)
        case .updateExtension(let name, let version): return updateExtension(name, to: version)
        case .moveExtension(let name, let schema): return moveExtension(name, to: schema)
        case .dropExtension(let name): return dropExtension(name)
        case .createView(let view, let replace): return createView(view, replace: replace)
        case .dropView(let name, let materialized): return dropView(name, materialized: materialized)
        case .commentOnView(let name, let materialized, let text): return comment(onView: name, materialized: materialized, text)
        case .alterViewOwner(let name, let materialized, let role): return alterOwner(view: name, materialized: materialized, to: role)
        case .createRealtimePublication: return createRealtimePublication()
        case .publish(let table, let member): return publish(table, member)
        case .setReplicaIdentity(let table, let identity): return setReplicaIdentity(identity, of: table)
        case .createBucket(let bucket): return createBucket(bucket)
        case .updateBucket(let bucket): return updateBucket(bucket)
        case .deleteBucket(let id): return deleteBucket(id)
        }
    }
}
