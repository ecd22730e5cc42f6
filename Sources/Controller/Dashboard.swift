import BlockingIO
import Crypto
import DriftlessCore
import Foundation
import Hummingbird
import Postgres
import Reconciler

/// One target as the dashboard shows it (a controller of one database has one).
struct DashboardTarget: Sendable {
    var name: String
    var shard: Int?
    var wave: Int?
    var state: ControllerState
    var configuration: ControllerConfiguration
    /// Why the target cannot run, when it cannot (a fleet's missing URL).
    var problem: String?
}

/// What the dashboard reads: the targets, and whether tenant callers may look (a fleet's
/// pages are the operator's, like its `/v1/targets`).
struct DashboardSource: Sendable {
    var targets: @Sendable () -> [DashboardTarget]
    var tenantsAllowed: Bool
    /// Counts a refused login (`driftless_http_auth_failures_total`).
    var refused: @Sendable () -> Void
}

/// The login sessions of the dashboard's form (docs/operations.md, The dashboard): a random
/// id in an HttpOnly, SameSite=Strict cookie stands for the caller whose token was given; the
/// token itself is never stored in the browser. In memory: a restart or another replica asks
/// for the token again.
final class DashboardSessions: @unchecked Sendable {
    static let cookie = "driftless_session"
    static let lifetime: TimeInterval = 12 * 3600
    static let limit = 10_000
    private let lock = NSLock()
    private var sessions: [String: (caller: Caller, expires: Date)] = [:]

    /// A new session for `caller`; its id.
    func open(_ caller: Caller, now: Date = Date()) -> String {
        let id = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
        lock.withLock {
            if sessions.count >= Self.limit {
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= Self.limit, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) { sessions[oldest.key] = nil }
            }
            sessions[id] = (caller, now.addingTimeInterval(Self.lifetime))
        }
        return id
    }

    /// The caller of a live session.
    func caller(_ id: String, now: Date = Date()) -> Caller? {
        lock.withLock {
            guard let session = sessions[id] else { return nil }
            guard session.expires > now else {
                sessions[id] = nil
                return nil
            }
            return session.caller
        }
    }

    func close(_ id: String) { _ = lock.withLock { sessions.removeValue(forKey: id) } }
}

/// The dashboard (fleet.md, A dashboard; docs/operations.md, The dashboard): `GET /` lists the
/// targets, `GET /targets/{name}` shows one (conditions, last result, drift with its fix SQL,
/// RLS gaps and lints, exposure, history). Server-rendered from the same Result, drift and
/// history types as `/v1/`, behind the same callers (a bearer header, or the login form's
/// cookie); tenant callers see their own tables and rows only. Every value is escaped (`HTML`)
/// and a strict Content-Security-Policy allows only the controller's own stylesheet and script.
enum Dashboard {
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("X-Frame-Options")!: "DENY",
        .init("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    /// Adds the dashboard's routes to `router`.
    static func add(to router: Router<ControllerRequestContext>, source: DashboardSource, authenticator: APIAuthenticator) {
        let sessions = DashboardSessions()
        router.get("dashboard.css") { _, _ in asset(stylesheet, type: "text/css; charset=utf-8") }
        router.get("dashboard.js") { _, _ in asset(script, type: "text/javascript; charset=utf-8") }
        router.get("login") { _, _ in page(login(message: nil, configured: authenticator.isConfigured)) }
        router.post("login") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 16 * 1024)
            let token = formField("token", in: String(buffer: body)) ?? ""
            guard authenticator.isConfigured, let caller = authenticator.caller(bearer: token) else {
                source.refused()
                return page(login(message: "That token stands for nobody.", configured: authenticator.isConfigured), status: .unauthorized)
            }
            guard caller == .admin || source.tenantsAllowed else {
                return page(login(message: "A fleet's dashboard is for the admin token.", configured: true), status: .forbidden)
            }
            let id = sessions.open(caller)
            var response = redirect("/")
            let secure = request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
            response.setCookie(Cookie(name: DashboardSessions.cookie, value: id, maxAge: Int(DashboardSessions.lifetime), path: "/",
                                      secure: secure, httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("logout") { request, _ -> Response in
            if let id = request.cookies[DashboardSessions.cookie]?.value { sessions.close(id) }
            var response = redirect("/login")
            response.setCookie(Cookie(name: DashboardSessions.cookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }

        /// The caller of a dashboard request: the bearer header, else the session cookie.
        @Sendable func caller(_ request: Request) -> Caller? {
            if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
                return authenticator.caller(bearer: String(header.dropFirst("Bearer ".count)))
            }
            return request.cookies[DashboardSessions.cookie].flatMap { sessions.caller($0.value) }
        }
        @Sendable func allowed(_ request: Request) -> Access {
            guard let who = caller(request) else { return .refused(redirect("/login")) }
            guard who == .admin || source.tenantsAllowed else {
                return .refused(page(message("Not for this token", "A fleet's dashboard is for the admin token."), status: .forbidden))
            }
            return .caller(who)
        }

        router.get("/") { request, _ -> Response in
            switch allowed(request) {
            case .refused(let response): return response
            case .caller(let who):
                var rows: [(DashboardTarget, ControllerStatus)] = []
                for target in source.targets() { rows.append((target, restricted(await target.state.status, to: who))) }
                return page(overview(rows, caller: who))
            }
        }
        router.get("targets/:name") { request, context -> Response in
            switch allowed(request) {
            case .refused(let response): return response
            case .caller(let who):
                guard let name = context.parameters.get("name"), let target = source.targets().first(where: { $0.name == name }) else {
                    return page(message("No such target", "This controller has no target of that name."), status: .notFound)
                }
                let status = restricted(await target.state.status, to: who)
                let tenant = who.tenant
                let drift: Result<DriftReport, Error>
                do { drift = .success(try await driftReport(target.configuration, tenant: tenant)) } catch { drift = .failure(error) }
                let history: Result<[HistoryRow], Error>
                do { history = .success(try await historyRows(target.configuration, tenant: tenant, limit: 20)) } catch { history = .failure(error) }
                return page(detail(target, status: status, drift: drift, history: history, caller: who))
            }
        }
    }

    /// Who may see a page, or the answer for someone who may not.
    enum Access {
        case caller(Caller)
        case refused(Response)
    }

    /// A tenant sees the last Result only when it was its own (as `GET /v1/status`).
    static func restricted(_ status: ControllerStatus, to caller: Caller) -> ControllerStatus {
        var status = status
        if let tenant = caller.tenant, status.lastResult?.tenantID.lowercased() != tenant { status.lastResult = nil }
        return status
    }

    // MARK: Responses

    static func page(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.description)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// A field of an `application/x-www-form-urlencoded` body.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    // MARK: Pages

    /// The frame of every page: title, the stylesheet and script of the controller itself.
    static func frame(_ title: String, caller: Caller?, _ body: (inout HTML) -> Void) -> HTML {
        HTML.document { html in
            html.element("html", [("lang", "en")]) { html in
                html.element("head") { head in
                    head.void("meta", [("charset", "utf-8")])
                    head.void("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
                    head.element("title", text: title + " · Driftless")
                    head.void("link", [("rel", "stylesheet"), ("href", "/dashboard.css")])
                    head.element("script", [("src", "/dashboard.js"), ("defer", "")])
                }
                html.element("body") { body_ in
                    body_.element("header") { header in
                        header.element("a", [("href", "/"), ("class", "brand")], text: "Driftless")
                        if let caller {
                            header.element("span", [("class", "caller")], text: caller.description)
                            header.element("form", [("method", "post"), ("action", "/logout")]) {
                                $0.element("button", [("type", "submit")], text: "Log out")
                            }
                        }
                    }
                    body_.element("main") { body(&$0) }
                }
            }
        }
    }

    static func message(_ title: String, _ text: String) -> HTML {
        frame(title, caller: nil) { main in
            main.element("h1", text: title)
            main.element("p", text: text)
            main.element("p") { $0.element("a", [("href", "/")], text: "Back to the targets") }
        }
    }

    static func login(message: String?, configured: Bool) -> HTML {
        frame("Log in", caller: nil) { main in
            main.element("h1", text: "Log in")
            guard configured else {
                main.element("p", text: "The dashboard is disabled: set DRIFTLESS_API_TOKEN, DRIFTLESS_API_TOKENS_FILE, DRIFTLESS_JWT_SECRET or DRIFTLESS_JWKS_FILE.")
                return
            }
            if let message { main.element("p", [("class", "error"), ("role", "alert")], text: message) }
            main.element("form", [("method", "post"), ("action", "/login"), ("class", "login")]) { form in
                form.element("label", [("for", "token")], text: "API token (admin, or a tenant's)")
                form.void("input", [("id", "token"), ("name", "token"), ("type", "password"), ("autocomplete", "current-password"), ("required", "")])
                form.element("button", [("type", "submit")], text: "Log in")
            }
            main.element("p", [("class", "note")],
                         text: "The token is checked once; the browser keeps only a session cookie (HttpOnly, SameSite=Strict) for 12 hours.")
        }
    }

    /// The status word of a Result as a badge.
    static func badge(_ html: inout HTML, _ text: String) {
        html.element("span", [("class", "badge " + badgeClass(text))], text: text)
    }

    static func badgeClass(_ text: String) -> String {
        switch text {
        case "ok", "noop", "True:Ready", "in sync": return "good"
        case "blocked", "failed", "True:Stalled", "True:RolloutHalted", "True:Drifted", "drifted": return "bad"
        case "retry", "False:Ready": return "warn"
        default: return "neutral"
        }
    }

    static func conditionBadges(_ html: inout HTML, _ conditions: [Condition]) {
        for condition in conditions {
            let key = condition.status + ":" + condition.type
            let shown = condition.status == "True" ? condition.type : (condition.status == "False" ? "not " + condition.type : condition.type + "?")
            html.element("span", [("class", "badge " + badgeClass(key)), ("title", "\(condition.reason): \(condition.message)")], text: shown)
            html.text(" ")
        }
    }

    static func overview(_ rows: [(DashboardTarget, ControllerStatus)], caller: Caller) -> HTML {
        frame("Targets", caller: caller) { main in
            main.element("h1", text: rows.count == 1 ? "Target" : "Targets (\(rows.count))")
            main.element("table", [("class", "targets")]) { table in
                table.element("thead") { head in
                    head.element("tr") { row in
                        for title in ["Target", "Conditions", "Applied revision", "Last result", "Next tick"] { row.element("th", text: title) }
                    }
                }
                table.element("tbody") { body in
                    for (target, status) in rows {
                        body.element("tr") { row in
                            row.element("td") { cell in
                                cell.element("a", [("href", "/targets/" + pathEscaped(target.name))], text: target.name)
                                if let wave = target.wave { cell.element("span", [("class", "meta")], text: " wave \(wave)") }
                                if let problem = target.problem { cell.element("div", [("class", "error")], text: problem) }
                            }
                            row.element("td") { conditionBadges(&$0, status.conditions) }
                            row.element("td", [("class", "mono")], text: status.lastAppliedRevision ?? "none yet")
                            row.element("td") { cell in
                                if let result = status.lastResult {
                                    badge(&cell, result.status.rawValue)
                                    cell.text(" " + result.summary)
                                } else {
                                    cell.text("none yet")
                                }
                            }
                            row.element("td", [("class", "mono")], text: status.suspended ? "suspended" : (status.nextTick ?? "—"))
                        }
                    }
                }
            }
        }
    }

    static func detail(_ target: DashboardTarget, status: ControllerStatus, drift: Result<DriftReport, Error>,
                       history: Result<[HistoryRow], Error>, caller: Caller) -> HTML {
        frame(target.name, caller: caller) { main in
            main.element("p") { $0.element("a", [("href", "/")], text: "← All targets") }
            main.element("h1", text: target.name)
            main.element("section", [("id", "status")]) { section in
                section.element("h2", text: "Status")
                if let problem = target.problem { section.element("p", [("class", "error")], text: problem) }
                if let error = status.fetchError { section.element("p", [("class", "error")], text: "Fetch: " + error) }
                definitions(&section, [
                    ("Applied revision", status.lastAppliedRevision ?? "none yet"),
                    ("Attempted revision", status.lastAttemptedRevision ?? "none yet"),
                    ("Next tick", status.suspended ? "suspended" : (status.nextTick ?? "—")),
                    ("Drift mode", status.driftMode),
                ] + (target.wave.map { [("Wave", String($0))] } ?? []) + (target.shard.map { [("Shard", String($0))] } ?? []))
                table(&section, ["Condition", "Status", "Reason", "Message", "Since"],
                      status.conditions.map { [$0.type, $0.status, $0.reason, $0.message, $0.lastTransitionTime] }, class: "conditions")
            }
            main.element("section", [("id", "result")]) { section in
                section.element("h2", text: "Last result")
                guard let result = status.lastResult else {
                    section.element("p", text: "None yet.")
                    return
                }
                section.element("p") { line in
                    badge(&line, result.status.rawValue)
                    line.text(" " + result.summary)
                }
                definitions(&section, [("Revision", result.revision ?? "—"), ("Trigger", "\(result.trigger.kind) \(result.trigger.id)"),
                                       ("Attempts", String(result.attempts)), ("Duration", "\(result.durationMS) ms")])
                if !result.errors.isEmpty { table(&section, ["Error", "Message"], result.errors.map { [$0.code, $0.message] }) }
                if !result.hazards.isEmpty {
                    table(&section, ["Hazard", "Object", "Message"], result.hazards.map { [$0.hazard.rawValue, $0.object, $0.detail] })
                }
                if !result.warnings.isEmpty { table(&section, ["Lint", "Object", "Message"], result.warnings.map { [$0.code, $0.object, $0.message] }) }
                statements(&section, result.statements)
            }
            main.element("section", [("id", "drift")]) { section in
                section.element("h2", text: "Drift")
                switch drift {
                case .failure(let error):
                    section.element("p", [("class", "error")], text: "The drift report could not be made: \(error)")
                case .success(let report):
                    section.element("p") { line in
                        badge(&line, report.inSync ? "in sync" : "drifted")
                        line.text(" " + report.summaryLine + " (checked \(report.checkedAt))")
                    }
                    for item in report.items {
                        section.element("article", [("class", "drift-item")]) { article in
                            article.element("h3") { title in
                                badge(&title, item.kind.rawValue)
                                title.text(" " + item.objectType.rawValue + " ")
                                title.element("code", text: item.object)
                            }
                            if !item.hazards.isEmpty { article.element("p", [("class", "meta")], text: "Hazards: " + item.hazards.map(\.rawValue).joined(separator: ", ")) }
                            if let desired = item.desired { article.element("p", text: "Desired: " + desired) }
                            if let actual = item.actual { article.element("p", text: "Actual: " + actual) }
                            if !item.fix.isEmpty {
                                article.element("p", [("class", "meta")], text: "Fix SQL")
                                article.element("pre", [("class", "sql")]) { $0.element("code", text: item.fix + ";") }
                            }
                        }
                    }
                    section.element("h3", text: "RLS gaps")
                    if report.rlsGaps.isEmpty { section.element("p", text: "None.") } else {
                        table(&section, ["Table", "Problem"], report.rlsGaps.map { [$0.table, $0.problem.rawValue] })
                    }
                    section.element("h3", text: "Lints")
                    if report.warnings.isEmpty { section.element("p", text: "None.") } else {
                        table(&section, ["Lint", "Object", "Message"], report.warnings.map { [$0.code, $0.object, $0.message] })
                    }
                    section.element("h3", text: "Exposure")
                    if report.exposure.isEmpty { section.element("p", text: "anon and authenticated reach exactly what the blueprints give them.") } else {
                        table(&section, ["Role", "Object", "Kind", "Change", "Privileges", "RLS", "Policies"], report.exposure.map {
                            [$0.role, $0.object, $0.kind, $0.change.rawValue, $0.privileges.joined(separator: ", "), $0.rls, $0.policies.joined(separator: ", ")]
                        })
                    }
                }
            }
            main.element("section", [("id", "history")]) { section in
                section.element("h2", text: "History")
                switch history {
                case .failure(let error):
                    section.element("p", [("class", "error")], text: "The history could not be read: \(error)")
                case .success(let rows):
                    if rows.isEmpty { section.element("p", text: "No reconciliation recorded yet.") }
                    for row in rows {
                        section.element("details", [("class", "history-row")]) { details in
                            details.element("summary") { summary in
                                summary.element("span", [("class", "mono")], text: "#\(row.id) ")
                                badge(&summary, row.status)
                                summary.text(" \(row.finishedAt) · \(row.triggerKind) · \(row.revision ?? "—") · \(row.summary)")
                            }
                            definitions(&details, [("Applied by", row.appliedBy), ("Controller", row.controller), ("Started", row.startedAt),
                                                   ("Attempts", String(row.attempts))])
                            if !row.errors.isEmpty { table(&details, ["Error", "Message"], row.errors.map { [$0.code, $0.message] }) }
                            statements(&details, row.statements)
                        }
                    }
                }
            }
        }
    }

    static func definitions(_ html: inout HTML, _ pairs: [(String, String)]) {
        html.element("dl") { list in
            for (term, value) in pairs {
                list.element("dt", text: term)
                list.element("dd", text: value)
            }
        }
    }

    static func table(_ html: inout HTML, _ headings: [String], _ rows: [[String]], class name: String? = nil) {
        html.element("table", [("class", name)]) { table in
            table.element("thead") { head in head.element("tr") { row in for heading in headings { row.element("th", text: heading) } } }
            table.element("tbody") { body in
                for values in rows { body.element("tr") { row in for value in values { row.element("td", text: value) } } }
            }
        }
    }

    static func statements(_ html: inout HTML, _ statements: [String]) {
        guard !statements.isEmpty else { return }
        html.element("details", [("class", "statements")]) { details in
            details.element("summary", text: "\(statements.count) statement\(statements.count == 1 ? "" : "s")")
            details.element("pre", [("class", "sql")]) { $0.element("code", text: statements.map { $0 + ";" }.joined(separator: "\n")) }
        }
    }

    /// A target name as one path segment.
    static func pathEscaped(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? name
    }

    // MARK: Assets

    static let stylesheet = """
        :root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1f21; --muted: #6a6f75; --line: #dcdfe3; --good: #1f7a3a; --bad: #b3261e; --warn: #8a5a00; --code: #f1f3f5; }
        @media (prefers-color-scheme: dark) { :root { --bg: #16181b; --fg: #e6e8ea; --muted: #9aa0a6; --line: #33373c; --good: #5cc27a; --bad: #ff8a80; --warn: #f2c14e; --code: #1f2226; } }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
        header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.5rem; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
        header .caller { margin-left: auto; color: var(--muted); }
        header form { margin: 0; }
        main { padding: 1rem 1.5rem 3rem; max-width: 80rem; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
        h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
        table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
        th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
        th { font-weight: 600; color: var(--muted); white-space: nowrap; }
        table.conditions td:nth-child(-n+3), table.conditions td:last-child { white-space: nowrap; overflow-wrap: normal; }
        .badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
        .badge.good { color: var(--good); } .badge.bad { color: var(--bad); } .badge.warn { color: var(--warn); } .badge.neutral { color: var(--muted); }
        .mono, code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85rem; }
        pre.sql { background: var(--code); padding: .6rem .8rem; border-radius: .3rem; overflow-x: auto; white-space: pre-wrap; }
        .meta { color: var(--muted); } .error { color: var(--bad); }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0 1rem; }
        dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
        article.drift-item { border: 1px solid var(--line); border-radius: .4rem; padding: .2rem .9rem; margin: .6rem 0; }
        details { margin: .3rem 0; } summary { cursor: pointer; }
        details.history-row { border-bottom: 1px solid var(--line); padding: .3rem 0; }
        form.login { display: grid; gap: .5rem; max-width: 24rem; }
        input, button { font: inherit; padding: .35rem .6rem; }
        """

    /// Reloads the page every 30 s unless the reader opened something or is typing.
    static let script = """
        "use strict";
        setInterval(function () {
          if (document.querySelector("details[open]") || document.activeElement && document.activeElement.tagName === "INPUT") { return; }
          if (!document.querySelector("main table, main section")) { return; }
          window.location.reload();
        }, 30000);
        """
}

/// `GET /v1/drift`'s report of one database (a fleet's target too), restricted to a tenant
/// caller's own tables; the dashboard shows the same.
func driftReport(_ configuration: ControllerConfiguration, tenant: String?) async throws -> DriftReport {
    try await BlockingIO.run(name: "driftless-drift") {
        let revision = try configuration.loadRevision(fresh: true, reusing: nil)
        let connection = try Connection(ConnectionString(configuration.databaseURL.revealed))
        let set = try DesiredState.assemble(revision: revision.sources, history: configuration.options.history, connection)
        var report = try Reconciler(blueprints: set, revision: revision.revision, options: configuration.options).drift(connection)
        if let tenant {
            let owned = try configuration.options.history.owned(by: APIBlueprintRequest.owner(tenant), connection)
            report = report.restricted(toTables: Set(owned.filter { $0.hasPrefix("table:") }.map { String($0.dropFirst(6)) }))
        }
        return report
    }
}

extension ControllerConfiguration {
    /// The revision at `location`: through the fleet's shared clones when there are, so no two
    /// threads fetch into one clone at once. Blocking.
    func loadRevision(fresh: Bool, reusing previous: LoadedRevision?) throws -> LoadedRevision {
        if let shared = sharedRevisions { return try shared.load(location, fresh: fresh, reusing: previous) }
        return try BlueprintLoader.load(location, reusing: previous)
    }
}
