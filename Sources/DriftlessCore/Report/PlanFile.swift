import Crypto
import Foundation

/// A reviewed plan (production.md, Plan files): `plan --out` writes it, `apply --plan` runs
/// exactly its statements, and only while the blueprints and the database are as they were
/// when it was made.
public struct PlanFile: Sendable, Codable, Equatable {
    public struct Statement: Sendable, Codable, Equatable {
        public var sql: String
        /// `transaction`, `concurrent` or `validate` (production.md, Online changes).
        public var phase: String
        public var hazards: [HazardKind]
        /// The object it changes, as reports name it.
        public var object: String
    }

    public var version = 1
    public var planID: String
    public var revision: String?
    public var payloadHash: String
    /// `CatalogFingerprint` of the managed schemas when the plan was made.
    public var fingerprint: String
    public var createdAt: String
    public var statements: [Statement]
    public var hazards: [Hazard]
    public var exposure: [ExposureEntry]

    enum CodingKeys: String, CodingKey {
        case version, revision, fingerprint, statements, hazards, exposure
        case planID = "plan_id", payloadHash = "payload_hash", createdAt = "created_at"
    }

    /// The plan of `result` (a plan's Result) and its applied `changes`.
    public init(result: ReconcileResult, changes: [Change], fingerprint: String, createdAt: Date = Date()) {
        statements = changes.filter(\.applied).flatMap { change in
            change.statements.map {
                Statement(sql: $0, phase: change.execution.rawValue, hazards: Array(Set(change.hazards.map(\.hazard))).sorted(), object: change.object)
            }
        }
        revision = result.revision
        payloadHash = result.payloadHash
        self.fingerprint = fingerprint
        hazards = result.hazards
        exposure = result.exposure
        self.createdAt = Timestamp.string(createdAt)
        planID = PlanFile.id(statements: statements.map(\.sql), fingerprint: fingerprint, payloadHash: payloadHash)
    }

    /// sha256 of the statements, the fingerprint and the payload hash: it changes whenever one does.
    public static func id(statements: [String], fingerprint: String, payloadHash: String) -> String {
        let text = JSONValue.array([.array(statements.map(JSONValue.string)), .string(fingerprint), .string(payloadHash)]).canonical
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether it was made with `--online` and has phases after the transaction: its apply
    /// runs online too, or its statements would not be its own.
    public var isOnline: Bool { statements.contains { $0.phase != ExecutionPhase.transaction.rawValue } }

    /// The plan's statements, in order.
    public var sql: [String] { statements.map(\.sql) }

    /// Whether the file is what `plan --out` wrote: its id is its content's.
    public var isIntact: Bool { planID == PlanFile.id(statements: sql, fingerprint: fingerprint, payloadHash: payloadHash) }
}

/// The fingerprint of a plan file: sha256 of the live catalog of the managed schemas as
/// Driftless reads it (tables, columns, constraints, indexes, RLS flags, policies, grants and
/// owners, functions, triggers, views, sequences, enums, extensions, publication membership,
/// Storage when declared): anything that changes what a plan means or who can read what.
/// Content, not row versions: a VACUUM FREEZE does not make a plan stale, a policy changed
/// by hand does.
public enum CatalogFingerprint {
    public static func of(_ catalog: Catalog) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(catalog), let value = try? JSONDecoder().decode(JSONValue.self, from: data) else { return "" }
        return SHA256.hash(data: Data(ordered(value).canonical.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Arrays in a fixed order: Swift encodes sets, and dictionaries whose keys are not strings,
    /// as arrays in hash order, which differs from process to process.
    static func ordered(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items):
            let keyed = items.map { item -> (text: String, value: JSONValue) in
                let value = ordered(item)
                return (value.canonical, value)
            }
            return .array(keyed.sorted { $0.text < $1.text }.map(\.value))
        case .object(let members): return .object(members.mapValues(ordered))
        default: return value
        }
    }
}
