/// Computes the plan that turns `actual` into `desired` (both canonical): every registered
/// object kind (`ObjectKinds.all`) adds its typed changes, and `Plan` orders them.
public struct Differ {
    public var context: DiffContext
    /// Where the per-table kinds run (docs/engine.md, Overlap): the tables in shares, one share
    /// per call, joined in table order.
    public var parallelism: Parallelism

    /// Tables per share of the per-table kinds: enough to outweigh the copy of the builder each
    /// share starts from, few enough that two cores end together.
    public var tablesPerShare = 64

    public init(
        desired: Catalog, actual: Catalog, managedSchemas: Set<String>, existingSchemas: Set<String>,
        previouslyManaged: Set<ObjectID> = [], prune: Bool = false, source: Catalog? = nil, parallelism: Parallelism = .sequential
    ) {
        context = DiffContext(desired: desired, actual: actual, source: source, managedSchemas: managedSchemas,
                              existingSchemas: existingSchemas, previouslyManaged: previouslyManaged, prune: prune)
        self.parallelism = parallelism
    }

    /// The plan: every change, in dependency order.
    ///
    /// First the kinds without a table (schemas, enums, functions, tables themselves...), which
    /// also decide what the per-table kinds read (functions' dropped policies and triggers,
    /// foreign keys to add after a key, the table pairs). Then the per-table kinds, table by
    /// table: a table's diff reads only that, and writes only its own table's state (the
    /// policies it recreates or creates) and its changes. So shares of the tables can run each
    /// on a copy of the builder, and their changes, joined in table order, are the very ones a
    /// single pass adds.
    public func plan() -> Plan {
        var builder = PlanBuilder()
        for kind in ObjectKinds.all { kind.diff(context, &builder) }
        let shared = builder.withoutChanges(), context = self.context
        let changes = parallelism.map(builder.pairs, runsOf: tablesPerShare) { share -> [Change] in
            var local = shared
            for pair in share {
                for kind in ObjectKinds.all { kind.diff(pair, context, &local) }
            }
            return local.changes
        }
        for part in changes { builder.append(part) }
        return Plan(ordering: builder.changes)
    }

    /// Every change, in dependency order.
    public func changes() -> [Change] { plan().changes }
}
