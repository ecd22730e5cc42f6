import DriftlessCore
import Foundation
import Logging
import ServiceLifecycle

/// Runs the controller until SIGTERM or SIGINT: the HTTP server and the reconcile loop as one
/// service group. Returns after a graceful stop.
/// - Throws: when the HTTP server cannot bind, or a service fails.
public func runController(_ configuration: ControllerConfiguration, logger: Logger) async throws {
    let metrics = ControllerMetrics()
    let state = ControllerState(suspended: configuration.suspended, driftMode: configuration.driftMode, metrics: metrics)
    let loop = ReconcileLoop(configuration: configuration, state: state, logger: logger)
    let app = buildApplication(loop: loop, metrics: metrics, logger: logger)
    try await runUntilSignalled([app, loop], logger: logger)
}

/// Runs `services` as one group until SIGTERM or SIGINT: when one ends or fails, all stop gracefully.
func runUntilSignalled(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(
        configuration: .init(
            services: services.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    try await group.run()
}

/// One JSON object per log line (`--log-format json`), with secrets never in metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [
            "time": Timestamp.string(Date()), "level": event.level.rawValue,
            "message": "\(event.message)", "logger": label,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            FileHandle.standardError.write(data + Data("\n".utf8))
        }
    }
}
