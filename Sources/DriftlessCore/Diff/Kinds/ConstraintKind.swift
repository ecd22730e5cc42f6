/// Primary key, unique, check and foreign key constraints of a table.
public enum ConstraintKind: ObjectKind {
    public static let type = Change.ObjectType.constraint
    public static let catalogs = ["pg_constraint"]

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in table.constraints.keys.map { ObjectID.member(.constraint, of: table.name, $0) } }
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        plan.diffNamed(
            pair.want.constraints, pair.have.constraints, kind: .constraint, pair: pair, context: context,
            phase: { $0.kind == .foreignKey ? .foreignKeys : .constraints },
            dropPhase: { $0.kind == .foreignKey ? .dropForeignKeys : .dropConstraints },
            create: { [.addConstraint(pair.written.constraints[$0.name] ?? $0, table: name)] },
            drop: { [.dropConstraint($0.name, table: name)] },
            rename: { .renameConstraint($0, to: $1, table: name) },
            describe: { SQLRenderer.constraintDefinition($0).text },
            createHazards: { constraint in
                pair.isNew ? [] : [Hazard(.mayFail, object: pair.id(.constraint, constraint.name).description,
                                          detail: "new \(constraint.kind.rawValue) constraint is checked against existing rows")]
            },
            dropHazard: { _ in nil })
    }
}
