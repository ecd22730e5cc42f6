/// Triggers of a managed table disabled by hand: the blueprints never ask for a disabled trigger.
public enum TriggerKind: ObjectKind {
    public static let type = Change.ObjectType.trigger
    public static let catalogs = ["pg_trigger"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.alter, "changed")]

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        for trigger in (pair.have.disabledTriggers ?? []).sorted() {
            plan.add(.changed, pair.id(.trigger, trigger), .alter, phase: .triggers, [.enableTrigger(trigger, table: pair.name)],
                     desired: "enabled", actual: "disabled", origin: pair.want.origin)
        }
    }
}
