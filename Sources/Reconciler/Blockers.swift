import DriftlessCore
import Foundation
import Postgres

/// The pre-flight look at blocking sessions (production.md, Locks; docs/operations.md, Locks: retries
/// and blockers): before a plan takes a table lock that would queue behind another session
/// (and so make every later reader or writer of the table queue behind it), the sessions that
/// would make it wait are named instead, and Driftless answers `retry`. It never cancels or
/// terminates anyone, and never reads their query text.
public enum Blockers {
    /// A session the plan would wait behind.
    public struct Session: Sendable, Equatable {
        public var pid: Int
        public var application: String
        public var state: String
        /// Seconds since its transaction began (nil when this role may not see it).
        public var transactionAge: Double?
        /// The table it holds a conflicting lock on, or nil for a transaction older than
        /// `--max-blocker-age`.
        public var table: String?
        public var mode: String?

        /// `pid 4711 (application "pg_dump", state "active", transaction 12s old) holds AccessShareLock on public.docs`.
        public var description: String {
            let age = transactionAge.map { String(format: "%.0fs old", $0) } ?? "age unknown"
            let what = table.map { "holds \(mode ?? "a lock") on \($0)" } ?? "has a transaction open for longer than --max-blocker-age"
            return "pid \(pid) (application \"\(application)\", state \"\(state)\", transaction \(age)) \(what)"
        }

        /// The Result's error naming it (production.md, Locks).
        public var error: ResultError { ResultError(code: "blocked_by_session", message: description) }
    }

    /// The tables `changes` lock, each with the strongest lock taken on it: the table a change
    /// belongs to (in a managed schema or not: a trigger on `auth.users`), and the table a new
    /// foreign key references. Tables the plan creates are left out: nobody else can hold them
    /// (10,000 new tables made the look take seconds).
    static func targets(_ changes: [Change]) -> [QualifiedName: LockLevel] {
        let created = Set(changes.filter { $0.action == .create && $0.objectType == .table }.compactMap(\.table))
        var levels: [QualifiedName: LockLevel] = [:]
        for change in changes where change.applied {
            for operation in change.operations {
                let level = operation.lock
                guard level > .none else { continue }
                var tables = change.table.map { [$0] } ?? []
                if case .addConstraint(let constraint, _) = operation, let referenced = constraint.referencedTable { tables.append(referenced) }
                for table in tables where !created.contains(table) {
                    levels[table] = max(levels[table] ?? .none, level)
                }
            }
        }
        return levels
    }

    /// The sessions that hold a lock conflicting with the one a target needs (in a transaction
    /// open for a second or more, or idle in it: a shorter statement is what lock_timeout waits
    /// for, and a busy table always has some; a session this role may not see counts, one seen
    /// idle has let go since `pg_locks` was read), and (when any
    /// target is locked ACCESS EXCLUSIVE) those of this database whose transaction is older
    /// than `maxAge`. Autovacuum is left out: it gives way by itself. A zero `maxAge` turns the
    /// look off: Driftless then queues behind anyone, up to lock_timeout.
    /// - Throws: `PostgresError`.
    static func find(_ targets: [QualifiedName: LockLevel], maxAge: TimeSpan, _ connection: Connection) throws -> [Session] {
        guard !targets.isEmpty, maxAge.milliseconds > 0 else { return [] }
        let sorted = targets.sorted { $0.key < $1.key }
        let exclusive = targets.values.contains(.accessExclusive)
        let rows = try connection.query(
            """
            WITH target AS (
              SELECT to_regclass(t.name) AS oid, t.name, t.level FROM unnest($1::text[], $2::int[]) AS t(name, level)
               WHERE to_regclass(t.name) IS NOT NULL
            ), held AS (
              SELECT l.pid, t.name AS table_name, l.mode
                FROM target t JOIN pg_locks l ON l.locktype = 'relation' AND l.relation = t.oid AND l.granted
                LEFT JOIN pg_stat_activity s ON s.pid = l.pid
               WHERE l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND (s.state IS NULL OR s.xact_start < clock_timestamp() - interval '1 second' OR s.state LIKE 'idle in transaction%')
                 AND (t.level = 3
                      OR (t.level = 2 AND l.mode NOT IN ('AccessShareLock', 'RowShareLock'))
                      OR (t.level = 1 AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'ShareLock')))
              UNION ALL
              SELECT a.pid, NULL, NULL FROM pg_stat_activity a
               WHERE $3::boolean AND a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
                 AND a.xact_start < clock_timestamp() - make_interval(secs => $4::double precision)
            )
            SELECT DISTINCT ON (h.pid) h.pid, coalesce(a.application_name, '') AS application, coalesce(a.state, 'unknown') AS state,
                   extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS age, h.table_name, h.mode
              FROM held h LEFT JOIN pg_stat_activity a ON a.pid = h.pid
             WHERE coalesce(a.backend_type, '') <> 'autovacuum worker'
             ORDER BY h.pid, h.table_name NULLS LAST
            """,
            [PostgresArray.text(sorted.map { $0.key.sql }), PostgresArray.text(sorted.map { String($0.value.rawValue) }),
             exclusive ? "true" : "false", String(Double(maxAge.milliseconds) / 1000)])
        return try rows.rows.map { row in
            Session(pid: try row.int("pid"), application: try row.string("application"), state: try row.string("state"),
                    transactionAge: try row.text("age").flatMap(Double.init), table: try row.text("table_name"), mode: try row.text("mode"))
        }
    }
}
