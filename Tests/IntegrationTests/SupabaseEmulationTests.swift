import Foundation
import Postgres
import Testing
import TestSupport

@Suite("The Supabase emulation behaves like Supabase")
struct SupabaseEmulationTests {
    @Test func rolesAndHelpersExist() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            let roles = try connection.query(
                "SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname IN ('anon','authenticated','service_role','authenticator') ORDER BY rolname")
            #expect(try roles.rows.map { try $0.string("rolname") } == ["anon", "authenticated", "authenticator", "service_role"])
            #expect(try roles.rows.map { try $0.bool("rolbypassrls") } == [false, false, false, true])
            // As on Supabase: postgres owns the database, is not a superuser, bypasses RLS; the
            // platform's superuser is supabase_admin.
            let postgres = try #require(try connection.query("""
                SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, pg_get_userbyid(d.datdba) AS owner,
                       (SELECT rolsuper FROM pg_roles WHERE rolname = 'supabase_admin') AS admin_super,
                       pg_has_role('postgres', 'authenticated', 'MEMBER') AS member,
                       (SELECT count(*) FROM pg_publication WHERE pubname = 'supabase_realtime') AS publications,
                       to_regclass('storage.objects') IS NOT NULL AS storage
                FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()
                """).first)
            #expect(try !postgres.bool("rolsuper") && postgres.bool("rolbypassrls") && postgres.bool("rolcreaterole"))
            #expect(try postgres.string("owner") == "postgres" && postgres.bool("admin_super") && postgres.bool("member"))
            #expect(try postgres.int("publications") == 1 && postgres.bool("storage"))
            let claims = TestDatabase.tenantClaims(tenant: "11111111-1111-1111-1111-111111111111", user: "22222222-2222-2222-2222-222222222222")
            let row = try db.asRole("authenticated", claims: claims, on: connection) { conn in
                try #require(try conn.query("""
                    SELECT auth.uid()::text AS uid, auth.role() AS role, current_user AS who,
                           auth.jwt() -> 'app_metadata' ->> 'tenant_id' AS tenant
                    """).first)
            }
            #expect(try row.string("uid") == "22222222-2222-2222-2222-222222222222")
            #expect(try row.string("role") == "authenticated")
            #expect(try row.string("who") == "authenticated")
            #expect(try row.string("tenant") == "11111111-1111-1111-1111-111111111111")
        }
    }

    @Test(arguments: SupabaseProject.allCases) func rowLevelSecurityIsEnforcedForTenants(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(kind: kind)
            let connection = try db.connect()
            try connection.query("CREATE TABLE notes (id serial PRIMARY KEY, tenant_id uuid NOT NULL, body text)")
            // Legacy projects' default privileges give the API roles ALL on a new table; a
            // project with "no auto-expose" gives them nothing.
            let grants = try connection.query("SELECT has_table_privilege('anon', 'public.notes', 'SELECT') AS anon_can")
            #expect(try grants.rows[0].bool("anon_can") == (kind == .legacy))
            if kind == .noAutoExpose { try connection.query("GRANT ALL ON notes TO anon, authenticated") }
            try connection.query("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
            try connection.query("""
                CREATE POLICY notes_tenant ON notes FOR ALL TO authenticated
                USING (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid)
                WITH CHECK (tenant_id = ((select auth.jwt()) -> 'app_metadata' ->> 'tenant_id')::uuid)
                """)
            let a = "aaaaaaaa-0000-0000-0000-000000000001"
            let b = "bbbbbbbb-0000-0000-0000-000000000002"
            try connection.query("INSERT INTO notes (tenant_id, body) VALUES ($1, 'a'), ($2, 'b')", [a, b])
            let visible = try db.asRole(claims: TestDatabase.tenantClaims(tenant: a), on: connection) { conn in
                try conn.query("SELECT body FROM notes").rows.map { try $0.string("body") }
            }
            #expect(visible == ["a"])
            let error = try #require(throws: PostgresError.self) {
                try db.asRole(claims: TestDatabase.tenantClaims(tenant: a), on: connection) { conn in
                    try conn.query("INSERT INTO notes (tenant_id, body) VALUES ($1, 'x')", [b])
                }
            }
            #expect(error.sqlstate == "42501")
            let anonSees = try db.asRole("anon", on: connection) { conn in try conn.query("SELECT * FROM notes").rows.count }
            #expect(anonSees == 0)
        }
    }
}
