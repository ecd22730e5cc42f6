import ArgumentParser
import DriftlessCore
import Foundation

/// The `driftless` command line: argument parsing and output; the work lives in the libraries.
public struct DriftlessCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "driftless",
        abstract: "GitOps for Supabase schemas: blueprints in git, the database kept in step, RLS first.",
        subcommands: [
            ValidateCommand.self, PlanCommand.self, ApplyCommand.self, DriftCommand.self,
            HistoryCommand.self, RunCommand.self, ImportCommand.self, VerifyRLSCommand.self,
        ]
    )

    public init() {}
}

/// Says plainly that a command is not built yet and exits 1 (interface.md's error code).
func notImplemented(_ command: String) throws -> Never {
    FileHandle.standardError.write(Data("driftless \(command): not implemented yet (see the status section of README.md)\n".utf8))
    throw ExitCode(1)
}





struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "The controller: git polling loop, drift correction and HTTP server until SIGTERM.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var reconcile: ReconcileArguments
    @OptionGroup var logging: LoggingOptions
    @Option(help: "Address of the HTTP server.") var listen = "0.0.0.0:8080"
    @Option(help: "Time between reconciliations (±10% jitter).") var interval = TimeSpan(milliseconds: 60_000)
    @Option(name: .customLong("retry-interval"), help: "First back-off after a failure, doubled up to --interval.")
    var retryInterval = TimeSpan(milliseconds: 10_000)
    @Option(name: .customLong("drift-mode"), help: "correct or warn.") var driftMode = "correct"
    @Flag(help: "Start suspended: report drift, change nothing.") var suspend = false
    @Option(name: .customLong("shutdown-timeout"), help: "How long a running reconciliation may take to finish on SIGTERM.")
    var shutdownTimeout = TimeSpan(milliseconds: 25_000)

    func run() throws { try notImplemented("run") }
}


