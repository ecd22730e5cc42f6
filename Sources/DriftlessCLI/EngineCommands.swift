import ArgumentParser
import DriftlessCore
import Foundation
import Postgres
import Reconciler

/// What plan, apply, drift and verify-rls share: load the revision, connect, assemble the
/// desired state (the revision plus stored API blueprints, `DesiredState`), build options.
struct EngineContext {
    var blueprints: BlueprintSet
    var revision: LoadedRevision
    /// The desired state's sources: the revision's files and the stored API blueprints.
    var sources: [BlueprintSource]
    var connection: Connection
    var options: ReconcileOptions

    /// - Throws: `ExitCode(1)` after printing a clear error.
    /// `reconcile` is nil for commands without reconcile options (drift): defaults apply.
    /// `decode: false` leaves `blueprints` empty until `decoded()` (for `plan`'s steady-state check).
    init(database: DatabaseOptions, source: SourceOptions, reconcile: ReconcileArguments?, historySchema: String? = nil,
         decode: Bool = true) throws {
        do {
            revision = try BlueprintLoader.load(source.location)
        } catch {
            printError("driftless: cannot read blueprints: \(error)")
            throw ExitCode(1)
        }
        var options = try reconcile?.reconcileOptions(command: "") ?? ReconcileOptions()
        if let historySchema { options.history = History(schema: historySchema) }
        if let message = revision.commitMessage { options.allowed.formUnion(CommitTrailers.allowedHazards(in: message)) }
        let url = database.databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        do {
            connection = try Connection(ConnectionString(url))
        } catch {
            printError("driftless: cannot connect to the database: \(error)")
            throw ExitCode(1)
        }
        do {
            let desired = try DesiredState.read(revision: revision.sources, history: options.history, connection)
            sources = desired.sources
            options.stored = desired.stored
        } catch {
            printError("driftless: cannot read the stored API blueprints: \(error)")
            throw ExitCode(1)
        }
        self.options = options
        blueprints = decode ? BlueprintSet.load(sources, parallelism: .cores) : .unread
    }

    var reconciler: Reconciler { Reconciler(blueprints: blueprints, revision: revision.revision, options: options) }

    /// This context with its blueprints decoded and validated.
    func decoded() -> EngineContext {
        var context = self
        context.blueprints = BlueprintSet.load(sources, parallelism: .cores)
        return context
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show the delta SQL and its hazards; change nothing.",
        discussion: "Exit codes: 0 nothing to do, 2 changes pending, 1 error, 3 blocked.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var reconcile: ReconcileArguments
    @OptionGroup var logging: LoggingOptions
    @Option(help: "human, json, sql or markdown.") var format: OutputFormat = .human
    @Option(name: .customLong("out"), help: "Also write the plan file that apply --plan runs (production.md, Plan files).")
    var out: String?

    func run() throws {
        let context = try EngineContext(database: database, source: source, reconcile: reconcile, decode: false)
        let outcome: PlanOutcome
        if let out {
            let made = context.decoded().reconciler.planFile(context.connection)
            outcome = made.outcome
            if let file = made.file {
                do {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    try (encoder.encode(file) + Data("\n".utf8)).write(to: URL(fileURLWithPath: out))
                } catch {
                    printError("driftless plan: cannot write \(out): \(error)")
                    throw ExitCode(1)
                }
            }
        } else {
            // Files already seen converged against unchanged catalogs: answered before decoding them.
            outcome = Reconciler.steadyPlan(sources: context.sources, revision: context.revision.revision,
                                            options: context.options, context.connection)
                ?? context.decoded().reconciler.plan(context.connection)
        }
        switch format {
        case .json: print(try jsonText(outcome.result))
        case .sql: print(PlanText.sql(outcome))
        case .markdown: print(PlanText.markdown(outcome))
        case .human: print(PlanText.human(outcome, colour: standardOutputIsTerminal))
        }
        switch outcome.result.status {
        case .noop: return
        case .ok: throw ExitCode(2)
        case .blocked: throw ExitCode(3)
        case .retry, .failed: throw ExitCode(1)
        }
    }
}

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Run one reconciliation: apply the delta in one transaction and record it.",
        discussion: "Exit codes: 0 ok or noop, 3 blocked, 4 retry, 1 failed.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var reconcile: ReconcileArguments
    @OptionGroup var logging: LoggingOptions
    @Option(help: "human or json.") var format: OutputFormat = .human
    @Option(name: .customLong("plan"), help: "Apply exactly this reviewed plan file (plan --out), or nothing when it is stale.")
    var planFile: String?

    func run() throws {
        var context = try EngineContext(database: database, source: source, reconcile: reconcile)
        if let planFile {
            let reviewed: PlanFile
            do {
                reviewed = try JSONDecoder().decode(PlanFile.self, from: Data(contentsOf: URL(fileURLWithPath: planFile)))
            } catch {
                printError("driftless apply: cannot read the plan file \(planFile): \(error)")
                throw ExitCode(1)
            }
            context.options.plan = reviewed
            if reviewed.isOnline { context.options.online = true }
            context.options.fullCheck = true
            // The history row records the plan: its trigger is the plan's id.
            context.options.trigger = Trigger(kind: "plan", id: reviewed.planID)
        }
        let result = context.reconciler.apply(context.connection)
        print(format == .json ? try jsonText(result) : PlanText.human(result))
        switch result.status {
        case .ok, .noop: return
        case .blocked: throw ExitCode(3)
        case .retry: throw ExitCode(4)
        case .failed: throw ExitCode(1)
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List recorded reconciliations, newest first.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("history-schema"), help: "Schema of the history table.") var historySchema = "driftless"
    @Option(help: "How many rows.") var limit = 20
    @Option(help: "human or json.") var format: OutputFormat = .human

    func run() throws {
        let url = database.databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        let rows: [HistoryRow]
        do {
            rows = try History(schema: historySchema).rows(limit: limit, Connection(ConnectionString(url)))
        } catch {
            printError("driftless history: \(error)")
            throw ExitCode(1)
        }
        if format == .json {
            print(try jsonText(rows))
            return
        }
        if rows.isEmpty { print("no reconciliations recorded") }
        for row in rows {
            print("\(row.id)\t\(row.version)\t\(row.status)\t\(row.triggerKind)\t\(row.revision ?? "-")\t\(row.summary)")
        }
    }
}

/// Plan and Result texts for people.
enum PlanText {
    static func human(_ outcome: PlanOutcome, colour: Bool = false) -> String {
        var lines: [String] = []
        for change in outcome.changes {
            let marker = change.kind == .unmanaged ? "?" : (change.kind == .missing ? "+" : "~")
            var line = "\(marker) \(change.objectType.rawValue) \(change.object)"
            if change.kind == .unmanaged { line += " (unmanaged\(change.applied ? ", pruned" : ", left alone"))" }
            if !change.hazards.isEmpty { line += "  [" + change.hazards.map(\.hazard.rawValue).joined(separator: ", ") + "]" }
            lines.append(line)
            if change.applied {
                let phase = change.execution == .transaction ? "" : "  -- \(change.execution.rawValue) phase"
                for statement in change.statements { lines.append("    " + statement.replacingOccurrences(of: "\n", with: "\n    ") + ";" + phase) }
            }
        }
        lines.append(human(outcome.result))
        return lines.joined(separator: "\n")
    }

    static func human(_ result: ReconcileResult) -> String {
        var lines = ["\(result.status.rawValue): \(result.summary)"]
        for error in result.errors {
            var location = ""
            if let file = error.file { location = "\(file)\(error.line.map { ":\($0)" } ?? "")\(error.column.map { ":\($0)" } ?? ""): " }
            lines.append("  \(location)error[\(error.code)]: \(error.message)\(error.sqlstate.map { " (SQLSTATE \($0))" } ?? "")")
            if let statement = error.statement { lines.append("    in: \(statement)") }
        }
        for warning in result.warnings { lines.append("  warning[\(warning.code)]: \(warning.message)") }
        for phase in result.phases ?? [] { lines.append("  phase \(phase.name.rawValue): \(phase.status.rawValue), \(phase.statements.count) statement(s)") }
        if result.attempts > 1 { lines.append("  after \(result.attempts) attempts") }
        lines += Exposure.human(result.exposure, heading: "who can reach what:")
        if let id = result.migrationID { lines.append("recorded as migration \(id)") }
        return lines.joined(separator: "\n")
    }

    /// A script `psql -1 -f` runs as it is (psql supplies the transaction).
    static func sql(_ outcome: PlanOutcome) -> String {
        var lines = [
            "-- driftless plan: \(outcome.result.summary)",
            "-- revision \(outcome.result.revision ?? "-"), payload \(outcome.result.payloadHash)",
            "-- run with: psql -v ON_ERROR_STOP=1 -1 -f this-file.sql",
        ]
        if outcome.result.status == .blocked {
            lines.append("-- BLOCKED: \(outcome.result.summary)")
        }
        for hazard in outcome.result.hazards { lines.append("-- hazard \(hazard.hazard.rawValue): \(hazard.object): \(hazard.detail)") }
        // The settings apply's transaction has (docs/engine.md, Functions): a function body may
        // name a table the script creates after it.
        lines += ["SET LOCAL standard_conforming_strings = on;", "SET LOCAL check_function_bodies = off;"]
        var phase = ExecutionPhase.transaction
        for change in outcome.changes where change.applied {
            if change.execution != phase {
                phase = change.execution
                lines.append("-- phase \(phase.rawValue) (--online): each statement below runs on its own, after the transaction, not under psql -1")
            }
            for statement in change.statements { lines.append(statement + ";") }
        }
        return lines.joined(separator: "\n")
    }

    /// A pull-request comment: a summary line, a table of changes, the SQL folded away.
    static func markdown(_ outcome: PlanOutcome) -> String {
        var lines = ["### Driftless plan: \(outcome.result.status.rawValue)", "", outcome.result.summary, ""]
        if !outcome.changes.isEmpty {
            lines += ["| change | object | hazards |", "|---|---|---|"]
            for change in outcome.changes {
                lines.append("| \(change.kind.rawValue) \(change.objectType.rawValue) | `\(change.object)` | \(change.hazards.map(\.hazard.rawValue).joined(separator: ", ")) |")
            }
            lines += ["", "<details><summary>SQL</summary>", "", "```sql", sql(outcome), "```", "", "</details>"]
        }
        lines += Exposure.markdown(outcome.result.exposure, heading: "Who can reach what")
        return lines.joined(separator: "\n")
    }
}

struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift", abstract: "Report how the database differs from the blueprints; change nothing.",
        discussion: "Exit codes: 0 in sync, 2 drift, 1 error.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("history-schema"), help: "Schema of the history table.") var historySchema = "driftless"
    @Option(help: "human, json or markdown.") var format: OutputFormat = .human

    func validate() throws {
        guard format != .sql else { throw ValidationError("drift prints human, json or markdown.") }
    }

    func run() throws {
        var context = try EngineContext(database: database, source: source, reconcile: nil, historySchema: historySchema)
        // The audit command compares in full, never trusting the steady-state check.
        context.options.fullCheck = true
        let report: DriftReport
        do {
            report = try context.reconciler.drift(context.connection)
        } catch let error as DriftError {
            print(format == .json ? try jsonText(error.result) : PlanText.human(error.result))
            throw ExitCode(1)
        } catch {
            printError("driftless drift: \(error)")
            throw ExitCode(1)
        }
        switch format {
        case .json: print(try jsonText(report))
        case .markdown: print(report.markdown)
        default: print(report.human(colour: standardOutputIsTerminal))
        }
        if !report.inSync { throw ExitCode(2) }
    }
}

struct VerifyRLSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-rls", abstract: "Prove tenant isolation of every tenant table against the live database.",
        discussion: """
            Acts as two synthetic tenants and as anon inside a transaction that is always rolled back.
            Exit codes: 0 every tenant table isolated, 2 a leak found, 1 error or a table that could not be verified.
            """)
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "human or json.") var format: OutputFormat = .human

    func run() throws {
        let context = try EngineContext(database: database, source: source, reconcile: nil)
        guard context.blueprints.isValid else {
            print(ValidationReport(context.blueprints).human)
            throw ExitCode(1)
        }
        let verification: RLSVerification
        do {
            verification = try RLSVerifier(blueprints: context.blueprints).verify(context.connection)
        } catch {
            printError("driftless verify-rls: \(error)")
            throw ExitCode(1)
        }
        if format == .json {
            print(try jsonText(verification))
        } else {
            for table in verification.tables {
                print("\(table.status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(table.table)\(table.reason.map { ": \($0)" } ?? "")")
                for check in table.checks where !check.passed || table.status == .leak || table.status == .unreachable {
                    let word = check.passed ? "ok  " : (check.name.hasPrefix("own_") ? "FAIL" : "LEAK")
                    print("    \(word) \(check.name): \(check.detail)")
                }
            }
            if verification.tables.isEmpty { print("no tenant tables in these blueprints") }
            let leaks = verification.leaks.count
            let unreachable = verification.unreachable.count
            let unverified = verification.tables.filter { $0.status == .notVerified }.count
            var findings: [String] = []
            if leaks > 0 { findings.append("leak found in \(leaks) table(s)") }
            if unreachable > 0 { findings.append("\(unreachable) table(s) unreachable by their own tenant (rls_unreachable)") }
            if unverified > 0 { findings.append("\(unverified) table(s) could not be verified") }
            print(findings.isEmpty ? "every tenant table is isolated and reachable by its tenant" : findings.joined(separator: "; "))
        }
        // 2: a finding (a leak, or a tenant table its tenant cannot reach); 1: not verified.
        if !verification.leaks.isEmpty || !verification.unreachable.isEmpty { throw ExitCode(2) }
        if !verification.isolated { throw ExitCode(1) }
    }
}
