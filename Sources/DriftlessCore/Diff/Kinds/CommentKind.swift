/// Comments on tables, columns and policies (set when a blueprint has one). A policy's comment
/// is the identity `comment` of its table named `policy:<name>`, apart from the column comments.
public enum CommentKind: ObjectKind {
    public static let type = Change.ObjectType.comment
    public static let catalogs = ["pg_description"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "set"), (.alter, "set"), (.drop, "dropped")]

    /// Comments the blueprints set, so that removing one later drops it.
    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in
            (table.comment == nil ? [] : [ObjectID.property(.comment, of: table.name)])
                + table.columns.filter { $0.comment != nil }.map { ObjectID.member(.comment, of: table.name, $0.name) }
                + table.policies.values.filter { $0.comment != nil }.map { policyID($0.name, of: table.name) }
        }
    }

    static func policyID(_ policy: String, of table: QualifiedName) -> ObjectID { .member(.comment, of: table, "policy:\(policy)") }

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
        // An absent comment leaves the comment as it is, unless an earlier reconciliation set it
        // (then it was removed from the blueprints) or the run prunes.
        if want.comment == nil, let existing = have.comment, context.willDrop(.property(.comment, of: name)) {
            plan.removed(.property(.comment, of: name), phase: .comments, [.commentOnTable(name, nil)], hazard: nil,
                         detail: "COMMENT ... IS NULL", actual: existing, context: context)
        }
        // Policies this plan creates (new, or dropped and created again) have no comment yet.
        let created = plan.createdPolicies[name] ?? []
        for policy in want.policies.values.sorted(by: { $0.name < $1.name }) {
            let existing = created.contains(policy.name) ? nil : have.policies[policy.name]?.comment
            let id = policyID(policy.name, of: name)
            if let comment = policy.comment, comment != existing {
                plan.add(existing == nil ? .missing : .changed, id, existing == nil ? .create : .alter, phase: .comments,
                         [.commentOnPolicy(policy.name, table: name, comment)], desired: comment, actual: existing, origin: policy.origin)
            } else if policy.comment == nil, let existing, context.willDrop(id) {
                plan.removed(id, phase: .comments, [.commentOnPolicy(policy.name, table: name, nil)], hazard: nil,
                             detail: "COMMENT ... IS NULL", actual: existing, context: context)
            }
        }
        for column in have.columns {
            let id = pair.id(.comment, column.name)
            guard let existing = column.comment, want.column(column.name).map({ $0.comment == nil }) == true, context.willDrop(id) else { continue }
            plan.removed(id, phase: .comments, [.commentOnColumn(column.name, table: name, nil)], hazard: nil,
                         detail: "COMMENT ... IS NULL", actual: existing, context: context)
        }
    }
}
