/// A table's row level security flags: enabled, forced.
public enum RLSKind: ObjectKind {
    public static let type = Change.ObjectType.rls
    public static let catalogs = ["pg_class"]
    public static let summary: [(action: Change.Action, participle: String)] = []

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let (want, have, name) = (pair.want, pair.have, pair.name)
        let id = ObjectID.property(.rls, of: name)
        if want.rlsEnabled != have.rlsEnabled {
            plan.add(have.rlsEnabled ? .changed : .missing, id, want.rlsEnabled ? .create : .drop, phase: .rls,
                     [.enableRLS(want.rlsEnabled, table: name)],
                     desired: want.rlsEnabled ? "enabled" : "disabled", actual: have.rlsEnabled ? "enabled" : "disabled",
                     hazards: want.rlsEnabled ? [] : [Hazard(.relaxesSecurity, object: name.description, detail: "DISABLE ROW LEVEL SECURITY")],
                     origin: want.origin)
        }
        if want.rlsForced != have.rlsForced {
            plan.add(.changed, id, .alter, phase: .rls, [.forceRLS(want.rlsForced, table: name)],
                     desired: want.rlsForced ? "forced" : "not forced", actual: have.rlsForced ? "forced" : "not forced",
                     hazards: want.rlsForced ? [] : [Hazard(.relaxesSecurity, object: name.description, detail: "NO FORCE ROW LEVEL SECURITY")],
                     origin: want.origin)
        }
    }
}
