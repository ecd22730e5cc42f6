import Crypto
import DriftlessCore
import Foundation
import Postgres
import Reconciler

/// `POST /v1/blueprints` (reconcile.md, API blueprints): one blueprint document whose top level
/// may also carry `trigger_id`, `dry_run` and `allow`. It joins the desired state beside the git
/// blueprints, stored in `driftless.blueprints` with the reconciliation that applied it.
///
/// The caller is a tenant (or the admin): it may post only its own `tenant_id`; its objects are
/// claimed in `driftless.ownership` inside the locked transaction; its `allow` counts for its
/// own objects only; and it applies its own document's delta, never another owner's pending
/// changes (docs/security.md, API callers).
public enum APIBlueprintRequest {
    /// The answer: an HTTP status and the Result.
    public struct Answer: Sendable {
        public var status: Int
        public var result: ReconcileResult
        public var retryAfter: Int?
    }

    /// The ownership key of an object of a blueprint: `table:public.docs`, `enum:public.mood`,
    /// `policy:public.docs.Readers can read.`.
    static func ownershipKeys(_ blueprint: Blueprint) -> Set<String> {
        var keys: Set<String> = []
        for definition in blueprint.enums { keys.insert("enum:\(blueprint.schema).\(definition.name)") }
        for table in blueprint.tables {
            keys.insert("table:\(blueprint.schema).\(table.name)")
            for policy in table.rls.policies { keys.insert("policy:\(blueprint.schema).\(table.name).\(policy.name)") }
        }
        return keys
    }

    /// The owner recorded for an API tenant.
    static func owner(_ tenant: String) -> String { "tenant:\(tenant)" }

    /// Handles one request body of `caller`. Blocking: call it on the blocking pool.
    public static func handle(body: Data, headers: [String: String], caller: Caller, configuration: ControllerConfiguration) -> Answer {
        let started = Date()
        func answer(_ status: Int, _ reconcileStatus: ReconcileStatus, _ summary: String, tenant: String = "",
                    hash: String = "", trigger: Trigger = Trigger(kind: "webhook", id: ""), errors: [ResultError]) -> Answer {
            Answer(status: status, result: ReconcileResult(
                status: reconcileStatus, summary: summary, tenantID: tenant, revision: nil, trigger: trigger,
                idempotencyKey: "", payloadHash: hash, errors: errors, durationMS: Int(Date().timeIntervalSince(started) * 1000)))
        }
        guard let text = String(data: body, encoding: .utf8) else {
            return answer(422, .blocked, "the body is not UTF-8", errors: [ResultError(code: "encoding", message: "the body is not UTF-8")])
        }
        // JSON only: the YAML decoder would also take a JSON superset the API does not promise.
        guard (try? JSONSerialization.jsonObject(with: body)) is [String: Any] else {
            return answer(422, .blocked, "the body is not a JSON object", errors: [ResultError(code: "not_json", message: "the body must be one JSON object")])
        }
        let decoded = BlueprintDecoder.decode(file: "request", text: text, allowAPIKeys: true)
        guard let blueprint = decoded.blueprint, case .object(var fields)? = decoded.json else {
            return answer(422, .blocked, "invalid blueprint", errors: decoded.diagnostics.map(ResultError.init))
        }
        var problems = decoded.diagnostics.filter { $0.severity == .error }.map(ResultError.init)
        var triggerID: String?
        var dryRun = false
        var allowed: Set<HazardKind> = []
        switch fields.removeValue(forKey: "trigger_id") {
        case .string(let value)?: triggerID = value
        case nil, .null?: break
        default: problems.append(ResultError(code: "bad_value", message: "trigger_id must be a string", path: "$.trigger_id"))
        }
        switch fields.removeValue(forKey: "dry_run") {
        case .bool(let value)?: dryRun = value
        case nil, .null?: break
        default: problems.append(ResultError(code: "bad_value", message: "dry_run must be true or false", path: "$.dry_run"))
        }
        switch fields.removeValue(forKey: "allow") {
        case .array(let items)?:
            for item in items {
                if case .string(let word) = item, let hazard = HazardKind(rawValue: word) { allowed.insert(hazard) } else {
                    problems.append(ResultError(code: "invalid_value", message: "allow lists hazards: \(HazardKind.allCases.map(\.rawValue).joined(separator: ", "))", path: "$.allow"))
                }
            }
        case nil, .null?: break
        default: problems.append(ResultError(code: "bad_value", message: "allow must be a list of hazards", path: "$.allow"))
        }
        let tenant = blueprint.tenantID.lowercased()
        guard caller.mayActFor(tenant) else {
            return answer(403, .blocked, "this caller may not act for tenant \(tenant)", tenant: tenant,
                          errors: [ResultError(code: "forbidden_tenant", message: "the token is \(caller)'s; the document names tenant \(tenant)", path: "$.tenant_id")])
        }
        let document = JSONValue.object(fields).canonical
        let hash = SHA256.hash(data: Data(document.utf8)).map { String(format: "%02x", $0) }.joined()
        let explicitTrigger = triggerID ?? headers["idempotency-key"] ?? headers["x-github-delivery"]
        let trigger = Trigger(kind: "webhook", id: explicitTrigger ?? UUID().uuidString.lowercased())
        let ownPath = "api/\(tenant).json"
        // The document alone first: its own errors are the caller's (422).
        let alone = BlueprintSet.load([BlueprintSource(path: ownPath, text: document)])
        problems += alone.errors.map(ResultError.init)
        guard problems.isEmpty else {
            return answer(422, .blocked, "invalid blueprint: \(problems.count) error(s)", tenant: tenant, hash: hash, trigger: trigger, errors: problems)
        }
        let retryAfter = max(1, configuration.retryInterval.milliseconds / 1000)
        do {
            let connection = try Connection(ConnectionString(configuration.databaseURL.revealed))
            // A delivery or trigger id seen in the last 24 hours is answered from its record.
            if let explicitTrigger, let replay = try configuration.options.history.recentTrigger(explicitTrigger, tenant: tenant, connection) {
                var result = replay
                result.replayed = true
                return Answer(status: 200, result: result)
            }
            let revision = try BlueprintLoader.load(configuration.location)
            let others = try configuration.options.history.storedAPIBlueprints(connection, excluding: tenant)
            // Objects that git or another stored blueprint defines are someone else's (409).
            let mine = ownershipKeys(blueprint)
            var owners: [String: String] = [:]
            for (source, owner) in revision.sources.map({ ($0, "git") }) + others.map({ ($0, "tenant:\($0.path.dropFirst(4).dropLast(5))") }) {
                guard let other = BlueprintDecoder.decode(file: source.path, text: String(decoding: source.contents, as: UTF8.self)).blueprint else { continue }
                for key in ownershipKeys(other) { owners[key] = owner }
            }
            let conflicts = mine.sorted().filter { owners[$0] != nil }
            guard conflicts.isEmpty else {
                let errors = conflicts.map { ResultError(code: "owned_by_other", message: "\($0): owned by \(owners[$0]!)") }
                return answer(409, .blocked, "owned by someone else: \(conflicts.joined(separator: ", "))", tenant: tenant, hash: hash, trigger: trigger, errors: errors)
            }
            var options = configuration.options
            options.trigger = trigger
            options.identity = (tenant, hash)
            options.waitForLock = true
            // Its own tables, enums and schema: nothing else is applied, and `allow` counts only there.
            var scope: Set<String> = [blueprint.schema]
            for definition in blueprint.enums { scope.insert("\(blueprint.schema).\(definition.name)") }
            for table in blueprint.tables { scope.insert("\(blueprint.schema).\(table.name)") }
            options.scope = Scope(objects: scope, allowed: allowed)
            let history = options.history
            let owner = owner(tenant)
            options.claim = { connection in
                try history.claim(mine, owner: owner, connection).sorted { $0.key < $1.key }.map {
                    ResultError(code: "owned_by_other", message: "\($0.key): owned by \($0.value)")
                }
            }
            options.beforeCommit = { connection in
                try history.storeAPIBlueprint(tenant: tenant, document: document, payloadHash: hash, connection)
                try history.release(owner: owner, keeping: mine, connection)
            }
            var result: ReconcileResult
            // Another tenant's document stored between reading the desired state and taking the
            // lock: read it again (the lock queues requests, so this settles in a few rounds).
            var rounds = 0
            repeat {
                rounds += 1
                let desired = try DesiredState.read(revision: revision.sources, history: history, connection,
                                                    replacing: (tenant, BlueprintSource(path: ownPath, text: document)))
                options.stored = desired.stored
                let reconciler = Reconciler(blueprints: BlueprintSet.load(desired.sources, parallelism: .cores),
                                            revision: "api:\(tenant):\(hash.prefix(12))", options: options)
                result = dryRun ? reconciler.plan(connection).result : reconciler.apply(connection)
            } while result.status == .retry && result.errors.first?.code == "desired_state_changed" && rounds < 5
            switch result.status {
            case .ok, .noop: return Answer(status: 200, result: result)
            case .blocked: return Answer(status: 409, result: result)
            case .retry: return Answer(status: 503, result: result, retryAfter: retryAfter)
            case .failed: return Answer(status: 500, result: result)
            }
        } catch let error as PostgresError where error.isConnectionError {
            var failed = answer(503, .retry, "cannot reach the database", tenant: tenant, hash: hash, trigger: trigger,
                                errors: [ResultError(code: "connection", message: error.message, sqlstate: error.sqlstate)])
            failed.retryAfter = retryAfter
            return failed
        } catch {
            var failed = answer(503, .retry, "cannot load the git blueprints: \(error)", tenant: tenant, hash: hash, trigger: trigger,
                                errors: [ResultError(code: "source_unreadable", message: "\(error)")])
            failed.retryAfter = retryAfter
            return failed
        }
    }
}
