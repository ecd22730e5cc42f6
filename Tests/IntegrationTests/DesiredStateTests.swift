import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// The desired state assembled once (reconcile.md) and the managed-object record per schema set
/// with typed identities (docs/engine.md, Identities): each test fails on the engine before it.
@Suite("One desired state, typed and per-set managed records")
struct DesiredStateTests {
    static let apiTenant = "3c1f7a2e-9b4d-4e8a-8f6c-2d5e7a9b1c3d"

    func driftless(_ arguments: [String], database: TestDatabase) throws -> ProcessOutput {
        try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments + ["--database-url", database.url], check: false)
    }

    func tableExists(_ db: TestDatabase, _ name: String) throws -> Bool {
        try db.connect().query("SELECT to_regclass($1) IS NOT NULL AS present", [name]).first!.bool("present")
    }

    @Test func anUnmanagedIndexNamedLikeAManagedColumnSurvivesAnApply() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let files = ["t.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: x, type: text}\n")]
            #expect(try reconcile(db, files).result.status == .ok)
            // By hand: an index whose name is the managed column's.
            try db.connect().query("CREATE INDEX x ON public.t (id)")
            let plan = try reconcile(db, files, apply: false)
            #expect(plan.changes.filter { $0.objectType == .index }.map(\.kind) == [.unmanaged])
            #expect(plan.result.status == .noop)
            #expect(try reconcile(db, files, allow: Set(HazardKind.allCases)).result.status == .noop)
            #expect(try tableExists(db, "public.x"))
        }
    }

    @Test func twoBlueprintSetsOnOneDatabaseKeepTheirOwnRecords() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let first = ["a.yaml": "version: 1\ntenant_id: \(tenant)\nschema: alpha\ntables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: old, type: text}\n"]
            let second = ["b.yaml": "version: 1\ntenant_id: \(tenant)\nschema: beta\ntables:\n  - name: u\n    columns:\n      - {name: id, type: int, primary_key: true}\n"]
            #expect(try reconcile(db, first).result.status == .ok)
            #expect(try reconcile(db, second).result.status == .ok)
            // The first set drops a column it created: a managed drop (blocked until allowed),
            // not an unmanaged column, although the second set applied in between.
            let without = ["a.yaml": first["a.yaml"]!.replacingOccurrences(of: "      - {name: old, type: text}\n", with: "")]
            let plan = try reconcile(db, without, apply: false)
            let drop = try #require(plan.changes.first { $0.objectType == .column })
            #expect(drop.kind == .changed)
            #expect(drop.applied)
            #expect(plan.result.status == .blocked)
            #expect(try reconcile(db, without, allow: [.deletesData]).result.status == .ok)
            #expect(try db.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'alpha' AND column_name = 'old'")
                .first!.int("n") == 0)
            // Each set's record is its own.
            let sets = try db.connect().query("SELECT count(DISTINCT lock_key) AS n FROM driftless.managed_identities").first!.int("n")
            #expect(sets == 2)
        }
    }

    @Test func aRecordFromBeforeTheTypedRecordIsReadOnceThenReplaced() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let files = ["t.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: old, type: text}\n")]
            #expect(try reconcile(db, files).result.status == .ok)
            // The record as an older Driftless left it: untyped names, no typed rows.
            let connection = try db.connect()
            try connection.query("DELETE FROM driftless.managed_identities")
            try connection.query("CREATE TABLE driftless.managed_objects (object text PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now())")
            try connection.query("INSERT INTO driftless.managed_objects (object) VALUES ('public.t'), ('public.t.id'), ('public.t.old'), ('other.z')")
            let without = ["t.yaml": files["t.yaml"]!.replacingOccurrences(of: "      - {name: old, type: text}\n", with: "")]
            let plan = try reconcile(db, without, apply: false)
            #expect(plan.changes.first { $0.objectType == .column }?.kind == .changed)
            #expect(try reconcile(db, without, allow: [.deletesData]).result.status == .ok)
            // Its schema's old names are gone, another schema's stay.
            let left = try connection.query("SELECT object FROM driftless.managed_objects ORDER BY object").rows.map { try $0.string("object") }
            #expect(left == ["other.z"])
        }
    }

    @Test func planDriftAndApplyFromTheCommandLineNeverDropAnAPITenantsTable() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let directory = NSTemporaryDirectory() + "driftless-desired-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try document("tables:\n  - name: from_git\n    columns:\n      - {name: id, type: int, primary_key: true}\n")
                .write(toFile: directory + "/git.yaml", atomically: true, encoding: .utf8)
            // An API tenant's blueprint, stored and applied as POST /v1/blueprints does.
            let api = #"{"version": 1, "tenant_id": "\#(Self.apiTenant)", "tables": [{"name": "from_api", "columns": [{"name": "id", "type": "int", "primary_key": true}]}]}"#
            let connection = try db.connect()
            let history = History()
            try connection.transaction { connection in
                try history.ensure(connection)
                try history.storeAPIBlueprint(tenant: Self.apiTenant, document: api, payloadHash: "h", connection)
            }
            let revision = try BlueprintLoader.load(.directory(directory))
            let set = try DesiredState.assemble(revision: revision.sources, history: history, connection)
            #expect(Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).apply(connection).status == .ok)
            #expect(try tableExists(db, "public.from_api"))

            // The command line reads the same desired state: nothing to drop, whatever is allowed.
            let plan = try driftless(["plan", "--blueprints", directory, "--allow", "deletes_data", "--format", "json"], database: db)
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
            #expect(!plan.stdout.contains("DROP TABLE"))
            let drift = try driftless(["drift", "--blueprints", directory, "--format", "json"], database: db)
            #expect(drift.status == 0, "\(drift.stdout)\(drift.stderr)")
            #expect(drift.stdout.contains("\"in_sync\":true") || drift.stdout.contains("\"in_sync\" : true"))
            let apply = try driftless(["apply", "--blueprints", directory, "--allow", "deletes_data", "--prune"], database: db)
            #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
            #expect(try tableExists(db, "public.from_api"))
        }
    }

    /// A desired state read before another tenant's blueprint was stored (the loop reads before
    /// it takes the lock; the tenant's POST commits in between): the apply does not plan that
    /// tenant's tables away (a drop, or a block on the drop's hazard that stalls the loop), it
    /// answers retry, and read again it converges.
    @Test func anAPIBlueprintStoredAfterTheDesiredStateWasReadMakesTheApplyRetry() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            let history = History()
            let git = [BlueprintSource(path: "git.yaml", text: document("tables:\n  - name: from_git\n    columns:\n      - {name: id, type: int, primary_key: true}\n"))]
            #expect(Reconciler(blueprints: BlueprintSet.load(git), revision: "r1", options: ReconcileOptions()).apply(connection).status == .ok)
            // The loop reads its desired state...
            let stale = try DesiredState.read(revision: git, history: history, connection)
            // ...a tenant's document is stored and applied, with its table in the managed record...
            let api = #"{"version": 1, "tenant_id": "\#(Self.apiTenant)", "tables": [{"name": "from_api", "columns": [{"name": "id", "type": "int", "primary_key": true}]}]}"#
            let theirs = try DesiredState.read(revision: git, history: history, connection,
                                               replacing: (Self.apiTenant, BlueprintSource(path: "api/\(Self.apiTenant).json", text: api)))
            var apiOptions = ReconcileOptions()
            apiOptions.stored = theirs.stored
            apiOptions.beforeCommit = { try history.storeAPIBlueprint(tenant: Self.apiTenant, document: api, payloadHash: "h", $0) }
            #expect(Reconciler(blueprints: BlueprintSet.load(theirs.sources), revision: "api", options: apiOptions).apply(connection).status == .ok)
            try connection.query("INSERT INTO from_api VALUES (1)")
            // ...and the loop applies what it read, with every hazard allowed: retry, nothing dropped.
            var options = ReconcileOptions()
            options.stored = stale.stored
            options.allowed = Set(HazardKind.allCases)
            let result = Reconciler(blueprints: BlueprintSet.load(stale.sources), revision: "r1", options: options).apply(connection)
            #expect(result.status == .retry && result.errors.first?.code == "desired_state_changed", "\(result.summary) \(result.errors)")
            #expect(try connection.query("SELECT count(*) AS n FROM from_api").first!.int("n") == 1)
            // Read again, it is the whole desired state.
            let fresh = try DesiredState.read(revision: git, history: history, connection)
            options.stored = fresh.stored
            #expect(Reconciler(blueprints: BlueprintSet.load(fresh.sources), revision: "r1", options: options).apply(connection).status == .noop)
            #expect(try tableExists(db, "public.from_api"))
        }
    }
}
