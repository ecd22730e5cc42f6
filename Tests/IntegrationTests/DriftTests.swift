import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

@Suite("Drift reports against a real database")
struct DriftTests {
    static let files = ["app.yaml": document("""
        enums:
          - {name: mood, values: [happy, sad]}
        tables:
          - name: notes
            realtime: true
            replica_identity: full
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: title, type: text, nullable: false, default: "'untitled'"}
              - {name: feeling, type: mood}
              - {name: score, type: integer}
              - {name: number, type: bigint, default: "nextval('note_number'::regclass)"}
            indexes:
              - {columns: [title], name: notes_title_idx}
            rls:
              policies:
                - {name: notes_service, command: select, roles: [service_role], using: "true"}
        sequences:
          - {name: note_number, start: 100, owned_by: notes.number, grants: {authenticated: [usage]}}
        """)]

    func drift(_ db: TestDatabase, user: String = "postgres") throws -> DriftReport {
        let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
        return try Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).drift(db.connect(user: user))
    }

    /// What a hand can break without changing a definition: a table given to anon (who then
    /// bypasses RLS) and a trigger disabled. Both are drift, neither is answered from the
    /// steady-state record, and apply puts them back.
    @Test func anOwnerGivenToAnonAndADisabledTriggerAreDriftAndCorrected() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            try connection.query("CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
            #expect(try reconcile(db, Self.files).result.status == .ok)
            try connection.query("CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION public.touch()")
            // Converged: the next apply is a noop and records the steady state.
            #expect(try reconcile(db, Self.files).result.status == .noop)
            #expect(try reconcile(db, Self.files).result.status == .noop)
            // anon has no CREATE on public, so on Supabase only the platform's superuser can do this.
            try db.connect(user: PostgresCluster.superuser).query("ALTER TABLE notes OWNER TO anon")
            try connection.query("ALTER TABLE notes DISABLE TRIGGER notes_touch")
            let report = try drift(db)
            let owner = try #require(report.items.first { $0.objectType == .owner })
            #expect(owner.object == "public.notes" && owner.kind == .changed && owner.actual == "anon")
            #expect(owner.fix == "ALTER TABLE \"public\".\"notes\" OWNER TO CURRENT_USER")
            let trigger = try #require(report.items.first { $0.objectType == .trigger })
            #expect(trigger.object == "public.notes.notes_touch" && trigger.actual == "disabled")
            #expect(try reconcile(db, Self.files, apply: false).result.status == .ok)
            let applied = try reconcile(db, Self.files).result
            #expect(applied.status == .ok)
            #expect(applied.summary.contains("1 owner changed") && applied.summary.contains("1 trigger changed"))
            let row = try connection.query("""
                SELECT pg_get_userbyid(c.relowner) AS owner, t.tgenabled::text AS enabled
                FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid WHERE c.oid = 'public.notes'::regclass AND t.tgname = 'notes_touch'
                """).first!
            #expect(try row.string("owner") == "postgres")
            #expect(try row.string("enabled") == "O")
            // Made by hand, the function and its trigger are unmanaged: reported, nothing else.
            let after = try drift(db)
            #expect(after.items.allSatisfy { $0.kind == .unmanaged }, "\(after.items.map { "\($0.kind) \($0.object)" })")
            #expect(Set(after.items.map(\.object)) == ["public.touch()", "public.notes.notes_touch"])
        }
    }

    @Test func everyKindOfOutOfBandChangeIsReportedCorrectedAndPruned() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            #expect(try drift(db).inSync)

            let connection = try db.connect()
            for statement in [
                "DROP POLICY notes_tenant_select ON notes",
                "ALTER POLICY notes_service ON notes USING (false)",
                "ALTER TABLE notes DISABLE ROW LEVEL SECURITY",
                "ALTER TABLE notes ADD COLUMN extra text",
                "CREATE TABLE stray (id int)",
                "ALTER TABLE notes ALTER COLUMN title SET DEFAULT 'changed'",
                "DROP INDEX notes_title_idx",
                "ALTER TABLE notes ALTER COLUMN score TYPE bigint",
                "ALTER TYPE mood ADD VALUE 'meh'",
                "ALTER SEQUENCE note_number INCREMENT BY 5 OWNED BY NONE",
                "CREATE SEQUENCE stray_seq",
            ] { try connection.query(statement) }

            let catalogBefore = try liveCatalog(db)
            let report = try drift(db)
            #expect(try liveCatalog(db) == catalogBefore, "a drift report changed the database")
            func item(_ object: String, _ type: Change.ObjectType) -> DriftReport.Item? {
                report.items.first { $0.object == object && $0.objectType == type }
            }
            #expect(!report.inSync)
            #expect(item("public.notes.notes_tenant_select", .policy)?.kind == .missing)
            #expect(item("public.notes.notes_service", .policy)?.kind == .changed)
            #expect(item("public.notes", .rls)?.kind == .missing)
            #expect(item("public.notes.extra", .column)?.kind == .unmanaged)
            #expect(item("public.stray", .table)?.kind == .unmanaged)
            let title = try #require(item("public.notes.title", .column))
            #expect(title.kind == .changed)
            #expect(title.desired == "text DEFAULT 'untitled'::text NOT NULL")
            #expect(title.actual == "text DEFAULT 'changed'::text NOT NULL")
            #expect(title.fix == "ALTER TABLE \"public\".\"notes\" ALTER COLUMN \"title\" SET DEFAULT ('untitled')")
            #expect(item("public.notes.notes_title_idx", .index)?.kind == .missing)
            let score = try #require(item("public.notes.score", .column))
            #expect(score.kind == .changed)
            #expect(score.actual == "bigint")
            #expect(score.hazards.contains(.deletesData))
            #expect(item("public.mood", .enum)?.kind == .changed)
            let sequenceItems = report.items.filter { $0.object == "public.note_number" && $0.objectType == .sequence }
            #expect(Set(sequenceItems.map(\.fix)) == [
                "ALTER SEQUENCE \"public\".\"note_number\" AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 100 CACHE 1 NO CYCLE",
                "ALTER SEQUENCE \"public\".\"note_number\" OWNED BY \"public\".\"notes\".\"number\"",
            ])
            #expect(sequenceItems.allSatisfy { $0.kind == .changed })
            #expect(item("public.stray_seq", .sequence)?.kind == .unmanaged)
            #expect(report.rlsGaps.contains(DriftReport.RLSGap(table: "public.notes", problem: .rlsDisabled)))
            #expect(report.rlsGaps.contains(DriftReport.RLSGap(table: "public.notes", problem: .tenantPolicyMissing)))
            #expect(report.rlsGaps.contains(DriftReport.RLSGap(table: "public.notes", problem: .policyChanged)))
            #expect(report.rlsGaps.contains(DriftReport.RLSGap(table: "public.notes", problem: .policyExistsRLSDisabled)))
            #expect(report.summary.unmanaged == 3)

            // Apply corrects everything but the unmanaged objects (bigint back to integer and the
            // enum label removal need deletes_data and rewrites_table).
            let applied = try reconcile(db, Self.files, allow: [.deletesData, .rewritesTable])
            #expect(applied.result.status == .ok, "\(applied.result.summary) \(applied.result.errors)")
            let after = try drift(db)
            #expect(Set(after.items.map(\.object)) == ["public.notes.extra", "public.stray", "public.stray_seq"])
            #expect(after.items.allSatisfy { $0.kind == .unmanaged })
            #expect(after.rlsGaps.isEmpty)

            // --prune removes those, reporting deletes_data.
            let pruned = try reconcile(db, Self.files, prune: true)
            #expect(pruned.result.status == .ok)
            #expect(pruned.result.status == .ok, "\(pruned.result.errors)")
            #expect(pruned.result.hazards.filter { $0.hazard == .deletesData }.map(\.object).sorted()
                    == ["public.notes.extra", "public.stray", "public.stray_seq"])
            #expect(try drift(db).inSync)
        }
    }

    @Test func aRoleThatMayOnlyReadGetsTheReport() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            let admin = try db.connect()
            try admin.query("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'drift_reader') THEN CREATE ROLE drift_reader LOGIN; END IF; END $$")
            try admin.query("GRANT SELECT ON ALL TABLES IN SCHEMA public TO drift_reader")
            // Policy expressions call auth.jwt(): resolving them needs USAGE on auth, as the API
            // roles have (docs/engine.md). postgres holds it without the grant option (as on
            // Supabase), so its GRANT would only warn: the platform's superuser gives it.
            try db.connect(user: PostgresCluster.superuser).query("GRANT USAGE ON SCHEMA auth TO drift_reader")
            try admin.query("ALTER TABLE notes ALTER COLUMN title DROP DEFAULT")
            // The reader may not read the history schema's cache, and this process's memory must
            // not answer for it either: the desired state is built through the server as the reader.
            CanonicalCache.clearMemory()
            let report = try drift(db, user: "drift_reader")
            #expect(report.items.map(\.object) == ["public.notes.title"])
            // The reader could not have changed anything, and did not: the default is still gone.
            #expect(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "notes")]?.column("title")?.defaultExpression == nil)
        }
    }

    @Test func theCommandPrintsEveryFormatWithItsExitCode() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let directory = NSTemporaryDirectory() + "driftless-drift-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Self.files["app.yaml"]!.write(toFile: directory + "/app.yaml", atomically: true, encoding: .utf8)
            func run(_ arguments: String...) throws -> ProcessOutput {
                try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments + ["--blueprints", directory, "--database-url", db.url], check: false)
            }
            let before = try run("drift", "--format", "json")
            #expect(before.status == 2)
            let report = try JSONDecoder().decode(JSONValue.self, from: Data(before.stdout.utf8))
            guard case .object(let fields) = report else { Issue.record("not an object"); return }
            // The spec's fields (exposure: reconcile.md, Exposure), plus the RLS lints under "warnings".
            #expect(Set(fields.keys) == ["in_sync", "revision", "checked_at", "items", "rls_gaps", "summary", "warnings", "exposure"])
            #expect(try run("apply").status == 0)
            let human = try run("drift")
            #expect(human.status == 0)
            #expect(human.stdout.contains("in sync"))
            try db.connect().query("ALTER TABLE notes DISABLE ROW LEVEL SECURITY")
            let markdown = try run("drift", "--format", "markdown")
            #expect(markdown.status == 2)
            #expect(markdown.stdout.contains("| missing | rls | `public.notes` |"))
            #expect(markdown.stdout.contains("<details><summary>Fix SQL</summary>"))
            #expect(markdown.stdout.contains("ALTER TABLE \"public\".\"notes\" ENABLE ROW LEVEL SECURITY;"))
        }
    }
}
