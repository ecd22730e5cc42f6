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

    @Test func rowLevelSecurityIsEnforcedForTenants() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            try connection.query("CREATE TABLE notes (id serial PRIMARY KEY, tenant_id uuid NOT NULL, body text)")
            // Supabase's default privileges gave the API roles ALL on the new table.
            let grants = try connection.query("SELECT has_table_privilege('anon', 'public.notes', 'SELECT') AS anon_can")
            #expect(try grants.rows[0].bool("anon_can"))
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
