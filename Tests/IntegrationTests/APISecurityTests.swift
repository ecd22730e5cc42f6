import _CryptoExtras
import Controller
import Crypto
import DriftlessCore
import Foundation
import GitSource
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import Reconciler
import Testing
import TestSupport

/// docs/security.md, API callers: each promise attacked through the real HTTP application
/// against the real database.
@Suite("API callers as tenants: forged ids, ownership races, scoped allow, replays, limits")
struct APISecurityTests {
    static let tenantA = "aaaaaaaa-0000-4000-8000-00000000000a"
    static let tenantB = "bbbbbbbb-0000-4000-8000-00000000000b"
    static let jwtSecret = "jwt-secret-for-tests-only"

    /// A log handler that keeps every line, to search them for what must never be logged.
    final class CapturedLog: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var text: String { lock.withLock { lines.joined(separator: "\n") } }
    }

    struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })")
        }
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// An HS256 JWT with `claims`.
    static func jwt(_ claims: [String: Any], secret: String = jwtSecret) throws -> String {
        func encode(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = encode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = encode(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let signature = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(payload).\(encode(Data(signature)))"
    }

    struct Harness {
        let db: TestDatabase
        let fixture: GitFixture
        let loop: ReconcileLoop
        let metrics: ControllerMetrics
        let log: CapturedLog
        let app: any ApplicationProtocol
        let tokens: [String: String]
    }

    /// A controller whose loop does not tick on its own (a long interval), with the admin
    /// token `t0ken`, one token per tenant in a tokens file, and an HS256 secret.
    static func harness(git blueprint: String = controllerBlueprint, tenants: Int = 2) async throws -> Harness {
        let db = try await blocking { try PostgresCluster.shared().createDatabase() }
        let fixture = try GitFixture()
        try fixture.write("db/items.yaml", blueprint)
        try fixture.commit("first")
        var tokens: [String: String] = [:]
        var lines = ""
        for index in 0..<tenants {
            let tenant = index == 0 ? tenantA : index == 1 ? tenantB : String(format: "cccccccc-0000-4000-8000-%012d", index)
            let token = "token-of-\(tenant)"
            tokens[tenant] = token
            lines += "\(sha256(token)) \(tenant)\n"
        }
        let file = NSTemporaryDirectory() + "driftless-tokens-\(UUID().uuidString.prefix(8))"
        try lines.write(toFile: file, atomically: true, encoding: .utf8)
        let authenticator = APIAuthenticator(tenantTokens: try APIAuthenticator.tenantTokens(file: file), jwtSecret: Secret(jwtSecret))
        var configuration = ControllerConfiguration(
            databaseURL: db.url,
            location: .git(repository: fixture.fileURL, ref: "main", path: "db",
                           cacheDirectory: NSTemporaryDirectory() + "driftless-api-\(UUID().uuidString.prefix(8))", credentials: GitCredentials()),
            interval: TimeSpan(milliseconds: 3_600_000), retryInterval: TimeSpan(milliseconds: 200),
            apiToken: "t0ken", webhookSecret: "s3cret", authenticator: authenticator)
        // Between two requests of one test the keep-alive connection waits for the next head;
        // a starved CI machine may take longer than the 10 s default (the timeout itself is
        // attacked by aSlowClientIsCutOffByTheHeaderTimeout, on a server of its own).
        configuration.headerTimeout = TimeSpan(milliseconds: 120_000)
        let metrics = ControllerMetrics()
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let log = CapturedLog()
        let logger = Logger(label: "api-test") { _ in CapturingHandler(log: log) }
        let loop = ReconcileLoop(configuration: configuration, state: state, logger: logger)
        // One reconciliation of git first, as the loop would do.
        let set = BlueprintSet.load(try BlueprintLoader.load(configuration.location).sources)
        let options = configuration.options
        _ = try await blocking { Reconciler(blueprints: set, revision: "git", options: options).apply(try db.connect()) }
        let app = buildApplication(loop: loop, metrics: metrics, logger: logger)
        return Harness(db: db, fixture: fixture, loop: loop, metrics: metrics, log: log, app: app, tokens: tokens)
    }

    /// A response as the tests read it.
    struct Answer: Sendable {
        let status: HTTPResponse.Status
        let body: ByteBuffer
        var headers: HTTPFields = [:]
    }

    /// A client of the live server that waits up to five minutes for an answer. HummingbirdTesting's
    /// own live client gives up after 20 s, and on a loaded 2-core CI machine ten racing
    /// applies, each a transaction with its own lock wait, can take longer than that.
    struct PatientClient: Sendable {
        let client: TestClient

        @discardableResult
        func execute<Value>(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
                            _ check: (Answer) async throws -> Value) async throws -> Value {
            var headers = headers
            headers[.connection] = "keep-alive"
            let response = try await client.execute(TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
            return try await check(Answer(status: response.status, body: response.body ?? ByteBuffer(), headers: response.headers))
        }
    }

    /// Runs `test` against `app` served on a real socket.
    static func live<Value: Sendable>(_ app: any ApplicationProtocol, _ test: @Sendable (PatientClient) async throws -> Value) async throws -> Value {
        try await app.test(.live) { base in
            let client = TestClient(host: "localhost", port: try #require(base.port), configuration: .init(timeout: .seconds(300)))
            client.connect()
            do {
                let value = try await test(PatientClient(client: client))
                try await client.shutdown()
                return value
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    static func body(_ tenant: String, tables: [String], extra: String = "", columns: String = "") -> ByteBuffer {
        let list = tables.map { name in
            """
            {"name": "\(name)", "columns": [
               {"name": "id", "type": "uuid", "primary_key": true, "default": "gen_random_uuid()"},
               {"name": "tenant_id", "type": "uuid", "nullable": false}\(columns)]}
            """
        }.joined(separator: ", ")
        return ByteBuffer(string: #"{"version": 1, "tenant_id": "\#(tenant)", \#(extra) "tables": [\#(list)]}"#)
    }

    static func headers(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    static func tableExists(_ db: TestDatabase, _ name: String) throws -> Bool {
        try db.connect().query("SELECT to_regclass($1) IS NOT NULL AS present", ["public.\(name)"]).first!.bool("present")
    }

    @Test func aTenantCannotPostAnotherTenantsIDNorReadItsRows() async throws {
        let harness = try await Self.harness()
        let tokenA = harness.tokens[Self.tenantA]!
        let tokenB = harness.tokens[Self.tenantB]!
        try await Self.live(harness.app) { client in
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(tokenA), body: Self.body(Self.tenantA, tables: ["a_docs"])) {
                #expect($0.status == .ok)
            }
            // B with A's id: 403, whether by token or by a JWT naming B.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(tokenB), body: Self.body(Self.tenantA, tables: [])) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("forbidden_tenant"))
            }
            let jwtB = try Self.jwt(["tenant_id": Self.tenantB, "exp": Date().timeIntervalSince1970 + 600])
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(jwtB), body: Self.body(Self.tenantA, tables: [])) {
                #expect($0.status == .forbidden)
            }
            // Forged, expired or unsigned JWTs stand for nobody.
            let forged = try Self.jwt(["tenant_id": Self.tenantA, "exp": Date().timeIntervalSince1970 + 600], secret: "guessed")
            let expired = try Self.jwt(["tenant_id": Self.tenantA, "exp": Date().timeIntervalSince1970 - 10])
            let parts = try Self.jwt(["tenant_id": Self.tenantA, "exp": Date().timeIntervalSince1970 + 600]).split(separator: ".")
            let unsigned = "eyJhbGciOiJub25lIn0.\(parts[1])."
            for token in [forged, expired, unsigned] {
                try await client.execute(uri: "/v1/status", method: .get, headers: Self.headers(token)) { #expect($0.status == .forbidden) }
            }
            // B's history and drift hold nothing of A's.
            try await client.execute(uri: "/v1/history", method: .get, headers: Self.headers(tokenB)) { response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains(Self.tenantA))
            }
            try await client.execute(uri: "/v1/drift", method: .get, headers: Self.headers(tokenB)) { response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains("a_docs"))
            }
            try await client.execute(uri: "/v1/drift", method: .get, headers: Self.headers(tokenA)) { response in
                #expect(String(buffer: response.body).contains("\"in_sync\":true"))
            }
            // The admin's drift has the API table in the desired state: no drop of it.
            try await client.execute(uri: "/v1/drift", method: .get, headers: Self.headers("t0ken")) { response in
                #expect(!String(buffer: response.body).contains("DROP TABLE"))
            }
            // Tenants cannot steer the loop.
            try await client.execute(uri: "/v1/suspend", method: .post, headers: Self.headers(tokenB)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("driftless_http_auth_failures_total 3"))
            }
        }
        #expect(try Self.tableExists(harness.db, "a_docs"))
        // The access log names the tenant, never a token.
        #expect(harness.log.text.contains("\"tenant\": \(Self.tenantA)"))
        #expect(!harness.log.text.contains(tokenA) && !harness.log.text.contains("t0ken"))
    }

    /// The dashboard behind the same callers as `/v1/` (docs/security.md, The dashboard): a
    /// tenant sees its own tables only, by bearer header or by the login form's session cookie
    /// (HttpOnly, SameSite=Strict, gone after logging out); a wrong token is refused and counted.
    @Test func theDashboardShowsATenantItsOwnTablesOnly() async throws {
        let harness = try await Self.harness()
        let tokenA = harness.tokens[Self.tenantA]!
        let tokenB = harness.tokens[Self.tenantB]!
        try await Self.live(harness.app) { client in
            for (tenant, token, table) in [(Self.tenantA, tokenA, "a_docs"), (Self.tenantB, tokenB, "b_docs")] {
                try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token), body: Self.body(tenant, tables: [table])) {
                    #expect($0.status == .ok)
                }
            }
            // Both tenants' tables drift: RLS turned off by hand.
            try await blocking {
                try harness.db.connect().simpleQuery("ALTER TABLE a_docs DISABLE ROW LEVEL SECURITY; ALTER TABLE b_docs DISABLE ROW LEVEL SECURITY;")
            }
            func page(_ headers: HTTPFields) async throws -> (HTTPResponse.Status, String, HTTPFields) {
                try await client.execute(uri: "/targets/database", method: .get, headers: headers) { ($0.status, String(buffer: $0.body), $0.headers) }
            }
            let (statusA, pageA, headersA) = try await page([.authorization: "Bearer \(tokenA)"])
            #expect(statusA == .ok)
            #expect(pageA.contains("a_docs") && !pageA.contains("b_docs"), "tenant A's page")
            #expect(headersA[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            let (_, pageB, _) = try await page([.authorization: "Bearer \(tokenB)"])
            #expect(pageB.contains("b_docs") && !pageB.contains("a_docs"), "tenant B's page")
            let (_, admin, _) = try await page([.authorization: "Bearer t0ken"])
            #expect(admin.contains("a_docs") && admin.contains("b_docs"))

            // No caller: the login form. A wrong token: 401, counted.
            try await client.execute(uri: "/targets/database", method: .get) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/login")
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/login", method: .post, headers: form, body: ByteBuffer(string: "token=guessed")) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("driftless_http_auth_failures_total 1"))
            }
            // The form with A's token: a session cookie, never the token.
            let cookie = try await client.execute(uri: "/login", method: .post, headers: form,
                                                  body: ByteBuffer(string: "token=" + tokenA.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)) { response in
                #expect(response.status == .seeOther)
                let set = response.headers[.setCookie] ?? ""
                #expect(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "\(set)")
                #expect(!set.contains(tokenA))
                return String(set.split(separator: ";")[0])
            }
            let (statusCookie, pageCookie, _) = try await page([.cookie: cookie])
            #expect(statusCookie == .ok && pageCookie.contains("a_docs") && !pageCookie.contains("b_docs"))
            // A made-up session is nobody; after logging out the cookie is nobody either.
            try await client.execute(uri: "/targets/database", method: .get, headers: [.cookie: "driftless_session=" + String(repeating: "ab", count: 32)]) {
                #expect($0.status == .seeOther)
            }
            try await client.execute(uri: "/logout", method: .post, headers: [.cookie: cookie]) { #expect($0.status == .seeOther) }
            try await client.execute(uri: "/targets/database", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .seeOther) }
        }
    }

    @Test func tenTenantsRacingForOneTableGiveOneOwner() async throws {
        let harness = try await Self.harness(tenants: 10)
        let tenants = harness.tokens.keys.sorted()
        let statuses = try await Self.live(harness.app) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for tenant in tenants {
                    group.addTask {
                        try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[tenant]!),
                                                 body: Self.body(tenant, tables: ["contested"])) { $0.status }
                    }
                }
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
        }
        #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == .conflict }.count == 9, "\(statuses)")
        let owners = try harness.db.connect().query("SELECT owner FROM driftless.ownership WHERE object = 'table:public.contested'").rows
        #expect(owners.count == 1)
        let stored = try harness.db.connect().query("SELECT count(*) AS n FROM driftless.blueprints").first!.int("n")
        #expect(stored == 1)
        // After the race, every tenant but the owner still gets 409, and the owner 200.
        let owner = try #require(try owners.first?.string("owner")).replacingOccurrences(of: "tenant:", with: "")
        let other = try #require(tenants.first { $0 != owner })
        try await Self.live(harness.app) { client in
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[other]!),
                                     body: Self.body(other, tables: ["contested"])) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[owner]!),
                                     body: Self.body(owner, tables: ["contested"])) { #expect($0.status == .ok) }
        }
    }

    @Test func anotherTenantsIDOrTableNeverDropsIt() async throws {
        let harness = try await Self.harness()
        try await Self.live(harness.app) { client in
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[Self.tenantA]!),
                                     body: Self.body(Self.tenantA, tables: ["a_docs"])) { #expect($0.status == .ok) }
            try harness.db.connect().query("INSERT INTO a_docs (tenant_id) VALUES ($1)", [Self.tenantA])
            // B claiming A's table with its own id: 409, A's table and row stay.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[Self.tenantB]!),
                                     body: Self.body(Self.tenantB, tables: ["a_docs"], extra: #""allow": ["deletes_data"],"#)) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("owned_by_other"))
            }
        }
        #expect(try harness.db.connect().query("SELECT count(*) AS n FROM a_docs").first!.int("n") == 1)
    }

    /// A git revision blocked for dropping a column is not unblocked by an unrelated API
    /// request that allows deletes_data; the column stays.
    @Test func anAPIAllowCountsForTheCallersOwnObjectsOnly() async throws {
        let harness = try await Self.harness(git: controllerBlueprint + "\n      - {name: notes, type: text}\n")
        // The next git revision drops the column: blocked for deletes_data.
        try harness.fixture.write("db/items.yaml", controllerBlueprint)
        try harness.fixture.commit("drop notes")
        let set = BlueprintSet.load(try BlueprintLoader.load(harness.loop.configuration.location).sources)
        let blocked = try Reconciler(blueprints: set, revision: "git2", options: ReconcileOptions()).apply(try harness.db.connect())
        #expect(blocked.status == .blocked)
        try await Self.live(harness.app) { client in
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[Self.tenantA]!),
                                     body: Self.body(Self.tenantA, tables: ["unrelated"], extra: #""allow": ["deletes_data"],"#)) { response in
                #expect(response.status == .conflict)
                let text = String(buffer: response.body)
                #expect(text.contains("public.items.notes"))
            }
        }
        let notes = try harness.db.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'notes'").first!.int("n")
        #expect(notes == 1)
        #expect(try !Self.tableExists(harness.db, "unrelated"))
        // The caller's own drop is released by its allow: its column goes, git's stays.
        try await Self.live(harness.app) { client in
            try harness.fixture.write("db/items.yaml", controllerBlueprint + "\n      - {name: notes, type: text}\n")
            try harness.fixture.commit("notes back")
            let own = #", {"name": "scratch", "type": "text"}"#
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[Self.tenantA]!),
                                     body: Self.body(Self.tenantA, tables: ["mine"], columns: own)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[Self.tenantA]!),
                                     body: Self.body(Self.tenantA, tables: ["mine"])) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(harness.tokens[Self.tenantA]!),
                                     body: Self.body(Self.tenantA, tables: ["mine"], extra: #""allow": ["deletes_data"],"#)) { #expect($0.status == .ok) }
        }
        let scratch = try harness.db.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'mine' AND column_name = 'scratch'").first!.int("n")
        #expect(scratch == 0)
    }

    @Test func replaysLimitsAndMediaTypes() async throws {
        let harness = try await Self.harness()
        let token = harness.tokens[Self.tenantA]!
        try await Self.live(harness.app) { client in
            let first = try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token),
                                                 body: Self.body(Self.tenantA, tables: ["a_docs"], extra: #""trigger_id": "delivery-7","#)) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            #expect(first.contains("\"replayed\":false"))
            // The same trigger id with another body within 24 hours: a replay, nothing new.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token),
                                     body: Self.body(Self.tenantA, tables: ["a_docs", "b_docs"], extra: #""trigger_id": "delivery-7","#)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"replayed\":true"))
            }
            #expect(try !Self.tableExists(harness.db, "b_docs"))
            // Functions, triggers and extensions come from git only: a definer function posted by
            // a tenant would run as the applying role, which bypasses RLS.
            let definer = #""functions": [{"name": "steal", "returns": "void", "language": "sql", "security": "definer", "search_path": "", "body": "select 1"}],"#
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token),
                                     body: Self.body(Self.tenantA, tables: ["c_docs"], extra: definer)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("file_only_field"))
            }
            #expect(try !Self.tableExists(harness.db, "c_docs"))
            #expect(try harness.db.connect().query("SELECT count(*) AS n FROM pg_proc WHERE proname = 'steal'").first!.int("n") == 0)
            // Storage policies govern every tenant's files: a tenant cannot post one that opens them all.
            let openBucket = #""storage": {"policies": [{"name": "everyone reads everything", "command": "select", "roles": ["anon"], "using": "true"}]},"#
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token),
                                     body: Self.body(Self.tenantA, tables: ["d_docs"], extra: openBucket)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("file_only_field"))
            }
            #expect(try harness.db.connect().query("SELECT count(*) AS n FROM pg_policy WHERE polname = 'everyone reads everything'").first!.int("n") == 0)
            // Not JSON: 415 by type, 422 for a YAML body sent as JSON.
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "text/yaml"],
                                     body: ByteBuffer(string: "version: 1\n")) { #expect($0.status == .unsupportedMediaType) }
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token),
                                     body: ByteBuffer(string: "version: 1\ntenant_id: \(Self.tenantA)\n")) { #expect($0.status == .unprocessableContent) }
            // 413 on every route, even one that does not read its body.
            let big = ByteBuffer(repeating: UInt8(ascii: "x"), count: 2 << 20)
            for uri in ["/v1/reconcile", "/v1/status", "/healthz", "/v1/hooks/github"] {
                try await client.execute(uri: uri, method: .post, headers: Self.headers("t0ken"), body: big) { #expect($0.status == .contentTooLarge, "\(uri)") }
            }
            // A GitHub delivery seen before is answered as a replay.
            let payload = ByteBuffer(string: #"{"ref":"refs/heads/main"}"#)
            let signature = GitHubSignature.sign(Data(buffer: payload), secret: "s3cret")
            let hook: HTTPFields = [.init("X-GitHub-Event")!: "push", .init("X-Hub-Signature-256")!: signature, .init("X-GitHub-Delivery")!: "gh-1"]
            try await client.execute(uri: "/v1/hooks/github", method: .post, headers: hook, body: payload) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/v1/hooks/github", method: .post, headers: hook, body: payload) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"replayed\":true"))
            }
        }
    }

    /// A check that makes the server quote auth.users: no email in the answer, /v1/status,
    /// /v1/history or any log line.
    @Test func noRowOfAReadableTableInAnyAnswerOrLogLine() async throws {
        let harness = try await Self.harness()
        let email = "owner-\(UUID().uuidString.prefix(8).lowercased())@victim.example"
        try harness.db.connect().query("INSERT INTO auth.users (id, email) VALUES (gen_random_uuid(), $1)", [email])
        let token = harness.tokens[Self.tenantA]!
        try await Self.live(harness.app) { client in
            try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token), body: Self.body(Self.tenantA, tables: ["a_docs"])) {
                #expect($0.status == .ok)
            }
            try harness.db.connect().query("INSERT INTO a_docs (tenant_id) VALUES ($1)", [Self.tenantA])
            let leak = #", {"name": "n", "type": "int", "check": "(table_to_xml('auth.users', true, false, ''))::text::int > 0"}"#
            var answers: [String] = []
            answers.append(try await client.execute(uri: "/v1/blueprints", method: .post, headers: Self.headers(token),
                                                    body: Self.body(Self.tenantA, tables: ["a_docs"], columns: leak)) { response in
                #expect(response.status == .internalServerError)
                return String(buffer: response.body)
            })
            for uri in ["/v1/status", "/v1/history?limit=50", "/v1/drift"] {
                answers.append(try await client.execute(uri: uri, method: .get, headers: Self.headers("t0ken")) { String(buffer: $0.body) })
            }
            #expect(answers[0].contains("22P02"))
            for answer in answers { #expect(!answer.contains(email)) }
        }
        #expect(!harness.log.text.contains(email))
    }

    @Test func secretsPrintRedacted() throws {
        let configuration = ControllerConfiguration(
            databaseURL: "postgresql://postgres:hunter2-db@127.0.0.1/db",
            location: .git(repository: "https://example.invalid/r.git", ref: nil, path: nil, cacheDirectory: "/tmp",
                           credentials: GitCredentials(token: "git-token-3", sshPrivateKey: "ssh-key-1")),
            apiToken: "admin-token-9", webhookSecret: "hook-secret-7",
            authenticator: APIAuthenticator(jwtSecret: Secret("jwt-secret-5")))
        var dumped = ""
        dump(configuration, to: &dumped)
        for printed in ["\(configuration)", String(reflecting: configuration), dumped] {
            for secret in ["hunter2-db", "admin-token-9", "hook-secret-7", "jwt-secret-5", "git-token-3", "ssh-key-1"] {
                #expect(!printed.contains(secret), "\(secret) in \(printed.prefix(200))")
            }
        }
        #expect(configuration.databaseURL.revealed.contains("hunter2-db"))
    }

    /// A client that sends half a request head and then waits is cut off by the header timeout.
    /// (No other request on this server: under a loaded CI machine the test client itself could
    /// miss a short timeout.)
    @Test func aSlowClientIsCutOffByTheHeaderTimeout() async throws {
        var configuration = ControllerConfiguration(databaseURL: "postgresql://127.0.0.1:1/none", location: .directory("/nonexistent"),
                                                    host: "127.0.0.1", port: 0, apiToken: "t0ken")
        configuration.headerTimeout = TimeSpan(milliseconds: 1000)
        let metrics = ControllerMetrics()
        let state = ControllerState(suspended: false, driftMode: .correct, metrics: metrics)
        let loop = ReconcileLoop(configuration: configuration, state: state, logger: Logger(label: "test"))
        let app = buildApplication(loop: loop, metrics: metrics, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let (closed, seconds) = try await blocking { () -> (Bool, Double) in
                let started = Date()
                let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(socket) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { return (false, 0) }
                let partial = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
                _ = partial.withCString { send(socket, $0, strlen($0), 0) }
                // Bounded wait: SO_RCVTIMEO of 20 s, far beyond the 1 s timeout.
                var limit = timeval(tv_sec: 20, tv_usec: 0)
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                var buffer = [UInt8](repeating: 0, count: 256)
                let received = recv(socket, &buffer, buffer.count, 0)
                // Closed: an orderly end of stream, or a reset of the connection.
                return (received == 0 || (received < 0 && errno == ECONNRESET), Date().timeIntervalSince(started))
            }
            #expect(closed, "the half-sent request was not cut off")
            print("http: half-sent request head closed after \(String(format: "%.2f", seconds)) s (timeout 1 s)")
            #expect(seconds < 20)
        }
    }

    /// RS256 and ES256 JWTs verified against a JWKS file; an HS256 token made with a public
    /// key as its secret (algorithm confusion) stands for nobody.
    @Test func jwksKeysVerifyRS256AndES256Only() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let ec = P256.Signing.PrivateKey()
        func b64(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let rsaPrimitives = try rsa.publicKey.getKeyPrimitives()
        let raw = ec.publicKey.rawRepresentation
        let jwks = """
            {"keys": [{"kty": "RSA", "kid": "r1", "n": "\(b64(rsaPrimitives.modulus))", "e": "\(b64(rsaPrimitives.publicExponent))"},
                      {"kty": "EC", "crv": "P-256", "kid": "e1", "x": "\(b64(raw.prefix(32)))", "y": "\(b64(raw.suffix(32)))"}]}
            """
        let file = NSTemporaryDirectory() + "driftless-jwks-\(UUID().uuidString.prefix(8)).json"
        try jwks.write(toFile: file, atomically: true, encoding: .utf8)
        let authenticator = APIAuthenticator(keys: try APIAuthenticator.keys(jwksFile: file), tenantClaim: "app.tenant")
        let payload = b64(try JSONSerialization.data(withJSONObject: ["app": ["tenant": Self.tenantA], "exp": Date().timeIntervalSince1970 + 600]))
        func token(_ alg: String, kid: String, sign: (Data) throws -> Data) throws -> String {
            let header = b64(Data(#"{"alg":"\#(alg)","kid":"\#(kid)"}"#.utf8))
            return "\(header).\(payload).\(b64(try sign(Data("\(header).\(payload)".utf8))))"
        }
        let rs256 = try token("RS256", kid: "r1") { try rsa.signature(for: $0, padding: .insecurePKCS1v1_5).rawRepresentation }
        let es256 = try token("ES256", kid: "e1") { try ec.signature(for: $0).rawRepresentation }
        #expect(authenticator.caller(bearer: rs256) == .tenant(Self.tenantA))
        #expect(authenticator.caller(bearer: es256) == .tenant(Self.tenantA))
        let confused = try token("HS256", kid: "e1") {
            Data(HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: raw)))
        }
        #expect(authenticator.caller(bearer: confused) == nil)
        let otherKey = P256.Signing.PrivateKey()
        let wrongKey = try token("ES256", kid: "e1") { try otherKey.signature(for: $0).rawRepresentation }
        #expect(authenticator.caller(bearer: wrongKey) == nil)
        #expect(throws: APIAuthenticator.ConfigurationError.self) {
            try "not json".write(toFile: file, atomically: true, encoding: .utf8)
            _ = try APIAuthenticator.keys(jwksFile: file)
        }
    }
}
