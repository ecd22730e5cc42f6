/// Table privileges, only for the roles a blueprint lists, plus the privileges a tenant table
/// without `grants` needs for its tenancy roles (with `--prune`, the roles it lists
/// are all there are). The owner's own privileges are not read: it holds them all, and a table
/// whose ACL was never touched and one that names only its owner are the same.
public enum GrantKind: ObjectKind {
    public static let type = Change.ObjectType.grant
    public static let catalogs = ["pg_class"]
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "g", select: """
        rel.nspname, rel.relname, NULL, CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END,
               lower(x.privilege_type), NULL, NULL, NULL, NULL, NULL
          FROM rel, aclexplode(rel.relacl) x WHERE x.grantee <> rel.relowner
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        reader.grants[row.table, default: [:]][row[0] ?? "public", default: []].insert(row[1] ?? "")
    }

    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        guard let grants = pair.want.grants else { return ensureTenantGrants(pair, &plan) }
        let name = pair.name
        for role in grants.keys.sorted() {
            let wanted = grants[role]!
            let current = pair.isNew ? DesiredCatalog.allPrivileges : (pair.have.grants?[role] ?? [])
            let missing = wanted.subtracting(pair.isNew ? [] : current)
            let extra = current.subtracting(wanted)
            var operations: [Operation] = []
            if !extra.isEmpty { operations.append(.revoke(extra, table: name, role: role)) }
            if !missing.isEmpty { operations.append(.grant(missing, table: name, role: role)) }
            guard !operations.isEmpty else { continue }
            let id = pair.id(.grant, role)
            let hazards = (role == "anon" || role == "public") && !missing.isEmpty
                ? [Hazard(.relaxesSecurity, object: id.description, detail: "GRANT to \(role)")] : []
            plan.add(pair.isNew ? .missing : .changed, id, pair.isNew ? .create : .alter, phase: .grants, operations,
                     desired: wanted.sorted().joined(separator: ", "),
                     actual: pair.isNew ? nil : current.sorted().joined(separator: ", "), hazards: hazards, origin: pair.want.origin)
        }
        // With --prune, the grants a blueprint lists are all there are: other roles lose theirs.
        guard context.prune, !pair.isNew else { return }
        for (role, privileges) in (pair.have.grants ?? [:]).sorted(by: { $0.key < $1.key }) where grants[role] == nil && !privileges.isEmpty {
            plan.removed(pair.id(.grant, role), phase: .grants, [.revoke(privileges, table: name, role: role)], hazard: nil,
                         detail: "REVOKE", actual: privileges.sorted().joined(separator: ", "), context: context)
        }
    }

    /// A tenant table without `grants`: its tenancy roles get SELECT, INSERT, UPDATE and DELETE
    /// when they lack them, and nothing is ever revoked. A new table gets the GRANT whatever
    /// default privileges would give it, so the outcome is the same on both kinds of project.
    static func ensureTenantGrants(_ pair: TablePair, _ plan: inout PlanBuilder) {
        guard let ensured = pair.want.tenantGrants else { return }
        for role in ensured.keys.sorted() {
            let current = pair.isNew ? [] : (pair.have.grants?[role] ?? [])
            let missing = ensured[role]!.subtracting(current)
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
