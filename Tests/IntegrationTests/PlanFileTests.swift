import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// Plan files (production.md, Plan files) with the real command line and a real database: a
/// reviewed plan applied after someone changed a policy by hand is `plan_stale` and changes
/// nothing; once the policy is as it was, the plan applies exactly its statements and the
/// history row names it; an edited file is refused.
@Suite("Plan files: apply exactly what was reviewed")
struct PlanFileTests {
    static let base = document("""
        tables:
          - name: docs
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: body, type: text}
        """)

    func driftless(_ arguments: [String], _ db: TestDatabase) throws -> ProcessOutput {
        try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments + ["--database-url", db.url], check: false)
    }

    func columns(_ db: TestDatabase) throws -> [String] {
        try db.connect().query("SELECT column_name FROM information_schema.columns WHERE table_name = 'docs' ORDER BY ordinal_position")
            .rows.map { try $0.string("column_name") }
    }

    @Test func aStalePlanChangesNothingAndAFreshOneRunsExactlyItsStatements() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "planfile")
            let directory = NSTemporaryDirectory() + "driftless-planfile-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Self.base.write(toFile: directory + "/docs.yaml", atomically: true, encoding: .utf8)
            #expect(try driftless(["apply", "--blueprints", directory], db).status == 0)

            // The revision under review: a column and a policy.
            try document("""
                tables:
                  - name: docs
                    columns:
                      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
                      - {name: tenant_id, type: uuid, nullable: false}
                      - {name: body, type: text}
                      - {name: title, type: text}
                    rls:
                      policies:
                        - {name: Authors read their drafts., command: select, roles: [authenticated], using: "body is not null"}
                """).write(toFile: directory + "/docs.yaml", atomically: true, encoding: .utf8)
            // Outside the blueprint directory: every .json file there is a blueprint.
            let planPath = directory + "-plan.json"
            defer { try? FileManager.default.removeItem(atPath: planPath) }
            let planned = try driftless(["plan", "--blueprints", directory, "--out", planPath], db)
            #expect(planned.status == 2, "\(planned.stdout)\(planned.stderr)")
            let reviewed = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: URL(fileURLWithPath: planPath)))
            #expect(reviewed.version == 1 && reviewed.isIntact && reviewed.fingerprint.count == 64)
            #expect(reviewed.sql.contains("ALTER TABLE \"public\".\"docs\" ADD COLUMN \"title\" text"), "\(reviewed.sql)")
            #expect(reviewed.sql.contains { $0.hasPrefix("CREATE POLICY \"Authors read their drafts.\"") })
            #expect(reviewed.statements.allSatisfy { $0.phase == "transaction" && !$0.object.isEmpty })
            #expect(reviewed.exposure.contains { $0.role == "authenticated" && $0.change == .gained }, "\(reviewed.exposure)")
            let raw = try String(contentsOfFile: planPath, encoding: .utf8)
            #expect(raw.contains("\"plan_id\"") && raw.contains("\"payload_hash\"") && raw.contains("\"created_at\""))

            // Someone changes a policy by hand: the plan is stale and nothing changes.
            let original = try db.connect().query("SELECT qual FROM pg_policies WHERE policyname = 'docs_tenant_select'").first!.string("qual")
            try db.connect().query("ALTER POLICY docs_tenant_select ON docs USING (true)")
            let stale = try driftless(["apply", "--plan", planPath, "--blueprints", directory, "--format", "json"], db)
            #expect(stale.status == 3, "\(stale.stdout)\(stale.stderr)")
            #expect(stale.stdout.contains("plan_stale") && stale.stdout.contains("the database changed since the plan was made"), "\(stale.stdout)")
            #expect(try columns(db) == ["id", "tenant_id", "body"])

            // As it was again (the same content): the plan applies, exactly its statements.
            try db.connect().query("ALTER POLICY docs_tenant_select ON docs USING (\(original))")
            let applied = try driftless(["apply", "--plan", planPath, "--blueprints", directory, "--format", "json"], db)
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let result = try JSONDecoder().decode(ReconcileResult.self, from: Data(applied.stdout.utf8))
            #expect(result.statements == reviewed.sql)
            #expect(try columns(db) == ["id", "tenant_id", "body", "title"])
            let row = try db.connect().query("SELECT trigger_kind, trigger_id FROM driftless.schema_migrations WHERE status = 'ok' ORDER BY id DESC LIMIT 1").first!
            #expect(try row.string("trigger_kind") == "plan" && row.string("trigger_id") == reviewed.planID)

            // A file whose statements were edited after review is refused, whatever the database.
            var edited = reviewed
            edited.statements[0].sql = "DROP TABLE \"public\".\"docs\""
            let encoder = JSONEncoder()
            try encoder.encode(edited).write(to: URL(fileURLWithPath: planPath))
            let refused = try driftless(["apply", "--plan", planPath, "--blueprints", directory, "--format", "json"], db)
            #expect(refused.status == 3 && refused.stdout.contains("the plan file was edited"), "\(refused.stdout)\(refused.stderr)")
            #expect(try columns(db) == ["id", "tenant_id", "body", "title"])
        }
    }
}
