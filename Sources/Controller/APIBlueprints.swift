import Crypto
import DriftlessCore
import Foundation
import Postgres
import Reconciler

/// `POST /v1/blueprints` (reconcile.md, API blueprints): one blueprint document whose top level
/// may also carry `trigger_id`, `dry_run` and `allow`. It joins the desired state beside the git
/// blueprints, stored in `driftless.blueprints` with the reconciliation that applied it.
public enum APIBlueprintRequest {
    /// The answer: an HTTP status and the Result.
    public struct Answer: Sendable {
        public var status: Int
        public var result: ReconcileResult
        public var retryAfter: Int?
    }

    /// Handles one request body. Blocking: call it on a thread of its own.
    public static func handle(body: Data, headers: [String: String], configuration: ControllerConfiguration) -> Answer {
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
        let document = JSONValue.object(fields).canonical
        let hash = SHA256.hash(data: Data(document.utf8)).map { String(format: "%02x", $0) }.joined()
        let trigger = Trigger(kind: "webhook", id: triggerID ?? headers["idempotency-key"] ?? headers["x-github-delivery"] ?? UUID().uuidString.lowercased())
        let ownPath = "api/\(tenant).json"
        // The document alone first: its own errors are the caller's (422).
        let alone = BlueprintSet.load([BlueprintSource(path: ownPath, text: document)])
        problems += alone.errors.map(ResultError.init)
        guard problems.isEmpty else {
            return answer(422, .blocked, "invalid blueprint: \(problems.count) error(s)", tenant: tenant, hash: hash, trigger: trigger, errors: problems)
        }
        do {
            let connection = try Connection(ConnectionString(configuration.databaseURL))
            let revision = try BlueprintLoader.load(configuration.location)
            let others = try configuration.options.history.storedAPIBlueprints(connection, excluding: tenant)
            // A table defined by two owners (git and API, or two tenants) is refused (409).
            let mine = Set(blueprint.tables.map { "\(blueprint.schema).\($0.name)" })
            var owners: [String: String] = [:]
            for (source, owner) in revision.sources.map({ ($0, "git") }) + others.map({ ($0, "tenant \($0.path.dropFirst(4).dropLast(5))") }) {
                guard let other = BlueprintDecoder.decode(file: source.path, text: String(decoding: source.contents, as: UTF8.self)).blueprint else { continue }
                for table in other.tables { owners["\(other.schema).\(table.name)"] = owner }
            }
            let conflicts = mine.sorted().filter { owners[$0] != nil }
            guard conflicts.isEmpty else {
                let errors = conflicts.map { ResultError(code: "ownership_conflict", message: "table \($0) is already defined by \(owners[$0]!)") }
                return answer(409, .blocked, "tables owned by someone else: \(conflicts.joined(separator: ", "))", tenant: tenant, hash: hash, trigger: trigger, errors: errors)
            }
            let set = BlueprintSet.load(revision.sources + others + [BlueprintSource(path: ownPath, text: document)])
            var options = configuration.options
            options.allowed.formUnion(allowed)
            options.trigger = trigger
            options.identity = (tenant, hash)
            let history = options.history
            options.beforeCommit = { connection in
                try history.storeAPIBlueprint(tenant: tenant, document: document, payloadHash: hash, connection)
            }
            let reconciler = Reconciler(blueprints: set, revision: "api:\(tenant):\(hash.prefix(12))", options: options)
            let result = dryRun ? reconciler.plan(connection).result : reconciler.apply(connection)
            switch result.status {
            case .ok, .noop: return Answer(status: 200, result: result)
            case .blocked: return Answer(status: 409, result: result)
            case .retry: return Answer(status: 503, result: result, retryAfter: max(1, configuration.retryInterval.milliseconds / 1000))
            case .failed: return Answer(status: 500, result: result)
            }
        } catch let error as PostgresError where error.isConnectionError {
            return Answer(status: 503, result: answer(503, .retry, "cannot reach the database", tenant: tenant, hash: hash, trigger: trigger,
                                                      errors: [ResultError(code: "connection", message: error.message, sqlstate: error.sqlstate)]).result,
                          retryAfter: max(1, configuration.retryInterval.milliseconds / 1000))
        } catch {
            return answer(503, .retry, "cannot load the git blueprints: \(error)", tenant: tenant, hash: hash, trigger: trigger,
                          errors: [ResultError(code: "source_unreadable", message: "\(error)")])
        }
    }
}
