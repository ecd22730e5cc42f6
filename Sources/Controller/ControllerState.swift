import DriftlessCore
import Foundation
import Prometheus

/// A status condition of the controller (`Ready`, `Reconciling`, `Stalled`, `Drifted`).
public struct Condition: Sendable, Codable, Equatable {
    public var type: String
    /// `True`, `False` or `Unknown`, as Kubernetes writes them.
    public var status: String
    public var reason: String
    public var message: String
    public var lastTransitionTime: String

    enum CodingKeys: String, CodingKey {
        case type, status, reason, message
        case lastTransitionTime = "last_transition_time"
    }
}

/// What `GET /v1/status` answers.
public struct ControllerStatus: Sendable, Codable {
    public var lastAttemptedRevision: String?
    public var lastAppliedRevision: String?
    public var lastResult: ReconcileResult?
    public var nextTick: String?
    public var suspended: Bool
    public var driftMode: String
    public var fetchError: String?
    public var conditions: [Condition]

    enum CodingKeys: String, CodingKey {
        case suspended, conditions
        case lastAttemptedRevision = "last_attempted_revision", lastAppliedRevision = "last_applied_revision"
        case lastResult = "last_result", nextTick = "next_tick", driftMode = "drift_mode", fetchError = "fetch_error"
    }
}

/// The controller's shared state: the loop writes it, the HTTP handlers read it.
public actor ControllerState {
    public private(set) var lastAttemptedRevision: String?
    public private(set) var lastAppliedRevision: String?
    public private(set) var lastResult: ReconcileResult?
    public private(set) var nextTick: Date?
    public private(set) var suspended: Bool
    public private(set) var fetchError: String?
    public private(set) var lastBeat = Date()
    public private(set) var lastDatabaseContact: Date?
    public private(set) var revisionLoaded = false
    private var conditions: [String: Condition] = [:]
    let driftMode: DriftMode
    let metrics: ControllerMetrics

    public init(suspended: Bool, driftMode: DriftMode, metrics: ControllerMetrics) {
        self.suspended = suspended
        self.driftMode = driftMode
        self.metrics = metrics
        let now = Timestamp.string(Date())
        for type in ["Ready", "Reconciling", "Stalled", "Drifted"] {
            conditions[type] = Condition(type: type, status: "Unknown", reason: "Starting", message: "no reconciliation yet", lastTransitionTime: now)
            metrics.condition(type: type, status: "Unknown")
        }
    }

    func setCondition(_ type: String, _ status: String, reason: String, message: String) {
        if let existing = conditions[type], existing.status == status, existing.reason == reason, existing.message == message { return }
        let changed = conditions[type]?.status != status
        let time = changed || conditions[type] == nil ? Timestamp.string(Date()) : conditions[type]!.lastTransitionTime
        conditions[type] = Condition(type: type, status: status, reason: reason, message: message, lastTransitionTime: time)
        metrics.condition(type: type, status: status)
    }

    func beat() { lastBeat = Date() }

    func startReconciling(revision: String?) {
        lastBeat = Date()
        lastAttemptedRevision = revision ?? lastAttemptedRevision
        setCondition("Reconciling", "True", reason: "Progressing", message: "reconciling \(revision ?? "the last good revision")")
    }

    func fetchFailed(_ message: String) {
        fetchError = message
        metrics.gitFetchErrors.increment()
    }

    func fetched() { fetchError = nil; revisionLoaded = true }

    func databaseAnswered() { lastDatabaseContact = Date() }

    /// Records a finished reconciliation (or drift check) and updates conditions and metrics.
    func finish(result: ReconcileResult?, drift: DriftReport?, revision: String?, duration: Duration) {
        lastBeat = Date()
        metrics.ticked(duration: duration)
        if let result {
            lastResult = result
            metrics.reconciled(result.status, duration: duration)
            switch result.status {
            case .ok, .noop:
                lastAppliedRevision = revision
                setCondition("Ready", "True", reason: result.status == .ok ? "Applied" : "UpToDate", message: result.summary)
                setCondition("Stalled", "False", reason: "Healthy", message: "")
            case .blocked, .failed:
                setCondition("Ready", "False", reason: result.status == .blocked ? "Blocked" : "Failed", message: result.summary)
                setCondition("Stalled", "True", reason: result.status == .blocked ? "NeedsHuman" : "StatementFailed", message: result.summary)
            case .retry:
                setCondition("Ready", "False", reason: "Retrying", message: result.summary)
            }
        }
        if result == nil, drift?.inSync == true {
            // Nothing to do and nothing drifted is a success too: a stall is over.
            setCondition("Stalled", "False", reason: "InSync", message: "")
        }
        if let drift {
            metrics.drift(drift)
            setCondition("Drifted", drift.inSync ? "False" : "True", reason: drift.inSync ? "InSync" : "DriftDetected", message: drift.summaryLine)
        }
        setCondition("Reconciling", "False", reason: "Idle", message: "")
    }

    /// A fleet's wave gate for the revision at hand (fleet.md, Waves): `RolloutHalted`.
    func rollout(_ gate: Rollout.Gate) {
        switch gate {
        case .open: setCondition("RolloutHalted", "False", reason: "Open", message: "")
        case .waiting(let targets):
            setCondition("RolloutHalted", "False", reason: "WaitingForEarlierWaves",
                         message: "waiting for \(targets.prefix(5).joined(separator: ", "))\(targets.count > 5 ? " and \(targets.count - 5) more" : "")")
        case .halted(let target, let status):
            setCondition("RolloutHalted", "True", reason: "EarlierWave\(status == .blocked ? "Blocked" : "Failed")",
                         message: "target \(target) is \(status.rawValue) at this revision")
        }
    }

    func scheduled(_ date: Date) { nextTick = date }

    func setSuspended(_ value: Bool) { suspended = value }

    public var status: ControllerStatus {
        ControllerStatus(
            lastAttemptedRevision: lastAttemptedRevision, lastAppliedRevision: lastAppliedRevision, lastResult: lastResult,
            nextTick: nextTick.map(Timestamp.string), suspended: suspended,
            driftMode: driftMode.rawValue, fetchError: fetchError,
            conditions: ["Ready", "Reconciling", "Stalled", "Drifted", "RolloutHalted"].compactMap { conditions[$0] })
    }
}

/// `--drift-mode`: correct drift at an unchanged revision, or only report it.
public enum DriftMode: String, Sendable, Codable { case correct, warn }

/// The Prometheus metrics of interface.md.
/// A metric's full name (the names of interface.md are already complete) and its help text.
private func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}

public final class ControllerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let reconcileTotal: [ReconcileStatus: Counter]
    let duration: DurationHistogram
    let tickDuration: DurationHistogram
    let driftObjects: [String: Gauge]
    let lastSuccess: Gauge
    let gitFetchErrors: Counter
    let conditionGauges: [String: Gauge]
    let up: Gauge
    let authFailures: Counter

    /// `target`: the fleet's target these metrics are about (fleet.md, Status and metrics):
    /// every metric then carries a `target` label, in the fleet's one `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), target: String? = nil) {
        self.registry = registry
        let own: [(String, String)] = target.map { [("target", $0)] } ?? []
        var totals: [ReconcileStatus: Counter] = [:]
        for status in ReconcileStatus.allCases {
            totals[status] = registry.makeCounter(descriptor: metric("driftless_reconcile_total", "Reconciliations by status"), labels: own + [("status", status.rawValue)])
        }
        reconcileTotal = totals
        duration = registry.makeDurationHistogram(
            descriptor: metric("driftless_reconcile_duration_seconds", "Duration of reconciliations"), labels: own,
            buckets: [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60)])
        tickDuration = registry.makeDurationHistogram(
            descriptor: metric("driftless_tick_duration_seconds", "Duration of loop ticks (fetch, load, drift check, reconciliation when needed)"), labels: own,
            buckets: [.milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30)])
        var drift: [String: Gauge] = [:]
        for kind in ["missing", "changed", "unmanaged"] {
            drift[kind] = registry.makeGauge(descriptor: metric("driftless_drift_objects", "Objects that differ from the blueprints, by kind"), labels: own + [("kind", kind)])
        }
        driftObjects = drift
        lastSuccess = registry.makeGauge(descriptor: metric("driftless_last_success_timestamp_seconds", "Unix time of the last ok or noop reconciliation"), labels: own)
        gitFetchErrors = registry.makeCounter(descriptor: metric("driftless_git_fetch_errors_total", "Failed git fetches"), labels: own)
        var gauges: [String: Gauge] = [:]
        for type in ["Ready", "Reconciling", "Stalled", "Drifted"] + (target == nil ? [] : ["RolloutHalted"]) {
            for status in ["True", "False", "Unknown"] {
                gauges["\(type)/\(status)"] = registry.makeGauge(descriptor: metric("driftless_condition", "Status conditions (1 for the current status)"), labels: own + [("type", type), ("status", status)])
            }
        }
        conditionGauges = gauges
        authFailures = registry.makeCounter(descriptor: metric("driftless_http_auth_failures_total", "Refused authentications of /v1/ requests and webhooks"), labels: own)
        up = registry.makeGauge(descriptor: metric("driftless_up", "1 while the controller runs"), labels: own)
        up.set(Int64(1))
    }

    func ticked(duration elapsed: Duration) { tickDuration.record(elapsed) }

    func authenticationFailed() { authFailures.increment() }

    func reconciled(_ status: ReconcileStatus, duration elapsed: Duration) {
        reconcileTotal[status]?.increment()
        duration.record(elapsed)
        if status == .ok || status == .noop { lastSuccess.set(Date().timeIntervalSince1970) }
    }

    func drift(_ report: DriftReport) {
        driftObjects["missing"]?.set(Double(report.summary.missing))
        driftObjects["changed"]?.set(Double(report.summary.changed))
        driftObjects["unmanaged"]?.set(Double(report.summary.unmanaged))
    }

    func condition(type: String, status: String) {
        for candidate in ["True", "False", "Unknown"] {
            conditionGauges["\(type)/\(candidate)"]?.set(Int64(candidate == status ? 1 : 0))
        }
    }

    /// The Prometheus text exposition.
    public func text() -> String { registry.emitToString() }
}
