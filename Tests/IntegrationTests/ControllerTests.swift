import Controller
import DriftlessCore
import Foundation
import GitSource
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import Reconciler
import Testing
import TestSupport

/// Waits (polling) until `condition` holds or `seconds` pass; returns whether it held.
func eventually(_ seconds: Double = 60, _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

let controllerBlueprint = """
    version: 1
    tenant_id: \(tenant)
    tables:
      - name: items
        columns:
          - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
          - {name: tenant_id, type: uuid, nullable: false}
    """

@Suite("The controller with a real git repository, real HTTP and the real database")
struct ControllerTests {
    func configuration(_ db: TestDatabase, _ fixture: GitFixture, interval: Int = 400, token: String? = "t0ken", secret: String? = "s3cret") -> ControllerConfiguration {
        let cache = NSTemporaryDirectory() + "driftless-ctl-cache-\(UUID().uuidString.prefix(8))"
        return ControllerConfiguration(
            databaseURL: db.url,
            location: .git(repository: fixture.fileURL, ref: "main", path: "db", cacheDirectory: cache, credentials: GitCredentials()),
            interval: TimeSpan(milliseconds: interval), retryInterval: TimeSpan(milliseconds: 200),
            apiToken: token, webhookSecret: secret)
    }

    func column(_ db: TestDatabase, _ table: String, _ column: String) throws -> Bool {
        try db.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = $2", [table, column]).first!.int("n") == 1
    }

    @Test func newCommitsAreAppliedInvalidOnesBlockedAndDriftCorrected() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        let metrics = ControllerMetrics()
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let loop = ReconcileLoop(configuration: configuration(db, fixture), state: state, logger: Logger(label: "test"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }

        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        #expect(try await blocking { try column(db, "items", "tenant_id") })

        // A new commit: applied by the timer.
        try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: title, type: text}\n")
        let second = try fixture.commit("add title")
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(second)" })
        #expect(await state.lastResult?.status == .ok)
        #expect(await state.lastResult?.trigger.kind == "interval")
        #expect(try await blocking { try column(db, "items", "title") })

        // An invalid commit: blocked, and the database keeps the last good state.
        try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: \"bad\\aname\", type: text}\n")
        let third = try fixture.commit("broken")
        #expect(await eventually {
            let attempted = await state.lastAttemptedRevision
            let status = await state.lastResult?.status
            return attempted == "main@sha1:\(third)" && status == .blocked
        })
        #expect(await state.lastAppliedRevision == "main@sha1:\(second)")
        #expect(try await blocking { try column(db, "items", "title") })
        let stalled = await state.status.conditions.first { $0.type == "Stalled" }
        #expect(stalled?.status == "True")

        // Fixed again; then a change by hand is corrected on a later tick, as drift.
        try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: title, type: text}\n")
        let fourth = try fixture.commit("fixed")
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(fourth)" })
        try await blocking { try db.connect().query("DROP POLICY items_tenant_select ON items") }
        #expect(await eventually {
            let last = await state.lastResult
            return last?.trigger.kind == "drift" && last?.status == .ok
        })
        let restored = try await blocking {
            try db.connect().query("SELECT count(*) AS n FROM pg_policies WHERE policyname = 'items_tenant_select'").first!.int("n")
        }
        #expect(restored == 1)
        let text = metrics.text()
        #expect(text.contains("driftless_reconcile_total{status=\"ok\"}"))
        #expect(text.contains("driftless_reconcile_total{status=\"blocked\"} 1"))
        #expect(text.contains("driftless_up 1"))
    }

    @Test func aFetchFailureKeepsTheLastRevisionAndIsReported() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        let metrics = ControllerMetrics()
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let loop = ReconcileLoop(configuration: configuration(db, fixture), state: state, logger: Logger(label: "test"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })

        // The remote disappears: fetches fail, the last good revision is still reconciled.
        let moved = fixture.path + "-gone"
        try FileManager.default.moveItem(atPath: fixture.path, toPath: moved)
        defer { try? FileManager.default.moveItem(atPath: moved, toPath: fixture.path) }
        #expect(await eventually { await state.fetchError != nil })
        #expect(await state.lastAppliedRevision == "main@sha1:\(first)")
        #expect(await state.status.fetchError?.isEmpty == false)
        #expect(!metrics.text().contains("driftless_git_fetch_errors_total 0"))
        _ = try await blocking { try db.connect().query("ALTER TABLE items DISABLE ROW LEVEL SECURITY") }
        // Drift is still corrected at the last good revision.
        #expect(try await eventually {
            try await blocking { try db.connect().query("SELECT relrowsecurity FROM pg_class WHERE relname = 'items'").first!.bool("relrowsecurity") }
        })
    }

    @Test func theAPIIsBehindABearerTokenAndTheWebhookBehindItsSignature() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        let metrics = ControllerMetrics()
        let configuration = configuration(db, fixture, interval: 60_000)
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let loop = ReconcileLoop(configuration: configuration, state: state, logger: Logger(label: "test"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        let app = buildApplication(loop: loop, metrics: metrics, logger: Logger(label: "test"))

        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("driftless_up 1"))
                #expect(String(buffer: response.body).contains("driftless_condition{type=\"Ready\",status=\"True\"} 1"))
            }
            try await client.execute(uri: "/v1/status", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/status", method: .get, headers: [.authorization: "Bearer nope"]) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/status", method: .get, headers: [.authorization: "Bearer t0ken"]) { response in
                #expect(response.status == .ok)
                let status = try JSONDecoder().decode(ControllerStatus.self, from: Data(buffer: response.body))
                #expect(status.lastAppliedRevision == "main@sha1:\(first)")
                #expect(status.conditions.map(\.type) == ["Ready", "Reconciling", "Stalled", "Drifted"])
            }
            try await client.execute(uri: "/v1/drift", method: .get, headers: [.authorization: "Bearer t0ken"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"in_sync\":true"))
            }
            try await client.execute(uri: "/v1/history?limit=5", method: .get, headers: [.authorization: "Bearer t0ken"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"status\":\"ok\""))
            }
            // Bodies over 1 MiB are refused.
            let big = ByteBuffer(repeating: UInt8(ascii: "x"), count: (1 << 20) + 1)
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: [.authorization: "Bearer t0ken"], body: big) {
                #expect($0.status == .contentTooLarge)
            }

            // The webhook: a bad signature is refused, a good one triggers a reconcile.
            try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: title, type: text}\n")
            let second = try fixture.commit("pushed")
            let body = ByteBuffer(string: #"{"ref":"refs/heads/main"}"#)
            try await client.execute(uri: "/v1/hooks/github", method: .post,
                                     headers: [.init("X-GitHub-Event")!: "push", .init("X-Hub-Signature-256")!: "sha256=" + String(repeating: "0", count: 64)],
                                     body: body) { #expect($0.status == .unauthorized) }
            let signature = GitHubSignature.sign(Data(buffer: body), secret: "s3cret")
            try await client.execute(uri: "/v1/hooks/github", method: .post,
                                     headers: [.init("X-GitHub-Event")!: "push", .init("X-Hub-Signature-256")!: signature,
                                               .init("X-GitHub-Delivery")!: "delivery-1"],
                                     body: body) { #expect($0.status == .accepted) }
            #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(second)" })
            #expect(await state.lastResult?.trigger.kind == "git-push")
            #expect(await state.lastResult?.trigger.id == "delivery-1")
        }
    }

    @Test func apiBlueprintsApplyReplayConflictAndStayWithTheLoop() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        let metrics = ControllerMetrics()
        let configuration = configuration(db, fixture, interval: 400)
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let loop = ReconcileLoop(configuration: configuration, state: state, logger: Logger(label: "test"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        let app = buildApplication(loop: loop, metrics: metrics, logger: Logger(label: "test"))
        let tenantA = "aaaaaaaa-0000-4000-8000-00000000000a"
        let tenantB = "bbbbbbbb-0000-4000-8000-00000000000b"
        @Sendable func body(_ tenantID: String, table: String, extra: String = "") -> ByteBuffer {
            ByteBuffer(string: """
                {"version": 1, "tenant_id": "\(tenantID)", \(extra)
                 "tables": [{"name": "\(table)", "columns": [
                   {"name": "id", "type": "uuid", "primary_key": true, "default": "gen_random_uuid()"},
                   {"name": "tenant_id", "type": "uuid", "nullable": false}]}]}
                """)
        }
        let auth: HTTPFields = [.authorization: "Bearer t0ken", .contentType: "application/json"]
        struct Answer: Decodable { var status: String; var replayed: Bool; var rls_tables: [String]; var migration_id: Int?; var errors: [ResultError] }

        try await app.test(.router) { client in
            // dry_run: planned, nothing stored or created.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: auth, body: body(tenantA, table: "widgets", extra: #""dry_run": true,"#)) { response in
                #expect(response.status == .ok)
                let answer = try JSONDecoder().decode(Answer.self, from: Data(buffer: response.body))
                #expect(answer.status == "ok")
            }
            let created = try await blocking { try column(db, "widgets", "id") }
            #expect(!created)

            let firstAnswer = try await client.execute(uri: "/v1/blueprints", method: .post, headers: auth,
                                                       body: body(tenantA, table: "widgets", extra: #""trigger_id": "req-1","#)) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(Answer.self, from: Data(buffer: response.body))
            }
            #expect(firstAnswer.status == "ok")
            #expect(firstAnswer.rls_tables == ["public.widgets"])
            #expect(!firstAnswer.replayed)

            // The same delivery again: the recorded result, replayed, nothing new.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: auth,
                                     body: body(tenantA, table: "widgets", extra: #""trigger_id": "req-1","#)) { response in
                #expect(response.status == .ok)
                let replay = try JSONDecoder().decode(Answer.self, from: Data(buffer: response.body))
                #expect(replay.replayed)
                #expect(replay.migration_id == firstAnswer.migration_id)
            }

            // Invalid: 422 with the error and where it is.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: auth, body: body(tenantA, table: "bad\\u200Bname")) { response in
                #expect(response.status == .unprocessableContent)
                let answer = try JSONDecoder().decode(Answer.self, from: Data(buffer: response.body))
                #expect(answer.status == "blocked")
                #expect(answer.errors.contains { $0.code == "invalid_name" && $0.path == "$.tables[0].name" })
            }
            // A table another tenant owns, or git owns: 409.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: auth, body: body(tenantB, table: "widgets")) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("owned_by_other"))
            }
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: auth, body: body(tenantB, table: "items")) { response in
                #expect(response.status == .conflict)
            }
        }
        // The loop keeps the API table: a policy dropped by hand comes back on a later tick.
        try await blocking { try db.connect().query("DROP POLICY widgets_tenant_select ON widgets") }
        let restored = try await eventually {
            try await blocking { try db.connect().query("SELECT count(*) AS n FROM pg_policies WHERE policyname = 'widgets_tenant_select'").first!.int("n") == 1 }
        }
        let last = await state.lastResult
        #expect(restored, "the loop's last result: \(last?.status.rawValue ?? "none") \(last?.summary ?? "") \(last?.errors.map(\.message) ?? [])")
        let stored = try await blocking { try db.connect().query("SELECT tenant_id::text AS t FROM driftless.blueprints").rows.map { try $0.string("t") } }
        #expect(stored == [tenantA])
    }

    @Test func suspendStopsChangesAndResumeStartsThemAgain() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        let metrics = ControllerMetrics()
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let loop = ReconcileLoop(configuration: configuration(db, fixture, interval: 300), state: state, logger: Logger(label: "test"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        let app = buildApplication(loop: loop, metrics: metrics, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/suspend", method: .post, headers: [.authorization: "Bearer t0ken"]) { #expect($0.status == .ok) }
        }
        _ = try await blocking { try db.connect().query("ALTER TABLE items DISABLE ROW LEVEL SECURITY") }
        // Drift is reported, not corrected, while suspended.
        #expect(await eventually { await state.status.conditions.first { $0.type == "Drifted" }?.status == "True" })
        #expect(try await blocking { try !db.connect().query("SELECT relrowsecurity FROM pg_class WHERE relname = 'items'").first!.bool("relrowsecurity") })
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/resume", method: .post, headers: [.authorization: "Bearer t0ken"]) { #expect($0.status == .ok) }
        }
        #expect(try await eventually {
            try await blocking { try db.connect().query("SELECT relrowsecurity FROM pg_class WHERE relname = 'items'").first!.bool("relrowsecurity") }
        })
    }

    @Test func withoutAConfiguredTokenTheAPIIsClosed() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        try fixture.commit("first")
        let metrics = ControllerMetrics()
        let configuration = configuration(db, fixture, interval: 60_000, token: nil, secret: nil)
        let loop = ReconcileLoop(configuration: configuration, state: ControllerState(suspended: false, driftMode: .correct, metrics: metrics), logger: Logger(label: "test"))
        let app = buildApplication(loop: loop, metrics: metrics, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get, headers: [.authorization: "Bearer anything"]) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/hooks/github", method: .post, headers: [.init("X-GitHub-Event")!: "push"]) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func twoControllersOnOneDatabaseApplyEachRevisionOnce() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        var loops: [(ReconcileLoop, ControllerState, Task<Void, Error>)] = []
        for _ in 0..<2 {
            let state = ControllerState(suspended: false, driftMode: .correct, metrics: ControllerMetrics())
            let loop = ReconcileLoop(configuration: configuration(db, fixture, interval: 300), state: state, logger: Logger(label: "test"))
            loops.append((loop, state, Task { try await loop.run() }))
        }
        defer { loops.forEach { $0.2.cancel() } }
        for (_, state, _) in loops {
            #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        }
        let rows = try await blocking {
            try db.connect().query("SELECT status, count(*) AS n FROM driftless.schema_migrations WHERE revision = $1 GROUP BY status", ["main@sha1:\(first)"])
                .rows.map { (try $0.string("status"), try $0.int("n")) }
        }
        #expect(rows.first { $0.0 == "ok" }?.1 == 1, "\(rows)")

        // While one holds the lock (mid-apply), another answers retry and changes nothing.
        try await blocking {
            let set = BlueprintSet.load([BlueprintSource(path: "items.yaml", text: controllerBlueprint + "\n      - {name: extra, type: text}\n")])
            let other = Reconciler(blueprints: set, revision: "r", options: ReconcileOptions())
            let lockHolder = try db.connect()
            try lockHolder.query("BEGIN")
            try lockHolder.query("SELECT pg_advisory_xact_lock($1::bigint)", [String(ReconcilerLockKey.forSchemas(["public"]))])
            let result = other.apply(try db.connect())
            #expect(result.status == .retry)
            #expect(try !column(db, "items", "extra"))
            try lockHolder.query("ROLLBACK")
            #expect(other.apply(try db.connect()).status == .ok)
        }
    }

    /// A database whose `items` table another session holds ACCESS EXCLUSIVE, so an apply that
    /// must alter it waits; and `driftless run` started against it with `flags`. Keep the
    /// fixture alive as long as the process runs (it deletes its repository when released).
    func controllerBlockedOnALock(_ flags: [String]) async throws -> (TestDatabase, Handoff<Connection>, BackgroundProcess, GitFixture) {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        try fixture.commit("first")
        let holder = try await blocking { () -> Handoff<Connection> in
            try db.connect().query("CREATE TABLE items (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
            let holder = try db.connect()
            try holder.query("BEGIN")
            try holder.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
            return Handoff(holder)
        }
        let process = try BackgroundProcess(RepositoryPaths.driftlessExecutable, [
            "run", "--repo", fixture.fileURL, "--ref", "main", "--path", "db", "--database-url", db.url,
            // No look at blockers: the apply waits on the lock, which is what these tests interrupt.
            "--listen", "127.0.0.1:0", "--interval", "1h", "--lock-timeout", "1h", "--max-blocker-age", "0s",
            "--git-cache", NSTemporaryDirectory() + "driftless-sigterm-\(UUID().uuidString.prefix(6))",
        ] + flags)
        return (db, holder, process, fixture)
    }

    /// After the holder lets go: nothing of the interrupted apply is there (no policy).
    func expectNothingApplied(_ db: TestDatabase, _ holder: Handoff<Connection>) async throws {
        try await blocking { try holder.value.query("ROLLBACK") }
        let policies = try await blocking { try db.connect().query("SELECT count(*) AS n FROM pg_policies WHERE tablename = 'items'").first!.int("n") }
        #expect(policies == 0)
    }

    @Test func sigtermDuringALongApplyExitsZeroAndLeavesAllOrNothing() async throws {
        let (db, holder, process, fixture) = try await controllerBlockedOnALock(["--shutdown-timeout", "1s"])
        defer { withExtendedLifetime(fixture) {} }
        // Wait until the apply is waiting on the lock.
        let waiting = try await eventually {
            try await blocking { try db.sessions(waitingOnLock: true) > 0 }
        }
        #expect(waiting, "\(process.output())")
        process.signal(SIGTERM)
        let exited = try await blocking { process.wait() }
        #expect(exited.status == 0, "\(exited.stdout)\(exited.stderr)")
        try await expectNothingApplied(db, holder)
    }

    /// SIGTERM can arrive at any moment of a tick: while fetching, while connecting, between two
    /// statements, while waiting on a lock. Each time the controller stops within the shutdown
    /// timeout (the bound below is a hang detector, not a speed target) and leaves nothing half done.
    @Test(arguments: [0, 40, 120, 400], ["0ms", "30ms", "1s"])
    func sigtermAtAnyMomentOfATickExitsZeroSoon(delayMilliseconds: Int, shutdownTimeout: String) async throws {
        let (db, holder, process, fixture) = try await controllerBlockedOnALock(["--statement-timeout", "1h", "--shutdown-timeout", shutdownTimeout])
        defer { withExtendedLifetime(fixture) {} }
        // The signal handlers are installed once the HTTP server says it listens.
        #expect(await eventually { process.output().contains("listening") }, "\(process.output())")
        try await Task.sleep(for: .milliseconds(delayMilliseconds))
        process.signal(SIGTERM)
        let exited = try await blocking { process.wait(upTo: 60) }
        #expect(exited?.status == 0, "\(exited.map { $0.stdout + $0.stderr } ?? "still running 60 s after SIGTERM")")
        try await expectNothingApplied(db, holder)
    }
}
