import BlockingIO
import DriftlessCore
import Foundation
import Hummingbird
import Logging
import Postgres
import Prometheus
import Reconciler
import ServiceLifecycle

/// The HTTP application of a fleet controller (fleet.md, Status and metrics): health, metrics
/// with a `target` label, `GET /v1/targets` and `/v1/targets/{name}/status|drift|history`,
/// `POST /v1/targets/{name}/reconcile|suspend|resume`, behind the same bearer authentication as
/// `/v1/`. Admin callers only: tenant tokens and API blueprints belong to one database.
/// With a single target, `/v1/status`, `/v1/drift`, `/v1/history`, `/v1/reconcile`,
/// `/v1/suspend` and `/v1/resume` answer for it as interface.md says.
public func buildFleetApplication(fleet: Fleet, logger: Logger) -> some ApplicationProtocol {
    let configuration = fleet.configuration.base
    let router = Router(context: ControllerRequestContext.self)
    let failures = fleet.registry.makeCounter(
        descriptor: MetricNameDescriptor(metricName: "driftless_http_auth_failures_total", unitName: "",
                                         helpText: "Refused authentications of /v1/ requests and webhooks"),
        labels: [("target", "")])
    router.add(middleware: AccessLog(logger: logger))
    router.add(middleware: BodyLimit())

    router.get("healthz") { _, _ -> Response in
        // Wedged: some loop showed no sign of life for three of its intervals (plus a long apply).
        var oldest = 0.0
        var limitSeconds = 0.0
        for runtime in fleet.current {
            let age = Date().timeIntervalSince(await runtime.state.lastBeat)
            let limit = 3 * runtime.target.interval.seconds + configuration.options.statementTimeout.seconds
            if age - limit > oldest - limitSeconds { (oldest, limitSeconds) = (age, limit) }
        }
        let alive = oldest <= limitSeconds || fleet.current.isEmpty
        return json(["alive": alive ? "true" : "false", "targets": String(fleet.current.count)], status: alive ? .ok : .serviceUnavailable)
    }
    router.get("readyz") { _, _ -> Response in
        // Ready once the targets file is loaded: one dead target never makes the replica unready.
        json(["ready": "true", "targets": String(fleet.current.count)], status: .ok)
    }
    router.get("metrics") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                 body: .init(byteBuffer: ByteBuffer(string: fleet.registry.emitToString())))
    }

    Dashboard.add(to: router, source: DashboardSource(
        targets: {
            fleet.current.map {
                DashboardTarget(name: $0.target.name, shard: fleet.configuration.shard, wave: $0.target.wave, state: $0.state,
                                configuration: $0.loop.configuration, problem: $0.problem)
            }
        },
        tenantsAllowed: false, refused: { failures.increment() }), authenticator: configuration.authenticator)

    let api = router.group("v1").add(middleware: APIAuthentication(authenticator: configuration.authenticator, refused: { failures.increment() }))
    api.add(middleware: AdminOnly())
    api.get("targets") { _, _ -> Response in
        // One target encoded at a time: a thousand targets' Results never sit in memory as one
        // tree of JSON values (docs/fleet.md, Memory).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var body = ByteBuffer(string: "[")
        for (index, runtime) in fleet.current.enumerated() {
            let status = TargetStatus(name: runtime.target.name, shard: fleet.configuration.shard, wave: runtime.target.wave,
                                      status: await runtime.state.status, problem: runtime.problem)
            if index > 0 { body.writeString(",") }
            body.writeBytes(try encoder.encode(status))
        }
        body.writeString("]")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    /// The runtime a path names, or 404.
    @Sendable func named(_ context: ControllerRequestContext) throws -> TargetRuntime {
        guard let name = context.parameters.get("name"), let runtime = fleet.runtime(name) else {
            throw HTTPError(.notFound, message: "no such target on this replica")
        }
        return runtime
    }
    /// The only target, for the single-target endpoints of interface.md.
    @Sendable func only() throws -> TargetRuntime {
        let all = fleet.current
        guard all.count == 1 else { throw HTTPError(.notFound, message: "this controller has \(all.count) targets: use /v1/targets/{name}/...") }
        return all[0]
    }

    @Sendable func status(_ runtime: TargetRuntime) async throws -> Response { try encoded(await runtime.state.status) }
    // Admin callers only (AdminOnly): no tenant restriction.
    @Sendable func drift(_ runtime: TargetRuntime, markdown: Bool) async throws -> Response {
        try await driftAnswer(runtime.loop.configuration, tenant: nil, markdown: markdown)
    }
    @Sendable func history(_ runtime: TargetRuntime, limit: Int) async throws -> Response {
        try await historyAnswer(runtime.loop.configuration, tenant: nil, limit: limit)
    }
    @Sendable func reconcile(_ runtime: TargetRuntime) -> Response {
        runtime.loop.trigger(TickRequest(kind: "webhook", id: UUID().uuidString.lowercased()))
        return json(["accepted": "true"], status: .accepted)
    }
    @Sendable func suspend(_ runtime: TargetRuntime, _ value: Bool) async throws -> Response {
        await runtime.state.setSuspended(value)
        if !value { runtime.loop.trigger(TickRequest(kind: "webhook")) }
        return try encoded(await runtime.state.status)
    }

    api.get("targets/:name/status") { _, context in try await status(try named(context)) }
    api.get("targets/:name/drift") { request, context in
        try await drift(try named(context), markdown: request.uri.queryParameters["format"] == "markdown")
    }
    api.get("targets/:name/history") { request, context in
        try await history(try named(context), limit: request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 20)
    }
    api.post("targets/:name/reconcile") { _, context in reconcile(try named(context)) }
    api.post("targets/:name/suspend") { _, context in try await suspend(try named(context), true) }
    api.post("targets/:name/resume") { _, context in try await suspend(try named(context), false) }
    api.get("status") { _, _ in try await status(try only()) }
    api.get("drift") { request, _ in try await drift(try only(), markdown: request.uri.queryParameters["format"] == "markdown") }
    api.get("history") { request, _ in try await history(try only(), limit: request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 20) }
    api.post("reconcile") { _, _ in reconcile(try only()) }
    api.post("suspend") { _, _ in try await suspend(try only(), true) }
    api.post("resume") { _, _ in try await suspend(try only(), false) }

    return serve(router, configuration, logger: logger)
}

/// Fleet endpoints are the operator's: a tenant token gets 403.
struct AdminOnly: RouterMiddleware {
    func handle(_ request: Request, context: ControllerRequestContext,
                next: (Request, ControllerRequestContext) async throws -> Response) async throws -> Response {
        guard context.caller == .admin else { return problem(.forbidden, "a fleet's endpoints are for the admin token") }
        return try await next(request, context)
    }
}

/// Runs a fleet controller until SIGTERM or SIGINT; SIGHUP re-reads the targets file.
/// - Throws: `TargetsFileError` for an unusable targets file at start; when the HTTP server
///   cannot bind.
public func runFleet(_ configuration: FleetConfiguration, logger: Logger) async throws {
    let fleet = try Fleet(configuration: configuration, logger: logger)
    let app = buildFleetApplication(fleet: fleet, logger: logger)
    signal(SIGHUP, SIG_IGN)
    let hangup = DispatchSource.makeSignalSource(signal: SIGHUP)
    hangup.setEventHandler { fleet.reloadNow() }
    hangup.resume()
    defer { hangup.cancel() }
    try await runUntilSignalled([app, fleet], logger: logger)
}
