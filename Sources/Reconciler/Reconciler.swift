import DriftlessCore
import Foundation
import Postgres
import Synchronization

/// Options of one reconciliation.
public struct ReconcileOptions: Sendable {
    public var allowed: Set<HazardKind> = []
    public var prune = false
    public var lockTimeout = TimeSpan(milliseconds: 5000)
    public var statementTimeout = TimeSpan(milliseconds: 300_000)
    public var history = History()
    public var trigger = Trigger(kind: "cli", id: UUID().uuidString.lowercased())
    /// Overrides the Result's tenant_id and payload_hash (an API blueprint is its own owner and payload).
    public var identity: (tenantID: String, payloadHash: String)?
    /// Runs inside the transaction that commits the reconciliation (ok or noop), e.g. to store
    /// the API blueprint that asked for it, so both commit together or not at all.
    public var beforeCommit: (@Sendable (Connection) throws -> Void)?
    /// How many statements `apply` sends per round trip (libpq pipeline mode); 1 sends each
    /// on its own.
    public var pipelineDepth = 100
    /// Compare in full even when the steady-state check (`SteadyState`) says nothing changed.
    public var fullCheck = false
    /// Let the steady-state check trust a match this process read for up to this long while
    /// the covered catalogs' activity counters stay the same, instead of reading the catalogs
    /// again after every ended transaction (docs/engine.md, Between exact readings). Nil: read
    /// them exactly (the command line, and every tick that is not the controller's timer).
    public var trustActivityCounters: Duration?
    /// An API request's own objects (reconcile.md, API blueprints): only their changes are
    /// applied, `allowed` hazards count for them alone, and a hazard of any other pending change
    /// blocks the whole request.
    public var scope: Scope?
    /// Claims the request's objects inside the locked transaction (before anything is
    /// compared); a non-empty answer lists objects another owner holds, and nothing is applied.
    public var claim: (@Sendable (Connection) throws -> [ResultError])?
    /// Wait for the advisory lock (up to the lock timeout) instead of answering `retry` at
    /// once: API requests queue behind each other, so racing tenants get an ownership answer.
    public var waitForLock = false
    /// The stored API blueprints the desired state was assembled from (`DesiredState.read`):
    /// `apply` answers `retry` when, under its lock, they are no longer the same.
    public var stored: DesiredState.StoredBlueprints?
    /// Prove tenant isolation inside the apply, after the DDL and before COMMIT, when the plan
    /// changes what RLS depends on (production.md, RLS proven before commit); `--no-verify-rls`.
    public var verifyRLS = true
    /// A reviewed plan (`apply --plan`; production.md, Plan files): applied only while the
    /// blueprints and the database are as they were when it was made, and then exactly its
    /// statements; else `blocked` with `plan_stale`.
    public var plan: PlanFile?
    /// How many times a transaction that met a lock timeout (55P03) or a blocking session is
    /// tried again, with exponential back-off and jitter, before the answer is `retry`
    /// (production.md, Locks; `--lock-retries`).
    public var lockRetries = 3
    /// The first back-off; each next one doubles (up to 8 s), times a random 0.5 to 1.5.
    public var lockRetryDelay = TimeSpan(milliseconds: 500)
    /// A session of this database in a transaction older than this counts as a blocker of an
    /// ACCESS EXCLUSIVE lock (`--max-blocker-age`); zero turns the look at blockers off.
    public var maxBlockerAge = TimeSpan(milliseconds: 60_000)
    /// Run changes that would hold a strong lock on an existing table while scanning it in
    /// short phases instead (production.md, Online changes; `--online`).
    public var online = false
    /// Host or pod name and program version, recorded in history.
    public var controller = "\(ProcessInfo.processInfo.hostName) driftless/\(DriftlessVersion.current)"

    public init() {}
}

/// The objects one API request may change (table, enum and schema names as `Change` names them).
public struct Scope: Sendable {
    public var objects: Set<String>
    /// Hazards the request's `allow` releases, for these objects only.
    public var allowed: Set<HazardKind>

    public init(objects: Set<String>, allowed: Set<HazardKind>) {
        self.objects = objects
        self.allowed = allowed
    }

    /// Whether `change` is about one of the objects.
    public func contains(_ change: Change) -> Bool {
        if let table = change.table { return objects.contains(table.description) }
        return objects.contains(change.object)
    }
}

/// The advisory lock key of a set of managed schemas: 64-bit FNV-1a of their sorted names.
public enum ReconcilerLockKey {
    public static func forSchemas(_ schemas: [String]) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "driftless:\(schemas.sorted().joined(separator: ","))".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}

/// The program version, recorded in history.
public enum DriftlessVersion {
    public static let current = "0.1.0"
}

/// Why a drift report could not be made: the blueprints are invalid or the server rejected them.
public struct DriftError: Error, CustomStringConvertible {
    public var result: ReconcileResult
    public var description: String {
        ([result.summary] + result.errors.map { error in
            [error.file.map { "\($0):\(error.line ?? 0)" }, error.path, error.message].compactMap { $0 }.joined(separator: " ")
        }).joined(separator: "\n  ")
    }
}

/// A plan: its changes in order, and the Result that says what would happen.
public struct PlanOutcome: Sendable {
    public var result: ReconcileResult
    /// Every difference found, applied or not (unmanaged ones are reported only), in the order
    /// they run.
    public var plan: Plan
    /// The plan's changes.
    public var changes: [Change] { plan.changes }
    /// Whether the canonical desired state came from the cache (no scratch copies were built).
    public var cacheHit = false
    /// Whether the steady-state check answered (nothing was introspected or compared).
    public var steadyState = false

    public init(result: ReconcileResult, plan: Plan = Plan(ordering: []), cacheHit: Bool = false, steadyState: Bool = false) {
        self.result = result
        self.plan = plan
        self.cacheHit = cacheHit
        self.steadyState = steadyState
    }
}

/// One reconciliation against one database (reconcile.md, steps 1 to 10). Blocking: run it on
/// a thread of its own, with a connection no other thread uses.
public struct Reconciler: Sendable {
    public var blueprints: BlueprintSet
    public var revision: String?
    public var options: ReconcileOptions
    /// Which transaction of `apply` this is, counting those a lock timeout or a blocking
    /// session sent back (the Result's `attempts`).
    var attemptNumber = 1

    public init(blueprints: BlueprintSet, revision: String?, options: ReconcileOptions) {
        self.blueprints = blueprints
        self.revision = revision
        self.options = options
    }

    var tenantID: String {
        options.identity?.tenantID ?? blueprints.tenantID
    }
    var payloadHash: String { options.identity?.payloadHash ?? blueprints.payloadHash }
    var idempotencyKey: String {
        ReconcileResult.idempotencyKey(tenantID: tenantID, triggerID: options.trigger.id, payloadHash: payloadHash)
    }
    var managedSchemas: [String] { Array(Set(blueprints.documents.map(\.schema))).sorted() }

    /// 64-bit advisory lock key derived from the managed schema set.
    var lockKey: Int64 { ReconcilerLockKey.forSchemas(managedSchemas) }

    func result(_ status: ReconcileStatus, _ summary: String, started: Date, statements: [String] = [], rlsTables: [String] = [],
                hazards: [Hazard] = [], errors: [ResultError] = []) -> ReconcileResult {
        var result = Reconciler.result(status, summary, owner: (tenantID, payloadHash), revision: revision, trigger: options.trigger,
                                       started: started, statements: statements, rlsTables: rlsTables, hazards: hazards, errors: errors)
        result.attempts = attemptNumber
        return result
    }

    /// The Result of a reconciliation of the blueprints `owner` names (tenant_id, payload_hash).
    static func result(_ status: ReconcileStatus, _ summary: String, owner: (tenantID: String, payloadHash: String),
                       revision: String?, trigger: Trigger, started: Date, statements: [String] = [], rlsTables: [String] = [],
                       hazards: [Hazard] = [], errors: [ResultError] = []) -> ReconcileResult {
        ReconcileResult(
            status: status, summary: summary, tenantID: owner.tenantID, revision: revision, trigger: trigger,
            idempotencyKey: ReconcileResult.idempotencyKey(tenantID: owner.tenantID, triggerID: trigger.id, payloadHash: owner.payloadHash),
            payloadHash: owner.payloadHash, statements: statements, rlsTables: rlsTables,
            hazards: hazards, errors: errors, durationMS: Int(Date().timeIntervalSince(started) * 1000))
    }

    /// Steps 1 to 7, then ROLLBACK: what `apply` would do, changing nothing.
    public func plan(_ connection: Connection) -> PlanOutcome {
        let started = Date()
        guard blueprints.isValid else { return PlanOutcome(result: invalid(started)) }
        defer { connection.rollbackQuietly() }
        do {
            // Not READ ONLY: the scratch copies in pg_temp are CREATE statements. Rolled back below.
            try connection.query("BEGIN")
            let computed = try compute(connection, started: started)
            return PlanOutcome(result: computed.result, plan: computed.plan, cacheHit: computed.cacheHit,
                               steadyState: computed.steady != nil)
        } catch {
            return PlanOutcome(result: failure(error, started: started))
        }
    }

    /// `plan`, and the plan file of it (production.md, Plan files): compared in full (never
    /// answered by the steady-state check), with the fingerprint of the live catalog. No file
    /// when the plan could not be made (invalid blueprints, a refused fragment, an error).
    public func planFile(_ connection: Connection, createdAt: Date = Date()) -> (outcome: PlanOutcome, file: PlanFile?) {
        let started = Date()
        guard blueprints.isValid else { return (PlanOutcome(result: invalid(started)), nil) }
        var full = self
        full.options.fullCheck = true
        defer { connection.rollbackQuietly() }
        do {
            try connection.query("BEGIN")
            let computed = try full.compute(connection, started: started)
            let outcome = PlanOutcome(result: computed.result, plan: computed.plan, cacheHit: computed.cacheHit)
            guard computed.result.errors.isEmpty else { return (outcome, nil) }
            return (outcome, PlanFile(result: computed.result, changes: computed.plan.changes, fingerprint: CatalogFingerprint.of(computed.actual),
                                      createdAt: createdAt))
        } catch {
            return (PlanOutcome(result: failure(error, started: started)), nil)
        }
    }

    /// Why a reviewed (intact) plan no longer holds, or nil: the blueprints or the database
    /// changed since it was made, or the statements they give now are not its own.
    /// `committed`: statements an earlier attempt of this apply committed (new enum labels),
    /// after which the database is compared by the statements left, not by the fingerprint.
    func staleness(_ reviewed: PlanFile, _ computed: Computed, committed: [String]) -> String? {
        guard blueprints.payloadHash == reviewed.payloadHash else {
            return "the blueprints changed since the plan was made (payload hash \(blueprints.payloadHash), the plan's \(reviewed.payloadHash))"
        }
        if committed.isEmpty, CatalogFingerprint.of(computed.actual) != reviewed.fingerprint {
            return "the database changed since the plan was made (its fingerprint is no longer the plan's)"
        }
        let now = computed.plan.applied.flatMap(\.statements)
        var expected = reviewed.sql
        for statement in committed { if let index = expected.firstIndex(of: statement) { expected.remove(at: index) } }
        guard now == expected else {
            return "the blueprints and the database now give \(now.count) statement(s) that are not the plan's \(reviewed.sql.count)"
        }
        return nil
    }

    struct Computed {
        var result: ReconcileResult
        /// Whether the canonical desired state came from the cache, and from this database's.
        var cacheHit = false
        var cachedInDatabase = false
        var plan: Plan
        var desired: Catalog
        var managedObjects: Set<ObjectID>
        var actual = Catalog()
        /// Set when the steady-state check answered: what the converged reconciliation reported.
        var steady: SteadyState.Outcome?
        /// Tables taken as written, not canonicalized (they do not exist yet; apply reads them back).
        var written: Set<QualifiedName> = []
        /// Set when nothing at all is to be done and the catalogs did not change while they
        /// were read: the fingerprint to record with the outcome.
        var converged: (fingerprint: String, outcome: SteadyState.Outcome)?
    }

    /// The drift report: steps 1 to 6 in a transaction that is always rolled back. Works for a
    /// role that may only read (and create temporary tables).
    /// - Throws: `PostgresError`, or `DriftError` when the blueprints are invalid or rejected.
    public func drift(_ connection: Connection) throws -> DriftReport {
        guard blueprints.isValid else { throw DriftError(result: invalid(Date())) }
        defer { connection.rollbackQuietly() }
        try connection.query("BEGIN")
        // Drift sends no statement of the plan: the guard is for what is sent.
        let computed = try compute(connection, started: Date(), guarding: false)
        if [.blocked, .failed].contains(computed.result.status) && computed.plan.changes.isEmpty { throw DriftError(result: computed.result) }
        var report = DriftReport.build(changes: computed.plan.changes, desired: computed.desired, actual: computed.actual, revision: revision)
        if let steady = computed.steady {
            report.rlsGaps = steady.rlsGaps
            report.inSync = steady.rlsGaps.isEmpty
            report.warnings = steady.liveWarnings
        } else {
            report.warnings = RLSLint.run(computed.actual)
        }
        return report
    }

    /// Some blueprint has `storage`: Storage is read, compared and fingerprinted
    /// (docs/blueprints.md, Storage).
    var declaresStorage: Bool { blueprints.documents.contains { $0.storage != nil } }

    private static let comparisons = Mutex(0)
    /// How many reconciliations this process compared in full (not answered by the steady-state
    /// check): the controller gives freed memory back to the system after one.
    public static var fullComparisons: Int { comparisons.withLock { $0 } }
    static func countFullComparison() { comparisons.withLock { $0 += 1 } }

    /// How many times this process read `connection`'s database's catalogs for the steady-state
    /// fingerprint (tests: a remembered match is answered without reading them).
    public static func steadyStateCatalogReads(_ connection: Connection) -> Int { SteadyState.catalogReads(connection) }

    func steadyKey(_ connection: Connection) -> String {
        SteadyState.key(sourcesDigest: blueprints.sourcesDigest, serverVersion: connection.serverVersion)
    }

    /// `plan` of `sources` answered by the steady-state check before they are decoded, or nil
    /// (then load them and `plan` in full). Changes nothing.
    public static func steadyPlan(sources: [BlueprintSource], revision: String?, options: ReconcileOptions,
                                  _ connection: Connection) -> PlanOutcome? {
        SteadyState.plan(sources: sources, revision: revision, options: options, connection)
            .map { PlanOutcome(result: $0, cacheHit: true, steadyState: true) }
    }

    /// What a converged reconciliation reports, for the steady-state check to replay: computed on
    /// another core, asked for when it is recorded (docs/engine.md, Overlap).
    func convergedOutcome(_ warnings: [Lint], desired: Catalog, actual: Catalog) -> Background<SteadyState.Outcome> {
        let tenantID = blueprints.tenantID, payloadHash = blueprints.payloadHash, schemas = managedSchemas, storage = declaresStorage
        return Background {
            SteadyState.Outcome(
                tenantID: tenantID, payloadHash: payloadHash, schemas: schemas,
                warnings: warnings, liveWarnings: RLSLint.run(actual),
                rlsGaps: DriftReport.build(changes: [], desired: desired, actual: actual, revision: nil).rlsGaps, storage: storage)
        }
    }

    /// The changes from `actual` to `desired`, with differences only in how the server prints an
    /// expression set aside (see `Equivalence`).
    func diff(_ desired: Catalog, _ actual: Catalog, existing: Set<String>, managed: Set<ObjectID>, source: Catalog?,
              _ connection: Connection) throws -> [Change] {
        func run(_ actual: Catalog) -> [Change] {
            Differ(desired: desired, actual: actual, managedSchemas: Set(managedSchemas), existingSchemas: existing,
                   previouslyManaged: managed, prune: options.prune, source: source, parallelism: .cores).changes()
        }
        let changes = run(actual)
        guard let adjusted = try Equivalence.reconcile(desired: desired, actual: actual, changes: changes, connection: connection) else {
            return changes
        }
        return run(adjusted)
    }

    /// The live catalog, read per schema with the search_path the canonical side used.
    func introspect(_ connection: Connection) throws -> (catalog: Catalog, existing: Set<String>) {
        var catalog = Catalog()
        var existing: Set<String> = []
        for schema in managedSchemas {
            try connection.query("SELECT set_config('search_path', $1, true)", [quoteIdentifier(schema)])
            let part = try Introspector.introspect(connection, schemas: [schema])
            catalog.merge(part.catalog)
            existing.formUnion(part.existingSchemas)
        }
        if declaresStorage { catalog.storage = try StorageCatalog.read(connection) }
        return (catalog, existing)
    }

    /// Takes the advisory lock: at once or not at all, or (`wait`) within the lock timeout.
    func lock(_ connection: Connection, wait: Bool = false) throws -> Bool {
        guard wait else {
            return try connection.query("SELECT pg_try_advisory_xact_lock($1::bigint) AS granted", [String(lockKey)]).first!.bool("granted")
        }
        try connection.query("SELECT set_config('lock_timeout', $1, true)", [options.lockTimeout.postgresSetting])
        try connection.query("SAVEPOINT driftless_lock")
        do {
            try connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [String(lockKey)])
            try connection.query("RELEASE SAVEPOINT driftless_lock")
            return true
        } catch let error as PostgresError where error.sqlstate == "55P03" {
            try connection.query("ROLLBACK TO SAVEPOINT driftless_lock")
            return false
        }
    }

    /// `changes` with those outside the request's scope marked as not applied.
    func scoped(_ changes: [Change]) -> [Change] {
        guard let scope = options.scope else { return changes }
        return changes.map { change in
            var change = change
            if !scope.contains(change) { change.applied = false }
            return change
        }
    }

    struct StatementFailure: Error {
        var error: PostgresError
        var change: Change
    }

    /// Runs the changes' statements in order, a pipeline of them per round trip; the first
    /// that fails stops the rest and names its change. `checkedBy`: the guard checking these
    /// changes (at the same indices) just ahead of them; each is sent only once it is cleared.
    /// - Throws: `StatementFailure`, `PostgresError`, or `GuardAhead.Refusal` (nothing refused
    ///   was sent; what was sent before is still to roll back).
    func run(_ changes: [Change], _ connection: Connection, checkedBy guardAhead: GuardAhead? = nil) throws {
        let depth = max(1, options.pipelineDepth)
        var cleared = -1  // the last index the guard cleared
        var batch: [String] = []
        var owners: [Int] = []  // the index in `changes` of each statement of the batch
        batch.reserveCapacity(depth)
        owners.reserveCapacity(depth)
        func send() throws {
            do {
                try connection.pipeline(batch)
            } catch let failure as PipelineError {
                throw StatementFailure(error: failure.error, change: changes[owners[failure.index]])
            }
            batch.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
        }
        for index in changes.indices {
            if let guardAhead, index > cleared {
                // What is cleared runs while the next chunk's verdict is awaited.
                if !batch.isEmpty { try send() }
                cleared = try guardAhead.clear(through: index)
            }
            for statement in changes[index].sql {
                batch.append(statement.text)
                owners.append(index)
                if batch.count == depth { try send() }
            }
        }
        if !batch.isEmpty { try send() }
    }

    func invalid(_ started: Date) -> ReconcileResult {
        result(.blocked, "invalid blueprints: \(blueprints.errors.count) error(s)", started: started,
               errors: blueprints.errors.map(ResultError.init))
    }

    /// Transient SQLSTATEs answer `retry`; everything else `failed`.
    static func isTransient(_ error: PostgresError) -> Bool {
        guard let state = error.sqlstate else { return error.isConnectionError }
        return state.hasPrefix("08") || ["40001", "40P01", "55P03", "57P01", "57014", "53300"].contains(state)
    }

    func failure(_ error: Error, started: Date, statement change: Change? = nil) -> ReconcileResult {
        guard let error = error as? PostgresError else {
            return result(.failed, "\(error)", started: started, errors: [ResultError(code: "internal", message: "\(error)")])
        }
        var resultError = ResultError(code: "sql_error", message: error.message, sqlstate: error.sqlstate, statement: error.statement)
        resultError.locate(change?.origin)
        let transient = Reconciler.isTransient(error)
        let summary = transient
            ? "transient error, try again: \(error.message) [\(error.sqlstate ?? "-")]"
            : "the database refused a statement: \(error.message) [\(error.sqlstate ?? "-")]"
        return result(transient ? .retry : .failed, summary, started: started, errors: [resultError])
    }

    /// blocked, retry and failed rows are written in a fresh transaction after the rollback.
    func recordAfterRollback(_ result: ReconcileResult, started: Date, _ connection: Connection) -> ReconcileResult {
        var result = result
        do {
            try connection.transaction { connection in
                try options.history.ensure(connection)
                result.migrationID = try options.history.record(result, startedAt: started, controller: options.controller, connection)
            }
        } catch {
            // The connection may be gone (that may be why we failed); the Result still says what happened.
        }
        return result
    }

    /// A noop is recorded only when its revision differs from the latest recorded row.
    func recordNoop(_ result: ReconcileResult, desired: Catalog?, converged: (fingerprint: String, outcome: SteadyState.Outcome)?,
                    started: Date, _ connection: Connection) throws -> ReconcileResult {
        var result = result
        try connection.transaction { connection in
            guard try lock(connection) else { return }
            // The transaction that found nothing to do was rolled back, history tables and all.
            try options.history.ensure(connection)
            if let desired {
                try CanonicalCache.store(desired, payloadHash: blueprints.payloadHash, connection: connection, history: options.history)
            }
            if let converged {
                try SteadyState.store(key: steadyKey(connection), fingerprint: converged.fingerprint, outcome: converged.outcome,
                                      history: options.history, connection)
            }
            try options.beforeCommit?(connection)
            if try options.history.latestRevision(connection) != revision || revision == nil {
                result.migrationID = try options.history.record(result, startedAt: started, controller: options.controller, connection)
            }
        }
        return result
    }
}
