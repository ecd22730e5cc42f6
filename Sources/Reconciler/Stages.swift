import DriftlessCore
import Foundation
import Postgres

// One reconciliation as stages with typed outputs (docs/engine.md, Stages):
//
//   settings → steady state? → (desired: cache around canonicalization) + (actual: introspection)
//   → managed record → diff (Plan) → gate → [apply → prove → record]
//
// `compute` runs the stages up to the gate inside the caller's transaction; `apply` runs
// attempts of the whole, each in a transaction of its own.

extension Reconciler {
    /// How one attempt of `apply` reads the desired state.
    struct Attempt {
        /// Canonicalize every table, new ones too (after the server refused a statement of a
        /// table taken as written).
        var canonicalizeNewTables = false
        /// An earlier attempt committed the new enum labels.
        var enumsAdded = false
        /// The statements earlier attempts committed (a reviewed plan's first ones).
        var committed: [String] = []
    }

    enum AttemptOutcome {
        case finished(ReconcileResult)
        case again(Attempt)
        /// A lock timeout or a blocking session, nothing recorded yet: tried again after a
        /// back-off while retries are left (production.md, Locks).
        case lockBusy(ReconcileResult, Attempt)
    }

    /// All of it: plan, gate, apply in one transaction, prove, record.
    public func apply(_ connection: Connection) -> ReconcileResult {
        let started = Date()
        guard blueprints.isValid else { return recordAfterRollback(invalid(started), started: started, connection) }
        // An edited plan file is refused before anything else (even a replay of its id's record).
        if let reviewed = options.plan, !reviewed.isIntact {
            return recordAfterRollback(planStale("the plan file was edited: its plan_id is not the one of its content", started: started),
                                       started: started, connection)
        }
        // Tables the database does not have yet are created as written and read back afterwards
        // instead of being built twice (scratch copy, then for real). Should the server refuse
        // one of their statements, everything is canonicalized once more, which reports every
        // objection with its blueprint location, as `plan` does. New enum labels are committed
        // by an attempt of their own. So at most three attempts, four with room.
        // A reviewed plan was made with every table canonicalized: so is its apply, so the
        // statements compare.
        var attempt = Attempt(canonicalizeNewTables: options.plan != nil)
        var current = self
        var rounds = 0
        while rounds < 4 {
            switch current.applyAttempt(attempt, started: started, connection) {
            case .finished(let result): return result
            case .again(let next):
                attempt = next
                rounds += 1
            case .lockBusy(let busy, let next):
                // Lock timeouts and blockers: the whole transaction again after a back-off, up
                // to --lock-retries times, then `retry` (production.md, Locks).
                guard current.attemptNumber <= options.lockRetries else {
                    return recordAfterRollback(busy, started: started, connection)
                }
                Thread.sleep(forTimeInterval: current.backOff())
                current.attemptNumber += 1
                attempt = next
            }
        }
        return recordAfterRollback(current.result(.failed, "internal: the reconciliation did not settle in four attempts", started: started,
                                                  errors: [ResultError(code: "internal", message: "too many attempts")]),
                                   started: started, connection)
    }

    /// Seconds to wait before transaction `attemptNumber + 1`: the first delay doubled per
    /// attempt, capped at 8 s, times a random factor between 0.5 and 1.5 (so replicas and
    /// targets retrying together spread out).
    func backOff() -> Double {
        let base = Double(options.lockRetryDelay.milliseconds) / 1000 * pow(2, Double(attemptNumber - 1))
        return min(8, base) * Double.random(in: 0.5...1.5)
    }

    /// One attempt in one transaction: lock, replay, claim, compute, apply, prove, record.
    func applyAttempt(_ attempt: Attempt, started: Date, _ connection: Connection) -> AttemptOutcome {
        var takenAsWritten: Set<QualifiedName> = []
        do {
            try connection.query("BEGIN")
            guard try lock(connection, wait: options.waitForLock) else {
                connection.rollbackQuietly()
                let busy = result(.retry, "another reconciliation is running", started: started,
                                  errors: [ResultError(code: "locked", message: "another reconciliation holds the advisory lock")])
                // Replicas that lose the lock every tick would fill the history: once per revision.
                if let revision, (try? options.history.hasLockBusyRow(revision: revision, connection)) == true { return .finished(busy) }
                return .finished(recordAfterRollback(busy, started: started, connection))
            }
            try options.history.ensure(connection)
            // The desired state read before the lock must still be the whole one (reconcile.md,
            // The desired state, assembled once): else read it again, never plan without a tenant.
            if let stored = options.stored,
               BlueprintSet.sourcesDigest(try options.history.storedAPIBlueprints(connection, excluding: stored.excluding)) != stored.digest {
                connection.rollbackQuietly()
                return .finished(result(.retry, "the stored API blueprints changed while this reconciliation started", started: started,
                                        errors: [ResultError(code: "desired_state_changed",
                                                             message: "an API blueprint was stored after the desired state was read; read it again")]))
            }
            if let recorded = try options.history.recorded(key: idempotencyKey, connection) {
                connection.rollbackQuietly()
                return .finished(recorded)
            }
            if let claim = options.claim {
                let conflicts = try claim(connection)
                if !conflicts.isEmpty {
                    connection.rollbackQuietly()
                    let names = conflicts.compactMap { $0.message.split(separator: ":").first.map(String.init) }
                    return .finished(recordAfterRollback(result(.blocked, "owned by someone else: \(names.joined(separator: ", "))", started: started,
                                                                errors: conflicts), started: started, connection))
                }
            }
            var computed = try compute(connection, started: started, canonicalizeNewTables: attempt.canonicalizeNewTables, recording: true,
                                       checkedLater: true)
            takenAsWritten = computed.written
            if let reviewed = options.plan, computed.result.status != .failed,
               let stale = staleness(reviewed, computed, committed: attempt.committed) {
                connection.rollbackQuietly()
                return .finished(recordAfterRollback(planStale(stale, started: started), started: started, connection))
            }
            guard computed.result.status == .ok else {
                connection.rollbackQuietly()
                if computed.result.status == .noop {
                    return .finished(try recordNoop(computed.result, desired: computed.cachedInDatabase ? nil : computed.desired,
                                                    converged: computed.converged, started: started, connection))
                }
                return .finished(recordAfterRollback(computed.result, started: started, connection))
            }
            // With --online, what runs after the transaction, phase by phase (production.md).
            let planned = computed.plan.applied
            let later = planned.filter { $0.execution != .transaction }
            let applied = planned.filter { $0.execution == .transaction }
            // The statement guard checks them while the first ones run; each is sent once cleared
            // (docs/engine.md, Overlap), and all of them before anything commits.
            let guardAhead = GuardAhead(applied + later)
            // Never queue a table lock behind another session (a queued lock makes every later
            // reader wait): name the sessions and answer retry (production.md, Locks).
            let blockers = try Blockers.find(Blockers.targets(applied), maxAge: options.maxBlockerAge, connection)
            if !blockers.isEmpty {
                connection.rollbackQuietly()
                return .lockBusy(result(.retry, "\(blockers.count) session(s) would block this change's table locks: not queueing behind them",
                                        started: started, statements: computed.result.statements, errors: blockers.map(\.error)), attempt)
            }
            // New enum labels cannot be used in the transaction that adds them: commit them first.
            let additions = applied.filter { $0.phase == .enumValues && $0.hazards.isEmpty }
            if !additions.isEmpty && !attempt.enumsAdded && applied.count > additions.count {
                try guardAhead.clearAll()
                try run(additions, connection)
                try connection.query("COMMIT")
                var next = attempt
                next.enumsAdded = true
                next.committed += additions.flatMap(\.statements)
                return .again(next)
            }
            try run(applied, connection, checkedBy: guardAhead)
            try guardAhead.clearAll()
            // Prove: the database now matches, or the plan did not converge.
            let fingerprint = try SteadyState.fingerprint(connection, schemas: managedSchemas, storage: declaresStorage)
            let after = try introspect(connection)
            // Views whose columns only the server can tell once they exist (a function's result
            // changed under them; docs/engine.md, Functions).
            for (name, view) in computed.desired.views where view.columns.isEmpty {
                if let live = after.catalog.views[name] { ViewKind.adoptCreated(live, into: &computed.desired.views[name]!) }
            }
            if !computed.written.isEmpty {
                // The new tables as the server prints them: the canonical form a scratch copy would have given.
                for schema in Set(computed.written.map(\.schema)) {
                    Canonicalizer.merge(after.catalog, from: schema, into: &computed.desired, schema: schema, only: computed.written)
                }
            }
            // The desired catalog is final: encode the cache's JSON, and compute what is recorded
            // should the proof pass, on other cores while the rest runs (docs/engine.md, Overlap).
            let encoding = computed.cachedInDatabase ? nil : CanonicalCache.Encoding(computed.desired)
            let desired = computed.desired, before = computed.actual, live = after.catalog
            let records = Background { () -> (managed: [String], exposure: [ExposureEntry]) in
                (History.managedKeys(ObjectKinds.identities(in: desired)), Exposure.between(before, live))
            }
            // A steady state is recorded only when nothing is left for later and nothing was unmanaged.
            let outcome = later.isEmpty && computed.plan.changes.allSatisfy(\.applied)
                ? convergedOutcome(computed.result.warnings, desired: desired, actual: live) : nil
            var residual = scoped(try diff(computed.desired, after.catalog, existing: after.existing,
                                           managed: computed.managedObjects, source: nil, connection)).filter { $0.applied }
            // What the later phases do is still to do now; nothing else may be.
            if options.online {
                residual = Online.phases(Plan(ordering: residual).changes, actual: after.catalog).filter { $0.applied && $0.execution == .transaction }
            }
            guard residual.isEmpty else {
                connection.rollbackQuietly()
                let errors = residual.map { ResultError(code: "not_converged", message: "still to do after apply: \($0.statements.joined(separator: "; "))") }
                return .finished(recordAfterRollback(result(.failed, "the plan did not converge: \(residual.count) change(s) left after applying it",
                    started: started, statements: computed.result.statements, errors: errors), started: started, connection))
            }
            var gateWarnings: [Lint] = []
            if options.verifyRLS, let verifier = rlsGate(planned) {
                let verification = try verifier.probe(connection, byShape: true, known: after.catalog, knownSchemas: Set(managedSchemas),
                                                      desired: computed.desired)
                let failing = rlsGateErrors(verification, desired: computed.desired)
                guard failing.isEmpty else {
                    connection.rollbackQuietly()
                    let tables = Set(verification.leaks.map(\.table) + verification.unreachable.map(\.table)).sorted()
                    return .finished(recordAfterRollback(result(.failed, "tenant isolation not proven, rolled back: \(tables.joined(separator: ", "))",
                        started: started, statements: computed.result.statements, errors: failing), started: started, connection))
                }
                gateWarnings = verification.tables.filter { $0.status == .notVerified }.map {
                    Lint(code: "rls_not_verified", object: $0.table, message: "tenant isolation of \($0.table) could not be proven inside apply: \($0.reason ?? "-")")
                }
            }
            let recorded = try records.value()
            try options.history.recordManaged(keys: recorded.managed, lockKey: lockKey, schemas: managedSchemas, connection)
            // Nothing left, not even an unmanaged object, and nobody changed the catalogs
            // while they were read: the next reconciliation of these blueprints may skip it all.
            if let outcome, try SteadyState.fingerprint(connection, schemas: managedSchemas, storage: declaresStorage) == fingerprint {
                try SteadyState.store(key: steadyKey(connection), fingerprint: fingerprint,
                                      outcome: try outcome.value(),
                                      history: options.history, connection)
            }
            try options.beforeCommit?(connection)
            var final = computed.result
            final.warnings += gateWarnings
            // From the catalog after the DDL: default privileges included.
            final.exposure = recorded.exposure
            if options.online {
                final.phases = [ResultPhase(name: .transaction, statements: applied.flatMap(\.statements), status: .ok)]
                    + [ExecutionPhase.concurrent, .validate].compactMap { phase in
                        let statements = later.filter { $0.execution == phase }.flatMap(\.statements)
                        return statements.isEmpty ? nil : ResultPhase(name: phase, statements: statements, status: .pending)
                    }
            }
            final.durationMS = Int(Date().timeIntervalSince(started) * 1000)
            final.migrationID = try options.history.record(final, startedAt: started, controller: options.controller, connection)
            // Last, so that its encoding has had the longest time.
            if !computed.cachedInDatabase {
                try CanonicalCache.store(computed.desired, encoding: encoding, payloadHash: blueprints.payloadHash, connection: connection, history: options.history)
            }
            try connection.query("COMMIT")
            guard !later.isEmpty else { return .finished(final) }
            return .finished(runLaterPhases(later, after: final, started: started, connection))
        } catch let refusal as GuardAhead.Refusal {
            connection.rollbackQuietly()
            return .finished(recordAfterRollback(guardRefusal(refusal.refused, started: started), started: started, connection))
        } catch let failure as StatementFailure {
            connection.rollbackQuietly()
            if failure.error.sqlstate == "55P03" {
                return .lockBusy(self.failure(failure.error, started: started, statement: failure.change), attempt)
            }
            // A statement of a table taken as written, or of a view (one reading a new table has
            // no scratch copy), that the server refused: canonicalize everything, which says what
            // it refuses with the blueprint's place. Not when the statement was cancelled, timed
            // out or lost its connection: that is `retry` now, not a second attempt (which took
            // the timeout for a refusal and answered `blocked`, and kept a shutting-down
            // controller busy long after it cancelled).
            if !attempt.canonicalizeNewTables, !takenAsWritten.isEmpty, !Reconciler.isTransient(failure.error),
               failure.change.table.map(takenAsWritten.contains) ?? (failure.change.objectType == .view) {
                return .again(Attempt(canonicalizeNewTables: true, enumsAdded: false, committed: attempt.committed))
            }
            return .finished(recordAfterRollback(self.failure(failure.error, started: started, statement: failure.change), started: started, connection))
        } catch {
            connection.rollbackQuietly()
            if let error = error as? PostgresError, error.sqlstate == "55P03" { return .lockBusy(self.failure(error, started: started), attempt) }
            return .finished(recordAfterRollback(self.failure(error, started: started), started: started, connection))
        }
    }

    /// Steps 3 to 7 inside an open transaction: settings, steady state, desired and actual,
    /// managed record, diff, gate. `recording`: the caller records a converged state
    /// (`Computed.converged`), as `apply` does. `guarding`: pass every statement through
    /// `StatementGuard` (plan and apply; drift sends none).
    func compute(_ connection: Connection, started: Date, canonicalizeNewTables: Bool = true, recording: Bool = false,
                 guarding: Bool = true, checkedLater: Bool = false) throws -> Computed {
        try settings(connection)
        let steady = try steadyState(connection, recording: recording)
        if case .converged(let record) = steady {
            var outcome = result(.noop, "nothing to do", started: started)
            outcome.warnings = record.outcome.warnings
            return Computed(result: outcome, cacheHit: true, cachedInDatabase: true, plan: Plan(ordering: []), desired: Catalog(),
                            managedObjects: [], steady: record.outcome)
        }
        Reconciler.countFullComparison()
        let states = try desiredAndActual(connection, canonicalizeNewTables: canonicalizeNewTables)
        if !states.desired.rejections.isEmpty {
            let errors = states.desired.rejections.map { rejection -> ResultError in
                var error = ResultError(code: rejection.code, message: rejection.message,
                                        sqlstate: rejection.sqlstate, statement: rejection.statement)
                error.locate(rejection.origin)
                return error
            }
            let result = result(.blocked, "the server rejected \(errors.count) blueprint element(s)", started: started, errors: errors)
            return Computed(result: result, plan: Plan(ordering: []), desired: states.desired.catalog, managedObjects: [])
        }
        if states.desired.catalog.storage != nil && states.actual.catalog.storage == nil {
            var error = ResultError(code: "no_storage_schema",
                                    message: "the blueprints declare storage, but this database has no storage schema (storage.buckets and storage.objects): is it a Supabase project?")
            error.locate(blueprints.documents.first { $0.storage != nil }?.storage?.origin)
            return Computed(result: result(.failed, "the database has no storage schema", started: started, errors: [error]),
                            plan: Plan(ordering: []), desired: states.desired.catalog, managedObjects: [])
        }
        let managed = try managedRecord(connection, live: states.actual.catalog)
        var all = try diff(states.desired.catalog, states.actual.catalog, existing: states.actual.existing, managed: managed,
                           source: states.written, connection)
        // Whether a change rewrites its table: the server's decision (production.md).
        all = try RewriteProbe.decide(all, desired: states.desired.catalog, actual: states.actual.catalog, connection)
        // --online: in plan order, then by phase (production.md, Online changes).
        if options.online { all = Online.phases(Plan(ordering: all).changes, actual: states.actual.catalog) }
        let plan = options.online ? Plan(inOrder: scoped(all)) : Plan(ordering: scoped(all))
        // The RLS lint and who can reach what once the plan is applied, as far as the plan says
        // (docs/security.md, Exposure), on another core while the gate checks every statement
        // (docs/engine.md, Overlap). Drift (which sends nothing) reports its own exposure, from
        // the database's side.
        let desired = states.desired.catalog, actual = states.actual.catalog
        let review = Background { () -> (lint: [Lint], exposure: [ExposureEntry]) in
            (RLSLint.run(desired), guarding ? Exposure.between(actual, Exposure.project(actual, desired: desired, changes: plan.changes)) : [])
        }
        var outcome = try gate(all, desired: desired, started: started, guarding: guarding, checkedLater: checkedLater)
        guard outcome.status != .blocked || outcome.errors.allSatisfy({ $0.code != "invalid_fragment" }) else {
            return Computed(result: outcome, plan: Plan(ordering: []), desired: desired, managedObjects: [])
        }
        let reviewed = try review.value()
        outcome.warnings = blueprints.warnings.map { Lint(code: $0.code, object: "\($0.file ?? ""):\($0.line ?? 0) \($0.path ?? "")", message: $0.message) }
            + reviewed.lint
        if guarding { outcome.exposure = reviewed.exposure }
        var converged: (String, SteadyState.Outcome)?
        if recording, plan.changes.isEmpty, let reading = steady.reading,
           try SteadyState.stillHolds(reading, connection, schemas: managedSchemas, storage: declaresStorage) {
            converged = (reading.fingerprint, try convergedOutcome(outcome.warnings, desired: states.desired.catalog, actual: states.actual.catalog).value())
        }
        return Computed(
            result: outcome, cacheHit: states.cacheHit, cachedInDatabase: states.cachedInDatabase,
            plan: plan, desired: states.desired.catalog, managedObjects: managed, actual: states.actual.catalog,
            written: states.skipped, converged: converged)
    }

    /// Stage: the transaction's settings. standard_conforming_strings as the parser that
    /// checked every fragment reads strings; function bodies are not checked at CREATE (as in
    /// pg_dump), so a body may name what the plan creates after it (docs/engine.md, Functions).
    func settings(_ connection: Connection) throws {
        try connection.query("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), "
                             + "set_config('standard_conforming_strings', 'on', true), set_config('check_function_bodies', 'off', true)",
                             [options.lockTimeout.postgresSetting, options.statementTimeout.postgresSetting])
    }

    /// What the steady-state stage found.
    enum Steady {
        /// The catalogs are as a recorded converged reconciliation left them.
        case converged(SteadyState.Record)
        /// Compare in full; the fingerprint taken before reading, when one was.
        case compare(reading: SteadyState.Reading?)

        var reading: SteadyState.Reading? {
            if case .compare(let reading) = self { return reading }
            return nil
        }
    }

    /// Stage: the catalogs' fingerprint before they are read, compared with a recorded
    /// converged state, and (`recording`) kept to record one should nothing change meanwhile.
    func steadyState(_ connection: Connection, recording: Bool) throws -> Steady {
        var reading: SteadyState.Reading?
        // A reviewed plan is checked against the catalog as read, never against a record.
        let key = steadyKey(connection)
        if !options.fullCheck, options.plan == nil, let record = try SteadyState.lookup(key: key, history: options.history, connection),
           record.outcome.schemas == managedSchemas {
            let check = try SteadyState.check(record, key: key, connection, schemas: managedSchemas, storage: declaresStorage,
                                              trustCounters: options.trustActivityCounters)
            if check.holds { return .converged(record) }
            reading = check.reading
        }
        if recording && reading == nil {
            reading = try SteadyState.read(connection, schemas: managedSchemas, storage: declaresStorage)
        }
        return .compare(reading: reading)
    }

    /// The desired and actual states, as the diff reads them.
    struct States {
        /// The canonical desired catalog, and what the server refused of it.
        var desired: (catalog: Catalog, rejections: [Canonicalizer.Rejection])
        /// The desired catalog as written (statements are rendered from it).
        var written: Catalog
        var actual: (catalog: Catalog, existing: Set<String>)
        var cacheHit = false
        var cachedInDatabase = false
        /// Tables taken as written, not canonicalized.
        var skipped: Set<QualifiedName> = []
    }

    /// Stage: the canonical desired catalog (the cache wrapped around canonicalization) and
    /// the live catalog (introspection). The cached canonical state decodes while the server
    /// answers the introspection.
    func desiredAndActual(_ connection: Connection, canonicalizeNewTables: Bool) throws -> States {
        let (cached, actual) = try CanonicalCache.lookup(payloadHash: blueprints.payloadHash, connection: connection,
                                                         history: options.history) { try introspect(connection) }
        let written = DesiredCatalog.build(blueprints)
        if let cached {
            return States(desired: (cached.catalog, []), written: written, actual: actual, cacheHit: true,
                          cachedInDatabase: cached.source == .database)
        }
        // Only what is compared: tables that exist (or are renamed from one that does), and every
        // enum, sequence, function and trigger (a default may draw from a new sequence; a
        // trigger on a new table keeps its WHEN as written, read back after apply). A view reading
        // a new table has no scratch copy either: it is read back once created, as the table.
        let compared = written.tables.filter { name, table in
            actual.catalog.tables[name] != nil
                || table.renamedFrom.map { actual.catalog.tables[QualifiedName(schema: name.schema, name: $0)] != nil } ?? false
        }
        if canonicalizeNewTables {
            return States(desired: try Canonicalizer.canonicalize(written, live: actual.catalog, connection: connection), written: written, actual: actual)
        }
        let part = try Canonicalizer.canonicalize(written.with(tables: compared), live: actual.catalog, allTables: Set(written.tables.keys),
                                                  connection: connection)
        var catalog = written
        catalog.enums = part.catalog.enums
        catalog.sequences = part.catalog.sequences
        catalog.functions = part.catalog.functions
        catalog.triggers = part.catalog.triggers
        catalog.views = part.catalog.views
        catalog.storage = part.catalog.storage
        catalog.tables.merge(part.catalog.tables) { $1 }
        return States(desired: (catalog, part.rejections), written: written, actual: actual,
                      skipped: Set(written.tables.keys).subtracting(compared.keys))
    }

    /// Stage: what earlier reconciliations of this schema set managed. A role that may only
    /// read may not see the history schema: then nothing was managed before.
    func managedRecord(_ connection: Connection, live: Catalog) throws -> Set<ObjectID> {
        try connection.query("SAVEPOINT driftless_history")
        do {
            let managed = try options.history.managed(lockKey: lockKey, live: live, connection)
            try connection.query("RELEASE SAVEPOINT driftless_history")
            return managed
        } catch let error as PostgresError where error.sqlstate == "42501" {
            try connection.query("ROLLBACK TO SAVEPOINT driftless_history")
            return []
        }
    }

    /// Stage: the gate. Every statement that would be sent has the shape it was rendered with
    /// (`guarding`), and no hazard is left that is not allowed; the Result says what happens.
    /// `checkedLater`: when the plan is to be applied (nothing else stops it), its statements
    /// are left to `GuardAhead`, which checks them while the first ones run (docs/engine.md,
    /// Overlap); every other answer is the same as with the guard run here.
    func gate(_ all: [Change], desired: Catalog, started: Date, guarding: Bool, checkedLater: Bool = false) throws -> ReconcileResult {
        // Pending changes of other owners are never applied by a scoped (API) request, but a
        // hazard among them still blocks it: its delta only, or nothing.
        let elsewhere = options.scope == nil ? [] : all.filter { $0.applied && !$0.sql.isEmpty && !options.scope!.contains($0) }
        let changes = scoped(all)
        let applied = changes.filter { $0.applied && !$0.sql.isEmpty }
        let ownAllowed = options.allowed.union(HazardKind.allowedByDefault).union(options.scope?.allowed ?? [])
        let blocking = applied.flatMap { change in
            change.hazards.filter { hazard in
                // --prune allows deletes_data for unmanaged objects alone.
                !(ownAllowed.contains(hazard.hazard)
                    || (change.kind == .unmanaged && options.prune && hazard.hazard == .deletesData))
            }
        } + elsewhere.flatMap { change in
            change.hazards.filter { !options.allowed.union(HazardKind.allowedByDefault).contains($0.hazard) }
        }
        let deferred = checkedLater && blocking.isEmpty && !applied.isEmpty
        let refused = guarding && !deferred ? StatementGuard.violations(in: applied, parallelism: .cores) : []
        if !refused.isEmpty { return guardRefusal(refused, started: started) }
        let statements = applied.flatMap(\.statements)
        let hazards = applied.flatMap(\.hazards)
        let rlsTables = Array(Set(applied.filter(\.touchesRLS).compactMap { $0.table?.description })).sorted()
        let status: ReconcileStatus
        let summary: String
        if !blocking.isEmpty {
            status = .blocked
            let kinds = Set(blocking.map(\.hazard.rawValue)).sorted().joined(separator: ", ")
            summary = "\(blocking.count) hazard(s) not allowed (\(kinds)); allow with --allow \(kinds)"
        } else if applied.isEmpty {
            status = .noop
            let unmanaged = changes.filter { $0.kind == .unmanaged }.count
            summary = unmanaged == 0 ? "nothing to do" : "nothing to do; \(unmanaged) unmanaged object(s) left alone (--prune drops them)"
        } else {
            status = .ok
            summary = Summary.describe(applied, verb: "applied", rlsTables: rlsTables)
        }
        let errors = blocking.map { ResultError(code: "hazard_not_allowed", message: "\($0.hazard.rawValue) on \($0.object): \($0.detail)") }
        return result(status, summary, started: started, statements: statements, rlsTables: rlsTables, hazards: hazards, errors: errors)
    }

    /// `blocked` with one `invalid_fragment` per statement the guard refused, at its blueprint
    /// element: nothing is applied.
    func guardRefusal(_ refused: [(Change, StatementGuard.Violation)], started: Date) -> ReconcileResult {
        let errors = refused.map { change, violation -> ResultError in
            var error = ResultError(code: "invalid_fragment", message: violation.description, statement: violation.statement)
            error.locate(change.origin)
            return error
        }
        return result(.blocked, "\(errors.count) generated statement(s) refused by the statement guard", started: started, errors: errors)
    }

    /// `blocked` with `plan_stale`: a reviewed plan that no longer holds changes nothing
    /// (production.md, Plan files).
    func planStale(_ reason: String, started: Date) -> ReconcileResult {
        result(.blocked, "the plan is stale: \(reason)", started: started, errors: [ResultError(code: "plan_stale", message: reason)])
    }

    /// The verifier of the RLS gate when the applied changes touch what tenant isolation
    /// depends on: RLS flags, policies, privileges, owners, functions (a policy may call one)
    /// or a tenant table itself; nil when nothing to prove (production.md, RLS proven before commit).
    func rlsGate(_ applied: [Change]) -> RLSVerifier? {
        let verifier = RLSVerifier(blueprints: blueprints)
        let tenantTables = Set(verifier.tenantTables.map(\.name))
        guard !tenantTables.isEmpty else { return nil }
        let relevant: Set<Change.ObjectType> = [.rls, .policy, .grant, .owner, .function]
        let touched = applied.contains { relevant.contains($0.objectType) || ($0.table.map(tenantTables.contains) ?? false) }
        return touched ? verifier : nil
    }

    /// One error per failed probe: `rls_leak` for another tenant's or anon's access,
    /// `rls_unreachable` for a tenant that cannot reach its own rows, at the table's blueprint.
    func rlsGateErrors(_ verification: RLSVerification, desired: Catalog) -> [ResultError] {
        let own: Set<String> = ["own_read", "own_insert", "own_update", "own_delete"]
        return verification.tables.filter { $0.status == .leak || $0.status == .unreachable }.flatMap { table in
            table.checks.filter { !$0.passed }.map { check -> ResultError in
                let role = check.name == "anon_read" ? "anon" : "authenticated"
                var error = ResultError(code: own.contains(check.name) ? "rls_unreachable" : "rls_leak",
                                        message: "\(table.table): probe \(check.name) as \(role): \(check.detail)"
                                            + (table.reason.map { " (\($0))" } ?? ""))
                error.locate(desired.tables.first { $0.key.description == table.table }?.value.origin)
                return error
            }
        }
    }
}
