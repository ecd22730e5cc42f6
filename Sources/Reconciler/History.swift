import DriftlessCore
import Foundation
import Postgres

/// The history table (reconcile.md) and the record of managed objects, in their own schema.
public struct History: Sendable {
    public let schema: String

    public init(schema: String = "driftless") { self.schema = schema }

    var migrations: String { "\(quoteIdentifier(schema)).\"schema_migrations\"" }
    /// The record of managed objects before it was kept per schema set (read once, then replaced).
    var legacyManagedObjects: String { "\(quoteIdentifier(schema)).\"managed_objects\"" }
    var legacyManagedObjectsName: String { "\(quoteIdentifier(schema)).managed_objects" }
    var managedObjects: String { "\(quoteIdentifier(schema)).\"managed_identities\"" }
    var managedObjectsName: String { "\(quoteIdentifier(schema)).managed_identities" }
    var cacheTable: String { "\(quoteIdentifier(schema)).\"canonical_cache\"" }
    var cacheTableName: String { "\(quoteIdentifier(schema)).canonical_cache" }
    var apiBlueprints: String { "\(quoteIdentifier(schema)).\"blueprints\"" }
    var convergedTable: String { "\(quoteIdentifier(schema)).\"steady_state\"" }
    var convergedTableName: String { "\(quoteIdentifier(schema)).steady_state" }
    var ownershipTable: String { "\(quoteIdentifier(schema)).\"ownership\"" }
    var ownershipTableName: String { "\(quoteIdentifier(schema)).ownership" }

    /// Creates the schema and tables when missing. RLS on, no policies, no API-role privileges.
    /// Must run inside a transaction. Safe when several processes run it at once: `CREATE ...
    /// IF NOT EXISTS` racing another transaction's creation waits for it and then fails with a
    /// unique violation on the catalog, so that attempt is rolled back to a savepoint and redone.
    /// - Throws: `PostgresError`.
    public func ensure(_ connection: Connection) throws {
        for attempt in 1... {
            try connection.query("SAVEPOINT driftless_ensure")
            do {
                try create(connection)
                try connection.query("RELEASE SAVEPOINT driftless_ensure")
                return
            } catch let error as PostgresError where attempt < 5 && ["23505", "42P06", "42P07", "42710"].contains(error.sqlstate ?? "") {
                try connection.query("ROLLBACK TO SAVEPOINT driftless_ensure")
            }
        }
    }

    /// Columns of schema_migrations newer than its first version: the phases of an online
    /// apply and how many attempts it took (production.md).
    private var addedColumns: [String] {
        [
            "ALTER TABLE \(migrations) ADD COLUMN IF NOT EXISTS phases jsonb NOT NULL DEFAULT '[]'",
            "ALTER TABLE \(migrations) ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 1",
        ]
    }

    /// Changes to tables of an earlier version. The canonical cache holds its catalogs as text:
    /// jsonb made the server parse and print megabytes it never looks into (60 MB at 10,000
    /// tables). Its rows are of an earlier format, never read again: they go.
    private var upgrades: [String] {
        [
            "DELETE FROM \(cacheTable)",
            "ALTER TABLE \(cacheTable) ALTER COLUMN catalog TYPE text",
        ]
    }

    private func create(_ connection: Connection) throws {
        let exists = try connection.query(
            """
            SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AND to_regclass($4) IS NOT NULL
                   AND to_regclass($5) IS NOT NULL AND to_regclass($6) IS NOT NULL AS present,
                   (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname IN ('phases', 'attempts') AND NOT attisdropped) = 2
                   AND coalesce((SELECT atttypid = 'text'::regtype FROM pg_attribute WHERE attrelid = to_regclass($3) AND attname = 'catalog'), false) AS up_to_date
            """,
            ["\(quoteIdentifier(schema)).schema_migrations", managedObjectsName, cacheTableName,
             "\(quoteIdentifier(schema)).blueprints", convergedTableName, ownershipTableName]).first!
        if try exists.bool("present") {
            // Tables of an earlier version gain the columns added since (production.md).
            if try !exists.bool("up_to_date") { for statement in addedColumns + upgrades { try connection.query(statement) } }
            return
        }
        let statements = [
            "CREATE SCHEMA IF NOT EXISTS \(quoteIdentifier(schema))",
            """
            CREATE TABLE IF NOT EXISTS \(migrations) (
              id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              version         text        NOT NULL,
              tenant_id       uuid        NOT NULL,
              idempotency_key text        NOT NULL,
              trigger_kind    text        NOT NULL,
              trigger_id      text        NOT NULL,
              revision        text,
              payload_hash    text        NOT NULL,
              status          text        NOT NULL CHECK (status IN ('ok','noop','blocked','retry','failed')),
              summary         text        NOT NULL,
              statements      text[]      NOT NULL DEFAULT '{}',
              rls_tables      text[]      NOT NULL DEFAULT '{}',
              hazards         jsonb       NOT NULL DEFAULT '[]',
              errors          jsonb       NOT NULL DEFAULT '[]',
              started_at      timestamptz NOT NULL,
              finished_at     timestamptz NOT NULL,
              applied_by      text        NOT NULL DEFAULT current_user,
              controller      text        NOT NULL
            )
            """,
        ] + addedColumns + [
            "CREATE UNIQUE INDEX IF NOT EXISTS schema_migrations_idempotency_key ON \(migrations) (idempotency_key) WHERE status IN ('ok', 'noop')",
            // Per schema set (the advisory lock key), by typed identity (ObjectID.key).
            "CREATE TABLE IF NOT EXISTS \(managedObjects) (lock_key bigint NOT NULL, object text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (lock_key, object))",
            "CREATE TABLE IF NOT EXISTS \(cacheTable) (key text PRIMARY KEY, catalog text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE IF NOT EXISTS \(apiBlueprints) (tenant_id uuid PRIMARY KEY, document jsonb NOT NULL, payload_hash text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
            "CREATE TABLE IF NOT EXISTS \(convergedTable) (key text PRIMARY KEY, fingerprint text NOT NULL, outcome jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())",
            // Who owns each object of an API blueprint (reconcile.md, Ownership is a database fact).
            "CREATE TABLE IF NOT EXISTS \(ownershipTable) (object text PRIMARY KEY, owner text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now())",
            "ALTER TABLE \(ownershipTable) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(apiBlueprints) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(convergedTable) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(migrations) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(managedObjects) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(cacheTable) ENABLE ROW LEVEL SECURITY",
        ]
        for statement in statements { try connection.query(statement) }
        // Supabase's API roles must not read the history, whatever default privileges say.
        let roles = try connection.query("SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated')").rows.map { try $0.string("rolname") }
        for role in roles {
            try connection.query("REVOKE ALL ON \(migrations), \(managedObjects), \(cacheTable), \(apiBlueprints), \(convergedTable), \(ownershipTable) FROM \(quoteIdentifier(role))")
            try connection.query("REVOKE ALL ON SCHEMA \(quoteIdentifier(schema)) FROM \(quoteIdentifier(role))")
        }
    }

    /// The row `sql` (with `parameters`) reads from the history table `tableName`, or nil when
    /// there is none, the table does not exist yet, or this role may not read the history schema
    /// (a role that may only read). Runs in a savepoint, so a refusal leaves the caller's
    /// transaction usable.
    /// - Throws: `PostgresError` for other failures.
    func optionalRow(from tableName: String, _ sql: String, _ parameters: [String?], _ connection: Connection) throws -> Row? {
        try connection.query("SAVEPOINT driftless_optional")
        do {
            guard try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [tableName]).first!.bool("present") else {
                try connection.query("RELEASE SAVEPOINT driftless_optional")
                return nil
            }
            let row = try connection.query(sql, parameters).first
            try connection.query("RELEASE SAVEPOINT driftless_optional")
            return row
        } catch let error as PostgresError where error.sqlstate == "42501" {
            try connection.query("ROLLBACK TO SAVEPOINT driftless_optional")
            return nil
        }
    }

    /// Whether the history tables exist (a read-only plan does not create them).
    public func exists(_ connection: Connection) throws -> Bool {
        try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", ["\(quoteIdentifier(schema)).schema_migrations"]).first!.bool("present")
    }

    /// The blueprints stored by `POST /v1/blueprints`, as sources named `api/<tenant_id>.json`.
    public func storedAPIBlueprints(_ connection: Connection, excluding excludedTenant: String? = nil) throws -> [BlueprintSource] {
        guard try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", ["\(quoteIdentifier(schema)).blueprints"]).first!.bool("present") else {
            return []
        }
        let excluded = excludedTenant?.lowercased()
        var sources: [BlueprintSource] = []
        for row in try connection.query("SELECT tenant_id::text AS tenant, document::text AS document FROM \(apiBlueprints) ORDER BY tenant_id").rows {
            let owner = try row.string("tenant")
            if owner == excluded { continue }
            sources.append(BlueprintSource(path: "api/\(owner).json", text: try row.string("document")))
        }
        return sources
    }

    /// Stores (or replaces) one tenant's API blueprint, inside the caller's transaction.
    public func storeAPIBlueprint(tenant: String, document: String, payloadHash: String, _ connection: Connection) throws {
        try connection.query(
            """
            INSERT INTO \(apiBlueprints) (tenant_id, document, payload_hash, updated_at) VALUES ($1::uuid, $2::jsonb, $3, now())
            ON CONFLICT (tenant_id) DO UPDATE SET document = excluded.document, payload_hash = excluded.payload_hash, updated_at = now()
            """, [tenant, document, payloadHash])
    }

    /// Objects an earlier successful reconciliation of the schema set `lockKey` managed. Before
    /// the record was kept per schema set it held untyped names: when this set has no typed
    /// record yet, a live object of the set's schemas whose name the old record lists counts as
    /// managed (what the old record meant), until the set's next apply writes its own.
    /// - Throws: `PostgresError`.
    public func managed(lockKey: Int64, live: Catalog, _ connection: Connection) throws -> Set<ObjectID> {
        if try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [managedObjectsName]).first!.bool("present") {
            let keys = try connection.query("SELECT object FROM \(managedObjects) WHERE lock_key = $1::bigint", [String(lockKey)])
                .rows.map { try $0.string("object") }
            if !keys.isEmpty { return Set(keys.compactMap(ObjectID.init(key:))) }
        }
        guard try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [legacyManagedObjectsName]).first!.bool("present") else {
            return []
        }
        let names = Set(try connection.query("SELECT object FROM \(legacyManagedObjects)").rows.map { try $0.string("object") })
        return ObjectKinds.identities(in: live).filter { names.contains($0.description) }
    }

    /// The keys `recordManaged` writes for `objects`, in order.
    public static func managedKeys(_ objects: Set<ObjectID>) -> [String] { objects.map(\.key).sorted() }

    /// Replaces the record of the schema set `lockKey` (other sets' records stay) with `keys`
    /// (`managedKeys` of its objects), and forgets the old untyped names of its schemas.
    /// - Throws: `PostgresError`.
    public func recordManaged(keys: [String], lockKey: Int64, schemas: [String], _ connection: Connection) throws {
        try connection.query("DELETE FROM \(managedObjects) WHERE lock_key = $1::bigint", [String(lockKey)])
        try connection.query("INSERT INTO \(managedObjects) (lock_key, object) SELECT $1::bigint, unnest($2::text[])",
                             [String(lockKey), PostgresArray.text(keys)])
        if try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [legacyManagedObjectsName]).first!.bool("present") {
            try connection.query(
                "DELETE FROM \(legacyManagedObjects) WHERE object = ANY($1::text[]) OR split_part(object, '.', 1) = ANY($1::text[])",
                [PostgresArray.text(schemas)])
        }
    }

    /// The recorded ok/noop result for an idempotency key, if any.
    public func recorded(key: String, _ connection: Connection) throws -> ReconcileResult? {
        try connection.query("SELECT * FROM \(migrations) WHERE idempotency_key = $1 AND status IN ('ok', 'noop') ORDER BY id DESC LIMIT 1", [key])
            .first.map { try HistoryRow(row: $0).result }
    }

    /// Whether a lock-busy `retry` of `revision` is recorded already.
    public func hasLockBusyRow(revision: String, _ connection: Connection) throws -> Bool {
        guard try exists(connection) else { return false }
        return try connection.query(
            "SELECT EXISTS (SELECT 1 FROM \(migrations) WHERE revision = $1 AND status = 'retry' AND errors @> '[{\"code\": \"locked\"}]') AS present",
            [revision]).first!.bool("present")
    }

    /// The newest status recorded at `revision`, nil when there is none (or no history yet):
    /// what a fleet's waves read (fleet.md, Waves).
    public func status(at revision: String, _ connection: Connection) throws -> ReconcileStatus? {
        guard try exists(connection) else { return nil }
        return try connection.query("SELECT status FROM \(migrations) WHERE revision = $1 ORDER BY id DESC LIMIT 1", [revision])
            .first.flatMap { ReconcileStatus(rawValue: try $0.string("status")) }
    }

    /// The revision of the newest row, for "one noop row per new revision".
    public func latestRevision(_ connection: Connection) throws -> String? {
        try connection.query("SELECT revision FROM \(migrations) ORDER BY id DESC LIMIT 1").first?.text("revision")
    }

    /// Inserts a row for `result`; returns its id.
    /// - Throws: `PostgresError`.
    public func record(_ result: ReconcileResult, startedAt: Date, controller: String, _ connection: Connection) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMddHHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let row = try connection.query(
            """
            INSERT INTO \(migrations) (version, tenant_id, idempotency_key, trigger_kind, trigger_id, revision, payload_hash,
              status, summary, statements, rls_tables, hazards, errors, started_at, finished_at, controller, phases, attempts)
            VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10::text[], $11::text[], $12::jsonb, $13::jsonb,
              to_timestamp($14::double precision), clock_timestamp(), $15, $16::jsonb, $17::integer)
            RETURNING id
            """,
            [
                formatter.string(from: startedAt), result.tenantID, result.idempotencyKey, result.trigger.kind, result.trigger.id,
                result.revision, result.payloadHash, result.status.rawValue, result.summary,
                PostgresArray.text(result.statements), PostgresArray.text(result.rlsTables),
                String(decoding: try encoder.encode(result.hazards), as: UTF8.self),
                String(decoding: try encoder.encode(result.errors), as: UTF8.self),
                String(startedAt.timeIntervalSince1970), controller,
                String(decoding: try encoder.encode(result.phases ?? []), as: UTF8.self), String(result.attempts),
            ])
        return try row.first!.int("id")
    }

    /// Records how far the phases of an online apply got, on the row its main transaction wrote.
    /// - Throws: `PostgresError`.
    public func updatePhases(_ phases: [ResultPhase], status: ReconcileStatus, summary: String, errors: [ResultError], id: Int,
                             _ connection: Connection) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try connection.query(
            "UPDATE \(migrations) SET phases = $1::jsonb, status = $2, summary = $3, errors = $4::jsonb, finished_at = clock_timestamp() WHERE id = $5",
            [String(decoding: try encoder.encode(phases), as: UTF8.self), status.rawValue, summary,
             String(decoding: try encoder.encode(errors), as: UTF8.self), String(id)])
    }

    /// Rows, newest first.
    /// The newest `limit` rows, only `tenant`'s when given.
    public func rows(limit: Int, tenant: String? = nil, _ connection: Connection) throws -> [HistoryRow] {
        guard try exists(connection) else { return [] }
        return try connection.query("SELECT * FROM \(migrations) WHERE $2::uuid IS NULL OR tenant_id = $2::uuid ORDER BY id DESC LIMIT $1",
                                    [String(limit), tenant]).rows.map(HistoryRow.init)
    }

    /// Claims `objects` for `owner` inside the caller's (locked) transaction and answers the
    /// ones another owner holds. The primary key makes two racing claims of one object end
    /// with one owner: the second insert waits for the first transaction, then finds its row.
    /// - Throws: `PostgresError`.
    public func claim(_ objects: Set<String>, owner: String, _ connection: Connection) throws -> [String: String] {
        guard !objects.isEmpty else { return [:] }
        try connection.query(
            "INSERT INTO \(ownershipTable) (object, owner) SELECT unnest($1::text[]), $2 ON CONFLICT (object) DO NOTHING",
            [PostgresArray.text(objects.sorted()), owner])
        var others: [String: String] = [:]
        for row in try connection.query("SELECT object, owner FROM \(ownershipTable) WHERE object = ANY($1::text[]) AND owner <> $2",
                                         [PostgresArray.text(objects.sorted()), owner]).rows {
            others[try row.string("object")] = try row.string("owner")
        }
        return others
    }

    /// Gives up `owner`'s claims on everything but `kept` (objects its new document no longer has).
    public func release(owner: String, keeping kept: Set<String>, _ connection: Connection) throws {
        try connection.query("DELETE FROM \(ownershipTable) WHERE owner = $1 AND NOT (object = ANY($2::text[]))",
                             [owner, PostgresArray.text(kept.sorted())])
    }

    /// The objects `owner` holds.
    public func owned(by owner: String, _ connection: Connection) throws -> Set<String> {
        guard try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [ownershipTableName]).first!.bool("present") else { return [] }
        return Set(try connection.query("SELECT object FROM \(ownershipTable) WHERE owner = $1", [owner]).rows.map { try $0.string("object") })
    }

    /// The newest ok or noop result of `tenant` for a trigger id seen in the last 24 hours.
    public func recentTrigger(_ triggerID: String, tenant: String, _ connection: Connection) throws -> ReconcileResult? {
        guard try exists(connection) else { return nil }
        return try connection.query(
            """
            SELECT * FROM \(migrations) WHERE trigger_id = $1 AND tenant_id = $2::uuid AND status IN ('ok', 'noop')
              AND started_at > now() - interval '24 hours' ORDER BY id DESC LIMIT 1
            """, [triggerID, tenant]).first.map { try HistoryRow(row: $0).result }
    }
}

/// One row of the history table, as `history --format json` prints it.
public struct HistoryRow: Sendable, Codable {
    public var id: Int
    public var version: String
    public var tenantID: String
    public var idempotencyKey: String
    public var triggerKind: String
    public var triggerID: String
    public var revision: String?
    public var payloadHash: String
    public var status: String
    public var summary: String
    public var statements: [String]
    public var rlsTables: [String]
    public var hazards: [Hazard]
    public var errors: [ResultError]
    public var startedAt: String
    public var finishedAt: String
    public var appliedBy: String
    public var controller: String
    public var phases: [ResultPhase]
    public var attempts: Int

    enum CodingKeys: String, CodingKey {
        case id, version, revision, status, summary, statements, hazards, errors, controller, phases, attempts
        case tenantID = "tenant_id", idempotencyKey = "idempotency_key", triggerKind = "trigger_kind", triggerID = "trigger_id"
        case payloadHash = "payload_hash", rlsTables = "rls_tables", startedAt = "started_at", finishedAt = "finished_at"
        case appliedBy = "applied_by"
    }

    init(row: Row) throws {
        id = try row.int("id")
        version = try row.string("version")
        tenantID = try row.string("tenant_id")
        idempotencyKey = try row.string("idempotency_key")
        triggerKind = try row.string("trigger_kind")
        triggerID = try row.string("trigger_id")
        revision = try row.text("revision")
        payloadHash = try row.string("payload_hash")
        status = try row.string("status")
        summary = try row.string("summary")
        statements = PostgresArray.parseText(try row.string("statements"))
        rlsTables = PostgresArray.parseText(try row.string("rls_tables"))
        hazards = try row.json("hazards")
        errors = try row.json("errors")
        startedAt = try row.string("started_at")
        finishedAt = try row.string("finished_at")
        appliedBy = try row.string("applied_by")
        controller = try row.string("controller")
        phases = try row.json("phases")
        attempts = try row.int("attempts")
    }

    /// The Result this row recorded (for idempotent replay).
    public var result: ReconcileResult {
        var result = ReconcileResult(
            status: ReconcileStatus(rawValue: status) ?? .failed, summary: summary, tenantID: tenantID, revision: revision,
            trigger: Trigger(kind: triggerKind, id: triggerID), idempotencyKey: idempotencyKey, payloadHash: payloadHash,
            migrationID: id, statements: statements, rlsTables: rlsTables, hazards: hazards, errors: errors, replayed: true)
        result.attempts = attempts
        result.phases = phases.isEmpty ? nil : phases
        return result
    }
}
