/// Table privileges, only for the roles a blueprint lists, plus the privileges a tenant table
/// without `grants` needs for its tenancy roles (with `--prune`, the roles it lists
/// are all there are). The owner's own privileges are not read: it holds them all, and a table
/// whose ACL was never touched and one that names only its owner are the same.
public enum GrantKind: ObjectKind {
    public static let type = Change.ObjectType.grant
    public static let catalogs = ["pg_class"]
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "g", select: """
        rel.nspname, rel.relname, NULL, CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END,
               lower(x.privilege_type) || \(Privilege.grantOptionSQL), NULL, NULL, NULL, NULL, NULL
          FROM rel, aclexplode(rel.relacl) x WHERE x.grantee <> rel.relowner
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        reader.grants[row.table, default: [:]][row[0] ?? "public", default: []].insert(row[1] ?? "")
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        guard let grants = pair.want.grants else { return ensureTenantGrants(pair, &plan) }
        let name = pair.name
        add(grants, of: name, current: pair.isNew ? nil : (pair.have.grants ?? [:]), all: DesiredCatalog.allPrivileges,
            grant: { .grant($0, table: name, role: $1) }, revoke: { .revoke($0, table: name, role: $1) }, origin: pair.want.origin, &plan)
        // With --prune, the grants a blueprint lists are all there are: other roles lose theirs.
        guard context.prune, !pair.isNew else { return }
        for (role, privileges) in (pair.have.grants ?? [:]).sorted(by: { $0.key < $1.key }) where grants[role] == nil && !privileges.isEmpty {
            plan.removed(pair.id(.grant, role), phase: .grants, [.revoke(Set(privileges.map(Privilege.base)), table: name, role: role)], hazard: nil,
                         detail: "REVOKE", actual: privileges.sorted().joined(separator: ", "), context: context)
        }
    }

    /// The grant changes that leave each listed role of a table or sequence with exactly its
    /// listed privileges. `current` nil: the object is new, and default privileges may have
    /// given the roles anything of `all` (legacy projects), so the rest is revoked. `widens`:
    /// whether a grant to anon or PUBLIC relaxes security (not for EXECUTE on an invoker
    /// function, which every function has by default and which reaches nothing by itself).
    static func add(_ grants: [String: Set<String>], of name: QualifiedName, current: [String: Set<String>]?, all: Set<String>,
                    grant: (Set<String>, String) -> Operation, revoke: (Set<String>, String) -> Operation, origin: Origin?,
                    widens: Bool = true, _ plan: inout PlanBuilder) {
        let isNew = current == nil
        for role in grants.keys.sorted() {
            let wanted = grants[role]!
            let held = current.map { $0[role] ?? [] } ?? all
            let want = Privilege.levels(wanted), have = Privilege.levels(held)
            // A new object's privileges are granted whatever default privileges gave it.
            let granted = isNew ? [:] : have
            var revokeAll: Set<String> = [], revokeOption: Set<String> = [], grantPlain: Set<String> = [], grantOption: Set<String> = []
            for privilege in Set(want.keys).union(have.keys) {
                switch (want[privilege], have[privilege]) {
                case (nil, _?): revokeAll.insert(privilege)
                case (false?, true?) where !isNew: revokeOption.insert(Privilege.grantable(privilege))
                default: break
                }
                switch (want[privilege], granted[privilege]) {
                case (true?, let held) where held != true: grantOption.insert(Privilege.grantable(privilege))
                case (false?, nil): grantPlain.insert(privilege)
                default: break
                }
            }
            var operations: [Operation] = []
            if !revokeAll.isEmpty { operations.append(revoke(revokeAll, role)) }
            if !revokeOption.isEmpty { operations.append(revoke(revokeOption, role)) }
            if !grantPlain.isEmpty { operations.append(grant(grantPlain, role)) }
            if !grantOption.isEmpty { operations.append(grant(grantOption, role)) }
            guard !operations.isEmpty else { continue }
            let widening = !grantPlain.isEmpty || !grantOption.isEmpty
            let id = ObjectID.member(.grant, of: name, role)
            let hazards = widens && (role == "anon" || role == "public") && widening
                ? [Hazard(.relaxesSecurity, object: id.description, detail: "GRANT to \(role)")] : []
            plan.add(isNew ? .missing : .changed, id, isNew ? .create : .alter, phase: .grants, operations,
                     desired: wanted.sorted().joined(separator: ", "),
                     actual: isNew ? nil : held.sorted().joined(separator: ", "), hazards: hazards, origin: origin)
        }
    }

    /// A tenant table without `grants`: its tenancy roles get SELECT, INSERT, UPDATE and DELETE
    /// when they lack them, and nothing is ever revoked. A new table gets the GRANT whatever
    /// default privileges would give it, so the outcome is the same on both kinds of project.
    static func ensureTenantGrants(_ pair: TablePair, _ plan: inout PlanBuilder) {
        guard let ensured = pair.want.tenantGrants else { return }
        for role in ensured.keys.sorted() {
            let current = pair.isNew ? [] : (pair.have.grants?[role] ?? [])
            let missing = ensured[role]!.subtracting(current.map(Privilege.base))
            guard !missing.isEmpty else { continue }
            let id = pair.id(.grant, role)
            let hazards = role == "anon" || role == "public"
                ? [Hazard(.relaxesSecurity, object: id.description, detail: "GRANT to \(role)")] : []
            plan.add(pair.isNew ? .missing : .changed, id, pair.isNew ? .create : .alter, phase: .grants,
                     [.grant(missing, table: pair.name, role: role)],
                     desired: ensured[role]!.union(current).sorted().joined(separator: ", "),
                     actual: pair.isNew ? nil : current.sorted().joined(separator: ", "), hazards: hazards, origin: pair.want.origin)
        }
    }
}
