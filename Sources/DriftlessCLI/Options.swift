import ArgumentParser
import DriftlessCore
import Foundation
import Reconciler

extension TimeSpan: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// Where the target database is: `--database-url`, else `DATABASE_URL`, else libpq's PG* variables.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq connection string or URL (default: $DATABASE_URL, then PG* variables).")
    var databaseURL: String?
}

/// Where the blueprints come from: a directory, or a git repository at one commit.
struct SourceOptions: ParsableArguments {
    @Option(help: "Directory of blueprint files (default: ./blueprints).")
    var blueprints: String?

    @Option(help: "Git repository (https, ssh or file URL, or a local path) to read blueprints from.")
    var repo: String?

    @Option(help: "Branch, tag or commit of --repo (default: the remote HEAD).")
    var ref: String?

    @Option(help: "Sub-directory of --repo holding the blueprints.")
    var path: String?

    @Option(name: .customLong("git-cache"), help: "Directory for cached clones of remote repositories.")
    var gitCache: String?

    func validate() throws {
        if blueprints != nil && repo != nil {
            throw ValidationError("Use either --blueprints or --repo, not both.")
        }
        if repo == nil && (ref != nil || path != nil) {
            throw ValidationError("--ref and --path need --repo.")
        }
    }
}

/// Options that shape a reconciliation.
struct ReconcileArguments: ParsableArguments {
    @Option(help: "Hazards to allow, comma separated: deletes_data, rewrites_table, relaxes_security, may_fail, locks_table.")
    var allow: String?

    @Flag(help: "Drop unmanaged objects in managed schemas (allows deletes_data for them alone).")
    var prune = false

    @Flag(name: .customLong("no-verify-rls"),
          help: "Do not prove tenant isolation inside apply before COMMIT (production.md, RLS proven before commit).")
    var noVerifyRLS = false

    @Flag(help: "Run changes that would lock an existing table while scanning it in short phases: concurrent index builds, NOT VALID then VALIDATE (production.md, Online changes).")
    var online = false

    @Option(name: .customLong("lock-retries"), help: "Times a transaction that met a lock timeout or a blocking session is tried again, with back-off and jitter.")
    var lockRetries = ReconcileOptions().lockRetries

    @Option(name: .customLong("max-blocker-age"),
            help: "Answer retry instead of queueing behind a lock holder, or (for ACCESS EXCLUSIVE) a transaction older than this; never cancels anyone. 0s: no look, queue up to --lock-timeout.")
    var maxBlockerAge = ReconcileOptions().maxBlockerAge

    @Option(name: .customLong("lock-timeout"), help: "lock_timeout for the apply transaction (500ms, 5s, 2m, 1h).")
    var lockTimeout = TimeSpan(milliseconds: 5000)

    @Option(name: .customLong("statement-timeout"), help: "statement_timeout for the apply transaction.")
    var statementTimeout = TimeSpan(milliseconds: 300_000)

    @Option(name: .customLong("history-schema"), help: "Schema of the history table.")
    var historySchema = "driftless"

    @Option(name: .customLong("trigger-id"), help: "Trigger id for the idempotency key (default: a fresh UUID).")
    var triggerID: String?

    @Option(name: .customLong("pipeline-depth"),
            help: "Statements apply sends per round trip, 1 to 1000 (1: each on its own, for a pooler that does not pass pipelines).")
    var pipelineDepth = ReconcileOptions().pipelineDepth

    func validate() throws {
        guard (0...100).contains(lockRetries) else { throw ValidationError("--lock-retries is a number from 0 to 100.") }
        guard (1...1000).contains(pipelineDepth) else { throw ValidationError("--pipeline-depth is a number from 1 to 1000.") }
        // PostgreSQL reads lock_timeout = 0 as "wait for ever": the one value that must never be set.
        guard lockTimeout.milliseconds > 0 else { throw ValidationError("--lock-timeout 0s would wait for ever; give a positive duration like 5s.") }
        guard statementTimeout.milliseconds > 0 else { throw ValidationError("--statement-timeout 0s would never time out; give a positive duration like 5m.") }
    }

    /// The reconciliation options these flags describe.
    /// - Throws: `ExitCode(1)` after printing the error, for an unknown hazard in `--allow`.
    func reconcileOptions(command: String) throws -> ReconcileOptions {
        var options = ReconcileOptions()
        do {
            options.allowed = try HazardKind.parseList(allow ?? "")
        } catch {
            printError("driftless\(command.isEmpty ? "" : " " + command): --allow: \(error)")
            throw ExitCode(1)
        }
        options.prune = prune
        options.verifyRLS = !noVerifyRLS
        options.online = online
        options.lockRetries = lockRetries
        options.maxBlockerAge = maxBlockerAge
        options.lockTimeout = lockTimeout
        options.statementTimeout = statementTimeout
        options.history = History(schema: historySchema)
        options.trigger = Trigger(kind: "cli", id: triggerID ?? UUID().uuidString.lowercased())
        options.pipelineDepth = pipelineDepth
        return options
    }
}

/// Logging options shared by every command.
struct LoggingOptions: ParsableArguments {
    enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .customLong("log-format"), help: "Log line format: text or json.")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
}

/// The output formats a command may offer.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case human, json, sql, markdown
}
