import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// `--online` on a table of a million rows (production.md, Online changes), with the real
/// command line: a writer inserting and a reader selecting throughout, a revision adding an
/// index, a unique constraint, a foreign key and a NOT NULL. The longest waits of the writer and
/// the reader are printed for the revision applied in one transaction and online; the online
/// run is killed with SIGKILL once its transaction committed, and the next run completes it.
@Suite("--online with a writer and a reader on a million rows", .serialized)
struct OnlineApplyTests {
    static let rows = 1_000_000

    static let base = document("""
        tables:
          - name: owners
            columns:
              - {name: id, type: bigint, primary_key: true}
          - name: events
            columns:
              - {name: id, type: bigint, primary_key: true, identity: by_default}
              - {name: owner_id, type: bigint}
              - {name: code, type: text}
              - {name: payload, type: text}
        """)

    static let revision = document("""
        tables:
          - name: owners
            columns:
              - {name: id, type: bigint, primary_key: true}
          - name: events
            columns:
              - {name: id, type: bigint, primary_key: true, identity: by_default}
              - {name: owner_id, type: bigint, references: {table: owners, column: id}}
              - {name: code, type: text, nullable: false, unique: true}
              - {name: payload, type: text}
            indexes:
              - {columns: [payload], name: events_payload_idx}
        """)

    /// The longest wait of a writer and of a reader of `events`, each on its own connection.
    final class Load: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private var finished = 0
        private(set) var longestWrite = 0.0
        private(set) var longestRead = 0.0
        private(set) var writes = 0
        private(set) var failures: [String] = []
        var isRunning: Bool { lock.withLock { running } }

        init(_ db: TestDatabase, rows: Int) {
            let writer = Thread { [self] in
                defer { lock.withLock { finished += 1 } }
                guard let connection = try? db.connect(applicationName: "writer") else { return }
                while isRunning {
                    let started = Date()
                    do {
                        try connection.query("INSERT INTO events (owner_id, code, payload) VALUES ((random() * 999)::bigint + 1, 'w' || gen_random_uuid(), 'written')")
                        let took = Date().timeIntervalSince(started)
                        lock.withLock { longestWrite = max(longestWrite, took); writes += 1 }
                    } catch { lock.withLock { failures.append("write: \(error)") } }
                }
            }
            let reader = Thread { [self] in
                defer { lock.withLock { finished += 1 } }
                guard let connection = try? db.connect(applicationName: "reader") else { return }
                while isRunning {
                    let started = Date()
                    do {
                        _ = try connection.query("SELECT payload FROM events WHERE id = $1", [String(Int.random(in: 1...rows))])
                        let took = Date().timeIntervalSince(started)
                        lock.withLock { longestRead = max(longestRead, took) }
                    } catch { lock.withLock { failures.append("read: \(error)") } }
                }
            }
            writer.start()
            reader.start()
        }

        func stop() {
            lock.withLock { running = false }
            while lock.withLock({ finished }) < 2 { Thread.sleep(forTimeInterval: 0.01) }
        }
    }

    func prepare(_ prefix: String) throws -> (TestDatabase, String) {
        let db = try PostgresCluster.shared().createDatabase(prefix: prefix)
        let directory = NSTemporaryDirectory() + "driftless-\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.base.write(toFile: directory + "/events.yaml", atomically: true, encoding: .utf8)
        let first = try driftless(["apply", "--blueprints", directory], db)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let connection = try db.connect()
        try connection.query("INSERT INTO owners SELECT generate_series(1, 1000)")
        try connection.query("INSERT INTO events (owner_id, code, payload) SELECT i % 1000 + 1, 'c' || i, md5(i::text) FROM generate_series(1, \(Self.rows)) i")
        try connection.query("VACUUM ANALYZE events")
        try Self.revision.write(toFile: directory + "/events.yaml", atomically: true, encoding: .utf8)
        return (db, directory)
    }

    func driftless(_ arguments: [String], _ db: TestDatabase) throws -> ProcessOutput {
        try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments + ["--database-url", db.url], check: false)
    }

    /// What the revision asks for, as the catalog has it, and nothing Driftless made on the way.
    func converged(_ db: TestDatabase) throws -> [String] {
        let connection = try db.connect()
        var problems: [String] = []
        let invalid = try connection.query("SELECT count(*) AS n FROM pg_index WHERE indrelid = 'events'::regclass AND NOT indisvalid").first!.int("n")
        if invalid > 0 { problems.append("\(invalid) invalid index(es)") }
        let unvalidated = try connection.query("SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'events'::regclass AND NOT convalidated").first!.int("n")
        if unvalidated > 0 { problems.append("\(unvalidated) constraint(s) not validated") }
        let leftovers = try connection.query(
            "SELECT count(*) AS n FROM pg_class WHERE relname LIKE '%driftless%' AND relnamespace = 'public'::regnamespace").first!.int("n")
            + connection.query("SELECT count(*) AS n FROM pg_constraint WHERE conname LIKE '%driftless%'").first!.int("n")
        if leftovers > 0 { problems.append("\(leftovers) temporary object(s) left") }
        let notNull = try connection.query("SELECT attnotnull::text AS b FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'code'").first!.string("b")
        if notNull != "true" { problems.append("code is nullable") }
        for name in ["events_code_key", "events_owner_id_fkey"] {
            if try connection.query("SELECT count(*) AS n FROM pg_constraint WHERE conname = $1", [name]).first!.int("n") != 1 { problems.append("no \(name)") }
        }
        if try connection.query("SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'events_payload_idx'").first!.int("n") != 1 { problems.append("no events_payload_idx") }
        return problems
    }

    @Test func onlineKeepsWritersAndReadersMovingAndSurvivesAKillBetweenPhases() async throws {
        try await blocking {
            // In one transaction: the writer and the reader wait for the scans and builds.
            let (plain, plainDirectory) = try prepare("offline")
            defer { try? FileManager.default.removeItem(atPath: plainDirectory) }
            let load = Load(plain, rows: Self.rows)
            Thread.sleep(forTimeInterval: 0.5)
            let started = Date()
            let applied = try driftless(["apply", "--blueprints", plainDirectory, "--format", "json"], plain)
            let plainSeconds = Date().timeIntervalSince(started)
            Thread.sleep(forTimeInterval: 0.3)
            load.stop()
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let plainResult = try JSONDecoder().decode(ReconcileResult.self, from: Data(applied.stdout.utf8))
            #expect(plainResult.phases == nil)
            #expect(plainResult.hazards.contains { $0.hazard == .locksTable })
            #expect(try converged(plain).isEmpty)
            #expect(load.failures.isEmpty, "\(load.failures)")

            // Online, killed once its transaction committed, completed by the next run.
            let (online, onlineDirectory) = try prepare("online")
            defer { try? FileManager.default.removeItem(atPath: onlineDirectory) }
            let planned = try driftless(["plan", "--online", "--blueprints", onlineDirectory, "--format", "json"], online)
            #expect(planned.status == 2, "\(planned.stdout)\(planned.stderr)")
            let plan = try JSONDecoder().decode(ReconcileResult.self, from: Data(planned.stdout.utf8))
            #expect(!plan.hazards.contains { $0.hazard == .locksTable }, "\(plan.hazards)")
            #expect(plan.statements.contains { $0.hasPrefix("CREATE UNIQUE INDEX CONCURRENTLY \"events_code_key\"") }, "\(plan.statements)")
            #expect(plan.statements.contains { $0.hasSuffix("NOT VALID") && $0.contains("FOREIGN KEY") })

            let onlineLoad = Load(online, rows: Self.rows)
            Thread.sleep(forTimeInterval: 0.5)
            let onlineStarted = Date()
            let killed = try BackgroundProcess(RepositoryPaths.driftlessExecutable,
                                               ["apply", "--online", "--blueprints", onlineDirectory, "--format", "json", "--database-url", online.url])
            // Once the transaction's history row says the later phases are pending: SIGKILL.
            let watcher = try online.connect(applicationName: "watcher")
            var pendingSeen = false
            for _ in 0..<3000 {
                let rows = try watcher.query(
                    "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'driftless' AND tablename = 'schema_migrations'").first!.int("n")
                if rows == 1, try watcher.query(
                    "SELECT count(*) AS n FROM driftless.schema_migrations WHERE phases @> '[{\"status\": \"pending\"}]'").first!.int("n") > 0 {
                    pendingSeen = true
                    break
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
            killed.signal(SIGKILL)
            _ = killed.wait()
            #expect(pendingSeen, "the online run never recorded pending phases")
            // Its server session may still be finishing a concurrent build: let it end.
            for _ in 0..<6000 {
                let busy = try watcher.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE '%CONCURRENTLY%' AND pid <> pg_backend_pid() AND state = 'active'")
                    .first!.int("n")
                if busy == 0 { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            let afterKill = try converged(online)
            // The next run completes it. Under a loaded machine a reader's statement can outlive
            // the blocker grace: that run answers retry (exit 4) by design, and the one after goes on.
            var runs = 0
            var completed: ProcessOutput
            repeat {
                runs += 1
                completed = try driftless(["apply", "--online", "--blueprints", onlineDirectory, "--format", "json"], online)
            } while completed.status == 4 && runs < 3
            let onlineSeconds = Date().timeIntervalSince(onlineStarted)
            Thread.sleep(forTimeInterval: 0.3)
            onlineLoad.stop()
            #expect(completed.status == 0, "\(completed.stdout)\(completed.stderr)")
            let result = try JSONDecoder().decode(ReconcileResult.self, from: Data(completed.stdout.utf8))
            #expect(result.status == .ok || result.status == .noop, "\(result.summary)")
            #expect(result.phases == nil || result.phases!.allSatisfy { $0.status == .ok }, "\(String(describing: result.phases))")
            let problems = try converged(online)
            #expect(problems.isEmpty, "\(problems)")
            let again = try driftless(["plan", "--online", "--blueprints", onlineDirectory], online)
            #expect(again.status == 0, "not converged: \(again.stdout)")
            #expect(onlineLoad.failures.isEmpty, "\(onlineLoad.failures)")
            let history = try online.connect().query(
                "SELECT jsonb_array_length(phases) AS n FROM driftless.schema_migrations WHERE status = 'ok' ORDER BY id").rows.map { try $0.int("n") }
            #expect(history.contains { $0 > 1 }, "no history row records the phases: \(history)")

            func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
            print("""
                online must-show (\(Self.rows) rows, a writer and a reader throughout):
                  one transaction: apply \(seconds(plainSeconds)) s, longest write \(seconds(load.longestWrite)) s, longest read \(seconds(load.longestRead)) s (\(load.writes) writes)
                  --online:        apply \(seconds(onlineSeconds)) s incl. a SIGKILL after the transaction and the completing run, longest write \(seconds(onlineLoad.longestWrite)) s, longest read \(seconds(onlineLoad.longestRead)) s (\(onlineLoad.writes) writes)
                  left by the kill: \(afterKill.joined(separator: ", ")); completing run (\(runs) run(s)): \(result.status.rawValue) with phases \((result.phases ?? []).map { "\($0.name.rawValue)=\($0.status.rawValue)" }.joined(separator: ","))
                """)
        }
    }
}
