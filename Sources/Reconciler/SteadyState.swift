import DriftlessCore
import Foundation
import Postgres

/// The steady-state check: a reconciliation whose blueprints and live catalogs are exactly as
/// they were when an earlier one found nothing at all to do (no change, not even an unmanaged
/// object) has nothing to do either, so it skips introspection, canonicalization and the diff.
///
/// "Exactly as they were" is a fingerprint of the catalog rows the introspection reads for the
/// managed schemas: every DDL statement writes new row versions (a new `xmin`) to at least one
/// of them, and a drop removes rows. The fingerprint is count and sum of `xmin` per catalog,
/// which a few thousand rows per hundred tables make cheap (27–30 ms of server time at 1,000
/// tables in the benchmark). What it cannot see: changes outside those catalogs that alter how
/// the server prints an expression (renaming a function a policy calls, renaming a type of an unmanaged
/// schema). Roles count only where a policy or a grant of a managed table names them (so other
/// roles coming and going elsewhere in the cluster do not defeat the check). `drift` from the
/// command line always compares in full, and the controller compares in full at least once an
/// hour (`ReconcileOptions.fullCheck`).
enum SteadyState {
    /// What a converged reconciliation reported, replayed when the check matches.
    struct Outcome: Codable, Sendable {
        /// The set's own `tenant_id` and `payload_hash` for the Result (recorded so a plan can
        /// answer before decoding the files).
        var tenantID: String
        var payloadHash: String
        /// The managed schemas the fingerprint covers, sorted.
        var schemas: [String]
        /// The Result's warnings (blueprint warnings and RLS lints of the desired state).
        var warnings: [Lint]
        /// RLS lints of the live managed tables (the drift report's warnings).
        var liveWarnings: [Lint]
        var rlsGaps: [DriftReport.RLSGap]
        /// The blueprints declare `storage`: the fingerprint covers Storage too.
        var storage: Bool? = nil
    }

    /// The blueprint files as bytes, the server and the program version: what the outcome
    /// depends on besides the live catalogs (the managed schemas follow from the files and are
    /// recorded with the row).
    static func key(sourcesDigest: String, serverVersion: Int) -> String {
        "driftless \(DriftlessVersion.current) server \(serverVersion) sources \(sourcesDigest)"
    }

    /// Count and sum of the row versions (`xmin`) of a catalog's rows, in one aggregate over
    /// `alias`. `xid` has no cast to a number except through text, which costs more than the
    /// scan; `age()` is an integer, relative to this transaction: the sum of age(xmin) less
    /// age('3') (3 is the first normal xid) per row is the same in every transaction. One
    /// `age()` per row (it is most of the aggregate's cost), summed as the `integer` it is
    /// (`sum(integer)` adds in a `bigint`; a `bigint` argument adds in 128 bits: 41 ms instead
    /// of 59 over pg_attribute at 10,000 tables); the bootstrap and frozen xids (1 and 2, which
    /// age() reads as infinitely old) are left out by a comparison.
    static func versions(_ alias: String) -> String {
        let normal = "\(alias).xmin <> '1'::xid AND \(alias).xmin <> '2'::xid"
        return "coalesce(sum(age(\(alias).xmin)) FILTER (WHERE \(normal)) - count(*) FILTER (WHERE \(normal)) * age('3'::xid), 0)"
    }

    /// Per system catalog, the part of the fingerprint that covers its rows of the managed
    /// schemas. Every catalog a registered object kind names (`ObjectKind.catalogs`) must have
    /// one: a kind whose catalog the fingerprint does not read would be answered noop after a
    /// change by hand (a test checks the registry against this table).
    static let catalogParts: [String: String] = [
        "pg_namespace": "(SELECT count(*) || ':' || \(versions("n")) || ':' || coalesce(string_agg(n.nspname, ',' ORDER BY n.nspname), '') FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns))",
        "pg_class": "(SELECT count(*) || ':' || \(versions("c")) || ':' || coalesce(sum(c.oid::bigint), 0) FROM cls c)",
        "pg_attribute": "(SELECT count(*) || ':' || \(versions("a")) FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0)",
        "pg_attrdef": "(SELECT count(*) || ':' || \(versions("d")) FROM rel JOIN pg_attrdef d ON d.adrelid = rel.oid)",
        "pg_constraint": "(SELECT count(*) || ':' || \(versions("x")) FROM pg_constraint x WHERE x.connamespace IN (SELECT oid FROM ns))",
        "pg_index": "(SELECT count(*) || ':' || \(versions("i")) FROM rel JOIN pg_index i ON i.indrelid = rel.oid)",
        "pg_policy": "(SELECT count(*) || ':' || \(versions("p")) FROM pol p)",
        // Triggers of managed tables, and triggers elsewhere (auth.users) calling a managed function.
        // Internal ones (foreign keys') are their constraints', which pg_constraint covers.
        "pg_trigger": "(SELECT count(*) || ':' || \(versions("g")) FROM pg_trigger g WHERE NOT g.tgisinternal AND (g.tgrelid IN (SELECT oid FROM rel) OR g.tgfoid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns))))",
        // Functions, their privileges and owners (a replaced body writes a new row version).
        "pg_proc": "(SELECT count(*) || ':' || \(versions("pr")) || ':' || coalesce(sum(pr.oid::bigint), 0) FROM pg_proc pr WHERE pr.pronamespace IN (SELECT oid FROM ns))",
        // Every extension of the database: they are not per schema.
        "pg_extension": "(SELECT count(*) || ':' || \(versions("ex")) || ':' || coalesce(sum(ex.oid::bigint), 0) FROM pg_extension ex)",
        "pg_type": "(SELECT count(*) || ':' || \(versions("t")) FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM ns) AND t.typtype = 'e')",
        "pg_enum": "(SELECT count(*) || ':' || \(versions("e")) FROM pg_enum e WHERE e.enumtypid IN (SELECT t.oid FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM ns)))",
        // Comments of tables, columns, views and materialized views.
        "pg_description": "(SELECT count(*) || ':' || \(versions("d")) FROM cls c JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass)",
        // A view's query is its rewrite rule: CREATE OR REPLACE VIEW writes a new row version.
        "pg_rewrite": "(SELECT count(*) || ':' || \(versions("rw")) FROM cls c JOIN pg_rewrite rw ON rw.ev_class = c.oid)",
        "pg_inherits": "(SELECT count(*) || ':' || \(versions("h")) FROM rel JOIN pg_inherits h ON h.inhrelid = rel.oid)",
        "pg_sequence": "(SELECT count(*) || ':' || \(versions("q")) FROM cls c JOIN pg_sequence q ON q.seqrelid = c.oid)",
        // Which column owns a sequence (OWNED BY) is only a pg_depend row.
        // An index scan per sequence: a join read all of pg_depend (60 ms at 10,000 tables).
        "pg_depend": "(SELECT count(*) || ':' || \(versions("dp")) FROM pg_depend dp WHERE dp.classid = 'pg_class'::regclass AND dp.deptype = 'a' AND dp.objid = ANY (ARRAY(SELECT c.oid FROM cls c WHERE c.relkind = 'S')))",
        // Realtime: the publication's own row (FOR ALL TABLES), its tables and its schemas.
        "pg_publication": "(SELECT count(*) || ':' || \(versions("pb")) FROM pg_publication pb WHERE pb.pubname = 'supabase_realtime')",
        "pg_publication_rel": "(SELECT count(*) || ':' || \(versions("pbr")) FROM rel JOIN pg_publication_rel pbr ON pbr.prrelid = rel.oid)",
        "pg_publication_namespace": "(SELECT count(*) || ':' || \(versions("pbn")) FROM pg_publication_namespace pbn WHERE pbn.pnnspid IN (SELECT oid FROM ns))",
        "pg_partitioned_table": "(SELECT count(*) || ':' || \(versions("k")) FROM rel JOIN pg_partitioned_table k ON k.partrelid = rel.oid)",
    ]

    /// The registered kinds' catalogs that `catalogParts` does not cover (empty, or the
    /// fingerprint is incomplete).
    static var uncoveredCatalogs: Set<String> { ObjectKinds.catalogs.subtracting(catalogParts.keys) }

    /// The roles a policy or a grant of a managed table names (so other roles coming and going
    /// elsewhere in the cluster do not defeat the check).
    static let rolesPart = """
        (SELECT md5(string_agg(r.oid::text || ':' || r.rolname, ',' ORDER BY r.oid)) FROM pg_roles r
           WHERE r.oid IN (SELECT unnest(polroles) FROM (SELECT DISTINCT p.polroles FROM pol p) x
                           UNION SELECT (aclexplode(relacl)).grantee FROM (SELECT DISTINCT relacl FROM rel WHERE relacl IS NOT NULL) y))
        """

    static let query = """
        WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = ANY($1::text[])),
        -- pg_class is read once (it was read five times: 40 ms of 235 at 10,000 tables).
        cls AS MATERIALIZED (SELECT c.oid, c.xmin, c.relkind, c.relacl FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)),
        rel AS MATERIALIZED (SELECT oid, relacl FROM cls WHERE relkind IN ('r', 'p')),
        -- The policies of managed tables, read once for their versions and their roles.
        pol AS MATERIALIZED (SELECT p.xmin, p.polroles FROM rel JOIN pg_policy p ON p.polrelid = rel.oid)
        SELECT md5(concat_ws('|',
        \((ObjectKinds.catalogs.sorted().compactMap { catalogParts[$0] } + [rolesPart]).joined(separator: ",\n"))
        )) AS fingerprint, \(snapshotColumn)
        """

    /// The snapshot a statement read under, as text, or null when this transaction has an xid of
    /// its own (its own uncommitted changes are not in the snapshot).
    static let snapshotColumn = "CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN pg_current_snapshot()::text END AS snapshot"

    /// A fingerprint and the snapshot it was read under.
    struct Reading: Equatable {
        var fingerprint: String
        /// `pg_current_snapshot()` of the statement that read it; nil when the transaction had
        /// an xid of its own.
        var snapshot: String?
        /// The covered catalogs' activity counters (`Activity.read`), read before the
        /// fingerprint; nil when they were not read or cannot be trusted.
        var counters: String? = nil
        /// When the fingerprint was read (the counters are trusted for a while after).
        var readAt: ContinuousClock.Instant? = nil
    }

    /// The fingerprint of the managed schemas' catalogs, as this transaction sees them now.
    /// - Throws: `PostgresError`.
    static func fingerprint(_ connection: Connection, schemas: [String], storage: Bool = false) throws -> String {
        try read(connection, schemas: schemas, storage: storage).fingerprint
    }

    /// The fingerprint, with the snapshot of the statement that read the catalogs.
    /// - Throws: `PostgresError`.
    static func read(_ connection: Connection, schemas: [String], storage: Bool = false) throws -> Reading {
        seenLock.withLock { reads[connection.connectionString.description, default: 0] += 1 }
        // Hash joins whatever the statistics say. Right after a thousand tables are created the
        // catalogs' statistics still describe the template database until autovacuum analyzes
        // them, and the planner then chose nested loops that read pg_attrdef once per table:
        // 250 ms instead of 25 at 1,000 tables, for every tick until then. Only for this query:
        // the introspection's correlated lookups want nested loops (2.4 s without them).
        let previous = try connection.query(
            "SELECT current_setting('enable_nestloop') AS previous, set_config('enable_nestloop', 'off', true)").first!.string("previous")
        let row = try connection.query(query, [PostgresArray.text(schemas)]).first!
        try connection.query("SELECT set_config('enable_nestloop', $1, true)", [previous])
        var reading = Reading(fingerprint: try row.string("fingerprint"), snapshot: try row.text("snapshot"))
        guard storage else { return reading }
        guard try StorageCatalog.present(connection) else {
            reading.fingerprint += " storage absent"
            return reading
        }
        reading.fingerprint += " storage " + (try connection.query(storagePart).first!.string("fingerprint"))
        return reading
    }

    /// This transaction's snapshot now, as text (nil when it has an xid of its own).
    /// - Throws: `PostgresError`.
    static func snapshot(_ connection: Connection) throws -> String? {
        try connection.query("SELECT \(snapshotColumn)").first!.text("snapshot")
    }

    /// Whether the catalogs still read as `reading` did. When no transaction has ended anywhere
    /// in the cluster since it was read (the snapshot is the same: the xids in progress, the
    /// latest completed one), nothing can have changed a catalog, so nothing is read again.
    /// - Throws: `PostgresError`.
    static func stillHolds(_ reading: Reading, _ connection: Connection, schemas: [String], storage: Bool) throws -> Bool {
        if try unchanged(since: reading, connection) { return true }
        return try fingerprint(connection, schemas: schemas, storage: storage) == reading.fingerprint
    }

    /// No transaction has ended anywhere in the cluster since `reading` was taken (false when
    /// it has no snapshot).
    static func unchanged(since reading: Reading, _ connection: Connection) throws -> Bool {
        guard let before = reading.snapshot else { return false }
        return try snapshot(connection) == before
    }

    /// Whether `record` (recorded under `key`) holds now. A match this process saw holds without
    /// reading the catalogs while no transaction has ended since (docs/engine.md, A match
    /// remembered until a transaction ends), and, when `trustCounters` is given, while the
    /// covered catalogs' activity counters are those read before it and it is younger than
    /// `trustCounters` (docs/engine.md, Between exact readings); otherwise they are read, and a
    /// match remembered. `reading`: the fingerprint read, when one was.
    /// - Throws: `PostgresError`.
    static func check(_ record: Record, key: String, _ connection: Connection, schemas: [String],
                      storage: Bool, trustCounters: Duration? = nil) throws -> (holds: Bool, reading: Reading?) {
        let seen = matched(connection, key: key).flatMap { $0.fingerprint == record.fingerprint ? $0 : nil }
        var counters: String?
        if let window = trustCounters {
            let activity = try Activity.read(connection, storage: storage)
            if let seen {
                if let before = seen.snapshot, activity.snapshot == before { return (true, nil) }
                if let before = seen.counters, activity.counters == before, let readAt = seen.readAt,
                   ContinuousClock.now - readAt < window { return (true, nil) }
            }
            counters = activity.counters
        } else if let seen, try unchanged(since: seen, connection) {
            return (true, nil)
        }
        // The counters were read before the fingerprint's statement took its snapshot: a change
        // the fingerprint misses moves them later.
        var now = try read(connection, schemas: schemas, storage: storage)
        now.counters = counters
        now.readAt = .now
        guard now.fingerprint == record.fingerprint else { return (false, now) }
        remember(now, connection, key: key)
        return (true, now)
    }

    /// What a check reads before deciding whether to read the catalogs: the snapshot, and the
    /// activity counters of the catalogs the fingerprint covers (docs/engine.md, Between exact
    /// readings).
    enum Activity {
        /// The catalogs whose rows the fingerprint reads (roles through `pg_authid`), by name.
        static let catalogs = (catalogParts.keys.sorted() + ["pg_authid"]).map { "pg_catalog." + $0 }

        /// The statement. The counters (rows inserted, updated and deleted, summed over the
        /// catalogs: each only grows, so an equal sum is equal counters) come with the database's
        /// last statistics reset. Null when they cannot be trusted: statistics are not counted
        /// (`track_counts` off), or the transaction is not READ COMMITTED (its snapshot may
        /// predate the counters, so the fingerprint read after them could miss what they count).
        static let query = """
            SELECT \(snapshotColumn),
              CASE WHEN current_setting('track_counts')::bool AND current_setting('transaction_isolation') = 'read committed'
                THEN coalesce(pg_stat_get_db_stat_reset_time(d.oid)::text, '-') || ':' ||
                  (SELECT sum(pg_stat_get_tuples_inserted(r) + pg_stat_get_tuples_updated(r) + pg_stat_get_tuples_deleted(r))
                     FROM (SELECT to_regclass(n) AS r FROM unnest($1::text[]) n) c WHERE r IS NOT NULL)
              END AS counters
            FROM pg_database d WHERE d.datname = current_database()
            """

        /// The snapshot and the counters; Storage's buckets count when `storage`.
        /// - Throws: `PostgresError`.
        static func read(_ connection: Connection, storage: Bool) throws -> (snapshot: String?, counters: String?) {
            let names = catalogs + (storage ? ["storage.buckets"] : [])
            let row = try connection.query(query, [PostgresArray.text(names)]).first!
            return (try row.text("snapshot"), try row.text("counters"))
        }
    }

    // MARK: Readings that matched a record, in this process

    private static let seenLock = NSLock()
    /// By database and steady-state key: the reading that last matched the recorded converged state.
    nonisolated(unsafe) private static var seen: [String: Reading] = [:]
    /// How many times this process read the catalogs for a fingerprint, by database.
    nonisolated(unsafe) private static var reads: [String: Int] = [:]
    /// How many are kept (a fleet process serves one entry per target).
    static let seenLimit = 100_000

    private static func place(_ connection: Connection, key: String) -> String { "\(connection.connectionString.description)\u{0}\(key)" }

    /// How many times this process read the catalogs of `connection`'s database for a fingerprint.
    static func catalogReads(_ connection: Connection) -> Int {
        seenLock.withLock { reads[connection.connectionString.description, default: 0] }
    }

    /// The reading that last matched the record of `key` on this connection's database.
    private static func matched(_ connection: Connection, key: String) -> Reading? {
        seenLock.withLock { seen[place(connection, key: key)] }
    }

    /// Remembers that `reading` matched the record of `key` (only a reading with a snapshot).
    private static func remember(_ reading: Reading, _ connection: Connection, key: String) {
        guard reading.snapshot != nil else { return }
        seenLock.withLock {
            if seen.count >= seenLimit {
                seen.removeAll()
                reads.removeAll()
            }
            seen[place(connection, key: key)] = reading
        }
    }

    /// Storage, when blueprints declare it (docs/blueprints.md, Storage): the rows of
    /// `storage.buckets` (they are data, so their `xmin` changes with every update), the policies
    /// of `storage.objects` and their comments. Objects coming and going are not covered: they
    /// only matter to an undeclared bucket, which is a change and so never a converged state.
    static let storagePart = """
        SELECT md5(concat_ws('|',
          (SELECT count(*) || ':' || \(versions("b")) FROM storage.buckets b),
          (SELECT count(*) || ':' || \(versions("p")) FROM pg_policy p WHERE p.polrelid = 'storage.objects'::regclass),
          (SELECT count(*) || ':' || \(versions("d")) FROM pg_policy p JOIN pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_policy'::regclass
            WHERE p.polrelid = 'storage.objects'::regclass))) AS fingerprint
        """

    /// A recorded converged state.
    struct Record {
        var fingerprint: String
        var outcome: Outcome
    }

    /// The converged state recorded for `key`. Nil when there is none or this role may not read
    /// the history schema.
    /// - Throws: `PostgresError` other than a missing or unreadable table.
    static func lookup(key: String, history: History, _ connection: Connection) throws -> Record? {
        guard let row = try history.optionalRow(
            from: history.convergedTableName, "SELECT fingerprint, outcome FROM \(history.convergedTable) WHERE key = $1", [key],
            connection) else { return nil }
        return Record(fingerprint: try row.string("fingerprint"), outcome: try row.json("outcome", as: Outcome.self))
    }

    /// Records that `key` converged at `fingerprint`, inside the caller's transaction (which
    /// holds the reconciliation lock). One row per key: the latest converged state wins.
    /// - Throws: `PostgresError`.
    static func store(key: String, fingerprint: String, outcome: Outcome, history: History, _ connection: Connection) throws {
        let json = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
        try connection.query("""
            INSERT INTO \(history.convergedTable) (key, fingerprint, outcome) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, outcome = EXCLUDED.outcome, recorded_at = now()
            """, [key, fingerprint, json])
        // One row per converged set of files: keep the most recent ones only.
        try connection.query("""
            DELETE FROM \(history.convergedTable) WHERE key NOT IN
              (SELECT key FROM \(history.convergedTable) ORDER BY recorded_at DESC, key LIMIT \(keptRecords))
            """)
    }

    /// How many converged states are kept (older revisions, other directories).
    static let keptRecords = 50

    /// `plan` before decoding a single file: when these exact files converged on this server
    /// and the catalogs are as they were left, the answer is the recorded `noop`. Rolled back;
    /// changes nothing. Nil when the check cannot answer (then decode and plan in full).
    static func plan(sources: [BlueprintSource], revision: String?, options: ReconcileOptions, _ connection: Connection) -> ReconcileResult? {
        guard !options.fullCheck else { return nil }
        let started = Date()
        defer { connection.rollbackQuietly() }
        do {
            try connection.query("BEGIN")
            let key = key(sourcesDigest: BlueprintSet.sourcesDigest(sources), serverVersion: connection.serverVersion)
            guard let record = try lookup(key: key, history: options.history, connection),
                  try fingerprint(connection, schemas: record.outcome.schemas, storage: record.outcome.storage ?? false) == record.fingerprint else { return nil }
            let owner = options.identity ?? (record.outcome.tenantID, record.outcome.payloadHash)
            var result = Reconciler.result(.noop, "nothing to do", owner: owner, revision: revision, trigger: options.trigger, started: started)
            result.warnings = record.outcome.warnings
            return result
        } catch {
            return nil
        }
    }
}
