import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

let tenant = "7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b"

/// A blueprint document of schema public with `body` after the header.
func document(_ body: String) -> String {
    "version: 1\ntenant_id: \(tenant)\n" + body
}

/// Plans or applies `files` against `db` as the CLI would.
func reconcile(
    _ db: TestDatabase, _ files: [String: String], apply: Bool = true, allow: Set<HazardKind> = [], prune: Bool = false,
    trigger: String = UUID().uuidString, revision: String = "test", verifyRLS: Bool = true
) throws -> (result: ReconcileResult, changes: [Change]) {
    let set = BlueprintSet.load(files.map { BlueprintSource(path: $0.key, text: $0.value) })
    var options = ReconcileOptions()
    options.verifyRLS = verifyRLS
    options.allowed = allow
    options.prune = prune
    options.trigger = Trigger(kind: "cli", id: trigger)
    let reconciler = Reconciler(blueprints: set, revision: revision, options: options)
    let connection = try db.connect()
    if apply { return (reconciler.apply(connection), []) }
    let outcome = reconciler.plan(connection)
    return (outcome.result, outcome.changes)
}

/// The live catalog of `public`, as the engine reads it.
func liveCatalog(_ db: TestDatabase) throws -> Catalog {
    let connection = try db.connect()
    try connection.query("BEGIN")
    try connection.query("SET LOCAL search_path = public")
    let catalog = try Introspector.introspect(connection, schemas: ["public"]).catalog
    try connection.query("ROLLBACK")
    return catalog
}

func historyCount(_ db: TestDatabase) throws -> Int {
    try db.connect().query("SELECT count(*) AS n FROM driftless.schema_migrations").first!.int("n")
}

/// Five revisions that together exercise every object kind the engine manages.
let revisions: [[String: String]] = [
    // 1: enums, tables, identity, defaults, pk, unique, check, fk, indexes, tenant RLS, comments.
    ["schema.yaml": document("""
        enums:
          - {name: status, values: [todo, done]}
        tables:
          - name: orgs
            comment: Organizations
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: name, type: varchar(80), nullable: false, unique: true}
          - name: items
            columns:
              - {name: id, type: bigint, primary_key: true, identity: always}
              - {name: tenant_id, type: uuid, nullable: false, references: {table: orgs, column: id, on_delete: cascade}}
              - {name: title, type: text, nullable: false, check: length(title) > 0}
              - {name: state, type: status, nullable: false, default: "'todo'"}
              - {name: tags, type: "text[]", default: "'{}'"}
            indexes:
              - {columns: [tenant_id, state]}
        """)],
    // 2: enum value appended and used as a default, column added, partial and expression indexes,
    //    explicit policy, grants, column comment, force RLS.
    ["schema.yaml": document("""
        enums:
          - {name: status, values: [todo, doing, done]}
        tables:
          - name: orgs
            comment: Organizations
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: name, type: varchar(80), nullable: false, unique: true}
            grants:
              anon: []
              authenticated: [select]
          - name: items
            columns:
              - {name: id, type: bigint, primary_key: true, identity: always}
              - {name: tenant_id, type: uuid, nullable: false, references: {table: orgs, column: id, on_delete: cascade}}
              - {name: title, type: text, nullable: false, check: length(title) > 0, comment: What to do}
              - {name: state, type: status, nullable: false, default: "'doing'"}
              - {name: tags, type: "text[]", default: "'{}'"}
              - {name: deleted_at, type: timestamptz}
            indexes:
              - {columns: [tenant_id, state]}
              - {columns: [tenant_id], where: deleted_at is null, name: items_live_idx}
              - {expression: lower(title), name: items_title_idx}
            rls:
              force: true
              policies:
                - {name: items_service, command: select, roles: [service_role], using: "true"}
        """)],
    // 3: table renamed, column renamed, type widened, nullability relaxed, default dropped, policy altered.
    ["schema.yaml": document("""
        enums:
          - {name: status, values: [todo, doing, done]}
        tables:
          - name: orgs
            comment: Organizations
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: name, type: varchar(120), nullable: false, unique: true}
            grants:
              anon: []
              authenticated: [select]
          - name: tasks
            renamed_from: items
            columns:
              - {name: id, type: bigint, primary_key: true, identity: always}
              - {name: tenant_id, type: uuid, nullable: false, references: {table: orgs, column: id, on_delete: cascade}}
              - {name: summary, type: text, nullable: false, check: length(summary) > 0, comment: What to do, renamed_from: title}
              - {name: state, type: status, nullable: false, default: "'doing'"}
              - {name: tags, type: "text[]"}
              - {name: deleted_at, type: timestamptz}
            indexes:
              - {columns: [tenant_id, state]}
              - {columns: [tenant_id], where: deleted_at is null, name: items_live_idx}
              - {expression: lower(summary), name: items_title_idx}
            rls:
              force: true
              policies:
                - {name: items_service, command: select, roles: [service_role, postgres], using: "deleted_at is null"}
        """)],
    // 4: a second table file, composite unique, table check, composite fk, gin index.
    ["schema.yaml": document("""
        enums:
          - {name: status, values: [todo, doing, done]}
        tables:
          - name: orgs
            comment: Organizations
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: name, type: varchar(120), nullable: false, unique: true}
            grants:
              anon: []
              authenticated: [select]
          - name: tasks
            columns:
              - {name: id, type: bigint, primary_key: true, identity: always}
              - {name: tenant_id, type: uuid, nullable: false, references: {table: orgs, column: id, on_delete: cascade}}
              - {name: summary, type: text, nullable: false, check: length(summary) > 0, comment: What to do}
              - {name: state, type: status, nullable: false, default: "'doing'"}
              - {name: tags, type: "text[]"}
              - {name: deleted_at, type: timestamptz}
            unique:
              - columns: [tenant_id, id]
            indexes:
              - {columns: [tenant_id, state]}
              - {columns: [tenant_id], where: deleted_at is null, name: items_live_idx}
              - {expression: lower(summary), name: items_title_idx}
              - {columns: [tags], using: gin}
            rls:
              force: true
              policies:
                - {name: items_service, command: select, roles: [service_role, postgres], using: "deleted_at is null"}
        """),
     "notes.yaml": document("""
        tables:
          - name: notes
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: task_id, type: bigint, nullable: false}
              - {name: body, type: text}
            checks:
              - {expression: body is null or length(body) < 10000}
            foreign_keys:
              - columns: [tenant_id, task_id]
                references: {table: tasks, columns: [tenant_id, id]}
                on_delete: cascade
        """)],
    // 5: unique dropped to a plain index, nullability tightened on an empty column, policy
    //    replaced by a restrictive one, notes made non-tenant (tenant policies false).
    ["schema.yaml": document("""
        enums:
          - {name: status, values: [todo, doing, done]}
        tables:
          - name: orgs
            comment: Organizations and their names
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: name, type: varchar(120), nullable: false, unique: true}
              - {name: plan, type: text, nullable: false, default: "'free'"}
            grants:
              anon: []
              authenticated: [select, update]
          - name: tasks
            columns:
              - {name: id, type: bigint, primary_key: true, identity: always}
              - {name: tenant_id, type: uuid, nullable: false, references: {table: orgs, column: id, on_delete: cascade}}
              - {name: summary, type: text, nullable: false, check: length(summary) > 0, comment: What to do}
              - {name: state, type: status, nullable: false, default: "'doing'"}
              - {name: tags, type: "text[]"}
              - {name: deleted_at, type: timestamptz}
            unique:
              - columns: [tenant_id, id]
            indexes:
              - {columns: [tenant_id, state]}
              - {columns: [tenant_id], where: deleted_at is null, name: items_live_idx}
              - {expression: lower(summary), name: items_title_idx}
              - {columns: [tags], using: gin}
            rls:
              force: true
              policies:
                - {name: items_not_deleted, command: all, roles: [authenticated], permissive: false, using: "deleted_at is null"}
        """),
     "notes.yaml": document("""
        tables:
          - name: notes
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: task_id, type: bigint, nullable: false}
              - {name: body, type: text}
            checks:
              - {expression: body is null or length(body) < 10000}
            foreign_keys:
              - columns: [tenant_id, task_id]
                references: {table: tasks, columns: [tenant_id, id]}
                on_delete: cascade
        """)],
]

@Suite("The engine against a real database")
struct EngineTests {
    /// On both kinds of Supabase project (docs/engine.md, Testing).
    @Test(arguments: SupabaseProject.allCases)
    func fiveRevisionsConvergeAndMatchAFreshApply(kind: SupabaseProject) async throws {
        try await blocking {
            let cluster = try PostgresCluster.shared()
            let db = try cluster.createDatabase(kind: kind)
            for (index, files) in revisions.enumerated() {
                let applied = try reconcile(db, files, allow: [.relaxesSecurity], revision: "r\(index + 1)")
                #expect(applied.result.status == .ok, "revision \(index + 1): \(applied.result.summary) \(applied.result.errors)")
                let replan = try reconcile(db, files, apply: false, revision: "r\(index + 1)")
                #expect(replan.result.status == .noop, "revision \(index + 1) re-plan: \(replan.changes.map { "\($0.object): \($0.statements)" })")
            }
            let fresh = try cluster.createDatabase(kind: kind)
            let once = try reconcile(fresh, revisions.last!, allow: [.relaxesSecurity])
            #expect(once.result.status == .ok, "\(once.result.errors)")
            let stepwise = try liveCatalog(db)
            let direct = try liveCatalog(fresh)
            #expect(Set(stepwise.tables.keys) == Set(direct.tables.keys))
            for (name, table) in direct.tables {
                #expect(stepwise.tables[name] == table, "\(name) differs")
            }
            #expect(stepwise.enums == direct.enums)
        }
    }

    @Test(arguments: SupabaseProject.allCases)
    func theSameRevisionTwiceIsANoopAndRecordsNothingNew(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(kind: kind)
            let first = try reconcile(db, revisions[0], trigger: "commit-1")
            #expect(first.result.status == .ok)
            let rows = try historyCount(db)
            // The same trigger: the recorded result comes back, replayed.
            let replay = try reconcile(db, revisions[0], trigger: "commit-1")
            #expect(replay.result.replayed)
            #expect(replay.result.status == .ok)
            #expect(replay.result.migrationID == first.result.migrationID)
            // Another trigger, same revision: noop, and no new row.
            let again = try reconcile(db, revisions[0], trigger: "commit-1-again")
            #expect(again.result.status == .noop)
            #expect(try historyCount(db) == rows)
        }
    }

    @Test func aliasesDefaultsAndExpressionStylesPlanNothingOnceApplied() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let files = ["a.yaml": document("""
                tables:
                  - name: aliases
                    columns:
                      - {name: a, type: int, primary_key: true}
                      - {name: b, type: integer}
                      - {name: c, type: int4, default: "42"}
                      - {name: d, type: varchar(20), default: "'x'"}
                      - {name: e, type: timestamptz, default: now()}
                      - {name: f, type: bool, default: "true"}
                      - {name: g, type: float8}
                      - {name: h, type: "text[]", default: "'{}'"}
                      - {name: i, type: uuid, default: gen_random_uuid()}
                      - {name: j, type: "numeric(12,2)", default: "0", check: "j >= 0"}
                      - {name: k, type: "character varying(20)", check: "k IN ('a', 'b')"}
                      - {name: l, type: "timestamp with time zone", default: CURRENT_TIMESTAMP}
                      - {name: m, type: int8}
                      - {name: tenant_id, type: uuid}
                    checks:
                      - {name: aliases_b_positive, expression: "B > 0 AND (c) < 1000"}
                    indexes:
                      - {columns: [d], where: "k = 'a'"}
                      - {expression: "LOWER(d)", name: aliases_lower_d_idx}
                    rls:
                      policies:
                        - {name: aliases_mine, command: select, using: "b = 1 OR c IN (1, 2)"}
                        - {name: aliases_jwt, command: update, using: "tenant_id = (SELECT auth.uid())", with_check: "tenant_id = ( select auth.uid() )"}
                """)]
            let applied = try reconcile(db, files)
            #expect(applied.result.status == .ok, "\(applied.result.errors)")
            let plan = try reconcile(db, files, apply: false)
            #expect(plan.result.status == .noop, "\(plan.changes.map { "\($0.object): \($0.desired ?? "") vs \($0.actual ?? "")" })")
        }
    }

    @Test func destructiveChangesAreBlockedUntilAllowed() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let before = ["a.yaml": document("""
                tables:
                  - name: t
                    columns:
                      - {name: id, type: int, primary_key: true}
                      - {name: keep, type: text}
                      - {name: gone, type: text}
                """)]
            #expect(try reconcile(db, before).result.status == .ok)
            try db.connect().query("INSERT INTO t VALUES (1, '1', 'data')")

            let dropColumn = ["a.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: keep, type: text}\n")]
            let blocked = try reconcile(db, dropColumn)
            #expect(blocked.result.status == .blocked)
            #expect(blocked.result.hazards.contains { $0.hazard == .deletesData && $0.object == "public.t.gone" })
            #expect(try db.connect().query("SELECT gone FROM t").first?.text("gone") == "data")

            let lossy = ["a.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: keep, type: integer}\n      - {name: gone, type: text}\n")]
            let lossyResult = try reconcile(db, lossy)
            #expect(lossyResult.result.status == .blocked)
            #expect(lossyResult.result.hazards.contains { $0.hazard == .deletesData && $0.object == "public.t.keep" })
            #expect(try db.connect().query("SELECT keep FROM t").first?.text("keep") == "1")

            let allowed = try reconcile(db, dropColumn, allow: [.deletesData])
            #expect(allowed.result.status == .ok)
            #expect(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "t")]?.column("gone") == nil)
        }
    }

    @Test func aFailingSetNotNullLeavesTheDatabaseExactlyAsBefore() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let loose = ["a.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: v, type: text}\n")]
            #expect(try reconcile(db, loose).result.status == .ok)
            try db.connect().query("INSERT INTO t VALUES (1, NULL)")
            let catalogBefore = try liveCatalog(db)
            let strict = ["a.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: v, type: text, nullable: false}\n      - {name: w, type: text}\n")]
            let failed = try reconcile(db, strict)
            #expect(failed.result.status == .failed)
            let error = try #require(failed.result.errors.first)
            #expect(error.sqlstate == "23502")
            #expect(error.statement == "ALTER TABLE \"public\".\"t\" ALTER COLUMN \"v\" SET NOT NULL")
            #expect(error.file == "a.yaml")
            #expect(error.path == "$.tables[0].columns[1]")
            #expect(try liveCatalog(db) == catalogBefore)
            let recorded = try db.connect().query("SELECT status FROM driftless.schema_migrations ORDER BY id DESC LIMIT 1").first
            #expect(try recorded?.string("status") == "failed")
        }
    }

    @Test func renamesKeepData() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let first = try reconcile(db, revisions[1], allow: [.relaxesSecurity]).result
            #expect(first.status == .ok, "\(first.summary) \(first.errors)")
            let connection = try db.connect()
            try connection.query("INSERT INTO orgs (name) VALUES ('acme')")
            try connection.query("INSERT INTO items (tenant_id, title) SELECT id, 'write tests' FROM orgs")
            let renamed = try reconcile(db, revisions[2], allow: [.relaxesSecurity])
            #expect(renamed.result.status == .ok, "\(renamed.result.errors)")
            #expect(renamed.result.statements.contains("ALTER TABLE \"public\".\"items\" RENAME TO \"tasks\""))
            #expect(renamed.result.statements.contains("ALTER TABLE \"public\".\"tasks\" RENAME COLUMN \"title\" TO \"summary\""))
            #expect(!renamed.result.statements.contains { $0.hasPrefix("DROP") })
            let row = try #require(try db.connect().query("SELECT summary, state::text AS state FROM tasks").first)
            #expect(try row.string("summary") == "write tests")
            #expect(try row.string("state") == "doing")
        }
    }

    @Test func unmanagedTablesAreReportedAndOnlyPrunedOnRequest() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, revisions[0]).result.status == .ok)
            try db.connect().query("CREATE TABLE public.by_hand (x int)")
            let plan = try reconcile(db, revisions[0], apply: false)
            #expect(plan.result.status == .noop)
            #expect(plan.changes.contains { $0.kind == .unmanaged && $0.object == "public.by_hand" && !$0.applied })
            #expect(try reconcile(db, revisions[0]).result.status == .noop)
            #expect(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "by_hand")] != nil)
            let pruned = try reconcile(db, revisions[0], prune: true)
            #expect(pruned.result.status == .ok)
            #expect(pruned.result.statements == ["DROP TABLE \"public\".\"by_hand\""])
            #expect(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "by_hand")] == nil)
        }
    }

    /// `apply` creates new tables without a scratch copy first; when the server refuses one of
    /// their statements it still answers as `plan` does, with every objection located.
    @Test(arguments: [false, true])
    func serverErrorsInBlueprintsPointAtTheFile(apply: Bool) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let files = ["bad.yaml": document("tables:\n  - name: t\n    columns:\n      - {name: a, type: no_such_type}\n      - {name: b, type: int, default: no_such_function()}\n")]
            let result = try reconcile(db, files, apply: apply).result
            #expect(try liveCatalog(db).tables.isEmpty)
            #expect(result.status == .blocked)
            #expect(result.errors.contains { $0.code == "server_rejected" && $0.sqlstate == "42704" && $0.file == "bad.yaml" && $0.line == 4 })
        }
    }

    /// Defaults print without the relation as context; a generated column's expression, which
    /// names other columns, with it, and is read as `generated`, never as a default.
    @Test func defaultsAndGeneratedColumnsAreReadAsTheServerPrintsThem() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            try db.connect().query("""
                CREATE TABLE made_by_hand (a int DEFAULT 40 + 2, b text DEFAULT 'x', c timestamptz DEFAULT now(),
                                           g int GENERATED ALWAYS AS (a * 2) STORED)
                """)
            let table = try #require(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "made_by_hand")])
            #expect(table.columns.map(\.defaultExpression) == ["(40 + 2)", "'x'::text", "now()", nil])
            #expect(table.columns.map(\.generated) == [nil, nil, nil, "(a * 2)"])
        }
    }

    /// A statement the server refuses only when applied (duplicate rows under a new unique
    /// constraint), in the middle of a pipeline of a few hundred: the Result names it and its
    /// blueprint, and nothing of the run is left, whatever the pipeline depth.
    @Test(arguments: [1, 7, 100])
    func aStatementFailingMidPipelineIsNamedAndEverythingRollsBack(depth: Int) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let table = "tables:\n  - name: dup\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: code, type: text}\n"
            #expect(try reconcile(db, ["dup.yaml": document(table)]).result.status == .ok)
            try db.connect().query("INSERT INTO dup VALUES (1, 'x'), (2, 'x')")
            var files = ["dup.yaml": document(table.replacingOccurrences(of: "{name: code, type: text}", with: "{name: code, type: text, unique: true}"))]
            for index in 0..<120 {
                files["t\(index).yaml"] = document("tables:\n  - name: t\(index)\n    columns:\n      - {name: id, type: int, primary_key: true}\n")
            }
            let set = BlueprintSet.load(files.map { BlueprintSource(path: $0.key, text: $0.value) })
            var options = ReconcileOptions()
            options.pipelineDepth = depth
            let result = Reconciler(blueprints: set, revision: "r2", options: options).apply(try db.connect())
            #expect(result.status == .failed)
            let error = try #require(result.errors.first)
            #expect(error.sqlstate == "23505")
            #expect(error.file == "dup.yaml")
            #expect(error.statement?.contains("UNIQUE") == true)
            // Rolled back: none of the 120 new tables, no constraint.
            #expect(try liveCatalog(db).tables.keys.map(\.name) == ["dup"])
        }
    }

    @Test func theCanonicalStateIsCachedByPayloadAndServerVersion() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            // A payload no other test shares: tests running alongside fill the shared memory
            // cache with revisions[0] between clearMemory() and the cold plan.
            var files = revisions[0]
            files["own.yaml"] = document("tables:\n  - name: cache_\(UUID().uuidString.prefix(8).lowercased())\n    columns:\n      - {name: id, type: int, primary_key: true}\n")
            let set = BlueprintSet.load(files.map { BlueprintSource(path: $0.key, text: $0.value) })
            CanonicalCache.clearMemory()
            let cold = Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).plan(try db.connect())
            #expect(!cold.cacheHit)
            #expect(cold.result.status == .ok)
            // plan writes nothing to the database (other tests may fill the shared memory cache)...
            _ = Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).plan(try db.connect())
            #expect(try db.connect().query("SELECT to_regclass('driftless.canonical_cache') IS NULL AS absent").first!.bool("absent"))
            // ...until apply records it with the history.
            #expect(Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).apply(try db.connect()).status == .ok)
            CanonicalCache.clearMemory()
            let warm = Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).plan(try db.connect())
            #expect(warm.cacheHit)
            #expect(warm.result.status == .noop)
            let key = try db.connect().query("SELECT key FROM driftless.canonical_cache").rows.map { try $0.string("key") }
            #expect(key == ["v\(CanonicalCache.format):\(set.payloadHash):\(try db.connect().serverVersion)"])
        }
    }

    /// The cache of an earlier version held jsonb: its table is changed to text and its rows
    /// (of an older format) go; the next apply caches anew.
    @Test func anEarlierCacheTableIsUpgradedToText() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, revisions[0]).result.status == .ok)
            let connection = try db.connect()
            try connection.simpleQuery("""
                DELETE FROM driftless.canonical_cache;
                ALTER TABLE driftless.canonical_cache ALTER COLUMN catalog TYPE jsonb USING catalog::jsonb;
                INSERT INTO driftless.canonical_cache (key, catalog) VALUES ('v9:old', '{"tables": {}}');
                """)
            let next = try reconcile(db, revisions[1]).result
            #expect(next.status == .ok, "\(next.errors)")
            let type = try connection.query("SELECT format_type(atttypid, NULL) AS type FROM pg_attribute WHERE attrelid = 'driftless.canonical_cache'::regclass AND attname = 'catalog'")
            #expect(try type.first!.string("type") == "text")
            let keys = try connection.query("SELECT key FROM driftless.canonical_cache").rows.map { try $0.string("key") }
            #expect(keys.count == 1 && keys[0].hasPrefix("v\(CanonicalCache.format):"), "\(keys)")
        }
    }

    /// docs/benchmarks.md, JIT: compiling the introspection cost seconds; it runs without JIT,
    /// whatever the server's settings.
    @Test func theIntrospectionRunsWithoutJIT() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            try connection.query("BEGIN")
            try connection.query("SET LOCAL jit = on")
            try connection.query("SET LOCAL jit_above_cost = 0")
            _ = try Introspector.introspect(connection, schemas: ["public"])
            #expect(try connection.query("SELECT current_setting('jit') AS jit").first!.string("jit") == "off")
            try connection.query("ROLLBACK")
        }
    }

    @Test func thePlanScriptRunsWithPsqlAsItIs() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            // The example, and a SQL function reading a table the script creates after it: the
            // script runs with function bodies unchecked, as apply does.
            let directory = NSTemporaryDirectory() + "driftless-plan-\(UUID().uuidString)"
            try FileManager.default.copyItem(atPath: RepositoryPaths.root + "/examples/saas/blueprints", toPath: directory)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try """
                version: 1
                tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b
                functions:
                  - {name: open_count, returns: bigint, language: sql, search_path: "", body: "select count(*) from public.tasks"}
                """.write(toFile: directory + "/aa_functions.yaml", atomically: true, encoding: .utf8)
            let plan = try ProcessRunner.run(RepositoryPaths.driftlessExecutable,
                ["plan", "--blueprints", directory, "--database-url", db.url, "--format", "sql"], check: false)
            #expect(plan.status == 2, "\(plan.stderr)")
            let script = NSTemporaryDirectory() + "driftless-plan-\(UUID().uuidString).sql"
            try plan.stdout.write(toFile: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: script) }
            try ProcessRunner.run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", script, db.url])
            let after = try ProcessRunner.run(RepositoryPaths.driftlessExecutable,
                ["plan", "--blueprints", directory, "--database-url", db.url], check: false)
            #expect(after.status == 0, "\(after.stdout)")
        }
    }
}
