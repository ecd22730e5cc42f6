import DriftlessCore
import Foundation
import Postgres

// The phases of an online apply after its transaction committed (production.md and
// docs/operations.md, Online changes): the concurrent index builds and swaps, each
// statement on its own outside any transaction, then the validations, each change in a
// transaction of its own. The history row the transaction wrote is brought up to date at the
// end. A run killed in between leaves nothing to repair by hand: the desired state is
// declarative, so the next run's diff holds exactly what is still missing (an index a failed
// build left invalid is rebuilt).

extension Reconciler {
    /// Runs `later` (the changes of the concurrent and validate phases, in order) after the
    /// transaction of `result` committed, then proves convergence. The Result says how far each
    /// phase got; a phase that failed leaves the next ones pending.
    func runLaterPhases(_ later: [Change], after result: ReconcileResult, started: Date, _ connection: Connection) -> ReconcileResult {
        var result = result
        var phases = result.phases ?? []
        var failure: (status: ReconcileStatus, summary: String, errors: [ResultError])?
        do {
            // Outside a transaction the settings are the session's: the same limits as the transaction's.
            try connection.query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
                                 [options.lockTimeout.postgresSetting, options.statementTimeout.postgresSetting])
            defer {
                _ = try? connection.query("RESET lock_timeout")
                _ = try? connection.query("RESET statement_timeout")
            }
            for index in phases.indices where phases[index].name != .transaction {
                guard failure == nil else { break }
                let changes = later.filter { $0.execution == phases[index].name }
                failure = try run(phase: phases[index].name, changes, connection)
                phases[index].status = failure == nil ? .ok : (failure!.status == .retry ? .pending : .failed)
            }
        } catch {
            let answer = self.failure(error, started: started)
            failure = (answer.status, answer.summary, answer.errors)
            for index in phases.indices where phases[index].status == .pending { phases[index].status = .failed }
        }
        if failure == nil {
            // Prove: the database now matches, as every apply does.
            var check = self
            check.options.fullCheck = true
            let outcome = check.plan(connection)
            let left = outcome.plan.applied
            if outcome.result.status == .failed || outcome.result.status == .blocked {
                failure = (outcome.result.status, "the online phases ran, but the database could not be compared: \(outcome.result.summary)", outcome.result.errors)
            } else if !left.isEmpty {
                failure = (.failed, "the online phases did not converge: \(left.count) change(s) left",
                           left.map { ResultError(code: "not_converged", message: "still to do after apply: \($0.statements.joined(separator: "; "))") })
            }
        }
        result.phases = phases
        if let failure {
            result.status = failure.status
            result.summary = "\(result.summary); then: \(failure.summary)"
            result.errors += failure.errors
        }
        result.durationMS = Int(Date().timeIntervalSince(started) * 1000)
        if let id = result.migrationID {
            try? connection.transaction { connection in
                try options.history.updatePhases(phases, status: result.status, summary: result.summary, errors: result.errors, id: id, connection)
            }
        }
        return result
    }

    /// One phase: nil when all of it ran, else why not. In the validate phase a blocking
    /// session or a lock timeout is tried again after the back-off, up to --lock-retries times;
    /// then, as in the concurrent phase at once, `retry` (the next run takes it up). Any other
    /// refusal is `failed`.
    func run(phase: ExecutionPhase, _ changes: [Change], _ connection: Connection) throws -> (status: ReconcileStatus, summary: String, errors: [ResultError])? {
        for change in changes {
            var attempt = self
            while true {
                guard let busy = try attempt.run(phase: phase, change, connection) else { break }
                // A concurrent build that timed out leaves an invalid index: the next run rebuilds it.
                guard busy.status == .retry, phase == .validate, attempt.attemptNumber <= options.lockRetries else { return busy }
                Thread.sleep(forTimeInterval: attempt.backOff())
                attempt.attemptNumber += 1
            }
        }
        return nil
    }

    /// One change of a phase, once.
    func run(phase: ExecutionPhase, _ change: Change, _ connection: Connection) throws -> (status: ReconcileStatus, summary: String, errors: [ResultError])? {
        do {
            if phase == .concurrent {
                // CREATE/DROP INDEX CONCURRENTLY refuse to run inside a transaction block.
                for statement in change.statements { try connection.query(statement) }
                return nil
            }
            try connection.query("BEGIN")
            try settings(connection)
            let blockers = try Blockers.find(Blockers.targets([change]), maxAge: options.maxBlockerAge, connection)
            guard blockers.isEmpty else {
                connection.rollbackQuietly()
                return (.retry, "\(blockers.count) session(s) would block \(change.object): not queueing behind them",
                        blockers.map(\.error))
            }
            for statement in change.statements { try connection.query(statement) }
            try connection.query("COMMIT")
            return nil
        } catch let error as PostgresError where !error.isConnectionError {
            connection.rollbackQuietly()
            let answer = failure(error, started: Date(), statement: change)
            return (answer.status, "\(phase.rawValue) phase: \(error.message) [\(error.sqlstate ?? "-")]", answer.errors)
        }
    }
}
