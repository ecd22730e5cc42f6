/// The outcome of one reconciliation (reconcile.md, Statuses).
public enum ReconcileStatus: String, Sendable, Codable, CaseIterable {
    case ok, noop, blocked, retry, failed
}

/// What started a reconciliation.
public struct Trigger: Sendable, Codable, Equatable {
    /// `cli`, `interval`, `git-push`, `webhook` or `drift`.
    public var kind: String
    public var id: String

    public init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }
}

/// A validation or SQL error as the Result reports it; only the fields that apply are set.
public struct ResultError: Sendable, Codable, Equatable {
    public var code: String
    public var message: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var path: String?
    public var sqlstate: String?
    public var statement: String?

    public init(
        code: String, message: String, file: String? = nil, line: Int? = nil, column: Int? = nil, path: String? = nil,
        sqlstate: String? = nil, statement: String? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.sqlstate = sqlstate
        self.statement = statement
    }

    public init(_ diagnostic: Diagnostic) {
        self.init(code: diagnostic.code, message: diagnostic.message, file: diagnostic.file, line: diagnostic.line,
                  column: diagnostic.column, path: diagnostic.path)
    }

    /// Fills file, line, column and path from the blueprint element behind a statement.
    public mutating func locate(_ origin: Origin?) {
        guard let origin else { return }
        file = origin.file
        line = origin.line
        column = origin.column
        path = origin.path
    }
}

/// The Result JSON of reconcile.md: every CLI `--format json` and every HTTP answer.
public struct ReconcileResult: Sendable, Codable, Equatable {
    public var status: ReconcileStatus
    public var summary: String
    public var tenantID: String
    public var revision: String?
    public var trigger: Trigger
    public var idempotencyKey: String
    public var payloadHash: String
    public var migrationID: Int?
    public var statements: [String]
    public var rlsTables: [String]
    public var hazards: [Hazard]
    public var errors: [ResultError]
    /// RLS lints and validation warnings: reported, never blocking.
    public var warnings: [Lint] = []
    /// What anon and authenticated gain and lose (reconcile.md, Exposure).
    public var exposure: [ExposureEntry] = []
    public var replayed: Bool
    public var durationMS: Int
    /// How many transactions it took: lock timeouts and blockers are retried with back-off
    /// (production.md, Locks).
    public var attempts = 1
    /// With `--online`, the phases and how far each got (production.md, Online changes); nil
    /// when everything ran in one transaction.
    public var phases: [ResultPhase]?

    enum CodingKeys: String, CodingKey {
        case status, summary, revision, trigger, statements, hazards, errors, warnings, replayed, exposure, attempts, phases
        case tenantID = "tenant_id", idempotencyKey = "idempotency_key", payloadHash = "payload_hash"
        case migrationID = "migration_id", rlsTables = "rls_tables", durationMS = "duration_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decode(ReconcileStatus.self, forKey: .status)
        summary = try container.decode(String.self, forKey: .summary)
        tenantID = try container.decode(String.self, forKey: .tenantID)
        revision = try container.decodeIfPresent(String.self, forKey: .revision)
        trigger = try container.decode(Trigger.self, forKey: .trigger)
        idempotencyKey = try container.decode(String.self, forKey: .idempotencyKey)
        payloadHash = try container.decode(String.self, forKey: .payloadHash)
        migrationID = try container.decodeIfPresent(Int.self, forKey: .migrationID)
        statements = try container.decode([String].self, forKey: .statements)
        rlsTables = try container.decode([String].self, forKey: .rlsTables)
        hazards = try container.decode([Hazard].self, forKey: .hazards)
        errors = try container.decode([ResultError].self, forKey: .errors)
        warnings = try container.decodeIfPresent([Lint].self, forKey: .warnings) ?? []
        exposure = try container.decodeIfPresent([ExposureEntry].self, forKey: .exposure) ?? []
        replayed = try container.decode(Bool.self, forKey: .replayed)
        durationMS = try container.decode(Int.self, forKey: .durationMS)
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts) ?? 1
        phases = try container.decodeIfPresent([ResultPhase].self, forKey: .phases)
    }

    public init(
        status: ReconcileStatus, summary: String, tenantID: String, revision: String?, trigger: Trigger,
        idempotencyKey: String, payloadHash: String, migrationID: Int? = nil, statements: [String] = [],
        rlsTables: [String] = [], hazards: [Hazard] = [], errors: [ResultError] = [], replayed: Bool = false,
        durationMS: Int = 0
    ) {
        self.status = status
        self.summary = summary
        self.tenantID = tenantID
        self.revision = revision
        self.trigger = trigger
        self.idempotencyKey = idempotencyKey
        self.payloadHash = payloadHash
        self.migrationID = migrationID
        self.statements = statements
        self.rlsTables = rlsTables
        self.hazards = hazards
        self.errors = errors
        self.replayed = replayed
        self.durationMS = durationMS
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(summary, forKey: .summary)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(revision, forKey: .revision)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(idempotencyKey, forKey: .idempotencyKey)
        try container.encode(payloadHash, forKey: .payloadHash)
        try container.encode(migrationID, forKey: .migrationID)
        try container.encode(statements, forKey: .statements)
        try container.encode(rlsTables, forKey: .rlsTables)
        try container.encode(hazards, forKey: .hazards)
        try container.encode(errors, forKey: .errors)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(exposure, forKey: .exposure)
        try container.encode(replayed, forKey: .replayed)
        try container.encode(durationMS, forKey: .durationMS)
        try container.encode(attempts, forKey: .attempts)
        try container.encodeIfPresent(phases, forKey: .phases)
    }

    /// `idem:{tenant_id}:wf106:{trigger_id}:{payload_hash}`.
    public static func idempotencyKey(tenantID: String, triggerID: String, payloadHash: String) -> String {
        "idem:\(tenantID):wf106:\(triggerID):\(payloadHash)"
    }
}

/// One phase of an online apply: `transaction` (the main transaction), `concurrent` (index
/// builds and swaps, each statement on its own) or `validate` (scans under weak locks, each in
/// its own transaction).
public struct ResultPhase: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case ok, failed, pending }

    public var name: ExecutionPhase
    public var statements: [String]
    public var status: Status

    public init(name: ExecutionPhase, statements: [String], status: Status) {
        self.name = name
        self.statements = statements
        self.status = status
    }
}

/// Sentences for the Result's `summary`.
public enum Summary {
    /// "applied 9 statements: 1 table created, 2 columns added; RLS on 2 tables".
    public static func describe(_ changes: [Change], verb: String, rlsTables: [String]) -> String {
        let statements = changes.reduce(0) { $0 + $1.sql.count }
        var parts: [String] = []
        // Each kind's phrases, in registry order (ObjectKind.summary). Steps that only put an
        // object back as it was (`isRecreate`) are not differences.
        // Objects, not changes: a new sequence and its OWNED BY are one sequence created.
        var objects: [Change.ObjectType: [Change.Action: Set<ObjectID>]] = [:]
        for change in changes where !change.isRecreate { objects[change.objectType, default: [:]][change.action, default: []].insert(change.id) }
        for kind in ObjectKinds.all {
            guard let mine = objects[kind.type] else { continue }
            var phrases: [(participle: String, count: Int)] = []
            for (action, participle) in kind.summary {
                let n = mine[action]?.count ?? 0
                guard n > 0 else { continue }
                if let index = phrases.firstIndex(where: { $0.participle == participle }) {
                    phrases[index].count += n
                } else {
                    phrases.append((participle, n))
                }
            }
            for (participle, n) in phrases { parts.append("\(n) \(n == 1 ? kind.nouns.one : kind.nouns.many) \(participle)") }
        }
        var text = "\(verb) \(statements) statement\(statements == 1 ? "" : "s")"
        if !parts.isEmpty { text += ": " + parts.joined(separator: ", ") }
        if !rlsTables.isEmpty { text += "; RLS on \(rlsTables.count) table\(rlsTables.count == 1 ? "" : "s")" }
        return text
    }
}
