import BlockingIO
import DriftlessCore
import Foundation
import GitSource
import Logging
import Postgres
import Reconciler
import ServiceLifecycle

/// How the controller is set up (`driftless run` flags and environment).
public struct ControllerConfiguration: Sendable {
    /// Printed and reflected as `<redacted>` (docs/security.md, Secrets).
    public var databaseURL: Secret
    public var location: BlueprintLocation
    public var interval: TimeSpan
    public var retryInterval: TimeSpan
    public var driftMode: DriftMode
    public var suspended: Bool
    public var options: ReconcileOptions
    public var host: String
    public var port: Int
    /// Who may call `/v1/`: the admin token, tenant tokens, JWT keys.
    public var authenticator: APIAuthenticator
    public var webhookSecret: Secret?
    public var shutdownTimeout: TimeSpan
    /// How long a client may take to send a request's head (interface.md, HTTP hygiene).
    public var headerTimeout = TimeSpan(milliseconds: 10_000)
    /// How long one reconciliation may hold the database (and a fleet's concurrency slot)
    /// before its statement is cancelled and its transaction rolls back (`--reconcile-deadline`;
    /// docs/reliability.md, Deadlines).
    public var deadline = TimeSpan(milliseconds: 900_000)
    /// Whether the database connection is kept between ticks. A fleet does not keep them: a
    /// thousand idle backends cost the server more than connecting costs a tick (docs/fleet.md,
    /// Memory).
    public var keepConnection = true
    /// A fleet's shared revisions and parsed sets (nil: the loop's own).
    var sharedRevisions: SharedRevisions?
    var sharedParsed: ParsedBlueprints?
    /// A fleet's bound on reconciliations running at once (fleet.md, Targets); nil: no bound.
    public var limit: ConcurrencyLimit?
    /// A fleet's wave gate (fleet.md, Waves): asked before a new revision is reconciled.
    public var rolloutGate: (@Sendable (_ revision: String) async -> Rollout.Gate)?
    /// Told after each tick with a result: the revision and its status (a fleet wakes the
    /// targets of later waves).
    public var onFinished: (@Sendable (_ revision: String, _ status: ReconcileStatus) -> Void)?

    public init(
        databaseURL: String, location: BlueprintLocation, interval: TimeSpan = TimeSpan(milliseconds: 60_000),
        retryInterval: TimeSpan = TimeSpan(milliseconds: 10_000), driftMode: DriftMode = .correct, suspended: Bool = false,
        options: ReconcileOptions = ReconcileOptions(), host: String = "0.0.0.0", port: Int = 8080, apiToken: String? = nil,
        webhookSecret: String? = nil, shutdownTimeout: TimeSpan = TimeSpan(milliseconds: 25_000),
        authenticator: APIAuthenticator = APIAuthenticator()
    ) {
        self.databaseURL = Secret(databaseURL)
        self.location = location
        self.interval = interval
        self.retryInterval = retryInterval
        self.driftMode = driftMode
        self.suspended = suspended
        self.options = options
        self.host = host
        self.port = port
        var authenticator = authenticator
        if let apiToken { authenticator.adminToken = Secret(apiToken) }
        self.authenticator = authenticator
        self.webhookSecret = webhookSecret.map(Secret.init)
        self.shutdownTimeout = shutdownTimeout
    }
}

/// Why a tick runs: the timer, a push, an API call.
public struct TickRequest: Sendable {
    public var kind: String
    public var id: String?
    public init(kind: String, id: String? = nil) {
        self.kind = kind
        self.id = id
    }
}

/// The reconciliation running on behalf of the loop, so SIGTERM can cancel it after the timeout.
///
/// Shutdown can begin at any moment of a tick: before the connection exists (a new
/// reconciliation is then not started at all) or between two statements (a cancel request sent
/// to an idle connection is lost, so the shutdown task repeats it while one is registered).
final class RunningStatement: @unchecked Sendable {
    private let lock = NSLock()
    private var token: CancelToken?
    private var stopping = false

    /// Registers the connection about to be used. False once shutdown has begun: the caller
    /// must not start a reconciliation then.
    func start(_ token: CancelToken?) -> Bool {
        lock.withLock {
            guard !stopping else { return false }
            self.token = token
            return true
        }
    }

    func finish() { lock.withLock { token = nil } }

    func beginShutdown() { lock.withLock { stopping = true } }

    /// Asks the server to cancel the statement of the registered connection, if there is one.
    /// - Returns: whether a connection was registered (and so whether to ask again later).
    func cancel() -> Bool {
        guard let token = lock.withLock({ self.token }) else { return false }
        token.cancel()
        return true
    }
}

/// The loop's database connection, kept between ticks so a tick with nothing to do pays
/// neither a new backend nor its cold catalog caches. Dropped after any error, whenever it is
/// no longer healthy or was left inside a transaction, and after it moved a message larger than
/// `largestKeptMessage` (libpq's buffers stay that large: the canonical cache of 10,000 tables
/// is a 67 MB row); the next tick connects again.
final class KeptConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var connection: Connection?

    /// The kept connection if it is still usable, else a new one.
    /// - Throws: `PostgresError.connectionFailed`.
    func take(_ url: String) throws -> Connection {
        if let kept = lock.withLock({ () -> Connection? in defer { connection = nil }; return connection }),
           kept.isHealthy, !kept.inTransaction {
            return kept
        }
        return try Connection(ConnectionString(url))
    }

    /// Messages up to this size leave a connection worth keeping (docs/operations.md, Memory).
    static let largestKeptMessage = 4 << 20

    /// Keeps `connection` for the next tick.
    func give(back connection: Connection) {
        guard connection.isHealthy, !connection.inTransaction, connection.largestMessage <= Self.largestKeptMessage else { return }
        lock.withLock { self.connection = connection }
    }
}

/// At most `width` holders at once; the others wait in order (fleet.md, Targets).
public actor ConcurrencyLimit {
    private let width: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(_ width: Int) { self.width = max(1, width) }

    public func acquire() async {
        if holders < width {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    public func release() {
        if waiting.isEmpty { holders -= 1 } else { waiting.removeFirst().resume() }
    }
}

/// Thrown inside a tick when shutdown began before the reconciliation started.
struct ShutdownBegan: Error {}

/// A reconciliation's deadline (docs/reliability.md, Deadlines): once it passes, the running
/// statement is cancelled, again and again while the reconciliation still holds its connection
/// (a cancel between two statements cancels nothing), so its transaction rolls back and the
/// blocking thread and the fleet's slot are freed.
final class Deadline: @unchecked Sendable {
    private let lock = NSLock()
    private var passed = false
    private var watchdog: Task<Void, Never>?

    /// Starts watching `running` for `span`.
    init(_ span: TimeSpan, running: RunningStatement, logger: Logger) {
        watchdog = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(span.milliseconds))
            guard !Task.isCancelled, let self else { return }
            self.lock.withLock { self.passed = true }
            logger.warning("the reconciliation passed its deadline of \(span): cancelling its statement (its transaction rolls back)")
            while !Task.isCancelled && running.cancel() { try? await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// Whether the deadline passed before `finish()`.
    var hasPassed: Bool { lock.withLock { passed } }

    /// The reconciliation ended: stop watching.
    func finish() { watchdog?.cancel() }
}

/// The git polling loop: every interval (±10% jitter) fetch, resolve, reconcile; drift at an
/// unchanged revision is corrected (or only reported with `--drift-mode warn`); failures back
/// off exponentially from `--retry-interval` up to the interval.
public final class ReconcileLoop: Service, @unchecked Sendable {
    public let configuration: ControllerConfiguration
    public let state: ControllerState
    let logger: Logger
    private let stream: AsyncStream<TickRequest>
    private let continuation: AsyncStream<TickRequest>.Continuation
    private let running = RunningStatement()
    /// The last revision that loaded, reconciled again when a fetch fails.
    private var lastGood: LoadedRevision?
    /// The revision whose last result was blocked or failed.
    private var stalledRevision: String?
    private let parsed: ParsedBlueprints
    private let kept = KeptConnection()
    /// When the loop last compared in full instead of trusting the steady-state check.
    private var lastFullCheck: ContinuousClock.Instant?
    /// At least this often the loop compares in full (what the steady-state check cannot see,
    /// such as a renamed function a policy calls, is then found).
    static let fullCheckInterval = Duration.seconds(3600)
    /// The timer's ticks at an unchanged revision trust the catalogs' activity counters for at
    /// most this long after an exact reading (docs/engine.md, Between exact readings).
    static let exactReadingInterval = Duration.seconds(300)

    public init(configuration: ControllerConfiguration, state: ControllerState, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.logger = logger
        parsed = configuration.sharedParsed ?? ParsedBlueprints()
        (stream, continuation) = AsyncStream.makeStream(of: TickRequest.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a tick now (API, webhook). Coalesces with one already waiting.
    public func trigger(_ request: TickRequest) { continuation.yield(request) }

    /// Stops the loop (a target removed from the fleet): no new tick starts; the
    /// reconciliation in progress finishes.
    public func stop() {
        continuation.finish()
        running.beginShutdown()
    }

    public func run() async throws {
        var timer: Task<Void, Never>? = nil
        var backoff: Duration? = nil
        continuation.yield(TickRequest(kind: "interval"))
        await withGracefulShutdownHandler {
            for await request in stream {
                timer?.cancel()
                let status = await tick(request)
                if status == .retry {
                    let start = backoff.map { $0 * 2 } ?? .milliseconds(configuration.retryInterval.milliseconds)
                    backoff = min(start, .milliseconds(configuration.interval.milliseconds))
                } else {
                    backoff = nil
                }
                let base = backoff ?? .milliseconds(configuration.interval.milliseconds)
                // ±10% jitter so replicas and neighbours do not tick in step.
                let delay = backoff == nil ? base * Double.random(in: 0.9...1.1) : base
                await state.scheduled(Date().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18))
                let continuation = self.continuation
                timer = Task {
                    try? await Task.sleep(for: delay)
                    if !Task.isCancelled { continuation.yield(TickRequest(kind: "interval")) }
                }
            }
            timer?.cancel()
        } onGracefulShutdown: { [continuation, running, configuration, logger] in
            // Stop taking work; the reconciliation in progress may finish within the timeout.
            continuation.finish()
            running.beginShutdown()
            Task {
                try? await Task.sleep(for: .milliseconds(configuration.shutdownTimeout.milliseconds))
                guard running.cancel() else { return }
                logger.warning("shutdown timeout reached: cancelling the running statement (its transaction rolls back)")
                // Again while the reconciliation is still registered: a cancel that reaches the
                // connection between two statements cancels nothing.
                while running.cancel() { try? await Task.sleep(for: .milliseconds(200)) }
            }
        }
    }

    /// One tick: load the revision, then reconcile (or only check drift). Returns the status.
    func tick(_ request: TickRequest) async -> ReconcileStatus? {
        let started = ContinuousClock.now
        await state.beat()
        let revision: LoadedRevision
        do {
            // A tick asked for (a push, an API call) fetches anew; the timer's and a wave's may
            // take what another target of the fleet fetched a moment ago.
            let fresh = request.kind != "interval" && request.kind != "wave"
            revision = try await BlockingIO.run(name: "driftless-fetch") { [configuration, lastGood] in
                try configuration.loadRevision(fresh: fresh, reusing: lastGood)
            }
            lastGood = revision
            await state.fetched()
        } catch {
            logger.error("fetch failed: \(error)")
            await state.fetchFailed("\(error)")
            guard let good = lastGood else {
                await state.finish(result: nil, drift: nil, revision: nil, duration: ContinuousClock.now - started)
                return .retry
            }
            revision = good
        }
        await state.startReconciling(revision: revision.revision)
        let isNew = await revision.revision != state.lastAppliedRevision
        var options = configuration.options
        if let message = revision.commitMessage { options.allowed.formUnion(CommitTrailers.allowedHazards(in: message)) }
        let commit = revision.commit ?? revision.revision
        if isNew {
            options.trigger = Trigger(kind: request.kind, id: request.id ?? commit)
        } else {
            options.trigger = Trigger(kind: "drift", id: "\(commit)@\(Int(Date().timeIntervalSince1970))")
        }
        let suspended = await state.suspended
        // A revision that was blocked or failed needs a human: the timer only reports its drift
        // (one history row, not one per tick) until a new revision or an explicit trigger.
        let stalledHere = stalledRevision == revision.revision && request.kind == "interval"
        // A fleet's waves: a new revision waits for the targets of the waves below.
        if isNew, !suspended, let gate = configuration.rolloutGate {
            let answer = await gate(revision.revision)
            await state.rollout(answer)
            if answer != .open {
                // Waiting for an earlier wave: no work on the database at all (a drift look at the
                // new revision would compare in full on every wake-up of every waiting target);
                // look again soon, backing off, or when an earlier target finishes.
                await state.finish(result: nil, drift: nil, revision: revision.revision, duration: ContinuousClock.now - started)
                return .retry
            }
        }
        let warnOnly = suspended || stalledHere || (!isNew && configuration.driftMode == .warn)
        let fullCheck = lastFullCheck.map { ContinuousClock.now - $0 >= Self.fullCheckInterval } ?? true
        options.fullCheck = fullCheck
        // Only the timer's look for drift: a push, an API call or a new revision reads exactly.
        if request.kind == "interval" && !isNew { options.trustActivityCounters = Self.exactReadingInterval }
        let prune = options.prune
        let parsed = self.parsed
        let scope = SharedRevisions.keys(configuration.location).location
        let kept = self.kept
        let keep = configuration.keepConnection
        let running = self.running
        let databaseURL = configuration.databaseURL.revealed
        let reconcileOptions = options
        var outcome: (result: ReconcileResult?, drift: DriftReport?)
        // A fleet runs at most --concurrency reconciliations at once.
        if let limit = configuration.limit { await limit.acquire() }
        defer { if let limit = configuration.limit { Task { await limit.release() } } }
        // The deadline counts from here: the wait for a slot is not the reconciliation's.
        let deadline = Deadline(configuration.deadline, running: running, logger: logger)
        defer { deadline.finish() }
        let comparisons = Reconciler.fullComparisons
        do {
            outcome = try await BlockingIO.run(name: "driftless-reconcile") { () -> (ReconcileResult?, DriftReport?) in
                let connection = try kept.take(databaseURL)
                guard running.start(connection.makeCancelToken()) else { throw ShutdownBegan() }
                defer { running.finish() }
                var healthy = false
                defer { if healthy && keep { kept.give(back: connection) } }
                // API blueprints (POST /v1/blueprints) are part of the desired state, so the loop keeps them.
                let desired = try DesiredState.read(revision: revision.sources, history: reconcileOptions.history, connection)
                let set = parsed.set(for: revision, scope: scope, sources: desired.sources)
                var options = reconcileOptions
                options.stored = desired.stored
                let reconciler = Reconciler(blueprints: set, revision: revision.revision, options: options)
                if !set.isValid {
                    // An invalid revision is recorded once; the timer does not record it again.
                    if stalledHere { healthy = true; return (nil, nil) }
                    let result = reconciler.apply(connection)
                    healthy = result.status != .retry
                    return (result, nil)
                }
                // A new revision is applied without a look first: the apply compares in full anyway,
                // and the look after it is answered by the steady-state check. The look first is for
                // drift at an unchanged revision, and for reporting only.
                let before = (warnOnly || !isNew) ? try? reconciler.drift(connection) : nil
                if warnOnly {
                    healthy = before != nil
                    return (nil, before)
                }
                // At an unchanged revision, nothing drifted means nothing to do (and nothing to record).
                if !isNew, let before, before.items.allSatisfy({ $0.kind == .unmanaged && !prune }) {
                    healthy = true
                    return (nil, before)
                }
                let result = reconciler.apply(connection)
                let after = result.status == .retry ? before : (result.status == .ok || before == nil ? try? reconciler.drift(connection) : before)
                healthy = result.status != .retry && after != nil
                return (result, after)
            }
            await state.databaseAnswered()
            if fullCheck && outcome.drift != nil { lastFullCheck = ContinuousClock.now }
            // A comparison in full or an apply allocated the catalogs, the plan and the cache, now
            // freed: the allocator keeps freed pages unless asked (docs/operations.md, Memory).
            if outcome.result != nil || Reconciler.fullComparisons != comparisons {
                _ = try? await BlockingIO.run(name: "driftless-trim") { FreedMemory.giveBack() }
            }
        } catch is ShutdownBegan {
            logger.info("shutting down: the reconciliation of \(revision.revision) was not started")
            await state.finish(result: nil, drift: nil, revision: revision.revision, duration: ContinuousClock.now - started)
            return nil
        } catch {
            logger.error("reconcile failed: \(error)")
            if deadline.hasPassed {
                await state.finish(result: deadlineResult(revision: revision.revision, trigger: options.trigger, cause: "\(error)"),
                                   drift: nil, revision: revision.revision, duration: ContinuousClock.now - started)
                return .retry
            }
            let result = ReconcileResult(
                status: .retry, summary: "cannot reach the database: \(error)", tenantID: "",
                revision: revision.revision, trigger: options.trigger, idempotencyKey: "", payloadHash: "",
                errors: [ResultError(code: "connection", message: "\(error)")])
            await state.finish(result: result, drift: nil, revision: revision.revision, duration: ContinuousClock.now - started)
            return .retry
        }
        if deadline.hasPassed, outcome.result?.status == .retry || (outcome.result == nil && outcome.drift == nil) {
            outcome.result = deadlineResult(revision: revision.revision, trigger: options.trigger,
                                            cause: outcome.result.map { $0.errors.map(\.message).joined(separator: "; ") } ?? "", from: outcome.result)
        }
        await state.finish(result: outcome.result, drift: outcome.drift, revision: revision.revision, duration: ContinuousClock.now - started)
        if let status = outcome.result?.status {
            stalledRevision = (status == .blocked || status == .failed) ? revision.revision : nil
            configuration.onFinished?(revision.revision, status)
        }
        if let result = outcome.result {
            logger.info("reconciled", metadata: [
                "status": "\(result.status.rawValue)", "revision": "\(revision.revision)", "trigger": "\(options.trigger.kind)",
                "summary": "\(result.summary)",
            ])
        }
        return outcome.result?.status
    }

    /// The answer of a reconciliation cancelled at its deadline: `retry`, saying so first.
    func deadlineResult(revision: String, trigger: Trigger, cause: String, from result: ReconcileResult? = nil) -> ReconcileResult {
        let error = ResultError(
            code: "deadline",
            message: "the reconciliation passed its deadline of \(configuration.deadline) (--reconcile-deadline): its statement was cancelled and its transaction rolled back"
                + (cause.isEmpty ? "" : " (\(cause))"))
        var answer = result ?? ReconcileResult(
            status: .retry, summary: "", tenantID: "", revision: revision, trigger: trigger, idempotencyKey: "", payloadHash: "", errors: [])
        answer.status = .retry
        answer.summary = error.message
        answer.errors.insert(error, at: 0)
        return answer
    }
}
