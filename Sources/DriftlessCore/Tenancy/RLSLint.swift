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
        return lints
    }

    /// `auth.uid()`, `auth.jwt()`, ... or `current_setting(` not directly inside `( SELECT ...`.
    static func callsAuthUnwrapped(_ expression: String) -> Bool {
        let calls = ["auth.uid()", "auth.jwt()", "auth.role()", "auth.email()", "current_setting("]
        // Lowercased once and searched with the standard library (Foundation's case-insensitive
        // search was a visible share of a 1,000-table apply).
        let text = expression.lowercased()
        for call in calls {
            for found in text.ranges(of: call) {
                var before = text[..<found.lowerBound]
                while before.last?.isWhitespace == true { before = before.dropLast() }
                if !before.hasSuffix("select") { return true }
            }
        }
        return false
    }

    static func isAlwaysTrue(_ expression: String) -> Bool {
        var text = expression.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasPrefix("(") && text.hasSuffix(")") {
            text = String(text.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        }
        return text == "true" || text == "1 = 1"
    }
}
