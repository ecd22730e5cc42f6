/// Indexes that do not back a constraint.
public enum IndexKind: ObjectKind {
    public static let type = Change.ObjectType.index
    public static let catalogs = ["pg_index"]
    public static let nouns = (one: "index", many: "indexes")

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in table.indexes.keys.map { ObjectID.member(.index, of: table.name, $0) } }
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        let columns = Set(pair.written.columns.map(\.name))
        plan.diffNamed(
            pair.want.indexes, pair.have.indexes, kind: .index, pair: pair, context: context,
            phase: { _ in .indexes }, dropPhase: { _ in .dropIndexes },
            create: { [.createIndex(pair.written.indexes[$0.name] ?? $0, table: name, columns: columns)] },
            drop: { [.dropIndex($0.name, schema: name.schema)] },
            rename: { .renameIndex($0, to: $1, schema: name.schema) },
            describe: { SQLRenderer.createIndex($0, on: pair.want).text },
            createHazards: { index in
                let id = pair.id(.index, index.name).description
                return pair.isNew ? [] : [Hazard(.locksTable, object: id, detail: "CREATE INDEX blocks writes to the table while it builds")]
                    + (index.unique ? [Hazard(.mayFail, object: id, detail: "a unique index fails on duplicate rows")] : [])
            },
            dropHazard: { _ in nil })
    }
}
