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

/// Builds the HTTP application of the controller: health, metrics, the `/v1/` API behind a
/// bearer token, and the GitHub push webhook verified by HMAC-SHA256. Tests call this too.
public func buildApplication(loop: ReconcileLoop, metrics: ControllerMetrics, logger: Logger) -> some ApplicationProtocol {
    let configuration = loop.configuration
    let router = Router(context: BasicRequestContext.self)
    let state = loop.state

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
            return problem(.unauthorized, "the webhook is disabled: DRIFTLESS_WEBHOOK_SECRET is not set")
        }
        guard let signature = request.headers[.init("X-Hub-Signature-256")!],
              GitHubSignature.isValid(signature, body: Data(buffer: body), secret: secret) else {
            return problem(.unauthorized, "bad or missing X-Hub-Signature-256")
        }
        let event = request.headers[.init("X-GitHub-Event")!] ?? ""
        guard event == "push" else { return json(["accepted": "false", "reason": "ignored event \(event)"], status: .ok) }
        let delivery = request.headers[.init("X-GitHub-Delivery")!]
        loop.trigger(TickRequest(kind: "git-push", id: delivery))
        return json(["accepted": "true"], status: .accepted)
    }

    let api = router.group("v1").add(middleware: BearerAuthentication(token: configuration.apiToken))
    api.get("status") { _, _ -> Response in try encoded(await state.status) }
    api.get("drift") { request, _ -> Response in
        let markdown = request.uri.queryParameters["format"] == "markdown"
        let report = try await BlockingIO.run(name: "driftless-drift") {
            let revision = try BlueprintLoader.load(configuration.location)
            let set = BlueprintSet.load(revision.sources)
            let connection = try Connection(ConnectionString(configuration.databaseURL))
            return try Reconciler(blueprints: set, revision: revision.revision, options: configuration.options).drift(connection)
        }
        if markdown {
            return Response(status: .ok, headers: [.contentType: "text/markdown; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: report.markdown)))
        }
        return try encoded(report)
    }
    api.get("history") { request, _ -> Response in
        let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 20
        let rows = try await BlockingIO.run(name: "driftless-history") {
            try configuration.options.history.rows(limit: max(1, min(limit, 1000)), Connection(ConnectionString(configuration.databaseURL)))
        }
        return try encoded(rows)
    }
    api.post("reconcile") { _, _ -> Response in
        loop.trigger(TickRequest(kind: "webhook", id: UUID().uuidString.lowercased()))
        return json(["accepted": "true"], status: .accepted)
    }
    api.post("suspend") { _, _ -> Response in
        await state.setSuspended(true)
        return try encoded(await state.status)
    }
    api.post("resume") { _, _ -> Response in
        await state.setSuspended(false)
        loop.trigger(TickRequest(kind: "webhook"))
        return try encoded(await state.status)
    }
    api.post("blueprints") { request, _ -> Response in
        var request = request
        let body = Data(buffer: try await request.collectBody(upTo: maximumBody))
        var collected: [String: String] = [:]
        for field in request.headers { collected[field.name.canonicalName] = field.value }
        let headers = collected
        let answer = try await BlockingIO.run(name: "driftless-api-blueprint") {
            APIBlueprintRequest.handle(body: body, headers: headers, configuration: configuration)
        }
        var response = try encoded(answer.result, status: HTTPResponse.Status(code: answer.status))
        if let seconds = answer.retryAfter { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "driftless"),
        logger: logger)
}

/// `Authorization: Bearer <token>` on every `/v1/` route: 401 without a token (or when none is
/// configured), 403 for a wrong one. Compared in constant time.
struct BearerAuthentication<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !token.isEmpty else {
            return problem(.unauthorized, "the API is disabled: DRIFTLESS_API_TOKEN is not set")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            return problem(.unauthorized, "missing Authorization: Bearer token")
        }
        guard constantTimeEqual(Array(header.dropFirst("Bearer ".count).utf8), Array(token.utf8)) else {
            return problem(.forbidden, "wrong token")
        }
        return try await next(request, context)
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
