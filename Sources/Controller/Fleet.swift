import BlockingIO
import DriftlessCore
import Foundation
import GitSource
import Logging
import Postgres
import Prometheus
import Reconciler
import ServiceLifecycle

/// How a fleet controller is set up (`driftless run --targets`; fleet.md, docs/fleet.md).
public struct FleetConfiguration: Sendable {
    public var targetsFile: String
    public var shards: Int
    public var shard: Int
    /// Reconciliations running at once, over all targets of this replica.
    public var concurrency: Int
    /// Where each target's git clone is cached (a directory per target).
    public var gitCache: String
    /// What every target shares: reconcile options (the targets' own fields override them),
    /// the retry interval, the HTTP listener and its callers, the shutdown timeout.
    public var base: ControllerConfiguration
    /// How often the targets file is looked at for changes (SIGHUP reads it at once).
    public var reloadInterval = TimeSpan(milliseconds: 2000)

    public init(targetsFile: String, shards: Int, shard: Int, concurrency: Int, gitCache: String, base: ControllerConfiguration) {
        self.targetsFile = targetsFile
        self.shards = shards
        self.shard = shard
        self.concurrency = concurrency
        self.gitCache = gitCache
        self.base = base
    }
}

/// Why the targets file cannot be used.
public struct TargetsFileError: Error, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The targets file as read: every target (all shards: the waves need them) and this replica's.
public struct LoadedTargets: Sendable {
    public var all: [FleetTarget]
    public var text: String

    /// Reads and validates `path`.
    /// - Throws: `TargetsFileError` with every problem, located.
    public static func read(_ path: String) throws -> LoadedTargets {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TargetsFileError(diagnostics: [Diagnostic(code: "unreadable", message: "cannot read the targets file: \(error.localizedDescription)", file: path)])
        }
        let decoded = TargetsFile.decode(file: path, text: text)
        guard let file = decoded.file else { throw TargetsFileError(diagnostics: decoded.diagnostics) }
        return LoadedTargets(all: file.targets, text: text)
    }
}

extension FleetTarget {
    /// The database URL from the environment or the file the target names.
    /// - Throws: a message naming the variable or file (never a value).
    public func resolveDatabaseURL(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        switch databaseURL {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw TargetsFileError(diagnostics: [Diagnostic(code: "missing_database_url", message: "target \(self.name): the environment variable \(name) is not set")])
            }
            return value
        case .file(let path):
            guard let value = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw TargetsFileError(diagnostics: [Diagnostic(code: "missing_database_url", message: "target \(self.name): cannot read \(path)")])
            }
            return value
        }
    }

    /// Where its blueprints are.
    public func location(gitCache: String) -> BlueprintLocation {
        if let repo {
            // One clone per repository for all targets (named by its URL inside the cache).
            return .git(repository: repo, ref: ref, path: path, cacheDirectory: gitCache, credentials: .fromEnvironment())
        }
        return .directory(blueprints ?? ".")
    }
}

/// One target of this replica while it runs.
public final class TargetRuntime: Sendable {
    public let target: FleetTarget
    public let loop: ReconcileLoop
    public let state: ControllerState
    /// Why the target cannot run (its database URL is missing), when it cannot.
    public let problem: String?

    init(target: FleetTarget, loop: ReconcileLoop, state: ControllerState, problem: String?) {
        self.target = target
        self.loop = loop
        self.state = state
        self.problem = problem
    }
}

/// What `GET /v1/targets` answers for one target.
public struct TargetStatus: Sendable, Codable {
    public var name: String
    public var shard: Int
    public var wave: Int
    public var status: ControllerStatus
    public var problem: String?
}

/// The fleet controller: one reconcile loop per target of this shard, at most `concurrency`
/// reconciliations at once, waves gated by the other targets' history, the targets file
/// re-read when it changes or on SIGHUP (fleet.md).
public final class Fleet: Service, @unchecked Sendable {
    public let configuration: FleetConfiguration
    public let registry = PrometheusCollectorRegistry()
    let logger: Logger
    let limit: ConcurrencyLimit
    private let lock = NSLock()
    private var runtimes: [String: TargetRuntime] = [:]
    private var targets: [FleetTarget] = []
    private var text = ""
    private let progress = WaveProgress()
    private let targetsGauge: Gauge
    private let reload = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// What targets reading one repository share: its clone and fetches, its parsed sets.
    private let revisions = SharedRevisions()
    private let parsed = ParsedBlueprints(capacity: 32)

    /// - Throws: `TargetsFileError` when the targets file is unusable at start.
    public init(configuration: FleetConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        limit = ConcurrencyLimit(configuration.concurrency)
        targetsGauge = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "driftless_targets", unitName: "",
                                                                            helpText: "Targets this replica reconciles"),
                                          labels: [("shard", String(configuration.shard))])
        let loaded = try LoadedTargets.read(configuration.targetsFile)
        apply(loaded)
    }

    /// This replica's targets, by name.
    public var current: [TargetRuntime] { lock.withLock { runtimes.values.sorted { $0.target.name < $1.target.name } } }

    public func runtime(_ name: String) -> TargetRuntime? { lock.withLock { runtimes[name] } }

    /// Reads the targets file again now (SIGHUP).
    public func reloadNow() { reload.continuation.yield() }

    /// Starts, stops and restarts loops so this replica runs exactly the file's targets of its shard.
    /// Returns the loops started.
    @discardableResult
    func apply(_ loaded: LoadedTargets) -> [TargetRuntime] {
        let mine = loaded.all.filter { $0.shard(of: configuration.shards) == configuration.shard }
        var started: [TargetRuntime] = []
        var stopped: [TargetRuntime] = []
        lock.withLock {
            targets = loaded.all
            text = loaded.text
            for (name, runtime) in runtimes where !mine.contains(runtime.target) {
                stopped.append(runtime)
                runtimes[name] = nil
            }
            for target in mine where runtimes[target.name] == nil {
                let runtime = makeRuntime(target)
                runtimes[target.name] = runtime
                started.append(runtime)
            }
            targetsGauge.set(Int64(runtimes.count))
        }
        for runtime in stopped { runtime.loop.stop() }
        return started
    }

    func makeRuntime(_ target: FleetTarget) -> TargetRuntime {
        var base = configuration.base
        var problem: String?
        do {
            base.databaseURL = Secret(try target.resolveDatabaseURL())
        } catch {
            problem = "\(error)"
            base.databaseURL = Secret("")
        }
        base.location = target.location(gitCache: configuration.gitCache)
        base.sharedRevisions = revisions
        base.sharedParsed = parsed
        base.keepConnection = false
        base.interval = target.interval
        // The flags of `run` apply to every target: --drift-mode warn and --suspend win.
        base.driftMode = target.driftMode == "warn" || base.driftMode == .warn ? .warn : .correct
        base.suspended = target.suspend || base.suspended
        base.options.allowed.formUnion(target.allow)
        base.options.online = base.options.online || target.online
        base.limit = limit
        let wave = target.wave
        let name = target.name
        base.rolloutGate = { [weak self] revision in
            guard let self else { return .open }
            return await self.gate(wave: wave, revision: revision, asking: name)
        }
        base.onFinished = { [weak self] revision, status in self?.finished(name, revision: revision, status: status) }
        let metrics = ControllerMetrics(registry: registry, target: target.name)
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "driftless_rollout_wave", unitName: "", helpText: "The target's wave"),
                           labels: [("target", target.name)]).set(Int64(target.wave))
        let state = ControllerState(suspended: base.suspended, driftMode: base.driftMode, metrics: metrics)
        let loop = ReconcileLoop(configuration: base, state: state, logger: logger.with(target: target.name))
        return TargetRuntime(target: target, loop: loop, state: state, problem: problem)
    }

    /// The wave gate of a target of `wave` for `revision`: every target of a lower wave (of any
    /// shard) must have an ok or noop row at it in its own database.
    func gate(wave: Int, revision: String, asking: String) async -> Rollout.Gate {
        let lower = lock.withLock { targets.filter { $0.wave < wave } }
        guard !lower.isEmpty else { return .open }
        var reports: [Rollout.Progress] = []
        for target in lower {
            let suspended = await runtime(target.name)?.state.suspended ?? target.suspend
            if let known = await progress.status(target.name, revision: revision) {
                reports.append(Rollout.Progress(target: target.name, wave: target.wave, status: known, suspended: suspended))
                continue
            }
            let status = try? await BlockingIO.run(name: "driftless-wave") { () -> ReconcileStatus? in
                let connection = try Connection(ConnectionString(try target.resolveDatabaseURL()))
                return try self.configuration.base.options.history.status(at: revision, connection)
            }
            if let status = status ?? nil, status == .ok || status == .noop { await progress.record(target.name, revision: revision, status: status) }
            reports.append(Rollout.Progress(target: target.name, wave: target.wave, status: status ?? nil, suspended: suspended))
        }
        return Rollout.gate(wave: wave, others: reports)
    }

    /// A target of this replica finished a tick: remember a success, and wake the targets of
    /// later waves waiting for this revision.
    func finished(_ name: String, revision: String, status: ReconcileStatus) {
        guard status == .ok || status == .noop else { return }
        Task {
            await progress.record(name, revision: revision, status: status)
            let wave = lock.withLock { targets.first { $0.name == name }?.wave ?? 1 }
            for runtime in current where runtime.target.wave > wave {
                if await runtime.state.lastAppliedRevision != revision {
                    runtime.loop.trigger(TickRequest(kind: "wave"))
                }
            }
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for runtime in current { group.addTask { try? await runtime.loop.run() } }
                // The targets file: looked at every reload interval, or at once on SIGHUP.
                let ticker = Task { [reload, configuration] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(configuration.reloadInterval.milliseconds))
                        reload.continuation.yield()
                    }
                }
                for await _ in reload.stream {
                    guard let loaded = try? LoadedTargets.read(configuration.targetsFile) else {
                        // An unusable file keeps the targets that run: the error is logged once per change.
                        if let text = try? String(contentsOfFile: configuration.targetsFile, encoding: .utf8), text != lock.withLock({ self.text }) {
                            logger.error("the targets file is not usable; keeping the targets that run", metadata: ["file": "\(configuration.targetsFile)"])
                            lock.withLock { self.text = text }
                        }
                        continue
                    }
                    guard loaded.text != lock.withLock({ text }) || loaded.all != lock.withLock({ targets }) else { continue }
                    logger.info("targets file changed", metadata: ["targets": "\(loaded.all.count)"])
                    let before = lock.withLock { targets }
                    let started = apply(loaded)
                    for runtime in started { group.addTask { try? await runtime.loop.run() } }
                    // A target of an earlier wave added, removed or changed (suspended, say):
                    // the later waves look at their gate again now.
                    let changed = Set(before.filter { !loaded.all.contains($0) } + loaded.all.filter { !before.contains($0) })
                    if let lowest = changed.map(\.wave).min() {
                        let fresh = Set(started.map(\.target.name))
                        for runtime in current where runtime.target.wave > lowest && !fresh.contains(runtime.target.name) {
                            runtime.loop.trigger(TickRequest(kind: "targets"))
                        }
                    }
                }
                ticker.cancel()
                for runtime in current { runtime.loop.stop() }
            }
        } onGracefulShutdown: { [reload] in
            reload.continuation.finish()
        }
    }
}

/// What is known of the targets' progress per revision: only successes, which do not change.
actor WaveProgress {
    private var known: [String: [String: ReconcileStatus]] = [:]

    func status(_ target: String, revision: String) -> ReconcileStatus? { known[revision]?[target] }

    func record(_ target: String, revision: String, status: ReconcileStatus) {
        known[revision, default: [:]][target] = status
        if known.count > 8, let oldest = known.keys.sorted().first { known[oldest] = nil }
    }
}

extension Logger {
    /// This logger with `target` in every line's metadata.
    func with(target: String) -> Logger {
        var logger = self
        logger[metadataKey: "target"] = "\(target)"
        return logger
    }
}
