/// A table's owner: the blueprint's, or at least none of the API roles (they would bypass
/// RLS; docs/security.md, Owners).
public enum OwnerKind: ObjectKind {
    public static let type = Change.ObjectType.owner
    public static let catalogs = ["pg_class"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.alter, "changed")]

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        // A new table is owned by the applying role; it changes hands only when the blueprint
        // names an owner.
        let current = pair.isNew ? nil : pair.have.owner
        guard pair.isNew ? pair.want.owner != nil : current != nil,
              pair.want.owner.map({ $0 != current }) ?? Table.apiRoles.contains(current ?? "") else { return }
        let target = pair.want.owner
        let name = pair.name
        plan.add(pair.isNew ? .missing : .changed, .property(.owner, of: name), .alter, phase: .owners, [.alterOwner(name, to: target)],
                 desired: target ?? "the applying role (not \(Table.apiRoles.sorted().joined(separator: ", ")))", actual: current ?? "the applying role",
                 hazards: target.map(Table.apiRoles.contains) == true
                     ? [Hazard(.relaxesSecurity, object: name.description, detail: "OWNER TO \(target!): the owner bypasses RLS")] : [],
                 origin: pair.want.origin)
    }
}
