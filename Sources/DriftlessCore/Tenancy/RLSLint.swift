/// A warning about Row Level Security that does not stop a reconciliation.
public struct Lint: Sendable, Codable, Equatable, Hashable {
    public var code: String
    /// The table or `table.policy` it is about.
    public var object: String
    public var message: String

    public init(code: String, object: String, message: String) {
        self.code = code
        self.object = object
        self.message = message
    }
}

/// The RLS lints (docs/security.md has a paragraph for each), run over a catalog whose
/// expressions are printed by the server.
public enum RLSLint {
    /// Lints for the tables of `catalog` (the desired state for plan/apply, the live one for drift).
    public static func run(_ catalog: Catalog) -> [Lint] {
        var lints: [Lint] = []
        for name in catalog.tables.keys.sorted() {
            let table = catalog.tables[name]!
            let object = name.description
            if let parent = table.partitionOf {
                // Queries through the parent use the parent's policies; a query on the partition
                // itself uses the partition's RLS (docs/security.md, Partitions).
                let direct = ["anon", "authenticated"].filter { role in
                    table.grants.map { !($0[role]?.isEmpty ?? true) } ?? (name.schema == "public")
                }
                if !table.rlsEnabled && !direct.isEmpty {
                    lints.append(Lint(code: "partition_rls_disabled", object: object,
                                      message: "RLS is disabled on \(object), a partition of \(parent): \(direct.joined(separator: " and ")) can query it directly and read every row the parent's policies would hide"))
                }
                continue
            }
            if !table.rlsEnabled && name.schema == "public" {
                lints.append(Lint(code: "rls_disabled_in_public", object: object,
                                  message: "RLS is disabled on \(object): Supabase's Data API serves every row to anyone with the anon key"))
            }
            if !table.rlsEnabled && !table.policies.isEmpty {
                lints.append(Lint(code: "policy_exists_rls_disabled", object: object,
                                  message: "\(object) has policies but RLS is disabled, so none of them apply"))
            }
            if table.rlsEnabled && table.policies.isEmpty {
                lints.append(Lint(code: "rls_enabled_no_policy", object: object,
                                  message: "RLS is enabled on \(object) with no policy: only roles that bypass RLS (service_role) can use it"))
            }
            for policyName in table.policies.keys.sorted() {
                let policy = table.policies[policyName]!
                let policyObject = "\(object).\(policyName)"
                let expressions = [policy.using, policy.withCheck].compactMap { $0 }
                if expressions.contains(where: callsAuthUnwrapped) {
                    lints.append(Lint(code: "auth_rls_initplan", object: policyObject,
                                      message: "policy \(policyName) calls auth.*() or current_setting() per row; wrap it as (select auth.uid()) so it runs once per statement"))
                }
                if expressions.contains(where: { $0.contains("user_metadata") }) {
                    lints.append(Lint(code: "rls_references_user_metadata", object: policyObject,
                                      message: "policy \(policyName) reads user_metadata, which every user can change for themselves"))
                }
                if policy.permissive && expressions.contains(where: isAlwaysTrue) {
                    lints.append(Lint(code: "rls_policy_always_true", object: policyObject,
                                      message: "policy \(policyName) lets \(policy.roles.sorted().joined(separator: ", ")) \(policy.command.rawValue) every row (its expression is always true)"))
                }
            }
            // More than one permissive policy for the same role and command: each is evaluated for every row.
            let commands: [PolicyCommand] = [.select, .insert, .update, .delete]
            var reported: Set<String> = []
            for command in commands {
                var byRole: [String: [String]] = [:]
                for policy in table.policies.values where policy.permissive && (policy.command == command || policy.command == .all) {
                    for role in policy.roles { byRole[role, default: []].append(policy.name) }
                }
                for role in byRole.keys.sorted() where byRole[role]!.count > 1 && reported.insert("\(role)").inserted {
                    lints.append(Lint(code: "multiple_permissive_policies", object: object,
                                      message: "\(object) has \(byRole[role]!.count) permissive \(command.rawValue.uppercased()) policies for \(role) (\(byRole[role]!.sorted().joined(separator: ", "))); each runs for every row, and any one of them grants access"))
                }
            }
        }
        // A view runs its query with its owner's rights unless security_invoker, and a
        // materialized view has no RLS at all: either one readable by the API roles hands them
        // the rows the tables' policies would hide (docs/security.md, RLS lints). Without
        // `grants`, a view of `public` is taken as readable (legacy default privileges).
        for name in catalog.views.keys.sorted() {
            let view = catalog.views[name]!
            let readers = ["anon", "authenticated"].filter { role in
                view.grants.map { Privilege.holds($0[role], "select") || Privilege.holds($0["public"], "select") } ?? (name.schema == "public")
            }
            guard !readers.isEmpty else { continue }
            if view.materialized {
                lints.append(Lint(code: "materialized_view_in_api", object: name.description,
                                  message: "\(name) is a materialized view \(readers.joined(separator: " and ")) may read: it has no RLS, so every row it holds is theirs"))
            } else if !view.securityInvoker {
                lints.append(Lint(code: "security_definer_view", object: name.description,
                                  message: "\(name) runs its query with its owner's rights and \(readers.joined(separator: " and ")) may read it: the RLS of the tables under it does not apply (set security_invoker: true)"))
            }
        }
        // A definer function runs with its owner's rights (which bypass RLS on Supabase): callable
        // by anon through the Data API's /rpc unless EXECUTE is kept from it. Without `grants`
        // PostgreSQL's default (PUBLIC may execute) is assumed (docs/security.md, RLS lints).
        for key in catalog.functions.keys.sorted() {
            let function = catalog.functions[key]!
            guard function.security == .definer else { continue }
            let grants = function.grants
            let anonMay = grants.map { !($0["anon"]?.isEmpty ?? true) || !($0["public"]?.isEmpty ?? true) } ?? true
            if anonMay {
                lints.append(Lint(code: "anon_security_definer_function_executable", object: key.description,
                                  message: "\(key) runs with its owner's rights and anon may execute it (through /rpc): list `grants` without anon and public, or make it security invoker"))
            }
        }
        return lints
    }

    /// `auth.uid()`, `auth.jwt()`, ... or `current_setting(` not directly inside `( SELECT ...`.
    static func callsAuthUnwrapped(_ expression: String) -> Bool {
        // On bytes, ASCII-lowercased: the calls and `select` are ASCII, and this runs for every
        // policy of every table (the standard library's `ranges(of:)` was a fifth of an apply).
        let text = expression.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let select = Array("select".utf8)
        for call in unwrappedCalls {
            var start = 0
            while start + call.count <= text.count {
                guard text[start] == call[0], text[start..<start + call.count].elementsEqual(call) else {
                    start += 1
                    continue
                }
                var end = start
                while end > 0, [32, 9, 10, 13].contains(text[end - 1]) { end -= 1 }
                if end < select.count || !text[end - select.count..<end].elementsEqual(select) { return true }
                start += call.count
            }
        }
        return false
    }

    private static let unwrappedCalls = ["auth.uid()", "auth.jwt()", "auth.role()", "auth.email()", "current_setting("].map { Array($0.utf8) }

    static func isAlwaysTrue(_ expression: String) -> Bool {
        // Without Foundation's trimming, which was a tenth of a 300-table apply.
        var text = Substring(expression.lowercased())
        func blank(_ character: Character?) -> Bool { character == " " || character == "\t" }
        func trim() { text = text.drop(while: blank); while blank(text.last) { text = text.dropLast() } }
        trim()
        while text.hasPrefix("(") && text.hasSuffix(")") {
            text = text.dropFirst().dropLast()
            trim()
        }
        return text == "true" || text == "1 = 1"
    }
}
