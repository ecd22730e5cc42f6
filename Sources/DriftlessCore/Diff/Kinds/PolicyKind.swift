/// RLS policies of a table. Changed in place (`ALTER POLICY`) where PostgreSQL can, else
/// dropped and created; all recreated when a column under them changes type or is dropped.
public enum PolicyKind: ObjectKind {
    public static let type = Change.ObjectType.policy
    public static let catalogs = ["pg_policy"]
    public static let nouns = (one: "policy", many: "policies")
    /// The comment is joined from `pg_description`: `obj_description()` is a SQL function the
    /// planner cannot inline, a query of its own per row (docs/engine.md, Introspection).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "p", select: """
        rel.nspname, rel.relname, p.polname, p.polcmd::text, p.polpermissive::text,
               (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END) FROM unnest(p.polroles) r)::text,
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), d.description, NULL
          FROM pg_policy p JOIN rel ON rel.oid = p.polrelid
          LEFT JOIN pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_policy'::regclass AND d.objsubid = 0
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        reader.catalog.tables[row.table]?.policies[row.name] = policy(
            name: row.name, command: row[0], permissive: row[1] == "true", roles: row.array(2), using: row[3], withCheck: row[4], comment: row[5])
    }

    /// A policy from its `pg_policy` columns (`polcmd` as text, the role names, the printed
    /// expressions), of a managed table or of `storage.objects`.
    public static func policy(name: String, command code: String?, permissive: Bool, roles: [String]?, using: String?, withCheck: String?,
                              comment: String?) -> Policy {
        let command: PolicyCommand = switch code {
        case "r": .select
        case "a": .insert
        case "w": .update
        case "d": .delete
        default: .all
        }
        var policy = Policy(name: name, command: command, roles: Set(roles ?? ["public"]), permissive: permissive, using: using, withCheck: withCheck)
        policy.comment = comment
        return policy
    }

    public static func scratch(_ table: Table) -> [ScratchStatement] {
        table.policies.values.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createPolicy($0, on: table.name, schemaOverride: "pg_temp"), origin: $0.origin, table: table.name.name)
        }
    }

    public static func adopt(_ scratch: Table, into table: inout Table) {
        for (key, policy) in scratch.policies where table.policies[key] != nil {
            table.policies[key]?.using = policy.using
            table.policies[key]?.withCheck = policy.withCheck
            table.policies[key]?.roles = policy.roles
        }
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        catalog.tables.values.flatMap { table in table.policies.keys.map { ObjectID.member(.policy, of: table.name, $0) } }
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let (want, have, name) = (pair.want, pair.have, pair.name)
        let recreate = plan.recreatePolicies.contains(name)
        var keptAsTheyAre: [Policy] = []
        // Policies already dropped because a function under them is recreated (FunctionKind).
        let dropped = Set(have.policies.keys.filter { plan.droppedPolicies.contains(pair.id(.policy, $0)) })
        if recreate {
            for policy in have.policies.values.sorted(by: { $0.name < $1.name }) where !dropped.contains(policy.name) {
                let id = pair.id(.policy, policy.name)
                if want.policies[policy.name] == nil {
                    if context.willDrop(id) {
                        // Removed from the blueprints (or pruned): a real drop, before the column change.
                        plan.removed(id, phase: .dropPoliciesForColumns, [.dropPolicy(policy.name, table: name)],
                                     hazard: policy.permissive ? nil : .relaxesSecurity,
                                     detail: policy.permissive ? "DROP" : "DROP of a restrictive policy", actual: Describe.policy(policy),
                                     context: context)
                        continue
                    }
                    // Nobody's: reported as unmanaged, and put back as it was after the column change.
                    plan.removed(id, phase: .dropPolicies, [.dropPolicy(policy.name, table: name)], hazard: nil, detail: "DROP",
                                 actual: Describe.policy(policy), context: context)
                    keptAsTheyAre.append(policy)
                }
                var drop = Change(kind: .changed, id: id, action: .drop, operations: [.dropPolicy(policy.name, table: name)],
                                  actual: Describe.policy(policy), phase: .dropPoliciesForColumns, origin: want.policies[policy.name]?.origin)
                drop.isRecreate = true
                plan.add(drop)
            }
        }
        // A policy nobody declared that was dropped for a function under it goes back as it was.
        keptAsTheyAre += dropped.sorted().filter { want.policies[$0] == nil && !context.willDrop(pair.id(.policy, $0)) }
            .compactMap { have.policies[$0] }
        for policy in keptAsTheyAre {
            var back = Change(kind: .changed, id: pair.id(.policy, policy.name), action: .create, operations: [.createPolicy(policy, table: name)],
                              desired: Describe.policy(policy), actual: Describe.policy(policy), phase: .policies)
            back.isRecreate = true
            plan.add(back)
        }
        let start = plan.changes.count
        plan.diffNamed(
            want.policies, recreate ? [:] : have.policies.filter { !dropped.contains($0.key) }, kind: .policy, pair: pair, context: context,
            phase: { _ in .policies }, dropPhase: { _ in .dropPolicies },
            create: { [.createPolicy(pair.written.policies[$0.name] ?? $0, table: name)] },
            drop: { [.dropPolicy($0.name, table: name)] },
            rename: { .renamePolicy($0, to: $1, table: name) },
            describe: Describe.policy,
            alter: { want, have in
                want.command == have.command && want.permissive == have.permissive
                    && (want.using == nil) == (have.using == nil) && (want.withCheck == nil) == (have.withCheck == nil)
                    ? [.alterPolicy(pair.written.policies[want.name] ?? want, table: name)] : nil
            },
            // Creating a policy is what the blueprint asked for; the RLS lints judge how open it is.
            createHazards: { _ in [] },
            dropHazard: { policy in
                // Dropping a permissive policy only takes access away; dropping a restrictive one widens it.
                policy.permissive ? nil : Hazard(.relaxesSecurity, object: pair.id(.policy, policy.name).description, detail: "DROP of a restrictive policy")
            })
        guard recreate || !dropped.isEmpty else { return }
        // Recreated policies are reported by what really differs from the database.
        plan.amend(from: start) { change in
            guard recreate || dropped.contains(change.id.name), let existing = have.policies[change.id.name],
                  let wanted = want.policies[change.id.name] else { return }
            change.isRecreate = existing == wanted
            change.kind = .changed
            change.action = .alter
            change.actual = Describe.policy(existing)
        }
    }
}
