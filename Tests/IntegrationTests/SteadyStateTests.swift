import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// The steady-state check answers "nothing to do" without introspecting only while the live
/// catalogs are exactly as a converged reconciliation left them. Every kind of hand-made change
/// must defeat it.
@Suite("Steady-state check against a real database")
struct SteadyStateTests {
    static let files = DriftTests.files

    func plan(_ db: TestDatabase, fullCheck: Bool = false, trust: Duration? = nil) throws -> PlanOutcome {
        let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
        var options = ReconcileOptions()
        options.fullCheck = fullCheck
        options.trustActivityCounters = trust
        return Reconciler(blueprints: set, revision: "r1", options: options).plan(try db.connect())
    }

    /// Applies the blueprints to a new database, checks the next plan is answered by the
    /// steady-state check, runs `statement` by hand and plans again.
    func planAfterConverging(then statement: String) throws -> PlanOutcome {
        let db = try PostgresCluster.shared().createDatabase()
        #expect(try reconcile(db, Self.files).result.status == .ok)
        #expect(try plan(db).steadyState)
        try db.connect().query(statement)
        return try plan(db)
    }

    @Test func aConvergedApplyLetsTheNextPlanSkipTheComparisonWithTheSameAnswer() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            let steady = try plan(db)
            let full = try plan(db, fullCheck: true)
            #expect(steady.steadyState)
            #expect(!full.steadyState)
            #expect(steady.result.status == .noop && full.result.status == .noop)
            #expect(steady.result.warnings == full.result.warnings)
            #expect(steady.result.summary == full.result.summary)
        }
    }

    /// A match seen by this process holds while no transaction ends anywhere in the cluster (the
    /// snapshot is the same): the next check does not read the catalogs again. Any transaction
    /// that ends, a change by hand first of all, makes it read them. A cluster of its own, without
    /// autovacuum, so no other test's transaction or an analyze ends meanwhile.
    @Test(arguments: SupabaseProject.allCases)
    func aMatchIsTrustedWithoutReadingOnlyUntilATransactionEnds(kind: SupabaseProject) async throws {
        try await blocking {
            let cluster = try PostgresCluster.start()
            defer { cluster.stop() }
            let db = try cluster.createDatabase(kind: kind)
            let admin = try db.connect(user: PostgresCluster.superuser)
            try admin.query("ALTER SYSTEM SET autovacuum = off")
            try admin.query("SELECT pg_reload_conf()")
            #expect(try reconcile(db, Self.files).result.status == .ok)
            let probe = try db.connect()
            #expect(try plan(db).steadyState)
            let reads = Reconciler.steadyStateCatalogReads(probe)
            let remembered = try plan(db)
            #expect(remembered.steadyState && remembered.result.status == .noop && remembered.changes.isEmpty)
            #expect(Reconciler.steadyStateCatalogReads(probe) == reads)
            // A transaction that changes nothing the check covers still ends: read again, and still converged.
            try db.connect().query("CREATE TABLE IF NOT EXISTS public_scratch_unmanaged (id int)")
            try db.connect().query("DROP TABLE public_scratch_unmanaged")
            #expect(try plan(db).steadyState)
            #expect(Reconciler.steadyStateCatalogReads(probe) == reads + 1)
            // A change by hand: read again, found, compared in full.
            try db.connect().query("ALTER TABLE notes ALTER COLUMN score SET NOT NULL")
            let changed = try plan(db)
            #expect(!changed.steadyState)
            #expect(!changed.changes.isEmpty)
            #expect(Reconciler.steadyStateCatalogReads(probe) > reads + 1)
        }
    }

    /// The sum of the activity counters of the catalogs a change by hand below writes, once no
    /// session of the database holds counts it has not published: the same for 1.5 s (every
    /// other connection is closed, and a closing session publishes its counts as it exits).
    static func publishedCounters(_ db: TestDatabase) throws -> Int {
        let query = """
            SELECT sum(pg_stat_get_tuples_inserted(r) + pg_stat_get_tuples_updated(r) + pg_stat_get_tuples_deleted(r))::bigint AS n
              FROM unnest(ARRAY['pg_policy', 'pg_attribute', 'pg_class', 'pg_attrdef']::regclass[]) r
            """
        let connection = try db.connect()
        var last = try connection.query(query).first!.int("n"), since = Date()
        while Date().timeIntervalSince(since) < 1.5 {
            Thread.sleep(forTimeInterval: 0.1)
            let now = try connection.query(query).first!.int("n")
            if now != last { (last, since) = (now, Date()) }
        }
        return last
    }

    /// Runs `body` on a new database of a cluster of its own, without autovacuum, with a schema
    /// no blueprint names and a table in it that `postgres` may write to.
    static func inQuietCluster(kind: SupabaseProject = .legacy, _ body: (TestDatabase) throws -> Void) throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let db = try cluster.createDatabase(kind: kind)
        do {
            // Closed before `body`: a closing session publishes its counts as it exits.
            let setup = try db.connect(user: PostgresCluster.superuser)
            try setup.query("ALTER SYSTEM SET autovacuum = off")
            try setup.query("SELECT pg_reload_conf()")
            try setup.query("CREATE SCHEMA elsewhere")
            try setup.query("CREATE TABLE elsewhere.log (id int)")
            try setup.query("GRANT ALL ON SCHEMA elsewhere TO postgres")
            try setup.query("GRANT ALL ON elsewhere.log TO postgres")
        }
        try body(db)
    }

    /// The controller's timer trusts a match it read while the covered catalogs' activity
    /// counters stay the same, for a while (docs/engine.md, Between exact readings): rows written
    /// elsewhere end transactions without moving them; a change by hand moves them once its
    /// session has published them; one the counters never see is found by the exact reading
    /// when the while is over, and by any check that does not trust them. A cluster of its own,
    /// without autovacuum, so nothing else writes meanwhile.
    @Test(arguments: SupabaseProject.allCases)
    func theTimerTrustsTheCatalogCountersOnlyUntilTheyMoveOrTheWhileIsOver(kind: SupabaseProject) async throws {
        try await blocking {
            try Self.inQuietCluster(kind: kind) { db in
                let trusted = Duration.seconds(300)
                #expect(try reconcile(db, Self.files).result.status == .ok)
                _ = try Self.publishedCounters(db)
                let probe = try db.connect()
                #expect(try plan(db, trust: trusted).steadyState)
                let reads = Reconciler.steadyStateCatalogReads(probe)

                // Rows written elsewhere: a transaction ended, the catalogs' counters did not move.
                try db.connect().query("INSERT INTO elsewhere.log VALUES (1)")
                #expect(try plan(db, trust: trusted).steadyState)
                #expect(Reconciler.steadyStateCatalogReads(probe) == reads)
                // A check that does not trust the counters reads the catalogs.
                #expect(try plan(db).steadyState)
                #expect(Reconciler.steadyStateCatalogReads(probe) == reads + 1)
                // That reading was remembered without counters: the timer reads once more, then trusts.
                #expect(try plan(db, trust: trusted).steadyState)
                try db.connect().query("INSERT INTO elsewhere.log VALUES (2)")
                #expect(try plan(db, trust: trusted).steadyState)
                #expect(Reconciler.steadyStateCatalogReads(probe) == reads + 2)

                // A change by hand whose session published its counts: found.
                let counted = try Self.publishedCounters(db)
                try db.connect().query("ALTER TABLE notes ALTER COLUMN title SET DEFAULT 'by hand'")
                #expect(try Self.publishedCounters(db) > counted)
                let found = try plan(db, trust: trusted)
                #expect(!found.steadyState && !found.changes.isEmpty)
                #expect(try reconcile(db, Self.files).result.status == .ok)
                _ = try Self.publishedCounters(db)
                #expect(try plan(db, trust: trusted).steadyState)

                // A change by hand the counters never see (a superuser's session that does not count):
                // trusted until the while is over (the documented limit), found by the exact reading then.
                let before = try Self.publishedCounters(db)
                do {
                    let uncounted = try db.connect(user: PostgresCluster.superuser)
                    try uncounted.query("SET track_counts = off")
                    try uncounted.query("DROP POLICY notes_tenant_select ON notes")
                }
                #expect(try Self.publishedCounters(db) == before)
                #expect(try plan(db, trust: trusted).steadyState)
                let afterTheWhile = try plan(db, trust: .milliseconds(1))
                #expect(!afterTheWhile.steadyState && !afterTheWhile.changes.isEmpty)
                #expect(!(try plan(db).steadyState))
            }
        }
    }

    /// Counters read in a transaction whose snapshot may predate them are never trusted: under
    /// REPEATABLE READ every check after an ended transaction reads the catalogs.
    @Test func theCountersAreNotTrustedOutsideReadCommitted() async throws {
        try await blocking {
            try Self.inQuietCluster { db in
                try db.connect(user: PostgresCluster.superuser).query("ALTER DATABASE \(db.name) SET default_transaction_isolation = 'repeatable read'")
                #expect(try reconcile(db, Self.files).result.status == .ok)
                _ = try Self.publishedCounters(db)
                let probe = try db.connect()
                #expect(try plan(db, trust: .seconds(300)).steadyState)
                let reads = Reconciler.steadyStateCatalogReads(probe)
                try db.connect().query("INSERT INTO elsewhere.log VALUES (1)")
                #expect(try plan(db, trust: .seconds(300)).steadyState)
                #expect(Reconciler.steadyStateCatalogReads(probe) == reads + 1)
            }
        }
    }

    /// `plan` from the command line asks before decoding the files, with the same answer.
    @Test func theUndecodedFilesAreAnsweredAsTheDecodedSetWouldBe() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let sources = Self.files.map { BlueprintSource(path: $0.key, text: $0.value) }
            #expect(Reconciler.steadyPlan(sources: sources, revision: "r1", options: ReconcileOptions(), try db.connect()) == nil)
            #expect(try reconcile(db, Self.files).result.status == .ok)
            let fast = try #require(Reconciler.steadyPlan(sources: sources, revision: "r1", options: ReconcileOptions(), try db.connect()))
            let full = try plan(db, fullCheck: true)
            #expect(fast.steadyState && fast.changes.isEmpty)
            #expect(fast.result.status == full.result.status)
            #expect(fast.result.tenantID == full.result.tenantID)
            #expect(fast.result.payloadHash == full.result.payloadHash)
            #expect(fast.result.warnings == full.result.warnings)
            // One more byte in a file is another set: no answer from the record.
            let edited = sources.map { BlueprintSource(path: $0.path, text: String(decoding: $0.contents, as: UTF8.self) + "\n") }
            #expect(Reconciler.steadyPlan(sources: edited, revision: "r1", options: ReconcileOptions(), try db.connect()) == nil)
            // A hand-made change: no answer either.
            try db.connect().query("ALTER TABLE notes ALTER COLUMN score SET NOT NULL")
            #expect(Reconciler.steadyPlan(sources: sources, revision: "r1", options: ReconcileOptions(), try db.connect()) == nil)
        }
    }

    /// The fingerprint plans without nested loops; the statements after it in the same
    /// transaction (the proof's introspection, the history) plan as the server is configured.
    @Test func theFingerprintLeavesThePlannerAsItFoundIt() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            var options = ReconcileOptions()
            // Runs in the apply's transaction after both fingerprints; what it sees commits with it.
            options.beforeCommit = { connection in
                let value = try connection.query("SELECT current_setting('enable_nestloop') AS value").first!.string("value")
                try connection.query("CREATE TABLE scratch_nestloop_seen AS SELECT $1::text AS value", [value])
            }
            let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
            let result = Reconciler(blueprints: set, revision: "r1", options: options).apply(try db.connect())
            #expect(result.status == .ok, "\(result.errors)")
            #expect(try db.connect().query("SELECT value FROM scratch_nestloop_seen").first?.string("value") == "on")
        }
    }

    @Test func aNoopApplyRecordsTheConvergedStateToo() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            try db.connect().query("DELETE FROM driftless.steady_state")
            #expect(try !plan(db).steadyState)
            #expect(try reconcile(db, Self.files).result.status == .noop)
            #expect(try plan(db).steadyState)
        }
    }

    @Test(arguments: [
        "ALTER TABLE notes ALTER COLUMN score SET NOT NULL",
        "ALTER TABLE notes RENAME COLUMN score TO points",
        "ALTER TABLE notes ADD COLUMN extra text",
        "ALTER TABLE notes DROP COLUMN score",
        "ALTER TABLE notes ALTER COLUMN score TYPE bigint",
        "ALTER TABLE notes ALTER COLUMN title SET DEFAULT 'changed'",
        "ALTER TABLE notes ALTER COLUMN title DROP DEFAULT",
        "ALTER TABLE notes DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE notes FORCE ROW LEVEL SECURITY",
        "ALTER POLICY notes_service ON notes USING (false)",
        "ALTER POLICY notes_service ON notes TO anon",
        "DROP POLICY notes_tenant_select ON notes",
        "CREATE POLICY hand_made ON notes FOR SELECT USING (true)",
        "DROP INDEX notes_title_idx",
        "ALTER INDEX notes_title_idx RENAME TO renamed_idx",
        "CREATE INDEX hand_made_idx ON notes (score)",
        "ALTER TABLE notes ADD CONSTRAINT score_positive CHECK (score > 0)",
        "ALTER TABLE notes RENAME CONSTRAINT notes_pkey TO renamed_pkey",
        "ALTER TYPE mood ADD VALUE 'meh'",
        "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'",
        "CREATE TABLE stray (id int)",
        "ALTER TABLE notes RENAME TO notes_renamed",
        // A tenant table's tenancy roles must keep the four commands (docs/blueprints.md).
        "REVOKE SELECT ON notes FROM authenticated",
        // Sequences: settings (pg_sequence), OWNED BY (pg_depend), privileges and owner (pg_class).
        "ALTER SEQUENCE note_number INCREMENT BY 5",
        "ALTER SEQUENCE note_number MAXVALUE 1000000",
        "ALTER SEQUENCE note_number OWNED BY NONE",
        "REVOKE USAGE ON SEQUENCE note_number FROM authenticated",
        "CREATE SEQUENCE stray_seq",
        // Realtime: membership (pg_publication_rel) and replica identity (pg_class).
        "ALTER PUBLICATION supabase_realtime DROP TABLE notes",
        "ALTER TABLE notes REPLICA IDENTITY DEFAULT",
    ])
    func everyHandMadeChangeDefeatsTheCheck(statement: String) async throws {
        try await blocking {
            let after = try planAfterConverging(then: statement)
            #expect(!after.steadyState)
            #expect(!after.changes.isEmpty, "\(statement): \(after.result.summary)")
            #expect(after.result.status != .noop || after.changes.allSatisfy { $0.kind == .unmanaged })
        }
    }

    /// Grants and comments a blueprint does not declare are left as they are (blueprint.md), so
    /// changing them by hand is nothing to do; the check must still not answer from its record.
    @Test(arguments: [
        "REVOKE TRUNCATE ON notes FROM authenticated",
        "GRANT SELECT ON notes TO anon",
        "COMMENT ON TABLE notes IS 'hand-made'",
        "COMMENT ON COLUMN notes.title IS 'hand-made'",
    ])
    func undeclaredGrantsAndCommentsAreComparedInFullAndLeftAlone(statement: String) async throws {
        try await blocking {
            let after = try planAfterConverging(then: statement)
            #expect(!after.steadyState)
            #expect(after.result.status == .noop && after.changes.isEmpty)
        }
    }

    /// Undoing a change by hand leaves new row versions behind: the full comparison then finds
    /// nothing to do, and the next apply records the new converged state.
    @Test func aChangeMadeAndUndoneIsComparedInFullOnceThenRecordedAgain() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            try db.connect().query("ALTER TABLE notes ALTER COLUMN title SET DEFAULT 'for a moment'")
            try db.connect().query("ALTER TABLE notes ALTER COLUMN title SET DEFAULT 'untitled'")
            let after = try plan(db)
            #expect(!after.steadyState)
            #expect(after.result.status == .noop)
            #expect(try reconcile(db, Self.files).result.status == .noop)
            #expect(try plan(db).steadyState)
        }
    }

    /// Other databases of the cluster and roles no managed object names are none of its business.
    @Test func changesElsewhereInTheClusterDoNotDefeatTheCheck() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let other = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            let role = "unrelated_\(UUID().uuidString.prefix(8).lowercased())"
            try db.connect().query("CREATE ROLE \(role)")
            try other.connect().query("CREATE TABLE elsewhere (id int)")
            // Transactions that take transaction ids (the fingerprint reads xmin through age(),
            // relative to the current one) and DDL in a schema of this database no blueprint names.
            let connection = try db.connect()
            try connection.query("CREATE SCHEMA unmanaged_elsewhere")
            try connection.query("CREATE TABLE unmanaged_elsewhere.log (id int)")
            for id in 0..<5 { try connection.query("INSERT INTO unmanaged_elsewhere.log VALUES ($1::int)", [String(id)]) }
            #expect(try plan(db).steadyState)
            try db.connect().query("DROP ROLE \(role)")
        }
    }

    @Test func otherBlueprintsNeverHitAnotherSetsConvergedState() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try reconcile(db, Self.files).result.status == .ok)
            var files = Self.files
            files["more.yaml"] = document("tables:\n  - name: more\n    columns:\n      - {name: id, type: bigint, primary_key: true}\n")
            let set = BlueprintSet.load(files.map { BlueprintSource(path: $0.key, text: $0.value) })
            let outcome = Reconciler(blueprints: set, revision: "r2", options: ReconcileOptions()).plan(try db.connect())
            #expect(!outcome.steadyState)
            #expect(outcome.result.status == .ok)
        }
    }
}
