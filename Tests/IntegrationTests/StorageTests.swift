import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// Storage against a real database (docs/blueprints.md, Storage): a bucket and three policies
/// written as Supabase's guides write them, proved by acting as two users and as anon; drift of
/// a bucket's settings; someone else's policy and buckets left alone; `--prune` drops only an
/// empty undeclared bucket.
@Suite("Storage: buckets and storage.objects policies")
struct StorageTests {
    static let userA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
    static let userB = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"

    static func files(policies: Int = 3, limit: Int = 5242880) -> [String: String] {
        let all = [
            """
                - name: Avatar images are publicly accessible.
                  command: select
                  roles: [anon, authenticated]
                  using: bucket_id = 'avatars'
            """,
            """
                - name: Users can upload into their own folder.
                  command: insert
                  roles: [authenticated]
                  with_check: bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text
            """,
            """
                - name: Users can update their own files.
                  command: update
                  roles: [authenticated]
                  using: bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text
                  comment: Only under the folder named after the user
            """,
        ]
        return ["storage.yaml": document("""
            storage:
              buckets:
                - id: avatars
                  public: true
                  file_size_limit: \(limit)
                  allowed_mime_types: [image/png, image/jpeg]
              policies:
            \(all.prefix(policies).joined(separator: "\n"))
            """)]
    }

    /// Runs `body` in a transaction acting as `role` with a JWT whose subject is `user`, rolled
    /// back unless `keep`; nil when the server refused with an RLS violation (42501).
    @discardableResult
    func acting<T>(_ connection: Connection, _ role: String, user: String?, keep: Bool = true, _ body: () throws -> T) throws -> T? {
        try connection.query("BEGIN")
        try connection.query("SELECT set_config('role', $1, true)", [role])
        let claims = user.map { #"{"sub": "\#($0)", "role": "\#(role)"}"# } ?? #"{"role": "anon"}"#
        try connection.query("SELECT set_config('request.jwt.claims', $1, true)", [claims])
        do {
            let value = try body()
            try connection.query(keep ? "COMMIT" : "ROLLBACK")
            return value
        } catch let error as PostgresError where error.sqlstate == "42501" {
            connection.rollbackQuietly()
            return nil
        }
    }

    func upload(_ connection: Connection, _ name: String) throws -> Int {
        try connection.query("INSERT INTO storage.objects (bucket_id, name) VALUES ('avatars', $1)", [name]).affectedRows ?? 0
    }

    func policies(_ connection: Connection) throws -> Set<String> {
        Set(try connection.query("SELECT policyname FROM pg_policies WHERE schemaname = 'storage' AND tablename = 'objects'")
            .rows.map { try $0.string("policyname") })
    }

    @Test(arguments: SupabaseProject.allCases)
    func aBucketAndGuidePoliciesHoldForTwoUsersAndAnon(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "storage", kind: kind)
            let connection = try db.connect()
            // Someone else's: a policy on storage.objects, a bucket with a file, an empty bucket.
            try connection.simpleQuery("""
                CREATE POLICY "Service reads everything" ON storage.objects FOR SELECT TO service_role USING (true);
                INSERT INTO storage.buckets (id, name) VALUES ('legacy', 'legacy'), ('scratch', 'scratch');
                INSERT INTO storage.objects (bucket_id, name) VALUES ('legacy', 'old/report.pdf');
                """)

            let applied = try reconcile(db, Self.files()).result
            #expect(applied.status == .ok, "\(applied.errors)")
            #expect(applied.statements.contains(
                "INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES ('avatars', 'avatars', true, 5242880, ARRAY['image/png', 'image/jpeg']::text[])"),
                "\(applied.statements)")
            #expect(try policies(connection) == ["Service reads everything", "Avatar images are publicly accessible.",
                                                "Users can upload into their own folder.", "Users can update their own files."])
            let bucket = try #require(try connection.query("SELECT public, file_size_limit, allowed_mime_types::text AS types FROM storage.buckets WHERE id = 'avatars'").first)
            #expect(try bucket.bool("public") && bucket.int("file_size_limit") == 5242880 && bucket.string("types") == "{image/png,image/jpeg}")
            let comment = try connection.query("""
                SELECT obj_description(oid, 'pg_policy') AS c FROM pg_policy WHERE polname = 'Users can update their own files.'
                """).first
            #expect(try comment?.text("c") == "Only under the folder named after the user")
            // Nothing left to do: the canonical policies read back equal, the undeclared buckets are only reported.
            let again = try reconcile(db, Self.files(), apply: false)
            #expect(again.result.status == .noop, "\(again.changes.filter(\.applied).flatMap(\.statements))")
            #expect(Set(again.changes.filter { $0.kind == .unmanaged }.map(\.id.name)) == ["legacy", "scratch"])
            #expect(!again.changes.contains { $0.id.name == "Service reads everything" })

            // Acting as the users and anon.
            #expect(try acting(connection, "authenticated", user: Self.userA) { try upload(connection, "\(Self.userA)/avatar.png") } == 1)
            #expect(try acting(connection, "authenticated", user: Self.userA) { try upload(connection, "\(Self.userB)/planted.png") } == nil,
                    "user A wrote into user B's folder")
            #expect(try acting(connection, "authenticated", user: Self.userB) { try upload(connection, "\(Self.userB)/b.png") } == 1)
            let overwritten = try acting(connection, "authenticated", user: Self.userB, keep: false) {
                try connection.query("UPDATE storage.objects SET metadata = '{\"x\": 1}' WHERE name = $1", ["\(Self.userA)/avatar.png"]).affectedRows
            }
            #expect(overwritten == 0, "user B changed user A's file")
            let ownUpdate = try acting(connection, "authenticated", user: Self.userA, keep: false) {
                try connection.query("UPDATE storage.objects SET metadata = '{\"x\": 1}' WHERE name = $1", ["\(Self.userA)/avatar.png"]).affectedRows
            }
            #expect(ownUpdate == 1)
            let anonSees = try acting(connection, "anon", user: nil) {
                try connection.query("SELECT name FROM storage.objects ORDER BY name").rows.map { try $0.string("name") }
            }
            #expect(anonSees == ["\(Self.userA)/avatar.png", "\(Self.userB)/b.png"], "anon reads the public bucket only")
            #expect(try acting(connection, "anon", user: nil) { try upload(connection, "anon.png") } == nil, "anon uploaded")

            // A setting changed by hand is drift, and put back.
            try connection.query("UPDATE storage.buckets SET file_size_limit = 1 WHERE id = 'avatars'")
            let set = BlueprintSet.load(Self.files().map { BlueprintSource(path: $0.key, text: $0.value) })
            let report = try Reconciler(blueprints: set, revision: "r", options: ReconcileOptions()).drift(connection)
            let item = try #require(report.items.first { $0.objectType == .bucket && $0.kind == .changed }, "\(report.items)")
            #expect(item.object == "storage.avatars" && item.actual?.contains("file_size_limit 1,") == true)
            let putBack = try reconcile(db, Self.files()).result
            #expect(putBack.status == .ok, "\(putBack.errors)")
            #expect(try connection.query("SELECT file_size_limit FROM storage.buckets WHERE id = 'avatars'").first!.int("file_size_limit") == 5242880)

            // A policy taken out of the blueprints goes; someone else's stays, even with --prune,
            // which drops the empty undeclared bucket and never the one holding a file.
            let pruned = try reconcile(db, Self.files(policies: 2), prune: true).result
            #expect(pruned.status == .ok, "\(pruned.errors)")
            #expect(try policies(connection) == ["Service reads everything", "Avatar images are publicly accessible.",
                                                "Users can upload into their own folder."])
            let buckets = Set(try connection.query("SELECT id FROM storage.buckets").rows.map { try $0.string("id") })
            #expect(buckets == ["avatars", "legacy"])

            // import writes Storage as it is, and the imported blueprints find nothing to do.
            let directory = NSTemporaryDirectory() + "driftless-storage-import-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let imported = try ProcessRunner.run(RepositoryPaths.driftlessExecutable, ["import", "--out", directory, "--database-url", db.url], check: false)
            #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
            let written = try String(contentsOfFile: directory + "/storage.yaml", encoding: .utf8)
            #expect(written.contains("id: avatars") && written.contains("id: legacy") && written.contains("Service reads everything"), "\(written)")
            let plan = try ProcessRunner.run(RepositoryPaths.driftlessExecutable,
                                             ["plan", "--blueprints", directory, "--database-url", db.url, "--format", "json"], check: false)
            #expect(plan.status == 0 && plan.stdout.contains("\"noop\""), "\(plan.stdout)\(plan.stderr)")
        }
    }

    /// A blueprint with `storage` against a database without the storage schema: failed, and
    /// the error says why and where.
    @Test func withoutAStorageSchemaStorageFailsAndSaysWhere() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "nostorage")
            try db.connect(user: "supabase_admin").simpleQuery("DROP SCHEMA storage CASCADE")
            let result = try reconcile(db, Self.files()).result
            #expect(result.status == .failed)
            let error = try #require(result.errors.first)
            #expect(error.code == "no_storage_schema" && error.path == "$.storage" && error.file == "storage.yaml", "\(result.errors)")
        }
    }
}
