/// Comments on tables and columns (set when a blueprint has one).
public enum CommentKind: ObjectKind {
    public static let type = Change.ObjectType.comment
    public static let catalogs = ["pg_description"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "set"), (.alter, "set")]

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let (want, have, name) = (pair.want, pair.have, pair.name)
        for column in want.columns {
            // A column added by this plan has no comment yet.
            let existing = have.column(column.name)?.comment
            guard let comment = column.comment, comment != existing else { continue }
            plan.add(existing == nil ? .missing : .changed, pair.id(.comment, column.name), existing == nil ? .create : .alter,
                     phase: .comments, [.commentOnColumn(column.name, table: name, comment)], desired: comment, actual: existing,
                     origin: column.origin)
        }
        if let comment = want.comment, comment != have.comment {
            plan.add(have.comment == nil ? .missing : .changed, .property(.comment, of: name), have.comment == nil ? .create : .alter,
                     phase: .comments, [.commentOnTable(name, comment)], desired: comment, actual: have.comment, origin: want.origin)
        }
    }
}
