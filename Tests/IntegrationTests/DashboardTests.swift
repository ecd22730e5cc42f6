import DriftlessCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import Testing
import TestSupport

/// The dashboard (fleet.md, A dashboard) of a real fleet controller, loaded in Debian's headless
/// chromium (Tests/browser/check_dashboard.py): three targets, one drifted (drift mode warn, RLS
/// turned off and a policy dropped by hand), one blocked (a revision that would rewrite a table),
/// one calm; a table named `<script>alert(1)</script>`.
@Suite("The dashboard in a headless browser", .serialized)
struct DashboardTests {
    static let token = "dashboard-admin-\(UUID().uuidString.prefix(8))"
    static let hostile = "<script>alert(1)</script>"

    /// The fleet tests' notes table (notes.body text).
    static let notes = FleetControllerTests.blueprint
    static let hostileTable = document("""
        tables:
          - name: "<script>alert(1)</script>"
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
        """)

    /// What the browser saw of one page (check_dashboard.py's JSON).
    struct Seen: Decodable {
        var path: String
        var url: String
        var text: String
        var scripts: [String]
        var cookie: String
        var console_errors: [String]
        var exceptions: [String]
        var dialogs: [String]
        var screenshot: String?
    }

    struct Login: Decodable {
        struct After: Decodable {
            var url: String
            var cookie: String
        }
        var after: After
    }

    struct Answer: Decodable {
        var anonymous: Seen
        var login: Login
        var pages: [Seen]
    }

    func get(_ port: String, _ path: String, token: String? = Self.token) async throws -> (HTTPURLResponse, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return (response as! HTTPURLResponse, String(decoding: data, as: UTF8.self))
    }

    @Test func driftABlockedRevisionAndAHostileNameAsABrowserShowsThem() async throws {
        let cluster = try PostgresCluster.shared()
        let (calm, drifted, blocked) = try await blocking {
            (try cluster.createDatabase(prefix: "dash"), try cluster.createDatabase(prefix: "dash"), try cluster.createDatabase(prefix: "dash"))
        }
        // The blocked target already has notes.body as an integer with a row: the revision's
        // text column would rewrite the table, which is not allowed by default.
        try await blocking {
            try blocked.connect().simpleQuery("""
                CREATE TABLE notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL, body integer);
                INSERT INTO notes (tenant_id, body) VALUES (gen_random_uuid(), 1);
                """)
        }
        let directory = NSTemporaryDirectory() + "driftless-dash-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/blueprints", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.notes.write(toFile: directory + "/blueprints/notes.yaml", atomically: true, encoding: .utf8)
        try Self.hostileTable.write(toFile: directory + "/blueprints/hostile.yaml", atomically: true, encoding: .utf8)
        let file = directory + "/targets.yaml"
        try """
            version: 1
            defaults:
              blueprints: \(directory)/blueprints
              interval: 1h
            targets:
              - {name: calm, database_url_env: CALM_URL}
              - {name: drifted, database_url_env: DRIFTED_URL, drift_mode: warn}
              - {name: blocked, database_url_env: BLOCKED_URL}

            """.write(toFile: file, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CALM_URL"] = calm.url
        environment["DRIFTED_URL"] = drifted.url
        environment["BLOCKED_URL"] = blocked.url
        environment["DRIFTLESS_API_TOKEN"] = Self.token
        let process = try BackgroundProcess(RepositoryPaths.driftlessExecutable, [
            "run", "--targets", file, "--listen", "127.0.0.1:0", "--shutdown-timeout", "1s", "--retry-interval", "1s",
            "--git-cache", directory + "/cache",
        ], environment: environment)
        defer { process.signal(SIGKILL); _ = process.wait() }
        #expect(await eventually { process.output().contains("listening") }, "\(process.output())")
        let port = try #require(process.output().firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) })

        // Every target has its first result: calm and drifted ok, blocked blocked.
        let settled = try await eventually(90) {
            let (_, body) = try await get(port, "/v1/targets")
            let rows = try JSONDecoder().decode([TargetListing].self, from: Data(body.utf8))
            let statuses = Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0.status.lastResult?.status) })
            return statuses["calm"] == .ok && statuses["drifted"] == .ok && statuses["blocked"] == .blocked
        }
        let listing = try await get(port, "/v1/targets").1
        #expect(settled, "\(listing)\n\(process.output())")
        // Drift by hand on the target that only warns: RLS off on the hostile table, a policy gone.
        try await blocking {
            let connection = try drifted.connect()
            try connection.query("ALTER TABLE public.\"<script>alert(1)</script>\" DISABLE ROW LEVEL SECURITY")
            let policy = try connection.query("SELECT policyname FROM pg_policies WHERE tablename = 'notes' ORDER BY policyname LIMIT 1").first!.string("policyname")
            try connection.query("DROP POLICY \"\(policy)\" ON public.notes")
        }

        // The pages as served: escaped, with the security headers.
        let (overview, html) = try await get(port, "/")
        #expect(overview.statusCode == 200)
        let csp = overview.value(forHTTPHeaderField: "Content-Security-Policy") ?? ""
        #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe"), "\(csp)")
        #expect(overview.value(forHTTPHeaderField: "X-Content-Type-Options") == "nosniff")
        let (_, driftHTML) = try await get(port, "/targets/drifted")
        #expect(driftHTML.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!driftHTML.contains(Self.hostile) && !html.contains(Self.hostile))
        #expect(try await get(port, "/", token: nil).0.url?.path == "/login", "no token: the login form")

        // The browser: no console error, no dialog, the drift and its fix SQL, the name as text.
        let shots = ProcessInfo.processInfo.environment["DRIFTLESS_SCREENSHOTS"] ?? (directory + "/shots")
        let spec: [String: Any] = [
            "base": "http://127.0.0.1:\(port)", "token": Self.token, "screenshots": shots, "login_shot": "dashboard-login",
            "pages": [["path": "/", "shot": "dashboard-targets"], ["path": "/targets/drifted", "shot": "dashboard-drift"],
                      ["path": "/targets/blocked", "shot": "dashboard-blocked", "full": false]],
        ]
        let specFile = directory + "/spec.json"
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: specFile))
        let run = try await blocking {
            try ProcessRunner.run(RepositoryPaths.python, [RepositoryPaths.root + "/Tests/browser/check_dashboard.py", specFile], check: false)
        }
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let answer = try JSONDecoder().decode(Answer.self, from: Data(run.stdout.utf8))
        #expect(answer.anonymous.url.hasSuffix("/login"), "without a token the browser lands on the login form: \(answer.anonymous.url)")
        #expect(answer.login.after.url.hasSuffix(":\(port)/"), "\(answer.login.after.url)")
        #expect(answer.login.after.cookie.isEmpty, "the session cookie is HttpOnly: scripts cannot read it")
        for page in answer.pages {
            #expect(page.console_errors.isEmpty && page.exceptions.isEmpty, "\(page.path): \(page.console_errors) \(page.exceptions)")
            #expect(page.dialogs.isEmpty, "\(page.path) opened a dialog: \(page.dialogs)")
            #expect(page.scripts == ["/dashboard.js"], "\(page.path): \(page.scripts)")
            #expect(!page.url.hasSuffix("/login"), "\(page.path) sent the logged-in browser to the login form")
        }
        let targets = try #require(answer.pages.first { $0.path == "/" })
        for name in ["calm", "drifted", "blocked"] { #expect(targets.text.contains(name)) }
        #expect(targets.text.contains("blocked") && targets.text.contains("rewrite"), "\(targets.text)")
        let drift = try #require(answer.pages.first { $0.path == "/targets/drifted" })
        #expect(drift.text.contains(Self.hostile), "the hostile name is shown as text")
        #expect(drift.text.contains("ENABLE ROW LEVEL SECURITY"), "\(drift.text)")
        #expect(drift.text.contains("CREATE POLICY"), "\(drift.text)")
        #expect(drift.text.contains("rls_disabled"), "\(drift.text)")
        let blockedPage = try #require(answer.pages.first { $0.path == "/targets/blocked" })
        #expect(blockedPage.text.contains("rewrites_table"), "\(blockedPage.text)")
        #expect(blockedPage.text.contains("Stalled"))
        print("dashboard: \(answer.pages.count) pages in chromium, no console error; screenshots in \(shots)")
    }
}
