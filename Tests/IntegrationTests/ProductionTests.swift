import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// Changing a busy production database safely (production.md), against a real server: rewrites
/// decided by the server, blockers named instead of queued behind, lock retries counted, and
/// `--online` on a table of a million rows with a writer and a reader running throughout,
/// killed between phases and completed by the next run. Waits are printed, never asserted on
/// (docs/benchmarks.md holds the figures).
@Suite("Production-safe changes", .serialized)
struct ProductionTests {
    static let base = document("""
        tables:
          - name: t
            columns:
              - {name: id, type: bigint, primary_key: true}
              - {name: code, type: varchar(10)}
              - {name: n, type: integer}
        """)

    /// Each default and type change of the issue, with whether PostgreSQL rewrites the table
    /// for it: the plan's `rewrites_table` must say the same.
    static let rewrites: [(name: String, column: String, rewrites: Bool)] = [
        ("statement_timestamp() (stable)", "- {name: c, type: timestamptz, default: statement_timestamp()}", false),
        ("now() (stable)", "- {name: c, type: timestamptz, default: now()}", false),
        ("a constant", "- {name: c, type: text, default: \"'x'\"}", false),
        ("gen_random_uuid() (volatile)", "- {name: c, type: uuid, default: gen_random_uuid()}", true),
        ("gen_random_bytes(16) (volatile)", "- {name: c, type: bytea, default: extensions.gen_random_bytes(16)}", true),
        ("uuid_generate_v1mc() (volatile)", "- {name: c, type: uuid, default: extensions.uuid_generate_v1mc()}", true),
        ("a user's volatile function, new in the revision", "- {name: c, type: integer, default: public.next_code()}", true),
        ("a user's stable function, new in the revision", "- {name: c, type: integer, default: public.fixed_code()}", false),
        ("a stored generated column", "- {name: c, type: integer, generated: n * 2}", true),
        ("an identity column", "- {name: c, type: bigint, identity: always}", true),
        ("integer → bigint", "", true),
        ("varchar(10) → varchar(20)", "", false),
        ("varchar(10) → text", "", false),
    ]

    static let functions = """
        functions:
          - name: next_code
            returns: integer
            language: sql
            volatility: volatile
            body: select (random() * 1000)::integer
          - name: fixed_code
            returns: integer
            language: sql
            volatility: stable
            body: select 7
        """

    static func revision(_ name: String, _ column: String) -> String {
        let code = name.hasPrefix("varchar(10) → varchar(20)") ? "varchar(20)" : (name.hasPrefix("varchar(10) → text") ? "text" : "varchar(10)")
        let n = name.hasPrefix("integer → bigint") ? "bigint" : "integer"
        return document("""
            \(functions)
            tables:
              - name: t
                columns:
                  - {name: id, type: bigint, primary_key: true}
                  - {name: code, type: \(code)}
                  - {name: n, type: \(n)}
                  \(column)
            """)
    }

    @Test(arguments: SupabaseProject.allCases) func eachDefaultAndTypeChangeIsClassifiedByTheServer(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "rewrite", kind: kind)
            #expect(try reconcile(db, ["t.yaml": Self.base]).result.status == .ok)
            try db.connect().query("INSERT INTO t SELECT i, 'c' || i, i FROM generate_series(1, 100) i")
            var table: [String] = []
            for example in Self.rewrites {
                let (result, _) = try reconcile(db, ["t.yaml": Self.revision(example.name, example.column)], apply: false)
                let rewriting = result.hazards.filter { $0.hazard == .rewritesTable }
                table.append("\(example.name): rewrites_table \(rewriting.isEmpty ? "no" : "yes")")
                #expect(result.status == (example.rewrites ? .blocked : .ok), "\(example.name): \(result.summary) \(result.errors)")
                #expect(rewriting.isEmpty == !example.rewrites, "\(example.name): \(result.hazards)")
                // The server really does what the plan says: apply it and compare the table's file.
                let before = try db.connect().query("SELECT relfilenode::text AS node FROM pg_class WHERE oid = 't'::regclass").first!.string("node")
                let applied = try reconcile(db, ["t.yaml": Self.revision(example.name, example.column)], allow: [.rewritesTable, .deletesData])
                #expect(applied.result.status == .ok, "\(example.name): \(applied.result.summary) \(applied.result.errors)")
                let after = try db.connect().query("SELECT relfilenode::text AS node FROM pg_class WHERE oid = 't'::regclass").first!.string("node")
                #expect((before != after) == example.rewrites, "\(example.name): relfilenode \(before) → \(after)")
                #expect(try reconcile(db, ["t.yaml": Self.base], allow: [.rewritesTable, .deletesData], prune: true).result.status == .ok)
            }
            print("rewrites_table as the server decides it (\(kind)):\n  " + table.joined(separator: "\n  "))
        }
    }

    /// Samples ungranted lock requests on a table (a queued lock) and the longest wait of a reader.
    final class Watch: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private(set) var queued: [String] = []
        private(set) var longestRead = 0.0
        var isRunning: Bool { lock.withLock { running } }
        func stop() { lock.withLock { running = false } }
        func sawQueued(_ text: String) { lock.withLock { queued.append(text) } }
        func read(_ seconds: Double) { lock.withLock { longestRead = max(longestRead, seconds) } }
    }

    @Test(arguments: SupabaseProject.allCases) func aLongTransactionIsNamedAndNeverQueuedBehind(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "blockers", kind: kind)
            #expect(try reconcile(db, ["t.yaml": Self.base]).result.status == .ok)
            try db.connect().query("INSERT INTO t SELECT i, 'c' || i, i FROM generate_series(1, 1000) i")
            // A nightly dump: a transaction holding ACCESS SHARE on t for 30 s.
            let holder = try db.connect(applicationName: "nightly-pg_dump")
            try holder.query("BEGIN")
            try holder.query("SELECT count(*) FROM t WHERE code <> 'secret-query-text'")
            let holderPID = try holder.query("SELECT pg_backend_pid() AS pid").first!.int("pid")
            Thread.sleep(forTimeInterval: 1.5)

            let watch = Watch()
            let watcher = Thread {
                guard let connection = try? db.connect(applicationName: "watcher") else { return }
                while watch.isRunning {
                    if let rows = try? connection.query(
                        "SELECT l.pid::text || ' ' || l.mode AS lock FROM pg_locks l WHERE NOT l.granted AND l.relation = 't'::regclass").rows {
                        for row in rows { watch.sawQueued((try? row.string("lock")) ?? "?") }
                    }
                    let started = Date()
                    _ = try? connection.query("SELECT count(*) FROM t")
                    watch.read(Date().timeIntervalSince(started))
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
            watcher.start()
            let revision = document("""
                tables:
                  - name: t
                    columns:
                      - {name: id, type: bigint, primary_key: true}
                      - {name: code, type: varchar(10)}
                      - {name: n, type: integer}
                      - {name: note, type: text}
                """)
            let set = BlueprintSet.load([BlueprintSource(path: "t.yaml", text: revision)])
            var options = ReconcileOptions()
            options.lockRetries = 2
            options.lockRetryDelay = TimeSpan(milliseconds: 100)
            let blocked = Reconciler(blueprints: set, revision: "r2", options: options).apply(try db.connect())
            watch.stop()
            while watcher.isExecuting { Thread.sleep(forTimeInterval: 0.01) }
            print("blockers (\(kind)): \(blocked.status.rawValue) after \(blocked.attempts) attempts; \(blocked.errors.map(\.message)); "
                  + "longest read of t meanwhile: \(String(format: "%.3f", watch.longestRead)) s; queued lock requests seen: \(watch.queued.count)")
            #expect(blocked.status == .retry)
            #expect(blocked.attempts == 3)
            let named = blocked.errors.filter { $0.code == "blocked_by_session" }
            #expect(named.count == 1, "\(blocked.errors)")
            #expect(named.first?.message.contains("pid \(holderPID) ") == true, "\(named)")
            #expect(named.first?.message.contains("nightly-pg_dump") == true && named.first?.message.contains("idle in transaction") == true)
            #expect(named.first?.message.contains("secret-query-text") == false)
            #expect(watch.queued.isEmpty, "Driftless queued a lock request: \(watch.queued)")
            #expect(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "t")]?.column("note") == nil)
            // The holder is never cancelled; once it commits, the next attempt applies.
            #expect(try holder.query("SELECT 1 AS one").first!.int("one") == 1)
            try holder.query("COMMIT")
            let applied = Reconciler(blueprints: set, revision: "r2", options: options).apply(try db.connect())
            #expect(applied.status == .ok, "\(applied.summary) \(applied.errors)")
            #expect(applied.attempts == 1)
            let row = try db.connect().query("SELECT attempts FROM driftless.schema_migrations WHERE status = 'retry' ORDER BY id DESC LIMIT 1")
            #expect(try row.first?.int("attempts") == 3)
        }
    }

    @Test(arguments: SupabaseProject.allCases) func aLockTimeoutIsRetriedAndCounted(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "lockretry", kind: kind)
            #expect(try reconcile(db, ["t.yaml": Self.base]).result.status == .ok)
            // Without the look at blockers (--max-blocker-age 0s) the apply queues behind a
            // holder; each attempt waits 200 ms at most, then backs off.
            let holder = try db.connect(applicationName: "holder")
            try holder.query("BEGIN")
            try holder.query("LOCK TABLE t IN ACCESS SHARE MODE")
            let set = BlueprintSet.load([BlueprintSource(path: "t.yaml", text: Self.revision("a new column", "- {name: note, type: text}"))])
            var options = ReconcileOptions()
            options.lockTimeout = TimeSpan(milliseconds: 200)
            options.lockRetries = 1
            options.lockRetryDelay = TimeSpan(milliseconds: 50)
            options.maxBlockerAge = TimeSpan(milliseconds: 0)
            let result = Reconciler(blueprints: set, revision: "r2", options: options).apply(try db.connect())
            try holder.query("ROLLBACK")
            print("lock retries: \(result.status.rawValue) after \(result.attempts) attempts: \(result.errors.map { "\($0.code) \($0.sqlstate ?? "") \($0.message)" })")
            #expect(result.status == .retry)
            #expect(result.attempts == 2)
            #expect(result.errors.contains { $0.sqlstate == "55P03" }, "\(result.errors)")
            #expect(try liveCatalog(db).tables[QualifiedName(schema: "public", name: "t")]?.column("note") == nil)
            #expect(try reconcile(db, ["t.yaml": Self.revision("a new column", "- {name: note, type: text}")]).result.status == .ok)
        }
    }
}
