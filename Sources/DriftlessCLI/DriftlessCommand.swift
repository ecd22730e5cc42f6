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
            HistoryCommand.self, RunCommand.self, ImportCommand.self, VerifyRLSCommand.self, FleetCommand.self,
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
    @Option(name: .customLong("reconcile-deadline"),
            help: "How long one reconciliation may take before its statement is cancelled and it answers retry (each target its own).")
    var reconcileDeadline = TimeSpan(milliseconds: 900_000)
    @Option(name: .customLong("api-tenant-claim"), help: "The JWT claim (a dotted path) that names an API caller's tenant.")
    var apiTenantClaim = "tenant_id"
    @Option(help: "A targets file: reconcile many databases (fleet.md) instead of --database-url.")
    var targets: String?
    @Option(help: "How many replicas share the targets (a target belongs to shard fnv1a64(name) mod N).")
    var shards = 1
    @Option(help: "This replica's shard, 0 to N-1, or auto (the ordinal at the end of the host name, as a StatefulSet gives it).")
    var shard = "0"
    @Option(help: "Reconciliations running at once over all targets of this replica.")
    var concurrency = 8

    func validate() throws {
        guard DriftMode(rawValue: driftMode) != nil else { throw ValidationError("--drift-mode is correct or warn.") }
        guard reconcileDeadline.milliseconds > 0 else { throw ValidationError("--reconcile-deadline 0s would cancel every reconciliation; give a positive duration like 15m.") }
        guard shards >= 1 else { throw ValidationError("--shards is a number from 1.") }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency is a number from 1 to 256.") }
        if shard != "auto" {
            guard let number = Int(shard), (0..<shards).contains(number) else { throw ValidationError("--shard is auto or a number from 0 to --shards minus 1.") }
        }
        if targets != nil && (database.databaseURL != nil || source.repo != nil || source.blueprints != nil) {
            throw ValidationError("--targets names every database and source: give it without --database-url, --repo or --blueprints.")
        }
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
        var configuration = ControllerConfiguration(
            databaseURL: database.databaseURL ?? environment["DATABASE_URL"] ?? "", location: source.location,
            interval: interval, retryInterval: retryInterval, driftMode: DriftMode(rawValue: driftMode)!, suspended: suspend,
            options: options, host: String(listen[..<colon]), port: Int(listen[listen.index(after: colon)...])!,
            apiToken: environment["DRIFTLESS_API_TOKEN"], webhookSecret: environment["DRIFTLESS_WEBHOOK_SECRET"],
            shutdownTimeout: shutdownTimeout, authenticator: authenticator)
        configuration.deadline = reconcileDeadline
        let level = Logger.Level(rawValue: logging.logLevel) ?? .info
        let json = logging.logFormat == .json
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "driftless")
        if let targets {
            let host = environment["HOSTNAME"] ?? ProcessInfo.processInfo.hostName
            guard let ordinal = shard == "auto" ? Sharding.ordinal(hostname: host) : Int(shard), (0..<shards).contains(ordinal) else {
                printError("driftless run: --shard auto: the host name \(host) does not end in an ordinal from 0 to \(shards - 1)")
                throw ExitCode(1)
            }
            let cache = source.gitCache ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/driftless/git").path
            let fleet = FleetConfiguration(targetsFile: targets, shards: shards, shard: ordinal, concurrency: concurrency, gitCache: cache,
                                           base: configuration)
            let outcome = waitForAsync { try await runFleet(fleet, logger: logger) }
            if case .failure(let error) = outcome {
                printError("driftless run: \(error)")
                throw ExitCode(1)
            }
            return
        }
        // The main thread waits here; the controller's blocking work runs on threads of its own.
        let outcome = waitForAsync { [configuration] in try await runController(configuration, logger: logger) }
        if case .failure(let error) = outcome {
            printError("driftless run: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Runs async work returning a value from a synchronous command and waits for it.
func waitForValue<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var value: T?
    Task {
        value = await body()
        semaphore.signal()
    }
    semaphore.wait()
    return value!
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


