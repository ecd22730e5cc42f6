import BlockingIO
import Crypto
import DriftlessCore
import Foundation
import Hummingbird
import Logging
import Postgres
import Reconciler

/// Largest request body accepted (interface.md: bodies over 1 MiB get 413).
let maximumBody = 1 << 20

/// The request context of the controller's routes: who the caller is, once `/v1/`
/// authentication has run, and the 1 MiB body limit (interface.md).
public struct ControllerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `APIAuthentication` on every `/v1/` route but the GitHub webhook.
    public var caller: Caller? {
        didSet { seen.caller = caller }
    }
    /// Where the access log reads the caller after the inner middleware set it.
    let seen = SeenCaller()

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { maximumBody }
}

/// Builds the HTTP application of the controller: health, metrics, the `/v1/` API behind
/// bearer authentication (admin or tenant callers), and the GitHub push webhook verified by
/// HMAC-SHA256. Tests call this too.
public func buildApplication(loop: ReconcileLoop, metrics: ControllerMetrics, logger: Logger) -> some ApplicationProtocol {
    let configuration = loop.configuration
    let router = Router(context: ControllerRequestContext.self)
    let state = loop.state
    let deliveries = SeenDeliveries()
    router.add(middleware: AccessLog(logger: logger))
    router.add(middleware: BodyLimit())

    router.get("healthz") { _, _ -> Response in
        // Wedged: no sign of life for three intervals (plus the shutdown budget for a long apply).
        let limit = 3 * configuration.interval.seconds + configuration.options.statementTimeout.seconds
        let age = Date().timeIntervalSince(await state.lastBeat)
        return json(["alive": age < limit ? "true" : "false", "last_beat_seconds_ago": String(Int(age))],
                    status: age < limit ? .ok : .serviceUnavailable)
    }
    router.get("readyz") { _, _ -> Response in
        let contact = await state.lastDatabaseContact
        let loaded = await state.revisionLoaded
        let fresh = contact.map { Date().timeIntervalSince($0) < 3 * configuration.interval.seconds + 30 } ?? false
        let ready = loaded && fresh
        return json(["ready": ready ? "true" : "false", "revision_loaded": loaded ? "true" : "false",
                     "database_answered_recently": fresh ? "true" : "false"], status: ready ? .ok : .serviceUnavailable)
    }
    router.get("metrics") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                 body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
    }

    // The GitHub webhook cannot send a bearer token: its signature is its authentication.
    router.post("v1/hooks/github") { request, _ -> Response in
        var request = request
        let body = try await request.collectBody(upTo: maximumBody)
        guard let secret = configuration.webhookSecret, !secret.isEmpty else {
            metrics.authenticationFailed()
            return problem(.unauthorized, "the webhook is disabled: DRIFTLESS_WEBHOOK_SECRET is not set")
        }
        guard let signature = request.headers[.init("X-Hub-Signature-256")!],
              GitHubSignature.isValid(signature, body: Data(buffer: body), secret: secret.revealed) else {
            metrics.authenticationFailed()
            return problem(.unauthorized, "bad or missing X-Hub-Signature-256")
        }
        let event = request.headers[.init("X-GitHub-Event")!] ?? ""
        guard event == "push" else { return json(["accepted": "false", "reason": "ignored event \(event)"], status: .ok) }
        let delivery = request.headers[.init("X-GitHub-Delivery")!]
        // A delivery seen in the last 24 hours is a replay: answered, no new work.
        if let delivery, !deliveries.firstTime(delivery) {
            return json(["accepted": "false", "replayed": "true", "reason": "delivery \(delivery) already seen"], status: .ok)
        }
        loop.trigger(TickRequest(kind: "git-push", id: delivery))
        return json(["accepted": "true"], status: .accepted)
    }

    Dashboard.add(to: router, source: DashboardSource(
        targets: { [DashboardTarget(name: "database", state: state, configuration: configuration)] },
        tenantsAllowed: true, refused: { metrics.authenticationFailed() }), authenticator: configuration.authenticator)

    let api = router.group("v1").add(middleware: APIAuthentication(authenticator: configuration.authenticator, metrics: metrics))
    api.get("status") { _, context -> Response in
        var status = await state.status
        // A tenant sees the last Result only when it was its own.
        if let tenant = context.caller?.tenant, status.lastResult?.tenantID.lowercased() != tenant { status.lastResult = nil }
        return try encoded(status)
    }
    api.get("drift") { request, context -> Response in
        try await driftAnswer(configuration, tenant: context.caller?.tenant, markdown: request.uri.queryParameters["format"] == "markdown")
    }
    api.get("history") { request, context -> Response in
        try await historyAnswer(configuration, tenant: context.caller?.tenant,
                                limit: request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 20)
    }
    api.post("reconcile") { _, context -> Response in
        guard context.caller == .admin else { return problem(.forbidden, "only the admin token may trigger the loop") }
        loop.trigger(TickRequest(kind: "webhook", id: UUID().uuidString.lowercased()))
        return json(["accepted": "true"], status: .accepted)
    }
    api.post("suspend") { _, context -> Response in
        guard context.caller == .admin else { return problem(.forbidden, "only the admin token may suspend the loop") }
        await state.setSuspended(true)
        return try encoded(await state.status)
    }
    api.post("resume") { _, context -> Response in
        guard context.caller == .admin else { return problem(.forbidden, "only the admin token may resume the loop") }
        await state.setSuspended(false)
        loop.trigger(TickRequest(kind: "webhook"))
        return try encoded(await state.status)
    }
    api.post("blueprints") { request, context -> Response in
        // JSON bodies only (reconcile.md, API blueprints).
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            return problem(.unsupportedMediaType, "POST /v1/blueprints takes Content-Type: application/json")
        }
        var request = request
        let body = Data(buffer: try await request.collectBody(upTo: maximumBody))
        var collected: [String: String] = [:]
        for field in request.headers { collected[field.name.canonicalName] = field.value }
        let headers = collected
        let caller = context.caller ?? .admin
        let answer = try await BlockingIO.run(name: "driftless-api-blueprint") {
            APIBlueprintRequest.handle(body: body, headers: headers, caller: caller, configuration: configuration)
        }
        var response = try encoded(answer.result, status: HTTPResponse.Status(code: answer.status))
        if let seconds = answer.retryAfter { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    return serve(router, configuration, logger: logger)
}

/// `GET /v1/drift` of one database (a fleet's target too): the drift report of its blueprints,
/// restricted to a tenant caller's own tables; JSON, or Markdown.
func driftAnswer(_ configuration: ControllerConfiguration, tenant: String?, markdown: Bool) async throws -> Response {
    let report = try await driftReport(configuration, tenant: tenant)
    if markdown {
        return Response(status: .ok, headers: [.contentType: "text/markdown; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: report.markdown)))
    }
    return try encoded(report)
}

/// `GET /v1/history` of one database: its newest rows (1 to 1000), a tenant caller's own only.
func historyAnswer(_ configuration: ControllerConfiguration, tenant: String?, limit: Int) async throws -> Response {
    try encoded(try await historyRows(configuration, tenant: tenant, limit: limit))
}

/// The newest history rows of one database (1 to 1000), a tenant caller's own only; the
/// dashboard shows the same.
func historyRows(_ configuration: ControllerConfiguration, tenant: String?, limit: Int) async throws -> [HistoryRow] {
    try await BlockingIO.run(name: "driftless-history") {
        try configuration.options.history.rows(limit: max(1, min(limit, 1000)), tenant: tenant,
                                               Connection(ConnectionString(configuration.databaseURL.revealed)))
    }
}

/// The HTTP server of a controller, one database or a fleet: a backlog sized for bursts (500
/// clients at once overflowed 256), a deadline for a request's head and an idle timeout, so a
/// client that stops sending cannot hold a socket for ever (docs/operations.md, HTTP).
func serve(_ router: Router<ControllerRequestContext>, _ configuration: ControllerConfiguration, logger: Logger) -> some ApplicationProtocol {
    Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [RequestHeadTimeout(timeout: .milliseconds(Int64(configuration.headerTimeout.milliseconds)))],
            idleTimeout: .seconds(30))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "driftless", backlog: 4096),
        logger: logger)
}

/// Every `/v1/` route but the webhook: `Authorization: Bearer <token>` names the caller. 401
/// without a token (or when no way of authenticating is configured), 403 for a token that
/// stands for nobody; each refusal is counted in `driftless_http_auth_failures_total`.
struct APIAuthentication: RouterMiddleware {
    let authenticator: APIAuthenticator
    /// Counts a refusal (`driftless_http_auth_failures_total`).
    let refused: @Sendable () -> Void

    init(authenticator: APIAuthenticator, metrics: ControllerMetrics) {
        self.authenticator = authenticator
        refused = { metrics.authenticationFailed() }
    }

    init(authenticator: APIAuthenticator, refused: @escaping @Sendable () -> Void) {
        self.authenticator = authenticator
        self.refused = refused
    }

    func handle(_ request: Request, context: ControllerRequestContext,
                next: (Request, ControllerRequestContext) async throws -> Response) async throws -> Response {
        guard authenticator.isConfigured else {
            refused()
            return problem(.unauthorized, "the API is disabled: set DRIFTLESS_API_TOKEN, DRIFTLESS_API_TOKENS_FILE, DRIFTLESS_JWT_SECRET or DRIFTLESS_JWKS_FILE")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            refused()
            return problem(.unauthorized, "missing Authorization: Bearer token")
        }
        guard let caller = authenticator.caller(bearer: String(header.dropFirst("Bearer ".count))) else {
            refused()
            return problem(.forbidden, "the token stands for nobody")
        }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}

/// 413 for a body over 1 MiB on every route, whether or not the route reads its body.
struct BodyLimit: RouterMiddleware {
    func handle(_ request: Request, context: ControllerRequestContext,
                next: (Request, ControllerRequestContext) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBody {
            return problem(.contentTooLarge, "bodies are limited to 1 MiB")
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maximumBody)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return problem(.contentTooLarge, "bodies are limited to 1 MiB")
        }
        return try await next(request, context)
    }
}

/// One log line per request: method, path, status, duration and the tenant; never a token,
/// never the query string (it could carry one).
struct AccessLog: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: ControllerRequestContext,
                next: (Request, ControllerRequestContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        let seen = context.seen
        defer {
            let elapsed = ContinuousClock.now - started
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            logger.info("http", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
                "duration_ms": "\(String(format: "%.1f", milliseconds))",
                "tenant": "\(seen.caller.map { $0.tenant ?? "admin" } ?? "-")",
            ])
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}

/// The caller of a request, as the access log reads it once the response is made.
final class SeenCaller: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Caller?
    var caller: Caller? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Webhook deliveries seen in the last 24 hours (per process; a second replica keeps its own).
final class SeenDeliveries: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: Date] = [:]
    static let window: TimeInterval = 24 * 3600
    static let limit = 100_000

    /// Whether `delivery` is new; records it.
    func firstTime(_ delivery: String, now: Date = Date()) -> Bool {
        lock.withLock {
            if seen.count > Self.limit / 2 { seen = seen.filter { now.timeIntervalSince($0.value) < Self.window } }
            if seen.count >= Self.limit, let oldest = seen.min(by: { $0.value < $1.value }) { seen[oldest.key] = nil }
            if let at = seen[delivery], now.timeIntervalSince(at) < Self.window { return false }
            seen[delivery] = now
            return true
        }
    }
}

/// GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
public enum GitHubSignature {
    public static func isValid(_ header: String, body: Data, secret: String) -> Bool {
        guard header.hasPrefix("sha256="), let expected = hexBytes(String(header.dropFirst(7))) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }

    /// The header value GitHub would send for `body`.
    public static func sign(_ body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for index in 0..<max(a.count, b.count) {
        difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
    }
    return difference == 0
}

func json(_ fields: [String: String], status: HTTPResponse.Status) -> Response {
    var text = "{"
    for (index, key) in fields.keys.sorted().enumerated() {
        if index > 0 { text += "," }
        text += JSONValue.string(key).canonical + ":"
        let value = fields[key]!
        text += ["true", "false"].contains(value) || Int(value) != nil ? value : JSONValue.string(value).canonical
    }
    text += "}"
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
}

func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json(["error": message], status: status)
}

func encoded<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}
