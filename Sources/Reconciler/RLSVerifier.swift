import DriftlessCore
import Foundation
import Postgres

/// The outcome of `verify-rls`.
public struct RLSVerification: Sendable, Codable {
    public struct Check: Sendable, Codable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    public struct TableResult: Sendable, Codable {
        /// `rls_unreachable`: the tenant cannot read or write its own rows (a permission error,
        /// typically missing grants): broken, not isolated.
        public enum Status: String, Sendable, Codable { case isolated, leak, unreachable = "rls_unreachable", notVerified = "not_verified" }
        public var table: String
        public var status: Status
        public var checks: [Check]
        /// Why the table could not be verified.
        public var reason: String?
    }

    public var tables: [TableResult]
    /// Every tenant table proved isolated.
    public var isolated: Bool { !tables.isEmpty && tables.allSatisfy { $0.status == .isolated } }
    public var leaks: [TableResult] { tables.filter { $0.status == .leak } }
    public var unreachable: [TableResult] { tables.filter { $0.status == .unreachable } }

    enum CodingKeys: String, CodingKey { case tables, isolated }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tables, forKey: .tables)
        try container.encode(isolated, forKey: .isolated)
    }

    public init(tables: [TableResult]) { self.tables = tables }

    public init(from decoder: any Decoder) throws {
        tables = try decoder.container(keyedBy: CodingKeys.self).decode([TableResult].self, forKey: .tables)
    }
}

/// Proves tenant isolation against the live database, both sides: inside a transaction that is
/// always rolled back, writes sample rows for two synthetic tenants, then acts as each (role
/// `authenticated` with JWT claims) and as `anon`, and checks that a tenant reads, inserts,
/// updates and deletes its own rows (else the table is `rls_unreachable`) and cannot read,
/// insert, update into or delete another tenant's rows (else `leak`).
public struct RLSVerifier {
    public var blueprints: BlueprintSet

    public init(blueprints: BlueprintSet) { self.blueprints = blueprints }

    /// - Throws: `PostgresError` for failures outside the per-table checks.
    public func verify(_ connection: Connection) throws -> RLSVerification {
        defer { connection.rollbackQuietly() }
        try connection.query("BEGIN")
        return try probe(connection)
    }

    /// The tenant tables of the blueprints, with their tenancy.
    var tenantTables: [(name: QualifiedName, tenancy: Tenancy)] {
        blueprints.documents.flatMap { blueprint in
            blueprint.tables.filter { BlueprintValidator.isTenantTable($0, tenancy: blueprint.tenancy) }
                .map { (QualifiedName(schema: blueprint.schema, name: $0.name), blueprint.tenancy) }
        }.sorted { $0.name < $1.name }
    }

    /// The probes inside the caller's open transaction, each table under a savepoint that is
    /// rolled back, and the whole under one (settings and roles included), so the transaction
    /// is as it was (production.md, RLS proven before commit). `byShape`: one table of each RLS
    /// shape is probed and speaks for the others (`shape`); `verify-rls` probes every table.
    /// - Throws: `PostgresError` for failures outside the per-table checks.
    /// `known`: the live catalog of `knownSchemas` as the caller just read it (apply, after its
    /// DDL), so only the other schemas foreign keys reach are read here; `desired`: the desired
    /// catalog when the caller has it.
    public func probe(_ connection: Connection, byShape: Bool = false, known: Catalog = Catalog(),
                      knownSchemas: Set<String> = [], desired: Catalog? = nil) throws -> RLSVerification {
        let desired = desired ?? DesiredCatalog.build(blueprints)
        try connection.query("SAVEPOINT driftless_probe")
        do {
            var schemas = Set(blueprints.documents.map(\.schema))
            for table in desired.tables.values {
                for constraint in table.constraints.values { if let ref = constraint.referencedTable { schemas.insert(ref.schema) } }
            }
            var live = known
            for schema in schemas.subtracting(knownSchemas).sorted() {
                try connection.query("SELECT set_config('search_path', $1, true)", [quoteIdentifier(schema)])
                let part = try Introspector.introspect(connection, schemas: [schema]).catalog
                live.tables.merge(part.tables) { $1 }
                live.enums.merge(part.enums) { $1 }
                live.triggers.merge(part.triggers) { $1 }
                live.functions.merge(part.functions) { $1 }
            }
            try connection.query("SELECT set_config('search_path', 'public', true)")
            var results: [RLSVerification.TableResult] = []
            var proved: [String: RLSVerification.TableResult] = [:]
            let triggers = Dictionary(grouping: live.triggers.values, by: \.key.table)
            let tables = tenantTables
            // Every table's shape, on every core (pure work on the catalog just read).
            let shapes: [String?]
            if byShape {
                let functions = Set(live.triggers.values.map(\.function))
                let independent = Set(functions.filter { live.functions[FunctionKey(name: $0, arguments: [])].map(Self.isTableIndependent) ?? false })
                shapes = Parallelism.cores.map(tables) { table in
                    shape(table.name, tenancy: table.tenancy, live: live, triggers: triggers[table.name] ?? [], independent: independent)
                }
            } else {
                shapes = Array(repeating: nil, count: tables.count)
            }
            for ((name, tenancy), key) in zip(tables, shapes) {
                if let key, let representative = proved[key] {
                    var result = representative
                    result.table = name.description
                    result.reason = "proved on \(representative.table), which has the same RLS shape" + (representative.reason.map { ": \($0)" } ?? "")
                    results.append(result)
                    continue
                }
                try connection.query("SAVEPOINT driftless_verify")
                let result: RLSVerification.TableResult
                do {
                    result = try verify(name, tenancy: tenancy, live: live, connection)
                } catch let failure as NotSampleable {
                    result = .init(table: name.description, status: .notVerified, checks: [], reason: failure.reason)
                } catch let error as PostgresError where !error.isConnectionError {
                    result = .init(table: name.description, status: .notVerified, checks: [],
                                   reason: "could not prepare sample rows: \(error.message) [\(error.sqlstate ?? "-")]")
                }
                try connection.query("ROLLBACK TO SAVEPOINT driftless_verify")
                if let key { proved[key] = result }
                results.append(result)
            }
            try connection.query("ROLLBACK TO SAVEPOINT driftless_probe")
            return RLSVerification(tables: results)
        } catch {
            _ = try? connection.query("ROLLBACK TO SAVEPOINT driftless_probe")
            throw error
        }
    }

    /// What the probes of a table depend on, with the table's own name left out: tables with
    /// the same shape answer every probe the same way, so the gate inside apply proves one of
    /// them (a thousand generated tenant tables are one shape). RLS flags, policies (their
    /// commands, roles and expressions as the server prints them), privileges, owner, the
    /// columns (types, nullability, defaults, generated expressions, identity), checks and the
    /// tenancy. Triggers count by everything but their name (the same `updated_at` function on
    /// every table is one shape), when their function is PL/pgSQL that never asks which table or
    /// trigger fired it (`TG_TABLE_NAME`, `TG_RELID`, ...); any other trigger, a partition or a
    /// partitioned table makes a shape of its own (docs/security.md, RLS proven before commit).
    /// `triggers`: the live triggers of the table.
    /// `independent`: the trigger functions that `isTableIndependent` accepts.
    func shape(_ name: QualifiedName, tenancy: Tenancy, live: Catalog, triggers tableTriggers: [TriggerObject],
               independent: Set<QualifiedName>) -> String? {
        guard let table = live.tables[name] else { return nil }
        let own = "own \(name.description)"
        if table.partitionOf != nil || table.partitionKey != nil { return own }
        var triggers: [String] = []
        for trigger in tableTriggers {
            guard independent.contains(trigger.function) else { return own }
            triggers.append("trigger \(trigger.timing) \(trigger.events) \(trigger.updateColumns) \(trigger.level) \(trigger.when ?? "-") "
                            + "\(trigger.function) \(trigger.arguments) \(trigger.enabled)")
        }
        var parts = ["rls \(table.rlsEnabled) \(table.rlsForced)", "owner \(table.owner ?? "-")",
                     "tenancy \(tenancy.column) \(tenancy.claim) \(tenancy.roles.joined(separator: ",")) \(tenancy.expression ?? "-")"]
        parts += table.policies.values.map { "policy \($0.command.rawValue) \($0.permissive) \($0.roles.sorted()) \($0.using ?? "-") \($0.withCheck ?? "-")" }.sorted()
        parts += (table.grants ?? [:]).map { "grant \($0.key) \($0.value.sorted())" }.sorted()
        parts += table.columns.map { "column \($0.name) \($0.type) \($0.notNull) \($0.defaultExpression ?? "-") \($0.generated ?? "-") \(String(describing: $0.identity))" }
        parts += table.constraints.values.filter { $0.kind == .check }.map { "check \($0.expression ?? "-")" }.sorted()
        parts += triggers.sorted()
        return parts.joined(separator: "\n")
    }

    /// A trigger function that does the same on every table it fires on: PL/pgSQL whose body
    /// names none of the variables that tell tables or triggers apart. Anything else (another
    /// language, such a variable, even in a comment) is taken as depending on its table.
    static func isTableIndependent(_ function: FunctionObject) -> Bool {
        guard function.language == "plpgsql" else { return false }
        let body = function.body.lowercased()
        return !["tg_table_name", "tg_table_schema", "tg_relid", "tg_relname", "tg_name"].contains { body.contains($0) }
    }

    struct NotSampleable: Error { var reason: String }

    func verify(_ name: QualifiedName, tenancy: Tenancy, live: Catalog, _ connection: Connection) throws -> RLSVerification.TableResult {
        guard let table = live.tables[name] else { throw NotSampleable(reason: "the table does not exist in the database") }
        guard tenancy.expression == nil else {
            throw NotSampleable(reason: "tenancy.expression is custom SQL; Driftless cannot act as a tenant for it")
        }
        guard let tenantColumn = table.column(tenancy.column) else { throw NotSampleable(reason: "no \(tenancy.column) column") }
        let tenantA = UUID().uuidString.lowercased()
        let tenantB = UUID().uuidString.lowercased()
        var factory = RowFactory(catalog: live, tenancyColumn: tenancy.column, connection: connection)
        // Defaults such as auth.uid() read the claims: write each tenant's rows under its claims.
        func withClaims<T>(_ tenant: String, _ body: () throws -> T) throws -> T {
            try connection.query("SELECT set_config('request.jwt.claims', $1, true)", [claims(tenancy.claim, tenant: tenant)])
            defer { _ = try? connection.query("SELECT set_config('request.jwt.claims', '', true)") }
            return try body()
        }
        _ = try withClaims(tenantA) { try factory.insert(name, tenant: tenantA) }
        _ = try withClaims(tenantB) { try factory.insert(name, tenant: tenantB) }
        let candidateForB = try withClaims(tenantB) { try factory.prepare(name, tenant: tenantB) }

        let column = quoteIdentifier(tenantColumn.name)
        let cast = "::\(tenantColumn.type)"
        var checks: [RLSVerification.Check] = []

        func asTenant<T>(_ tenant: String, _ body: () throws -> T) throws -> T {
            try connection.query("SAVEPOINT driftless_role")
            defer { _ = try? connection.query("ROLLBACK TO SAVEPOINT driftless_role") }
            try connection.query("SET LOCAL ROLE authenticated")
            try connection.query("SELECT set_config('request.jwt.claims', $1, true)", [claims(tenancy.claim, tenant: tenant)])
            return try body()
        }
        /// Runs `sql`; returns the SQLSTATE when it was refused, else nil and the rows it changed.
        func refused(_ sql: String, _ parameters: [String?]) throws -> (state: String?, rows: Int) {
            do {
                let result = try connection.query(sql, parameters)
                return (nil, result.affectedRows ?? 0)
            } catch let error as PostgresError where !error.isConnectionError {
                return (error.sqlstate, 0)
            }
        }
        /// Runs a `SELECT count(*) AS n`; returns the SQLSTATE when it was refused, else the count.
        func refusedOrCount(_ sql: String, _ parameters: [String?]) throws -> (state: String?, rows: Int) {
            do {
                return (nil, try connection.query(sql, parameters).first!.int("n"))
            } catch let error as PostgresError where !error.isConnectionError {
                return (error.sqlstate, 0)
            }
        }

        func insertSQL(_ row: [String: String]) -> String {
            "INSERT INTO \(name.sql) (\(row.keys.sorted().map(quoteIdentifier).joined(separator: ", "))) VALUES (\(row.keys.sorted().enumerated().map { "$\($0.offset + 1)::\(typeOf($0.element, in: table))" }.joined(separator: ", ")))"
        }
        func values(_ row: [String: String]) -> [String?] { row.keys.sorted().map { row[$0]! } }
        func outcome(_ attempt: (state: String?, rows: Int), _ what: String) -> String {
            attempt.state.map { $0 == "42501" ? "permission denied (42501): the tenancy role lacks privileges or a policy" : "refused with SQLSTATE \($0)" }
                ?? "\(attempt.rows) row(s) \(what)"
        }

        // The tenant's own side: a table its tenant cannot reach is broken, not isolated.
        let ownRead = try asTenant(tenantA) {
            try refusedOrCount("SELECT count(*) AS n FROM \(name.sql) WHERE \(column) = $1\(cast)", [tenantA])
        }
        checks.append(.init(name: "own_read", passed: ownRead.state == nil && ownRead.rows > 0,
                            detail: "tenant A reading its own row: \(outcome(ownRead, "visible"))"))
        let candidateForA = try withClaims(tenantA) { try factory.prepare(name, tenant: tenantA) }
        let ownInsert = try asTenant(tenantA) { try refused(insertSQL(candidateForA), values(candidateForA)) }
        checks.append(.init(name: "own_insert", passed: ownInsert.state == nil && ownInsert.rows == 1,
                            detail: "tenant A inserting a row of its own: \(outcome(ownInsert, "inserted"))"))
        let ownUpdate = try asTenant(tenantA) { try refused("UPDATE \(name.sql) SET \(column) = \(column) WHERE \(column) = $1\(cast)", [tenantA]) }
        checks.append(.init(name: "own_update", passed: ownUpdate.state == nil && ownUpdate.rows > 0,
                            detail: "tenant A updating its own row: \(outcome(ownUpdate, "updated"))"))
        let ownDelete = try asTenant(tenantA) { try refused("DELETE FROM \(name.sql) WHERE \(column) = $1\(cast)", [tenantA]) }
        checks.append(.init(name: "own_delete", passed: ownDelete.state == nil && ownDelete.rows > 0,
                            detail: "tenant A deleting its own row: \(outcome(ownDelete, "deleted"))"))
        let ownChecks = Set(["own_read", "own_insert", "own_update", "own_delete"])

        let read = try asTenant(tenantA) {
            try refusedOrCount("SELECT count(*) AS n FROM \(name.sql) WHERE \(column) = $1\(cast)", [tenantB])
        }
        checks.append(.init(name: "cross_tenant_read", passed: read.rows == 0,
                            detail: read.state.map { "refused with SQLSTATE \($0)" } ?? "tenant A sees \(read.rows) of tenant B's rows"))

        let insert = try asTenant(tenantA) { try refused(insertSQL(candidateForB), values(candidateForB)) }
        checks.append(.init(name: "cross_tenant_insert", passed: insert.state == "42501",
                            detail: insert.state == nil ? "tenant A inserted a row for tenant B" : "refused with SQLSTATE \(insert.state!)"))

        let updateOther = try asTenant(tenantA) { try refused("UPDATE \(name.sql) SET \(column) = \(column) WHERE \(column) = $1\(cast)", [tenantB]) }
        let moveOwn = try asTenant(tenantA) {
            try refused("UPDATE \(name.sql) SET \(column) = $1\(cast) WHERE \(column) = $2\(cast)", [tenantB, tenantA])
        }
        let updatePassed = updateOther.rows == 0 && (moveOwn.state == "42501" || moveOwn.rows == 0)
        checks.append(.init(name: "cross_tenant_update", passed: updatePassed,
                            detail: "updated \(updateOther.rows) of tenant B's rows; moving tenant A's row to tenant B: \(moveOwn.state.map { "refused (\($0))" } ?? "\(moveOwn.rows) row(s) moved")"))

        let delete = try asTenant(tenantA) { try refused("DELETE FROM \(name.sql) WHERE \(column) = $1\(cast)", [tenantB]) }
        checks.append(.init(name: "cross_tenant_delete", passed: delete.rows == 0, detail: "deleted \(delete.rows) of tenant B's rows"))

        // anon is checked on every tenant table, whatever policies exist: a policy that lets
        // anon read (declared or added by hand, `USING (true)` say) must still not show it a
        // tenant's rows.
        let anonPolicies = table.policies.values.filter {
            ($0.roles.contains("anon") || $0.roles.contains("public")) && ($0.command == .select || $0.command == .all)
        }.map(\.name).sorted()
        try connection.query("SAVEPOINT driftless_role")
        try connection.query("SET LOCAL ROLE anon")
        try connection.query("SELECT set_config('request.jwt.claims', '', true)")
        let anon = try refused("SELECT 1 FROM \(name.sql) LIMIT 0", [])
        let anonRows = anon.state == nil
            ? try connection.query("SELECT count(*) AS n FROM \(name.sql) WHERE \(column) IN ($1\(cast), $2\(cast))", [tenantA, tenantB]).first!.int("n") : 0
        try connection.query("ROLLBACK TO SAVEPOINT driftless_role")
        let through = anonPolicies.isEmpty ? "" : " (policies letting anon read: \(anonPolicies.joined(separator: ", ")))"
        checks.append(.init(name: "anon_read", passed: anonRows == 0,
                            detail: (anon.state.map { "refused with SQLSTATE \($0)" } ?? "anon sees \(anonRows) of the tenants' rows") + through))
        let leak = checks.contains { !$0.passed && !ownChecks.contains($0.name) }
        let unreachable = checks.contains { !$0.passed && ownChecks.contains($0.name) }
        return .init(table: name.description, status: leak ? .leak : (unreachable ? .unreachable : .isolated), checks: checks, reason: nil)
    }

    func typeOf(_ column: String, in table: Table) -> String { table.column(column)?.type ?? "text" }

    /// `{"sub": ..., "role": "authenticated", "app_metadata": {"tenant_id": tenant}}` for the claim path.
    func claims(_ claim: String, tenant: String) -> String {
        var value: Any = tenant
        for key in claim.split(separator: ".").reversed() { value = [String(key): value] }
        var object = (value as? [String: Any]) ?? [:]
        object["sub"] = UUID().uuidString.lowercased()
        object["role"] = "authenticated"
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Makes sample rows from column types and defaults, creating the parent rows their foreign
/// keys need (as the connecting role, which bypasses RLS).
struct RowFactory {
    let catalog: Catalog
    let tenancyColumn: String
    let connection: Connection
    /// Parent rows already made, by table and the key values asked for: a parent whose key is
    /// the tenant (an organization) is made once and shared.
    var parents: [String: [String: String]] = [:]

    /// Values for a new row of `name` owned by `tenant` (parents created as needed), not inserted.
    mutating func prepare(_ name: QualifiedName, tenant: String, overrides: [String: String] = [:], depth: Int = 0) throws -> [String: String] {
        guard depth < 6 else { throw RLSVerifier.NotSampleable(reason: "foreign keys nest deeper than 6 tables") }
        guard let table = catalog.tables[name] else { throw RLSVerifier.NotSampleable(reason: "\(name) is not readable") }
        var values = overrides
        if table.column(tenancyColumn) != nil && values[tenancyColumn] == nil { values[tenancyColumn] = tenant }
        let foreignKeyColumns = Set(table.constraints.values.filter { $0.kind == .foreignKey }.flatMap(\.columns))
        for column in table.columns where values[column.name] == nil && column.notNull && column.defaultExpression == nil
            && column.identity == nil && !foreignKeyColumns.contains(column.name) {
            values[column.name] = try sample(column, in: table)
        }
        for foreignKey in table.constraints.values.filter({ $0.kind == .foreignKey }).sorted(by: { $0.name < $1.name }) {
            guard let parentName = foreignKey.referencedTable, let parentColumns = foreignKey.referencedColumns else { continue }
            let required = foreignKey.columns.contains { column in table.column(column)?.notNull == true }
            guard required || foreignKey.columns.contains(tenancyColumn) else { continue }
            var parentOverrides: [String: String] = [:]
            for (child, parent) in zip(foreignKey.columns, parentColumns) {
                if let known = values[child] { parentOverrides[parent] = known }
            }
            let cacheKey = "\(parentName)|" + parentOverrides.keys.sorted().map { "\($0)=\(parentOverrides[$0]!)" }.joined(separator: ",")
            let parent: [String: String]
            if !parentOverrides.isEmpty, let existing = parents[cacheKey] {
                parent = existing
            } else {
                parent = try insert(parentName, tenant: tenant, overrides: parentOverrides, depth: depth + 1)
                parents[cacheKey] = parent
            }
            for (child, parentColumn) in zip(foreignKey.columns, parentColumns) {
                guard let value = parent[parentColumn] else { throw RLSVerifier.NotSampleable(reason: "no value for \(parentName).\(parentColumn)") }
                values[child] = value
            }
        }
        return values
    }

    /// Inserts a row (as the connecting role) and returns all its columns as text.
    @discardableResult
    mutating func insert(_ name: QualifiedName, tenant: String, overrides: [String: String] = [:], depth: Int = 0) throws -> [String: String] {
        let values = try prepare(name, tenant: tenant, overrides: overrides, depth: depth)
        let table = catalog.tables[name]!
        let columns = values.keys.sorted()
        let sql = columns.isEmpty
            ? "INSERT INTO \(name.sql) AS r DEFAULT VALUES RETURNING to_jsonb(r) AS row"
            : "INSERT INTO \(name.sql) AS r (\(columns.map(quoteIdentifier).joined(separator: ", "))) VALUES (\(columns.enumerated().map { "$\($0.offset + 1)::\(table.column($0.element)?.type ?? "text")" }.joined(separator: ", "))) RETURNING to_jsonb(r) AS row"
        let row = try connection.query(sql, columns.map { values[$0]! }).first!
        let json = try row.json("row", as: [String: JSONValue].self)
        var result: [String: String] = [:]
        for (key, value) in json {
            switch value {
            case .string(let text): result[key] = text
            case .number(let text): result[key] = text
            case .bool(let flag): result[key] = flag ? "true" : "false"
            case .null: continue
            default: result[key] = value.canonical
            }
        }
        return result
    }

    func sample(_ column: Column, in table: Table) throws -> String {
        let type = column.type
        if type.hasSuffix("[]") { return "{}" }
        let base = type.split(separator: "(").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? type
        switch base {
        case "text", "character varying", "character", "citext", "name":
            var text = "dl\(Int.random(in: 100_000...999_999))"
            if let open = type.firstIndex(of: "("), let length = Int(type[type.index(after: open)...].prefix { $0.isNumber }) {
                text = String(text.prefix(length))
            }
            return text
        case "smallint": return String(Int.random(in: 1...30_000))
        case "integer", "bigint": return String(Int.random(in: 1...1_000_000_000))
        case "numeric", "real", "double precision", "money": return "1"
        case "boolean": return "false"
        case "uuid": return UUID().uuidString.lowercased()
        case "timestamp with time zone", "timestamp without time zone", "date": return "2026-01-01"
        case "time with time zone", "time without time zone": return "12:00"
        case "interval": return "1 hour"
        case "json", "jsonb": return "{}"
        case "inet", "cidr": return "127.0.0.1"
        case "bytea": return "\\x00"
        default:
            let enumType = catalog.enums.values.first { $0.name.name == base || $0.name.description == base }
            if let first = enumType?.values.first { return first }
            throw RLSVerifier.NotSampleable(reason: "cannot make a sample value of type \(type) for \(table.name).\(column.name)")
        }
    }
}
