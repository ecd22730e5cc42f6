import Controller
import DriftlessCore
import Foundation
import GitSource
import Logging
import Postgres
import Reconciler
import Testing
import TestSupport

/// interface.md, HTTP hygiene: a blocked revision recorded once, lock-busy answers recorded at
/// most once per revision, Stalled cleared as soon as the database is in step again.
@Suite("What the controller records, and when a stall ends")
struct ControllerHistoryTests {
    func rows(_ db: TestDatabase, revision: String, status: String) throws -> Int {
        try db.connect().query("SELECT count(*) AS n FROM driftless.schema_migrations WHERE revision = $1 AND status = $2",
                               [revision, status]).first!.int("n")
    }

    @Test func lockBusyRetriesAreRecordedOncePerRevision() throws {
        let db = try PostgresCluster.shared().createDatabase()
        let set = BlueprintSet.load([BlueprintSource(path: "items.yaml", text: controllerBlueprint)])
        let holder = try db.connect()
        try holder.query("BEGIN")
        try holder.query("SELECT pg_advisory_xact_lock($1::bigint)", [String(ReconcilerLockKey.forSchemas(["public"]))])
        for _ in 0..<4 {
            #expect(Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).apply(try db.connect()).status == .retry)
        }
        #expect(try rows(db, revision: "r1", status: "retry") == 1)
        // Another revision gets its own row.
        #expect(Reconciler(blueprints: set, revision: "r2", options: ReconcileOptions()).apply(try db.connect()).status == .retry)
        #expect(try rows(db, revision: "r2", status: "retry") == 1)
        try holder.query("ROLLBACK")
        #expect(Reconciler(blueprints: set, revision: "r1", options: ReconcileOptions()).apply(try db.connect()).status == .ok)
    }

    @Test func aBlockedRevisionIsRecordedOnceAndTheStallEndsWhenTheDatabaseIsInStep() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: notes, type: text}\n")
        let first = try fixture.commit("first")
        let configuration = ControllerConfiguration(
            databaseURL: db.url,
            location: .git(repository: fixture.fileURL, ref: "main", path: "db",
                           cacheDirectory: NSTemporaryDirectory() + "driftless-stall-\(UUID().uuidString.prefix(8))", credentials: GitCredentials()),
            interval: TimeSpan(milliseconds: 150), retryInterval: TimeSpan(milliseconds: 100))
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: ControllerMetrics())
        let loop = ReconcileLoop(configuration: configuration, state: state, logger: Logger(label: "test"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })

        // Invalid: blocked, recorded once however many ticks pass.
        try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: \"bad\\aname\", type: text}\n")
        let invalid = try fixture.commit("invalid")
        #expect(await eventually {
            let result = await state.lastResult
            return result?.revision == "main@sha1:\(invalid)" && result?.status == .blocked
        })
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try rows(db, revision: "main@sha1:\(invalid)", status: "blocked") == 1)

        // Dropping a column without --allow: blocked, recorded once, Stalled.
        try fixture.write("db/items.yaml", controllerBlueprint)
        let drop = try fixture.commit("drop notes")
        #expect(await eventually {
            // The result of this revision, not the last one's (blocked as well).
            let result = await state.lastResult
            return result?.revision == "main@sha1:\(drop)" && result?.status == .blocked
        })
        try await Task.sleep(for: .milliseconds(1200))
        let history = try db.connect().query("SELECT revision, status, summary FROM driftless.schema_migrations ORDER BY id").rows
            .map { try "\($0.string("revision")) \($0.string("status")) \($0.string("summary"))" }
        #expect(try rows(db, revision: "main@sha1:\(drop)", status: "blocked") == 1, "\(history)")
        #expect(await state.status.conditions.first { $0.type == "Stalled" }?.status == "True")

        // Someone drops the column by hand: the database is in step, the stall is over.
        try db.connect().query("ALTER TABLE items DROP COLUMN notes")
        #expect(await eventually { await state.status.conditions.first { $0.type == "Stalled" }?.status == "False" })
    }
}
