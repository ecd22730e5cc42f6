/// `--online` (production.md and docs/operations.md, Online changes): the changes of a
/// plan that would hold a strong lock on an existing table while scanning it, rewritten into
/// short phases. Pure: it reads the plan and the live catalog, and says where each statement runs.
///
/// | change | online form |
/// |---|---|
/// | new index | `CREATE INDEX CONCURRENTLY` (concurrent) |
/// | changed index | built concurrently under a temporary name, the old one dropped concurrently, renamed |
/// | index left invalid by a failed build | dropped concurrently and built again |
/// | new unique constraint | a concurrent unique index, then `ADD CONSTRAINT … UNIQUE USING INDEX` (validate) |
/// | new foreign key or check | `ADD … NOT VALID` (transaction), `VALIDATE CONSTRAINT` (validate) |
/// | `SET NOT NULL` | `CHECK (c IS NOT NULL) NOT VALID` (transaction), then `VALIDATE`, `SET NOT NULL`, drop the check (validate) |
///
/// What a run killed between phases left behind (a valid index under the temporary or the
/// constraint's name, the temporary check) is taken up by the next run, not built twice.
/// Partitioned tables keep every change in the transaction (PostgreSQL 15 has neither
/// concurrent index builds nor NOT VALID foreign keys on them).
public enum Online {
    /// `changes` (a plan, in order) with the online ones rewritten: the transaction's first,
    /// then the concurrent steps, then the validations, each group in plan order.
    public static func phases(_ changes: [Change], actual: Catalog) -> [Change] {
        let applied = changes.filter { $0.applied && !$0.sql.isEmpty }
        // A unique constraint a new foreign key of the plan may reference stays in the
        // transaction: the key needs it to exist when it is added.
        let referenced = Set(applied.flatMap { change in
            change.operations.compactMap { operation -> QualifiedName? in
                if case .addConstraint(let constraint, _) = operation, constraint.kind == .foreignKey { return constraint.referencedTable }
                return nil
            }
        })
        // An index the plan's transaction uses (a replica identity) stays in it.
        let needed = Set(applied.flatMap { change in
            change.operations.compactMap { operation -> String? in
                if case .setReplicaIdentity(let table, .index(let name)) = operation { return QualifiedName(schema: table.schema, name: name).description }
                return nil
            }
        })
        var rewritten: [Change] = []
        var taken: Set<String> = []
        for change in changes {
            guard change.applied, let table = change.table, let live = actual.tables[table], live.partitionKey == nil,
                  let online = rewrite(change, live: live, referenced: referenced.contains(table), needed: needed) else {
                rewritten.append(change)
                continue
            }
            rewritten += online.changes
            taken.formUnion(online.taken.map { QualifiedName(schema: table.schema, name: $0).description })
        }
        // What a killed run left under the names the online forms use is theirs, not an
        // unmanaged object to report or prune.
        let kept = rewritten.filter { change in
            guard change.action == .drop, change.objectType == .index || change.objectType == .constraint, let table = change.table else { return true }
            return !taken.contains(QualifiedName(schema: table.schema, name: change.id.name).description)
        }
        return ExecutionPhase.allCases.flatMap { phase in kept.filter { $0.execution == phase } }
    }

    /// The temporary name of an index built to replace `name`.
    public static func swapName(_ name: String) -> String { truncated(name, suffix: "_driftless_swap") }

    /// The temporary check that proves `column` NOT NULL before SET NOT NULL.
    public static func notNullCheckName(_ column: String) -> String { truncated(column, suffix: "_driftless_not_null") }

    /// `name` + `suffix` within PostgreSQL's 63 bytes, cut on a character boundary.
    static func truncated(_ name: String, suffix: String) -> String {
        var base = name
        while base.utf8.count + suffix.utf8.count > 63 { base.removeLast() }
        return base + suffix
    }

    struct Rewrite {
        var changes: [Change]
        /// Names of indexes and constraints the online forms create or take up.
        var taken: [String] = []
    }

    /// The online form of one change on the existing, unpartitioned table `live`, or nil to
    /// keep it as it is.
    static func rewrite(_ change: Change, live: Table, referenced: Bool, needed: Set<String>) -> Rewrite? {
        let calmer = change.hazards.filter { $0.hazard != .locksTable }
        switch change.operations.first {
        case .createIndex(let index, let table, let columns) where change.operations.count == 1:
            guard !needed.contains(QualifiedName(schema: table.schema, name: index.name).description) else { return nil }
            return Rewrite(changes: [change.with([.createIndexConcurrently(index, table: table, columns: columns)], execution: .concurrent, hazards: calmer)])
        case .dropIndex(let name, let schema) where change.operations.count == 2:
            guard case .createIndex(let index, let table, let columns) = change.operations[1], index.name == name,
                  !needed.contains(QualifiedName(schema: schema, name: name).description) else { return nil }
            return Rewrite(changes: [change.with(replaceIndex(live.indexes[name], with: index, table: table, columns: columns, live: live),
                                                 execution: .concurrent, hazards: calmer)],
                           taken: [swapName(name)])
        default: break
        }
        var transaction: [Operation] = []
        var concurrent: [Operation] = []
        var validate: [Operation] = []
        var taken: [String] = []
        for operation in change.operations {
            switch operation {
            case .addConstraint(let constraint, let table) where constraint.kind == .unique && !referenced && !constraint.deferral.deferrable:
                // The index is built without blocking writes; becoming the constraint is a moment.
                let index = Index(name: constraint.name, method: .btree, keys: constraint.columns, unique: true)
                let columns = Set(live.columns.map(\.name))
                if let left = live.indexes[constraint.name] {
                    if !(left.valid && left.unique && left.predicate == nil && left.include.isEmpty && left.keys == constraint.columns) {
                        concurrent += [.dropIndexConcurrently(constraint.name, schema: table.schema),
                                       .createIndexConcurrently(index, table: table, columns: columns)]
                    }
                } else {
                    concurrent.append(.createIndexConcurrently(index, table: table, columns: columns))
                }
                validate.append(.addUniqueUsingIndex(constraint.name, table: table))
                taken.append(constraint.name)
            case .addConstraint(let constraint, let table) where (constraint.kind == .check || constraint.kind == .foreignKey) && constraint.validated:
                var unchecked = constraint
                unchecked.validated = false
                transaction.append(.addConstraint(unchecked, table: table))
                validate.append(.validateConstraint(constraint.name, table: table))
            case .validateConstraint:
                // Under SHARE UPDATE EXCLUSIVE, in a transaction of its own.
                validate.append(operation)
            case .setNotNull(true, let column, let table)
                where live.columns.contains(where: { $0.name == column })
                    && !change.operations.contains(where: { if case .setType(_, column, _, _) = $0 { return true } else { return false } }):
                let check = notNullCheckName(column)
                let left = live.constraints[check]
                if left == nil {
                    var proof = Constraint(name: check, kind: .check, columns: [column], expression: "(\(quoteIdentifier(column)) IS NOT NULL)")
                    proof.validated = false
                    transaction.append(.addConstraint(proof, table: table))
                }
                if left?.validated != true { validate.append(.validateConstraint(check, table: table)) }
                validate += [.setNotNull(true, column: column, table: table), .dropConstraint(check, table: table)]
                taken.append(check)
            default:
                transaction.append(operation)
            }
        }
        guard !concurrent.isEmpty || !validate.isEmpty else { return nil }
        var changes: [Change] = []
        if !transaction.isEmpty { changes.append(change.with(transaction, execution: .transaction, hazards: calmer)) }
        if !concurrent.isEmpty { changes.append(change.with(concurrent, execution: .concurrent, hazards: calmer)) }
        if !validate.isEmpty { changes.append(change.with(validate, execution: .validate, hazards: calmer)) }
        return Rewrite(changes: changes, taken: taken)
    }

    /// A changed (or invalid) index replaced without blocking writes: an invalid one serves no
    /// query and is dropped first; a valid one keeps serving while its successor builds under
    /// the temporary name (taken up when a killed run left it built), then goes, and the new one
    /// takes its name.
    static func replaceIndex(_ old: Index?, with index: Index, table: QualifiedName, columns: Set<String>, live: Table) -> [Operation] {
        guard let old, old.valid else {
            return [.dropIndexConcurrently(index.name, schema: table.schema), .createIndexConcurrently(index, table: table, columns: columns)]
        }
        let swap = swapName(index.name)
        var operations: [Operation] = []
        if let left = live.indexes[swap] {
            if !(left.valid && left.renamed(index.name) == index) {
                operations += [.dropIndexConcurrently(swap, schema: table.schema), .createIndexConcurrently(index.renamed(swap), table: table, columns: columns)]
            }
        } else {
            operations.append(.createIndexConcurrently(index.renamed(swap), table: table, columns: columns))
        }
        return operations + [.dropIndexConcurrently(index.name, schema: table.schema), .renameIndex(swap, to: index.name, schema: table.schema)]
    }
}
