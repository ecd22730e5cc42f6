/// A table's owner: the blueprint's, or at least none of the API roles (they would bypass
/// RLS; docs/security.md, Owners).
public enum OwnerKind: ObjectKind {
    public static let type = Change.ObjectType.owner
    public static let catalogs = ["pg_class"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.alter, "changed")]

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        add(name, want: pair.want.owner, current: pair.isNew ? nil : pair.have.owner, isNew: pair.isNew,
            operation: { .alterOwner(name, to: $0) }, origin: pair.want.origin, &plan)
    }

    /// The owner change of a table or a sequence, if any. A new object is owned by the applying
    /// role; it changes hands only when the blueprint names an owner. An existing one changes
    /// when the blueprint names another owner, or, naming none, when an API role owns it.
    static func add(_ name: QualifiedName, want: String?, current: String?, isNew: Bool, operation: (String?) -> Operation,
                    origin: Origin?, _ plan: inout PlanBuilder) {
        guard isNew ? want != nil : current != nil,
              want.map({ $0 != current }) ?? Table.apiRoles.contains(current ?? "") else { return }
        plan.add(isNew ? .missing : .changed, .property(.owner, of: name), .alter, phase: .owners, [operation(want)],
                 desired: want ?? "the applying role (not \(Table.apiRoles.sorted().joined(separator: ", ")))", actual: current ?? "the applying role",
                 hazards: want.map(Table.apiRoles.contains) == true
                     ? [Hazard(.relaxesSecurity, object: name.description, detail: "OWNER TO \(want!): the owner bypasses RLS")] : [],
                 origin: origin)
    }
}
