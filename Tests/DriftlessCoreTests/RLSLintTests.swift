import DriftlessCore
import Testing

@Suite("RLS lints")
struct RLSLintTests {
    static let jwt = "(( SELECT auth.jwt() AS jwt) -> 'app_metadata'::text)"

    func table(rls: Bool = true, _ policies: [Policy]) -> Catalog {
        let name = QualifiedName(schema: "public", name: "t")
        var table = Table(name: name, columns: [Column(name: "id", type: "integer")], rlsEnabled: rls)
        for policy in policies { table.policies[policy.name] = policy }
        return Catalog(tables: [name: table])
    }

    func codes(_ catalog: Catalog) -> [String] { RLSLint.run(catalog).map(\.code).sorted() }

    @Test func partitionLints() {
        func partition(rls: Bool, schema: String = "public", grants: [String: Set<String>]?) -> [String] {
            let name = QualifiedName(schema: schema, name: "events_2026")
            var table = Table(name: name, columns: [Column(name: "id", type: "integer")], rlsEnabled: rls, grants: grants)
            table.partitionOf = QualifiedName(schema: schema, name: "events")
            return codes(Catalog(tables: [name: table]))
        }
        #expect(partition(rls: false, grants: ["authenticated": ["select"], "anon": []]) == ["partition_rls_disabled"])
        #expect(partition(rls: false, grants: nil) == ["partition_rls_disabled"])
        #expect(partition(rls: false, schema: "app", grants: nil) == [])
        #expect(partition(rls: false, grants: ["anon": [], "authenticated": []]) == [])
        // RLS on without policies is how a partition should be: reached through its parent.
        #expect(partition(rls: true, grants: ["authenticated": ["select"]]) == [])
        let message = RLSLint.run({
            var table = Table(name: QualifiedName(schema: "public", name: "p1"), rlsEnabled: false, grants: ["anon": ["select"]])
            table.partitionOf = QualifiedName(schema: "public", name: "p")
            return Catalog(tables: [table.name: table])
        }()).first?.message ?? ""
        #expect(message.contains("anon can query it directly"))
    }

    @Test func aGoodTenantTableHasNoLint() {
        let policy = Policy(name: "p", command: .select, roles: ["authenticated"], using: "(tenant_id = ((\(Self.jwt) ->> 'tenant_id'::text))::uuid)")
        #expect(codes(table([policy])) == [])
    }

    @Test("each lint fires on its case", arguments: [
        ("rls_disabled_in_public", false, [Policy]()),
        ("rls_enabled_no_policy", true, []),
        ("policy_exists_rls_disabled", false, [Policy(name: "p", command: .select, roles: ["authenticated"], using: "(id > 0)")]),
        ("auth_rls_initplan", true, [Policy(name: "p", command: .select, roles: ["authenticated"], using: "(owner = auth.uid())")]),
        ("auth_rls_initplan", true, [Policy(name: "p", command: .select, roles: ["authenticated"], using: "(tenant = current_setting('app.tenant'::text))")]),
        ("rls_references_user_metadata", true, [Policy(name: "p", command: .select, roles: ["authenticated"], using: "((( SELECT auth.jwt() AS jwt) -> 'user_metadata'::text) ->> 'org'::text) = 'x'::text")]),
        ("rls_policy_always_true", true, [Policy(name: "p", command: .select, roles: ["authenticated"], using: "true")]),
        ("multiple_permissive_policies", true, [
            Policy(name: "a", command: .select, roles: ["authenticated"], using: "(id > 0)"),
            Policy(name: "b", command: .all, roles: ["authenticated"], using: "(id < 10)"),
        ]),
    ] as [(String, Bool, [Policy])])
    func lint(_ code: String, _ rls: Bool, _ policies: [Policy]) {
        #expect(codes(table(rls: rls, policies)).contains(code))
    }

    @Test func wrappedCallsAndRestrictiveTruePoliciesAreFine() {
        let wrapped = Policy(name: "p", command: .select, roles: ["authenticated"], using: "(owner = ( SELECT auth.uid() AS uid))")
        let restrictive = Policy(name: "r", command: .select, roles: ["authenticated"], permissive: false, using: "true")
        #expect(codes(table([wrapped, restrictive])) == [])
    }

    @Test("auth calls are found in any case and spacing, wrapped or not", arguments: [
        ("(owner = AUTH.UID())", true),
        ("(owner = (SELECT\n\t auth.uid()))", false),
        ("((select auth.uid()) = owner) or (auth.uid() = creator)", true),
        ("(owner = ( SELECT auth.uid() AS uid)) AND (( SELECT auth.role() AS role) = 'x'::text)", false),
        ("(tenant = Current_Setting('app.tenant'::text))", true),
        ("auth.uid() = owner", true),
        ("(owner = auth.uid_of(x))", false),
    ])
    func authCalls(_ expression: String, _ unwrapped: Bool) {
        let policy = Policy(name: "p", command: .select, roles: ["authenticated"], using: expression)
        #expect(codes(table([policy])).contains("auth_rls_initplan") == unwrapped)
    }

    @Test("always-true expressions", arguments: [
        ("true", true), (" ( (TRUE) ) ", true), ("(1 = 1)", true), ("\t(true)\t", true),
        ("(true AND (id > 0))", false), ("(id = 1)", false), ("(true) or (false)", false),
    ])
    func alwaysTrue(_ expression: String, _ lints: Bool) {
        let policy = Policy(name: "p", command: .select, roles: ["authenticated"], using: expression)
        #expect(codes(table([policy])).contains("rls_policy_always_true") == lints)
    }

    @Test func differentRolesOrCommandsAreNotMultiple() {
        let a = Policy(name: "a", command: .select, roles: ["authenticated"], using: "(id > 0)")
        let b = Policy(name: "b", command: .select, roles: ["anon"], using: "(id > 0)")
        let c = Policy(name: "c", command: .insert, roles: ["authenticated"], withCheck: "(id > 0)")
        #expect(codes(table([a, b, c])) == [])
    }
}

@Suite("RLS lints of functions")
struct FunctionLintTests {
    func definer(grants: [String: Set<String>]?, security: FunctionObject.Security = .definer) -> Catalog {
        let key = FunctionKey(name: QualifiedName(schema: "public", name: "f"), arguments: [])
        return Catalog(functions: [key: FunctionObject(key: key, result: "void", language: "sql", security: security, body: "select",
                                                       grants: grants)])
    }

    @Test func aDefinerFunctionAnonMayExecuteIsLinted() {
        let code = "anon_security_definer_function_executable"
        #expect(RLSLint.run(definer(grants: nil)).map(\.code) == [code])
        #expect(RLSLint.run(definer(grants: ["anon": ["execute"], "public": []])).map(\.code) == [code])
        #expect(RLSLint.run(definer(grants: ["authenticated": ["execute"], "public": ["execute"]])).map(\.code) == [code])
        #expect(RLSLint.run(definer(grants: ["anon": [], "authenticated": ["execute"], "public": []])).isEmpty)
        #expect(RLSLint.run(definer(grants: nil, security: .invoker)).isEmpty)
    }
}

@Suite("RLS lints of views")
struct ViewLintTests {
    func codes(_ view: ViewObject) -> [String] { RLSLint.run(Catalog(views: [view.name: view])).map(\.code) }
    let name = QualifiedName(schema: "public", name: "v")

    @Test func definerAndMaterializedViewsTheAPIRolesMayReadAreLinted() {
        #expect(codes(ViewObject(name: name, query: "SELECT 1", securityInvoker: false)) == ["security_definer_view"])
        #expect(codes(ViewObject(name: name, query: "SELECT 1", securityInvoker: false, grants: ["authenticated": ["select"]])) == ["security_definer_view"])
        #expect(codes(ViewObject(name: name, query: "SELECT 1", securityInvoker: false, grants: ["anon": [], "authenticated": []])).isEmpty)
        #expect(codes(ViewObject(name: name, query: "SELECT 1", securityInvoker: true)).isEmpty)
        #expect(codes(ViewObject(name: name, query: "SELECT 1", securityInvoker: false, materialized: true)) == ["materialized_view_in_api"])
        #expect(codes(ViewObject(name: QualifiedName(schema: "app", name: "v"), query: "SELECT 1", securityInvoker: false)).isEmpty)
    }
}
