import ArgumentParser
import Controller
import DriftlessCore
import Logging
import Reconciler
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
    @Option(name: .customLong("api-tenant-claim"), help: "The JWT claim (a dotted path) that names an API caller's tenant.")
    var apiTenantClaim = "tenant_id"

    func validate() throws {
        guard DriftMode(rawValue: driftMode) != nil else { throw ValidationError("--drift-mode is correct or warn.") }
        guard let colon = listen.lastIndex(of: ":"), Int(listen[listen.index(after: colon)...]) != nil else {
            throw ValidationError("--listen is host:port, like 0.0.0.0:8080.")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var options = try reconcile.reconcileOptions(command: "run")
        options.controller = "\(environment["HOSTNAME"] ?? ProcessInfo.processInfo.hostName) driftless/\(DriftlessVersion.current)"
        let colon = listen.lastIndex(of: ":")!
        let authenticator: APIAuthenticator
        do {
            authenticator = APIAuthenticator(
                tenantTokens: try environment["DRIFTLESS_API_TOKENS_FILE"].map(APIAuthenticator.tenantTokens(file:)) ?? [:],
                jwtSecret: environment["DRIFTLESS_JWT_SECRET"].map(Secret.init),
                keys: try environment["DRIFTLESS_JWKS_FILE"].map(APIAuthenticator.keys(jwksFile:)) ?? [],
                tenantClaim: apiTenantClaim)
        } catch {
            printError("driftless run: \(error)")
            throw ExitCode(1)
        }
        let configuration = ControllerConfiguration(
            databaseURL: database.databaseURL ?? environment["DATABASE_URL"] ?? "", location: source.location,
            interval: interval, retryInterval: retryInterval, driftMode: DriftMode(rawValue: driftMode)!, suspended: suspend,
            options: options, host: String(listen[..<colon]), port: Int(listen[listen.index(after: colon)...])!,
            apiToken: environment["DRIFTLESS_API_TOKEN"], webhookSecret: environment["DRIFTLESS_WEBHOOK_SECRET"],
            shutdownTimeout: shutdownTimeout, authenticator: authenticator)
        let level = Logger.Level(rawValue: logging.logLevel) ?? .info
        let json = logging.logFormat == .json
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "driftless")
        // The main thread waits here; the controller's blocking work runs on threads of its own.
        let outcome = waitForAsync { try await runController(configuration, logger: logger) }
        if case .failure(let error) = outcome {
            printError("driftless run: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Runs async work from a synchronous command and waits for it on the calling (main) thread.
func waitForAsync(_ body: @escaping @Sendable () async throws -> Void) -> Result<Void, Error> {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var outcome: Result<Void, Error> = .success(())
    Task {
        do { try await body() } catch { outcome = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return outcome
}


