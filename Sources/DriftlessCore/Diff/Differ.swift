/// Computes the plan that turns `actual` into `desired` (both canonical): every registered
/// object kind (`ObjectKinds.all`) adds its typed changes, and `Plan` orders them.
public struct Differ {
    public var context: DiffContext

    public init(
        desired: Catalog, actual: Catalog, managedSchemas: Set<String>, existingSchemas: Set<String>,
        previouslyManaged: Set<ObjectID> = [], prune: Bool = false, source: Catalog? = nil
    ) {
        context = DiffContext(desired: desired, actual: actual, source: source, managedSchemas: managedSchemas,
                              existingSchemas: existingSchemas, previouslyManaged: previouslyManaged, prune: prune)
    }

    /// The plan: every change, in dependency order.
    public func plan() -> Plan {
        var builder = PlanBuilder()
        for kind in ObjectKinds.all { kind.diff(context, &builder) }
        for pair in builder.pairs {
            for kind in ObjectKinds.all { kind.diff(pair, context, &builder) }
        }
        return Plan(ordering: builder.changes)
    }

    /// Every change, in dependency order.
    public func changes() -> [Change] { plan().changes }
}
