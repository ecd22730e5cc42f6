import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// Runs on both kinds of Supabase project: with the legacy default privileges and with "no
/// auto-expose", where only the tenant grants Driftless adds make the policies reachable.
@Suite("Tenant RLS against a real database")
struct TenantRLSTests {
    static let files = ["docs.yaml": document("""
        tables:
          - name: docs
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: body, type: text}
          - name: shapes
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: at, type: point, nullable: false}
        """)]
    static let a = "aaaaaaaa-1111-4111-8111-111111111111"
    static let b = "bbbbbbbb-2222-4222-8222-222222222222"

    func setUp(_ kind: SupabaseProject) throws -> TestDatabase {
        let db = try PostgresCluster.shared().createDatabase(kind: kind)
        let applied = try reconcile(db, Self.files)
        #expect(applied.result.status == .ok, "\(applied.result.errors)")
        #expect(applied.result.rlsTables == ["public.docs", "public.shapes"])
        try db.connect().query("INSERT INTO docs (tenant_id, body) VALUES ($1, 'a'), ($2, 'b')", [Self.a, Self.b])
        return db
    }

    @Test(arguments: SupabaseProject.allCases) func generatedPoliciesIsolateTenants(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            let connection = try db.connect()
            let asA = TestDatabase.tenantClaims(tenant: Self.a)
            let visible = try db.asRole(claims: asA, on: connection) { try $0.query("SELECT body FROM docs").rows.map { try $0.string("body") } }
            #expect(visible == ["a"])
            let insert = try #require(throws: PostgresError.self) {
                try db.asRole(claims: asA, on: connection) { try $0.query("INSERT INTO docs (tenant_id, body) VALUES ($1, 'x')", [Self.b]) }
            }
            #expect(insert.sqlstate == "42501")
            let move = try #require(throws: PostgresError.self) {
                try db.asRole(claims: asA, on: connection) { try $0.query("UPDATE docs SET tenant_id = $1 WHERE tenant_id = $2", [Self.b, Self.a]) }
            }
            #expect(move.sqlstate == "42501")
            let updated = try db.asRole(claims: asA, on: connection) { try $0.query("UPDATE docs SET body = 'hacked' WHERE tenant_id = $1", [Self.b]).affectedRows }
            #expect(updated == 0)
            let deleted = try db.asRole(claims: asA, on: connection) { try $0.query("DELETE FROM docs WHERE tenant_id = $1", [Self.b]).affectedRows }
            #expect(deleted == 0)
            // anon sees nothing: no rows through RLS (legacy privileges), or no privilege at all.
            switch kind {
            case .legacy:
                #expect(try db.asRole("anon", on: connection) { try $0.query("SELECT * FROM docs").rows.count } == 0)
            case .noAutoExpose:
                let refused = try #require(throws: PostgresError.self) {
                    try db.asRole("anon", on: connection) { try $0.query("SELECT * FROM docs").rows.count }
                }
                #expect(refused.sqlstate == "42501")
            }
            // A user_metadata claim names nothing: the policy reads app_metadata only.
            let spoofed = try db.asRole(claims: ["sub": UUID().uuidString, "user_metadata": ["tenant_id": Self.b]], on: connection) {
                try $0.query("SELECT * FROM docs").rows.count
            }
            #expect(spoofed == 0)
            // Everything B wrote is still there.
            #expect(try connection.query("SELECT body FROM docs WHERE tenant_id = $1", [Self.b]).first?.string("body") == "b")
        }
    }

    @Test(arguments: SupabaseProject.allCases) func policiesAreWrappedAndIndexed(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            let table = try #require(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "docs")])
            #expect(table.rlsEnabled)
            #expect(Set(table.policies.keys) == ["docs_tenant_select", "docs_tenant_insert", "docs_tenant_update", "docs_tenant_delete"])
            #expect(table.policies["docs_tenant_select"]?.using?.contains("( SELECT auth.jwt() AS jwt)") == true)
            #expect(table.policies["docs_tenant_update"]?.withCheck != nil)
            #expect(table.indexes["docs_tenant_id_idx"]?.keys == ["tenant_id"])
        }
    }

    @Test(arguments: SupabaseProject.allCases) func aPolicyRemovedOrAlteredByHandIsPutBack(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            try db.connect().query("DROP POLICY docs_tenant_delete ON docs")
            try db.connect().query("ALTER POLICY docs_tenant_select ON docs USING (true)")
            let repaired = try reconcile(db, Self.files)
            #expect(repaired.result.status == .ok)
            #expect(repaired.result.rlsTables == ["public.docs"])
            #expect(repaired.result.statements.contains { $0.hasPrefix("CREATE POLICY \"docs_tenant_delete\"") })
            #expect(repaired.result.statements.contains { $0.hasPrefix("ALTER POLICY \"docs_tenant_select\"") })
            let visible = try db.asRole(claims: TestDatabase.tenantClaims(tenant: Self.a), on: try db.connect()) {
                try $0.query("SELECT body FROM docs").rows.map { try $0.string("body") }
            }
            #expect(visible == ["a"])
        }
    }

    @Test(arguments: SupabaseProject.allCases) func verifyRLSPassesThenFindsALoosenedPolicy(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
            let good = try RLSVerifier(blueprints: set).verify(db.connect())
            let docs = try #require(good.tables.first { $0.table == "public.docs" })
            #expect(docs.status == .isolated)
            #expect(docs.checks.map(\.name) == [
                "own_read", "own_insert", "own_update", "own_delete",
                "cross_tenant_read", "cross_tenant_insert", "cross_tenant_update", "cross_tenant_delete", "anon_read",
            ])
            #expect(docs.checks.allSatisfy { $0.passed }, "\(docs.checks)")
            // point has no sample value: reported as not verified, never as passed.
            let shapes = try #require(good.tables.first { $0.table == "public.shapes" })
            #expect(shapes.status == .notVerified)
            #expect(shapes.reason?.contains("point") == true)
            #expect(!good.isolated)
            // verify-rls changed nothing: the two rows are all there is.
            #expect(try db.connect().query("SELECT count(*) AS n FROM docs").first!.int("n") == 2)

            try db.connect().query("ALTER POLICY docs_tenant_select ON docs USING (true)")
            let bad = try RLSVerifier(blueprints: set).verify(db.connect())
            let leak = try #require(bad.tables.first { $0.table == "public.docs" })
            #expect(leak.status == .leak)
            #expect(leak.checks.first { $0.name == "cross_tenant_read" }?.passed == false)
        }
    }

    /// Both sides: a tenant table its tenant cannot reach (no privileges: the policies are dead
    /// code) is `rls_unreachable`, never "isolated"; the next apply grants the privileges back.
    @Test(arguments: SupabaseProject.allCases) func aTableTheTenantCannotReachIsUnreachableNotIsolated(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
            try db.connect().query("REVOKE ALL ON docs FROM authenticated")
            let report = try RLSVerifier(blueprints: set).verify(db.connect())
            let docs = try #require(report.tables.first { $0.table == "public.docs" })
            #expect(docs.status == .unreachable)
            #expect(docs.checks.filter { !$0.passed }.map(\.name) == ["own_read", "own_insert", "own_update", "own_delete"])
            #expect(docs.checks.first { $0.name == "own_read" }?.detail.contains("42501") == true)
            let repaired = try reconcile(db, Self.files)
            #expect(repaired.result.statements.contains("GRANT DELETE, INSERT, SELECT, UPDATE ON \"public\".\"docs\" TO \"authenticated\""),
                    "\(repaired.result.statements)")
            let again = try RLSVerifier(blueprints: set).verify(db.connect())
            #expect(again.tables.first { $0.table == "public.docs" }?.status == .isolated)
        }
    }

    /// Declared grants are exactly those: a tenant table granted only SELECT cannot take its
    /// tenant's inserts; the gate inside apply refuses it (`rls_unreachable`), and verify-rls
    /// says so of the table applied with the gate off.
    @Test func declaredGrantsAreExactAndAReadOnlyTenantTableIsUnreachableForWrites() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(kind: .noAutoExpose)
            let files = ["docs.yaml": document("""
                tables:
                  - name: docs
                    columns:
                      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
                      - {name: tenant_id, type: uuid, nullable: false}
                    grants:
                      authenticated: [select]
                """)]
            let refused = try reconcile(db, files).result
            #expect(refused.status == .failed)
            #expect(refused.errors.map(\.code) == ["rls_unreachable", "rls_unreachable", "rls_unreachable"], "\(refused.errors)")
            #expect(refused.errors.first?.message.hasPrefix("public.docs: probe own_insert as authenticated: tenant A inserting a row of its own: permission denied") == true,
                    "\(refused.errors)")
            #expect(try reconcile(db, files, verifyRLS: false).result.status == .ok)
            let set = BlueprintSet.load(files.map { BlueprintSource(path: $0.key, text: $0.value) })
            let docs = try #require(try RLSVerifier(blueprints: set).verify(db.connect()).tables.first)
            #expect(docs.status == .unreachable)
            #expect(docs.checks.filter { !$0.passed }.map(\.name) == ["own_insert", "own_update", "own_delete"])
        }
    }

    /// Any anon read policy used to make verify-rls skip anon and answer "isolated".
    @Test(arguments: SupabaseProject.allCases) func anAnonPolicyAddedByHandIsALeakNotASkip(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
            try db.connect().query("GRANT SELECT ON docs TO anon")
            try db.connect().query("CREATE POLICY \"Anyone can read.\" ON docs FOR SELECT TO anon USING (true)")
            let report = try RLSVerifier(blueprints: set).verify(db.connect())
            let docs = try #require(report.tables.first { $0.table == "public.docs" })
            #expect(docs.status == .leak)
            let anon = try #require(docs.checks.first { $0.name == "anon_read" })
            #expect(!anon.passed)
            #expect(anon.detail.contains("Anyone can read."))
        }
    }

    @Test func theCommandExitsTwoNamingTheLeakingTable() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let directory = RepositoryPaths.root + "/examples/saas/blueprints"
            func run(_ arguments: String...) throws -> ProcessOutput {
                try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments + ["--blueprints", directory, "--database-url", db.url], check: false)
            }
            #expect(try run("apply").status == 0)
            let good = try run("verify-rls")
            #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
            #expect(good.stdout.contains("every tenant table is isolated"))
            try db.connect().query("ALTER POLICY tasks_tenant_select ON tasks USING (true)")
            let bad = try run("verify-rls")
            #expect(bad.status == 2)
            #expect(bad.stdout.contains("leak          public.tasks"))
            #expect(bad.stdout.contains("LEAK cross_tenant_read"))
        }
    }

    /// The schema of public as the probes see it: tables, columns and policies.
    func schema(_ db: TestDatabase) throws -> String {
        try db.connect().query("""
            SELECT coalesce((SELECT string_agg(table_name || '.' || column_name || ' ' || data_type, ', ' ORDER BY table_name, column_name)
                               FROM information_schema.columns WHERE table_schema = 'public'), '') || ' | ' ||
                   coalesce((SELECT string_agg(tablename || '.' || policyname || ' ' || cmd || ' ' || coalesce(qual, '-'), ', ' ORDER BY tablename, policyname)
                               FROM pg_policies WHERE schemaname = 'public'), '') AS schema
            """).first!.string("schema")
    }

    /// The RLS gate inside apply (production.md, RLS proven before commit): a revision whose
    /// policy lets every authenticated user read every tenant's rows is rolled back whole, with
    /// `rls_leak` naming the table, the role and the probe; with `--no-verify-rls` it applies.
    @Test(arguments: SupabaseProject.allCases) func aLeakingRevisionIsRolledBackUnlessTheGateIsOff(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try setUp(kind)
            let before = try schema(db)
            let leaking = ["docs.yaml": document("""
                tables:
                  - name: docs
                    columns:
                      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
                      - {name: tenant_id, type: uuid, nullable: false}
                      - {name: body, type: text}
                      - {name: title, type: text}
                    rls:
                      policies:
                        - {name: Everyone signed in reads everything., command: select, roles: [authenticated], using: 'true'}
                  - name: shapes
                    columns:
                      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
                      - {name: tenant_id, type: uuid, nullable: false}
                      - {name: at, type: point, nullable: false}
                  - name: notes
                    columns:
                      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
                      - {name: tenant_id, type: uuid, nullable: false}
                """)]
            #expect(leaking["docs.yaml"]!.contains("title"))
            let refused = try reconcile(db, leaking).result
            #expect(refused.status == .failed, "\(refused.summary)")
            let leak = try #require(refused.errors.first { $0.code == "rls_leak" }, "\(refused.errors)")
            #expect(leak.message.hasPrefix("public.docs: probe cross_tenant_read as authenticated: tenant A sees 1 of tenant B's rows"), "\(leak.message)")
            #expect(leak.file == "docs.yaml" && leak.path == "$.tables[0]", "\(leak)")
            #expect(refused.errors.allSatisfy { $0.message.hasPrefix("public.docs:") }, "only docs leaks: \(refused.errors)")
            #expect(try schema(db) == before, "the database is exactly as before")
            #expect(try !db.connect().query("SELECT to_regclass('public.notes') IS NOT NULL AS present").first!.bool("present"))

            // The same revision with the gate off.
            let directory = NSTemporaryDirectory() + "driftless-gate-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try leaking["docs.yaml"]!.write(toFile: directory + "/docs.yaml", atomically: true, encoding: .utf8)
            let applied = try ProcessRunner.run(RepositoryPaths.driftlessExecutable,
                                                ["apply", "--no-verify-rls", "--blueprints", directory, "--database-url", db.url], check: false)
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            #expect(try schema(db) != before)
            #expect(try db.connect().query("SELECT count(*) AS n FROM pg_policies WHERE policyname = 'Everyone signed in reads everything.'").first!.int("n") == 1)
            // And the gate finds it now too: without the flag the next change to RLS is refused.
            let next = try reconcile(db, leaking.mapValues { $0.replacingOccurrences(of: "      - {name: title, type: text}\n", with: "      - {name: title, type: text}\n      - {name: pinned, type: boolean}\n") }).result
            #expect(next.status == .failed && next.errors.contains { $0.code == "rls_leak" }, "\(next.summary) \(next.errors)")
        }
    }

    /// The gate probes one table per RLS shape. Triggers calling one PL/pgSQL function make
    /// one shape; a function that asks which table fired it makes each of its tables a shape of
    /// its own, so a trigger breaking the isolation of one table is caught beside its twins.
    @Test func aTriggerThatKnowsItsTableIsProbedOnItsOwn() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(kind: .noAutoExpose)
            func files(_ body: String) -> [String: String] {
                var tables = ["routines.yaml": document("""
                    functions:
                      - name: stamp
                        returns: trigger
                        language: plpgsql
                        search_path: ""
                        body: |
                          \(body.replacingOccurrences(of: "\n", with: "\n      "))
                    """)]
                for name in ["a_docs", "b_docs", "c_docs"] {
                    tables["\(name).yaml"] = document("""
                        tables:
                          - name: \(name)
                            columns:
                              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
                              - {name: tenant_id, type: uuid, nullable: false}
                              - {name: body, type: text}
                        triggers:
                          - {name: \(name)_stamp, table: \(name), timing: before, events: [insert, update], function: stamp}
                        """)
                }
                return tables
            }
            let calm = files("begin\n  new.body := coalesce(new.body, 'x');\n  return new;\nend")
            let applied = try reconcile(db, calm).result
            #expect(applied.status == .ok, "\(applied.errors)")
            let set = BlueprintSet.load(calm.map { BlueprintSource(path: $0.key, text: $0.value) })
            let connection = try db.connect()
            try connection.query("BEGIN")
            let shared = try RLSVerifier(blueprints: set).probe(connection, byShape: true)
            try connection.query("ROLLBACK")
            #expect(shared.tables.map(\.status) == [.isolated, .isolated, .isolated])
            #expect(shared.tables.dropFirst().allSatisfy { $0.reason?.hasPrefix("proved on public.a_docs, which has the same RLS shape") == true },
                    "\(shared.tables.map(\.reason))")

            // One table's rows go to another tenant: only c_docs's own probes can see it.
            let hostile = files("begin\n  if tg_table_name = 'c_docs' then\n    new.tenant_id := gen_random_uuid();\n  end if;\n  return new;\nend")
            let refused = try reconcile(db, hostile).result
            #expect(refused.status == .failed, "\(refused.summary)")
            #expect(!refused.errors.isEmpty && refused.errors.allSatisfy { $0.message.hasPrefix("public.c_docs:") }, "\(refused.errors)")
            let body = try connection.query("SELECT prosrc FROM pg_proc WHERE proname = 'stamp'").first!.string("prosrc")
            #expect(!body.contains("tg_table_name"), "rolled back: \(body)")
        }
    }
}
