import Controller
import DriftlessCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Postgres
import Reconciler
import Testing
import TestSupport

@Suite("Reliability: faults, locks, concurrency and hostile input")
struct ReliabilityTests {
    static let base = document("""
        tables:
          - name: items
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: title, type: text}
        """)
    static let next = document("""
        tables:
          - name: items
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: title, type: text}
              - {name: note, type: text}
            indexes:
              - {columns: [title]}
          - name: more
            columns:
              - {name: id, type: bigint, primary_key: true, identity: always}
        """)

    func apply(_ db: TestDatabase, _ text: String, lockTimeout: Int = 5000, statementTimeout: Int = 300_000,
               lookAtBlockers: Bool = true) throws -> ReconcileResult {
        var options = ReconcileOptions()
        if !lookAtBlockers { options.maxBlockerAge = TimeSpan(milliseconds: 0) }
        options.lockTimeout = TimeSpan(milliseconds: lockTimeout)
        options.statementTimeout = TimeSpan(milliseconds: statementTimeout)
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: text)])
        return Reconciler(blueprints: set, revision: UUID().uuidString, options: options).apply(try db.connect())
    }

    @Test func aHeldLockMakesApplyAnswerRetryWithoutBlockingTrafficLongerThanTheLockTimeout() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try apply(db, Self.base).status == .ok)
            // A long transaction that read the table holds ACCESS SHARE; ALTER TABLE needs ACCESS EXCLUSIVE.
            let holder = try db.connect()
            try holder.query("BEGIN")
            try holder.query("SELECT count(*) FROM items")
            let catalogBefore = try liveCatalog(db)
            // Application traffic that queues behind the waiting ALTER.
            let traffic = Handoff(try db.connect())
            let finished = NSCondition()
            nonisolated(unsafe) var trafficDone = false
            nonisolated(unsafe) var applied: ReconcileResult?
            let applier = Thread {
                // Without the look at blockers (--max-blocker-age 0s), it queues up to its lock timeout.
                applied = try? apply(db, Self.next, lockTimeout: 700, lookAtBlockers: false)
            }
            applier.start()
            // Wait until the apply is queued on the lock, then send a query behind it.
            for _ in 0..<200 {
                let waiting = try db.sessions(applicationName: "driftless%", waitingOnLock: true)
                if waiting > 0 { break }
                Thread.sleep(forTimeInterval: 0.02)
            }
            let reader = Thread {
                _ = try? traffic.value.query("SELECT count(*) FROM items")
                finished.lock()
                trafficDone = true
                finished.signal()
                finished.unlock()
            }
            reader.start()
            // The holder keeps its lock: only the apply giving up at its lock timeout lets traffic through.
            finished.lock()
            let released = finished.wait(until: Date().addingTimeInterval(30)) || trafficDone
            finished.unlock()
            #expect(released, "application traffic stayed blocked behind the apply")
            while applied == nil { Thread.sleep(forTimeInterval: 0.02) }
            #expect(applied?.status == .retry)
            #expect(applied?.errors.first?.sqlstate == "55P03")
            #expect(try liveCatalog(db) == catalogBefore, "a half-applied plan")
            try holder.query("ROLLBACK")
            #expect(try apply(db, Self.next).status == .ok)
        }
    }

    @Test func anExceededStatementTimeoutAnswersRetryAndLeavesNothingHalfDone() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try apply(db, Self.base).status == .ok)
            try db.connect().query("INSERT INTO items (tenant_id, title) SELECT gen_random_uuid(), md5(i::text) FROM generate_series(1, 300000) i")
            let catalogBefore = try liveCatalog(db)
            let result = try apply(db, Self.next, statementTimeout: 150)
            #expect(result.status == .retry)
            #expect(result.errors.first?.sqlstate == "57014")
            #expect(try liveCatalog(db) == catalogBefore)
            #expect(try apply(db, Self.next).status == .ok)
        }
    }

    /// A statement of a new table (taken as written) that is cancelled or times out answers
    /// `retry` at once. A refusal by the server runs the apply again with every table
    /// canonicalized, to say what it refuses with the blueprint's place; a cancel is no refusal
    /// (running again answered `blocked`, and kept a shutting-down controller busy long after
    /// it cancelled).
    /// An event trigger (the superuser's) counts, outside any transaction, each CREATE TABLE of
    /// `more` it slows past the statement timeout. The timeout is long enough that no other
    /// statement of the apply reaches it on a loaded machine (a 500 ms one did, in CI), and the
    /// cancel interrupts the sleep, so the test waits for the timeout only.
    @Test func aNewTablesStatementThatTimesOutAnswersRetryWithoutASecondAttempt() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            #expect(try apply(db, Self.base).status == .ok)
            let admin = try db.connect(user: PostgresCluster.superuser)
            try admin.query("CREATE SCHEMA probe")
            try admin.query("CREATE SEQUENCE probe.slowed")
            try admin.query("""
                CREATE FUNCTION probe.slow_create() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
                BEGIN
                  IF current_query() ILIKE '%"more"%' THEN PERFORM nextval('probe.slowed'); PERFORM pg_sleep(60); END IF;
                END $$
                """)
            try admin.query("CREATE EVENT TRIGGER slow_create ON ddl_command_start WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION probe.slow_create()")
            let catalogBefore = try liveCatalog(db)
            let result = try apply(db, Self.next, statementTimeout: 4000)
            #expect(result.status == .retry)
            #expect(result.errors.first?.sqlstate == "57014")
            #expect(result.errors.first?.statement?.contains("CREATE TABLE") == true, "the statement that timed out: \(result.errors.first?.statement ?? "none")")
            let slowed = try admin.query("SELECT last_value, is_called FROM probe.slowed").first!
            let calls = try slowed.bool("is_called") ? slowed.int("last_value") : 0
            #expect(calls == 1, "CREATE TABLE more ran \(calls) times")
            #expect(try liveCatalog(db) == catalogBefore)
            try admin.query("DROP EVENT TRIGGER slow_create")
            #expect(try apply(db, Self.next).status == .ok)
        }
    }

    @Test func killMinus9DuringApplyLeavesAllOrNothingAndTheNextApplyConverges() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let directory = NSTemporaryDirectory() + "driftless-kill-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.base.write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        #expect(try await blocking { try apply(db, Self.base).status } == .ok)
        try Self.next.write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        // Hold the table so the apply stops half way through its transaction (after creating
        // `more`): without the look at blockers (--max-blocker-age 0s) it queues behind the holder.
        let holder = try await blocking { () -> Handoff<Connection> in
            let holder = try db.connect()
            try holder.query("BEGIN")
            try holder.query("SELECT count(*) FROM items")
            return Handoff(holder)
        }
        let process = try BackgroundProcess(RepositoryPaths.driftlessExecutable, ["apply", "--blueprints", directory, "--database-url", db.url, "--lock-timeout", "1h",
                                                                                   "--max-blocker-age", "0s"])
        let waiting = try await eventually {
            try await blocking {
                try db.sessions(waitingOnLock: true) > 0
            }
        }
        #expect(waiting, "\(process.output())")
        process.signal(SIGKILL)
        let killed = try await blocking { process.wait() }
        #expect(killed.status == 128 + SIGKILL)
        try await blocking { try holder.value.query("ROLLBACK") }
        // The orphaned backend notices its client is gone and rolls back.
        #expect(try await eventually {
            try await blocking { try db.sessions() == 0 }
        })
        let tables = try await blocking { try liveCatalog(db).tables.keys.map(\.name).sorted() }
        #expect(tables == ["items"], "half-applied: \(tables)")
        #expect(try await blocking { try apply(db, Self.next).status } == .ok)
        #expect(try await blocking { try apply(db, Self.next).status } == .noop)
    }

    /// The first reconciliations against a new database race to create the history tables
    /// (an apply holding the lock, and failure rows written without it). None may fail for it.
    @Test func concurrentFirstRunsAllCreateTheHistoryTablesWithoutError() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let results = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await blocking { () -> String? in
                        let connection = try db.connect()
                        do {
                            try connection.transaction { connection in
                                try History().ensure(connection)
                                // Hold the new catalog rows a while, as an apply does.
                                try connection.query("SELECT pg_sleep(0.3)")
                            }
                            return nil
                        } catch {
                            return "\(error)"
                        }
                    }
                }
            }
            return try await group.reduce(into: [String]()) { if let error = $1 { $0.append(error) } }
        }
        #expect(results.isEmpty, "\(results)")
        #expect(try await blocking { try History().exists(db.connect()) })
    }

    @Test func fiveControllersApplyEachRevisionExactlyOnce() async throws {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        var loops: [(ControllerState, Task<Void, Error>)] = []
        for index in 0..<5 {
            let state = ControllerState(suspended: false, driftMode: .correct, metrics: ControllerMetrics())
            let configuration = ControllerConfiguration(
                databaseURL: db.url,
                location: .git(repository: fixture.fileURL, ref: "main", path: "db",
                               cacheDirectory: NSTemporaryDirectory() + "driftless-five-\(index)-\(UUID().uuidString.prefix(6))", credentials: .init()),
                interval: TimeSpan(milliseconds: 300), retryInterval: TimeSpan(milliseconds: 100))
            let loop = ReconcileLoop(configuration: configuration, state: state, logger: Logger(label: "five"))
            loops.append((state, Task { try await loop.run() }))
        }
        defer { loops.forEach { $0.1.cancel() } }
        // Every controller has the first revision before the second is pushed.
        for (state, _) in loops {
            #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        }
        try fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: title, type: text}\n")
        let second = try fixture.commit("second")
        for (state, _) in loops {
            #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(second)" })
        }
        let rows = try await blocking {
            try db.connect().query("SELECT revision, count(*) AS n FROM driftless.schema_migrations WHERE status = 'ok' GROUP BY revision").rows
                .map { (try $0.string("revision"), try $0.int("n")) }
        }
        #expect(Set(rows.map(\.0)) == ["main@sha1:\(first)", "main@sha1:\(second)"])
        #expect(rows.allSatisfy { $0.1 == 1 }, "\(rows)")
        let all = try await blocking {
            try db.connect().query("SELECT id, revision, status, trigger_kind, summary FROM driftless.schema_migrations ORDER BY id").rows
                .map { "\(try $0.string("id")) \(try $0.string("revision").suffix(8)) \(try $0.string("status")) \(try $0.string("trigger_kind")) \(try $0.string("summary"))" }
        }
        #expect(rows.count == 2, "\(all.joined(separator: " | "))")
    }

    @Test func aPostgresRestartDuringTheLoopRecoversWithoutDuplicateRows() async throws {
        // A cluster of its own: restarting the shared one would disturb other tests.
        let cluster = try await blocking { try PostgresCluster.start() }
        defer { cluster.stop() }
        let db = try await blocking { try cluster.createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        let first = try fixture.commit("first")
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: ControllerMetrics())
        let configuration = ControllerConfiguration(
            databaseURL: db.url,
            location: .git(repository: fixture.fileURL, ref: "main", path: "db",
                           cacheDirectory: NSTemporaryDirectory() + "driftless-restart-\(UUID().uuidString.prefix(6))", credentials: .init()),
            interval: TimeSpan(milliseconds: 300), retryInterval: TimeSpan(milliseconds: 100))
        let loop = ReconcileLoop(configuration: configuration, state: state, logger: Logger(label: "restart"))
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        #expect(await eventually { await state.lastAppliedRevision == "main@sha1:\(first)" })
        // A fast restart, as an operator or a failover does: every session is terminated.
        try await blocking { try cluster.restart(mode: "fast") }
        // A tick meets the restart (retry) or not; either way the loop recovers and corrects drift.
        try await blocking { try db.connect().query("ALTER TABLE items DISABLE ROW LEVEL SECURITY") }
        #expect(try await eventually {
            try await blocking { try db.connect().query("SELECT relrowsecurity FROM pg_class WHERE relname = 'items'").first!.bool("relrowsecurity") }
        })
        let okRows = try await blocking {
            try db.connect().query("SELECT count(*) AS n FROM driftless.schema_migrations WHERE status = 'ok' AND trigger_kind <> 'drift'").first!.int("n")
        }
        #expect(okRows == 1)
    }

    @Test func secretsNeverAppearInAnyOutput() async throws {
        let password = "Pw-\(UUID().uuidString.prefix(8))-secret"
        let token = "ghp_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        let cluster = try await blocking { try PostgresCluster.shared() }
        let directory = RepositoryPaths.root + "/examples/saas/blueprints"
        var outputs: [String] = []
        for arguments in [
            ["plan", "--blueprints", directory, "--database-url", "postgresql://postgres:\(password)@127.0.0.1:\(cluster.port)/no_such_db"],
            ["apply", "--blueprints", directory, "--database-url", "postgresql://postgres:\(password)@127.0.0.1:1/postgres", "--format", "json"],
            ["drift", "--blueprints", directory, "--database-url", "host=127.0.0.1 port=1 password=\(password)"],
            ["validate", "--repo", "https://x-access-token:\(token)@127.0.0.1:1/acme/db.git", "--git-cache", NSTemporaryDirectory() + "driftless-secret-cache"],
            ["history", "--database-url", "postgresql://postgres:\(password)@127.0.0.1:1/postgres"],
        ] {
            var variables = ProcessInfo.processInfo.environment
            variables["DRIFTLESS_GIT_TOKEN"] = token
            variables["PGPASSWORD"] = password
            let environment = variables
            let output = try await blocking { try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments, environment: environment, check: false) }
            #expect(output.status != 0, "\(arguments[0]) should have failed")
            outputs.append(output.stdout + output.stderr)
        }
        for output in outputs {
            #expect(!output.contains(password), "password leaked: \(output)")
            #expect(!output.contains(token), "token leaked: \(output)")
            #expect(!output.isEmpty)
        }
    }

    /// The controller holds every secret at once (database password, API token, webhook secret,
    /// git token): none of them may reach a log line, an HTTP answer, a Result or a history row.
    @Test func theControllerNeverShowsTheSecretsItHolds() async throws {
        let password = "Pw-\(UUID().uuidString.prefix(8))-secret"
        let apiToken = "api-\(UUID().uuidString.prefix(12))"
        let webhookSecret = "hook-\(UUID().uuidString.prefix(12))"
        let gitToken = "ghp_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", controllerBlueprint)
        try fixture.commit("first")
        var environment = ProcessInfo.processInfo.environment
        environment["DRIFTLESS_API_TOKEN"] = apiToken
        environment["DRIFTLESS_WEBHOOK_SECRET"] = webhookSecret
        environment["DRIFTLESS_GIT_TOKEN"] = gitToken
        environment["PGPASSWORD"] = password
        // Trust authentication accepts any password, so the URL carrying one still connects.
        let url = db.url.replacingOccurrences(of: "postgresql://postgres@", with: "postgresql://postgres:\(password)@")
        let process = try BackgroundProcess(RepositoryPaths.driftlessExecutable, [
            "run", "--repo", fixture.fileURL, "--ref", "main", "--path", "db", "--database-url", url,
            "--listen", "127.0.0.1:0", "--interval", "1h", "--shutdown-timeout", "1s", "--log-format", "json",
            "--git-cache", NSTemporaryDirectory() + "driftless-secrets-\(UUID().uuidString.prefix(6))",
        ], environment: environment)
        #expect(await eventually { process.output().contains("listening") }, "\(process.output())")
        let port = try #require(process.output().firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) })
        // Until the first run creates it, the history table does not exist: keep asking.
        #expect(try await eventually {
            try await blocking { ((try? db.connect().query("SELECT count(*) AS n FROM driftless.schema_migrations").first!.int("n")) ?? 0) > 0 }
        })
        // The history row is committed before the loop records the result: wait until the status shows it too.
        #expect(try await eventually {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/status")!)
            request.setValue("Bearer \(apiToken)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: request)
            return String(decoding: data, as: UTF8.self).contains("\"last_result\"")
        }, "\(process.output())")
        var answers: [String] = []
        for (path, method, headers, body) in [
            ("/v1/status", "GET", ["Authorization": "Bearer \(apiToken)"], ""),
            ("/v1/history?limit=10", "GET", ["Authorization": "Bearer \(apiToken)"], ""),
            ("/v1/drift", "GET", ["Authorization": "Bearer \(apiToken)"], ""),
            ("/v1/status", "GET", ["Authorization": "Bearer wrong-\(apiToken)"], ""),
            ("/v1/hooks/github", "POST", ["X-Hub-Signature-256": "sha256=00", "X-GitHub-Event": "push"], "{}"),
            ("/metrics", "GET", [:], ""),
        ] {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
            if method == "POST" { request.httpBody = Data(body.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            answers.append("\(path) \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data, as: UTF8.self))")
        }
        process.signal(SIGTERM)
        let exited = try await blocking { process.wait() }
        #expect(exited.status == 0)
        let history = try await blocking {
            try db.connect().query("SELECT coalesce(string_agg(row_to_json(m)::text, E'\\n'), '') AS rows FROM driftless.schema_migrations m").first!.string("rows")
        }
        #expect(history.contains("\"status\""))
        #expect(answers.first?.contains("\"revision\"") == true, "\(answers)")
        for (name, text) in [("logs", exited.stdout + exited.stderr), ("HTTP answers", answers.joined(separator: "\n")), ("history", history)] {
            for secret in [password, apiToken, webhookSecret, gitToken] {
                #expect(!text.contains(secret), "a secret leaked into the \(name): \(text.prefix(2000))")
            }
        }
    }

    @Test func hugeBlueprintSetsAreReadAndValidated() throws {
        // 5,000 tables in one file of more than 10 MB: read and validated completely (figures in docs/reliability.md).
        var text = "version: 1\ntenant_id: \(tenant)\ntables:\n"
        for index in 0..<5000 {
            text += "  - name: t\(index)\n    comment: \(String(repeating: "x", count: 1800))\n    columns:\n"
            text += "      - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}\n"
            text += "      - {name: tenant_id, type: uuid, nullable: false}\n"
            text += "      - {name: body, type: text, check: length(body) < 1000}\n"
        }
        #expect(text.utf8.count > 10_000_000)
        let started = Date()
        let set = BlueprintSet.load([BlueprintSource(path: "huge.yaml", text: text)])
        #expect(set.isValid, "\(set.errors.prefix(3))")
        #expect(set.documents.first?.tables.count == 5000)
        let catalog = DesiredCatalog.build(set)
        #expect(catalog.tables.count == 5000)
        print("reliability: \(text.utf8.count) bytes, 5000 tables validated and built in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
    }
}

@Suite("Fuzzing regressions")
struct FuzzRegressionTests {
    /// Every input the fuzzer ever crashed on (and the seed corpus) goes through the same function
    /// again, in the plain build of the fuzz target.
    @Test func everyRegressionInputReplaysWithoutACrash() async throws {
        let inputs = RepositoryPaths.files(under: "Tests/Fixtures/fuzz-regressions") + RepositoryPaths.files(under: "Tests/Fixtures/schema-invalid")
        #expect(!inputs.isEmpty)
        let replay = (RepositoryPaths.driftlessExecutable as NSString).deletingLastPathComponent + "/BlueprintFuzzer"
        let output = try await blocking { try ProcessRunner.run(replay, inputs, check: false) }
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("replayed \(inputs.count) input(s) without a crash"))
    }
}
