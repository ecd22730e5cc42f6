/// Who can reach what (reconcile.md, Exposure; docs/security.md, Exposure): what `anon` and
/// `authenticated` can newly reach, and what they lose, between two states of the managed
/// objects. Reach combines table and view privileges (their own or PUBLIC's), RLS, the
/// permissive policies that apply to the role, a view's `security_invoker`, and EXECUTE on
/// `SECURITY DEFINER` functions.
public struct ExposureEntry: Sendable, Codable, Equatable, Comparable {
    public enum Direction: String, Sendable, Codable { case gained, lost }

    public var role: String
    public var object: String
    /// `table`, `view`, `materialized_view` or `function`.
    public var kind: String
    public var change: Direction
    public var privileges: [String]
    /// A table's RLS (`enabled`, `disabled`); for a view what its reads run as (`security
    /// invoker`, `security definer`, `materialized`); `security definer` for a function.
    public var rls: String
    /// The permissive policies that let the role in, in the state that grants the access.
    public var policies: [String]

    public init(role: String, object: String, kind: String, change: Direction, privileges: [String], rls: String, policies: [String] = []) {
        self.role = role
        self.object = object
        self.kind = kind
        self.change = change
        self.privileges = privileges
        self.rls = rls
        self.policies = policies
    }

    public static func < (lhs: ExposureEntry, rhs: ExposureEntry) -> Bool {
        (lhs.object, lhs.kind, lhs.role, lhs.change.rawValue) < (rhs.object, rhs.kind, rhs.role, rhs.change.rawValue)
    }

    /// `anon gained select on table public.projects (RLS enabled; policies: a, b)`.
    public var sentence: String {
        var text = "\(role) \(change.rawValue) \(privileges.joined(separator: ", ")) on \(kind.replacingOccurrences(of: "_", with: " ")) \(object) (\(kind == "table" ? "RLS \(rls)" : rls)"
        if !policies.isEmpty { text += "; policies: \(policies.joined(separator: ", "))" }
        return text + ")"
    }
}

public enum Exposure {
    /// The roles a Supabase Data API caller acts as.
    public static let roles = ["anon", "authenticated"]
    /// Table privileges that read or write rows; TRUNCATE empties a table whatever RLS says.
    static let rowPrivileges = ["select", "insert", "update", "delete"]

    /// The Markdown section of a plan or drift report: nothing when nobody's reach changes.
    public static func markdown(_ entries: [ExposureEntry], heading: String) -> [String] {
        guard !entries.isEmpty else { return [] }
        var lines = ["", "#### \(heading)", "", "| role | change | object | privileges | RLS | policies |", "|---|---|---|---|---|---|"]
        for entry in entries {
            let cells = [entry.role, entry.change == .gained ? "**gained**" : "lost", "\(entry.kind.replacingOccurrences(of: "_", with: " ")) `\(entry.object)`",
                         entry.privileges.joined(separator: ", "), entry.rls, entry.policies.joined(separator: ", ")]
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines
    }

    /// The human section: one line per role and object.
    public static func human(_ entries: [ExposureEntry], heading: String) -> [String] {
        guard !entries.isEmpty else { return [] }
        return [heading] + entries.map { "  \($0.change == .gained ? "+" : "-") \($0.sentence)" }
    }

    /// What the roles gain and lose from `before` to `after`.
    public static func between(_ before: Catalog, _ after: Catalog) -> [ExposureEntry] {
        var entries: [ExposureEntry] = []
        for name in Set(before.tables.keys).union(after.tables.keys) {
            for role in roles {
                entries += compare(before.tables[name].map { tableReach($0, role) }, after.tables[name].map { tableReach($0, role) },
                                   role: role, object: name.description, kind: "table")
            }
        }
        for name in Set(before.views.keys).union(after.views.keys) {
            for role in roles {
                let kind = (after.views[name] ?? before.views[name])!.materialized ? "materialized_view" : "view"
                entries += compare(before.views[name].map { viewReach($0, role) }, after.views[name].map { viewReach($0, role) },
                                   role: role, object: name.description, kind: kind)
            }
        }
        for key in Set(before.functions.keys).union(after.functions.keys) {
            for role in roles {
                entries += compare(before.functions[key].map { functionReach($0, role) }, after.functions[key].map { functionReach($0, role) },
                                   role: role, object: key.description, kind: "function")
            }
        }
        return entries.sorted()
    }

    /// How one privilege lets a role in: past every row filter (RLS disabled, a definer view,
    /// a definer function), or through the applicable permissive policies, narrowed by the
    /// restrictive ones (none for an invoker view, whose tables' RLS applies).
    struct Access: Equatable {
        var unrestricted: Bool
        var permissive: Set<String> = []
        var restrictive: Set<String> = []

        /// Whether `self` lets in where `old` did not: past the filters now, or through a
        /// permissive definition that is new or changed, or with a restrictive one gone or changed.
        func widens(_ old: Access) -> Bool {
            if unrestricted { return !old.unrestricted }
            return !old.unrestricted && (!permissive.isSubset(of: old.permissive) || !old.restrictive.isSubset(of: restrictive))
        }
    }

    /// What a role reaches on one object, per privilege, and how.
    struct Reach: Equatable {
        var privileges: [String: Access] = [:]
        var rls: String
        /// Policy names per privilege, for the report.
        var names: [String: [String]] = [:]
    }

    static func holds(_ grants: [String: Set<String>]?, _ role: String, _ privilege: String) -> Bool {
        Privilege.holds(grants?[role], privilege) || Privilege.holds(grants?["public"], privilege)
    }

    static func tableReach(_ table: Table, _ role: String) -> Reach {
        var reach = Reach(rls: table.rlsEnabled ? "enabled" : "disabled")
        let grants = mergedGrants(table)
        for privilege in rowPrivileges where holds(grants, role, privilege) {
            guard table.rlsEnabled else {
                reach.privileges[privilege] = Access(unrestricted: true)
                continue
            }
            let letIn = table.policies.values.filter { policy in
                policy.permissive && (policy.roles.contains(role) || policy.roles.contains("public"))
                    && (policy.command == .all || policy.command.rawValue == privilege)
            }
            guard !letIn.isEmpty else { continue }
            // A restrictive policy narrows what the permissive ones let in: part of the definition.
            let narrowing = table.policies.values.filter { !$0.permissive && ($0.roles.contains(role) || $0.roles.contains("public")) }
            reach.privileges[privilege] = Access(unrestricted: false, permissive: Set(letIn.map { "\($0.name): \(Describe.policy($0))" }),
                                                 restrictive: Set(narrowing.map { "\($0.name): \(Describe.policy($0))" }))
            reach.names[privilege] = letIn.map(\.name).sorted()
        }
        if holds(grants, role, "truncate") { reach.privileges["truncate"] = Access(unrestricted: true) }
        return reach
    }

    /// The grants a desired table ends with: its own, or (for a tenant table) at least the
    /// tenancy roles' privileges.
    static func mergedGrants(_ table: Table) -> [String: Set<String>]? {
        guard let ensured = table.tenantGrants else { return table.grants }
        var grants = table.grants ?? [:]
        for (role, privileges) in ensured { grants[role, default: []].formUnion(privileges) }
        return grants
    }

    static func viewReach(_ view: ViewObject, _ role: String) -> Reach {
        // A definer (or materialized) view reads its tables as its owner, past their RLS.
        var reach = Reach(rls: view.materialized ? "materialized" : view.securityInvoker ? "security invoker" : "security definer")
        for privilege in rowPrivileges where holds(view.grants, role, privilege) {
            reach.privileges[privilege] = Access(unrestricted: view.materialized || !view.securityInvoker)
        }
        return reach
    }

    static func functionReach(_ function: FunctionObject, _ role: String) -> Reach {
        // Only a definer function reaches further than its caller could.
        var reach = Reach(rls: "security definer")
        if function.security == .definer && holds(function.grants, role, "execute") { reach.privileges["execute"] = Access(unrestricted: true) }
        return reach
    }

    static func compare(_ before: Reach?, _ after: Reach?, role: String, object: String, kind: String) -> [ExposureEntry] {
        let old = before?.privileges ?? [:]
        let new = after?.privileges ?? [:]
        // Gained: reachable now and not before, or past the filters now, or let in by a
        // definition that is new or changed (Driftless cannot tell a wider expression from a
        // narrower one: a changed one is listed). Lost: not reachable now, or filtered now
        // where nothing filtered before.
        let gained = new.keys.filter { privilege in old[privilege].map { new[privilege]!.widens($0) } ?? true }.sorted()
        let lost = old.keys.filter { privilege in new[privilege].map { old[privilege]!.unrestricted && !$0.unrestricted } ?? true }.sorted()
        var entries: [ExposureEntry] = []
        if !gained.isEmpty, let after {
            entries.append(ExposureEntry(role: role, object: object, kind: kind, change: .gained, privileges: gained, rls: after.rls,
                                         policies: Array(Set(gained.flatMap { after.names[$0] ?? [] })).sorted()))
        }
        if !lost.isEmpty, let before {
            entries.append(ExposureEntry(role: role, object: object, kind: kind, change: .lost, privileges: lost, rls: after?.rls ?? before.rls,
                                         policies: Array(Set(lost.flatMap { before.names[$0] ?? [] })).sorted()))
        }
        return entries
    }

    /// `actual` with `changes` applied, as far as reach goes: grants, RLS, policies, views and
    /// functions. New objects come from `desired` (its canonical text), with no privileges but
    /// the ones the plan grants: default privileges are not read, so a plan does not list what
    /// they would give a new table (`apply` reports from the catalog after its DDL, which does).
    public static func project(_ actual: Catalog, desired: Catalog, changes: [Change]) -> Catalog {
        var catalog = actual
        for operation in changes.filter(\.applied).flatMap(\.operations) {
            apply(operation, to: &catalog, desired: desired)
        }
        return catalog
    }

    static func apply(_ operation: Operation, to catalog: inout Catalog, desired: Catalog) {
        switch operation {
        case .createTable(let table):
            var created = desired.tables[table.name] ?? table
            created.grants = [:]
            created.tenantGrants = nil
            created.rlsEnabled = false
            created.policies = [:]
            catalog.tables[table.name] = created
        case .dropTable(let name):
            catalog.tables[name] = nil
        case .renameTable(let name, let to):
            let renamed = QualifiedName(schema: name.schema, name: to)
            catalog.tables[renamed] = catalog.tables.removeValue(forKey: name)
            catalog.tables[renamed]?.name = renamed
        case .enableRLS(let on, let table):
            catalog.tables[table]?.rlsEnabled = on
        case .createPolicy(let policy, let table), .alterPolicy(let policy, let table):
            catalog.tables[table]?.policies[policy.name] = desired.tables[table]?.policies[policy.name] ?? policy
        case .dropPolicy(let name, let table):
            catalog.tables[table]?.policies[name] = nil
        case .renamePolicy(let name, let to, let table):
            if let policy = catalog.tables[table]?.policies.removeValue(forKey: name) {
                catalog.tables[table]?.policies[to] = policy.renamed(to)
            }
        case .grant(let privileges, let table, let role):
            if catalog.tables[table] != nil {
                catalog.tables[table]!.grants = granting(privileges, to: role, in: catalog.tables[table]!.grants)
            } else if catalog.views[table] != nil {
                catalog.views[table]!.grants = granting(privileges, to: role, in: catalog.views[table]!.grants)
            }
        case .revoke(let privileges, let table, let role):
            if catalog.tables[table] != nil {
                catalog.tables[table]!.grants = revoking(privileges, from: role, in: catalog.tables[table]!.grants)
            } else if catalog.views[table] != nil {
                catalog.views[table]!.grants = revoking(privileges, from: role, in: catalog.views[table]!.grants)
            }
        case .createView(let view, let replace):
            var created = desired.views[view.name] ?? view
            created.grants = replace ? catalog.views[view.name]?.grants ?? [:] : [:]
            catalog.views[view.name] = created
        case .dropView(let name, _):
            catalog.views[name] = nil
        case .createFunction(let function, let replace):
            var created = desired.functions[function.key] ?? function
            created.grants = replace ? catalog.functions[function.key]?.grants ?? [:] : ["public": ["execute"]]
            catalog.functions[function.key] = created
        case .dropFunction(let key):
            catalog.functions[key] = nil
        case .grantOnFunction(let privileges, let key, let role):
            if catalog.functions[key] != nil { catalog.functions[key]!.grants = granting(privileges, to: role, in: catalog.functions[key]!.grants) }
        case .revokeOnFunction(let privileges, let key, let role):
            if catalog.functions[key] != nil { catalog.functions[key]!.grants = revoking(privileges, from: role, in: catalog.functions[key]!.grants) }
        default:
            break
        }
    }

    static func granting(_ privileges: Set<String>, to role: String, in grants: [String: Set<String>]?) -> [String: Set<String>] {
        var grants = grants ?? [:]
        grants[role, default: []].formUnion(privileges.map(Privilege.base))
        return grants
    }

    /// A revoke of grant options only leaves the privileges.
    static func revoking(_ privileges: Set<String>, from role: String, in grants: [String: Set<String>]?) -> [String: Set<String>] {
        var grants = grants ?? [:]
        guard !Privilege.onlyGrantOptions(privileges) else { return grants }
        let bases = Set(privileges.map(Privilege.base))
        grants[role] = grants[role]?.filter { !bases.contains(Privilege.base($0)) }
        if grants[role]?.isEmpty == true { grants[role] = nil }
        return grants
    }
}
