/// Triggers of a managed table disabled by hand: the blueprints never ask for a disabled trigger.
public enum TriggerKind: ObjectKind {
    public static let type = Change.ObjectType.trigger
    public static let catalogs = ["pg_trigger"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.alter, "changed")]
    /// Triggers disabled by hand (`tgenabled = 'D'`), not internal ones.
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "r", select: """
        rel.nspname, rel.relname, tg.tgname, NULL, NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid
          WHERE NOT tg.tgisinternal AND tg.tgparentid = 0 AND tg.tgenabled = 'D'
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let disabled = reader.catalog.tables[row.table]?.disabledTriggers ?? []
        reader.catalog.tables[row.table]?.disabledTriggers = disabled.union([row.name])
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        for trigger in (pair.have.disabledTriggers ?? []).sorted() {
            plan.add(.changed, pair.id(.trigger, trigger), .alter, phase: .triggers, [.enableTrigger(trigger, table: pair.name)],
                     desired: "enabled", actual: "disabled", origin: pair.want.origin)
        }
    }
}
