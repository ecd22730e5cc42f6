import DriftlessCore
import Foundation
import Postgres

/// Makes the desired catalog print exactly as the server prints the live one: creates the
/// desired enums, sequences, functions, tables, checks, indexes, policies and triggers (their
/// WHEN conditions) in the session's temporary schema
/// inside a savepoint, reads them back with the same introspection, then rolls back. Needs only
/// the TEMP privilege and takes no lock on live tables (foreign keys are compared structurally
/// and never created there).
public enum Canonicalizer {
    /// A statement the server (or the statement guard) refused, with the blueprint element that produced it.
    public struct Rejection: Sendable {
        public var origin: Origin?
        /// `server_rejected`, or `invalid_fragment` when the statement guard refused it unsent.
        public var code: String
        public var message: String
        public var sqlstate: String?
        public var statement: String?

        init(origin: Origin?, error: PostgresError) {
            self.origin = origin
            code = "server_rejected"
            message = error.message
            sqlstate = error.sqlstate
            statement = error.statement
        }

        init(origin: Origin?, violation: StatementGuard.Violation) {
            self.origin = origin
            code = "invalid_fragment"
            message = violation.description
            statement = violation.statement
        }
    }

    /// The canonical desired catalog, or the server's objections mapped to blueprint locations.
    /// Must run inside a transaction. Sets `search_path` per schema as the live side uses it.
    ///
    /// Only types that are new or changed get a scratch copy: an enum that exists in `live` with
    /// the same labels is left to resolve to the live type, because a copy in `pg_temp` would
    /// shadow it and a policy passing `'x'::app_permission` to a live function taking the live
    /// type would no longer find it (42883; docs/engine.md, Canonical through the server).
    /// `allTables`: every table of the blueprints when `desired` holds only some of them (the
    /// others are created as written): a view reading one of the others gets no scratch copy and
    /// is read back once it exists. `tablesPerChunk`: how many tables' copies exist at once.
    /// - Throws: `PostgresError` for failures that are not the blueprint's fault (connection).
    public static func canonicalize(_ desired: Catalog, live: Catalog = Catalog(), allTables: Set<QualifiedName>? = nil,
                                    tablesPerChunk: Int = tablesPerChunk,
                                    connection: Connection) throws -> (catalog: Catalog, rejections: [Rejection]) {
        let allTables = allTables ?? Set(desired.tables.keys)
        var result = desired
        var desired = desired
        desired.enums = desired.enums.filter { live.enums[$0.key]?.values != $0.value.values }
        var rejections: [Rejection] = []
        // Nothing is sent unless every scratch statement has the shape it was rendered with.
        var checker = StatementGuard.Checker()
        for schema in desired.schemas.sorted() {
            for statement in scratchStatements(desired, live: live, allTables: allTables, schema: schema) {
                do { try checker.check(statement.sql) } catch {
                    rejections.append(Rejection(origin: statement.origin, violation: error))
                }
            }
        }
        guard rejections.isEmpty else { return (desired, rejections) }
        for schema in desired.schemas.sorted() {
            let base = baseStatements(desired, live: live, schema: schema)
            let parts = chunks(desired, schema: schema, limit: tablesPerChunk).map { tableStatements($0, live: live, allTables: allTables, schema: schema) }
            guard !base.isEmpty || parts.contains(where: { !$0.isEmpty }) else { continue }
            try connection.query("SAVEPOINT driftless_canonical")
            do {
                try searchCopiesFirst(schema, connection)
                let refused = try run(base, savepoint: "driftless_canonical", schema: schema, connection)
                rejections += refused
                var tempSchema: String?
                // The copies of enums, sequences and functions are read with the first chunk read.
                var routinesRead = base.isEmpty
                for part in parts where !part.isEmpty || !routinesRead {
                    try connection.query("SAVEPOINT driftless_chunk")
                    let refusedHere = try run(part, savepoint: "driftless_chunk", schema: schema, connection)
                    rejections += refusedHere
                    if rejections.isEmpty {
                        if tempSchema == nil {
                            tempSchema = try connection.query("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()").first?.string("nspname")
                        }
                        guard let tempSchema else { throw PostgresError(code: .decodingFailed, message: "no temporary schema after creating temporary objects") }
                        let scratch = try Introspector.introspect(connection, schemas: [tempSchema]).catalog
                        merge(scratch, from: tempSchema, into: &result, schema: schema, routines: !routinesRead)
                        routinesRead = true
                    }
                    try connection.query("ROLLBACK TO SAVEPOINT driftless_chunk")
                }
                try connection.query("ROLLBACK TO SAVEPOINT driftless_canonical")
            } catch {
                _ = try? connection.query("ROLLBACK TO SAVEPOINT driftless_canonical")
                throw error
            }
        }
        ViewKind.forgetColumnsOverChangedResults(&result, live: live)
        if var storage = result.storage {
            rejections += try StorageCatalog.canonicalize(&storage, checker: &checker, connection)
            result.storage = storage
        }
        return (result, rejections)
    }

    typealias Statement = ScratchStatement

    /// Runs `statements` at once; should the server refuse one, rolls back to `savepoint` and
    /// runs each under a savepoint of its own, to report every objection at once (the rest of a
    /// table whose CREATE TABLE was refused is skipped). Returns the objections.
    /// - Throws: `PostgresError` of a lost connection.
    static func run(_ statements: [Statement], savepoint: String, schema: String, _ connection: Connection) throws -> [Rejection] {
        for statement in statements {
            do { try connection.query(statement.sql.text) } catch let error as PostgresError where !error.isConnectionError {
                try connection.query("ROLLBACK TO SAVEPOINT \(savepoint)")
                try searchCopiesFirst(schema, connection)
                var rejections: [Rejection] = []
                var skippedTables: Set<String> = []
                for statement in statements where !skippedTables.contains(statement.table ?? "") {
                    guard let rejection = try runAlone(statement, connection) else { continue }
                    rejections.append(rejection)
                    if statement.createsTable, let table = statement.table { skippedTables.insert(table) }
                }
                return rejections
            }
        }
        return []
    }

    /// The copies first, then `schema` (as the live side is read), for this transaction.
    static func searchCopiesFirst(_ schema: String, _ connection: Connection) throws {
        try connection.query("SELECT set_config('search_path', $1, true)", ["pg_temp, \(quoteIdentifier(schema))"])
    }

    /// At most this many tables have scratch copies at once. Each copy holds a few locks (the
    /// table, its TOAST table and index, its indexes) until its savepoint is rolled back, and
    /// the server's lock table is shared by every session (`max_locks_per_transaction` ×
    /// `max_connections`, 6,400 by default), which the copies of thousands of tables in one
    /// savepoint do not fit (docs/engine.md, Canonical in chunks).
    public static let tablesPerChunk = 250

    /// `schema`'s part of `desired` in chunks of about `tablesPerChunk` tables, each with the
    /// triggers of its tables and the views reading them: a partition goes with its parent and
    /// a view with every table and view of the schema its query reads, so each copy finds what
    /// it stands on. The first chunk also has the triggers on tables outside the blueprints.
    /// Always at least one chunk.
    static func chunks(_ desired: Catalog, schema: String, limit: Int = tablesPerChunk) -> [Catalog] {
        var parent: [QualifiedName: QualifiedName] = [:]
        func root(_ name: QualifiedName) -> QualifiedName {
            var name = name
            while let next = parent[name], next != name { name = next }
            return name
        }
        func join(_ a: QualifiedName, _ b: QualifiedName) {
            let (x, y) = (root(a), root(b))
            if x != y { parent[max(x, y)] = min(x, y) }
        }
        let tables = desired.tables.keys.filter { $0.schema == schema }
        let views = desired.views.keys.filter { $0.schema == schema }
        for name in tables + views { parent[name] = name }
        for name in tables {
            if let of = desired.tables[name]?.partitionOf, parent[of] != nil { join(name, of) }
        }
        for name in views {
            let view = desired.views[name]!
            for reference in ViewKind.references(view.writtenQuery ?? view.query, schema: schema) where parent[reference] != nil {
                join(name, reference)
            }
        }
        // The stand-ins of materialized views' indexes are numbered among the schema's views
        // (ViewKind.indexStandIns): all of them go in one chunk, so the numbers agree.
        let standIns = ViewKind.indexStandIns(desired, schema: schema).keys.sorted()
        for name in standIns.dropFirst() { join(name, standIns[0]) }
        var groups: [QualifiedName: (tables: [QualifiedName], views: [QualifiedName])] = [:]
        for name in tables { groups[root(name), default: ([], [])].tables.append(name) }
        for name in views { groups[root(name), default: ([], [])].views.append(name) }
        // Whole groups, in name order, packed up to the limit (a larger group stays whole).
        var packed: [(tables: Set<QualifiedName>, views: Set<QualifiedName>)] = [([], [])]
        for key in groups.keys.sorted() {
            let group = groups[key]!
            if !packed[packed.count - 1].tables.isEmpty && packed[packed.count - 1].tables.count + group.tables.count > limit {
                packed.append(([], []))
            }
            packed[packed.count - 1].tables.formUnion(group.tables)
            packed[packed.count - 1].views.formUnion(group.views)
        }
        return packed.enumerated().map { index, chunk in
            var part = desired.with(tables: desired.tables.filter { chunk.tables.contains($0.key) })
            part.triggers = desired.triggers.filter { key, _ in
                chunk.tables.contains(key.table) || (index == 0 && desired.tables[key.table] == nil)
            }
            part.views = desired.views.filter { $0.key.schema != schema || chunk.views.contains($0.key) }
            return part
        }
    }

    /// Runs one scratch statement under a savepoint of its own: nil when the server took it,
    /// else its objection (and the statement undone).
    /// - Throws: `PostgresError` of a lost connection.
    static func runAlone(_ statement: ScratchStatement, _ connection: Connection) throws -> Rejection? {
        try connection.query("SAVEPOINT driftless_statement")
        do {
            try connection.query(statement.sql.text)
            try connection.query("RELEASE SAVEPOINT driftless_statement")
            return nil
        } catch let error as PostgresError where !error.isConnectionError {
            try connection.query("ROLLBACK TO SAVEPOINT driftless_statement")
            return Rejection(origin: statement.origin, error: error)
        }
    }

    /// DDL for the scratch copies of `schema`'s objects, in dependency order: what belongs to
    /// no table (enums) first, then each table with its objects, kind by kind.
    static func scratchStatements(_ desired: Catalog, live: Catalog = Catalog(), allTables: Set<QualifiedName>? = nil, schema: String) -> [Statement] {
        baseStatements(desired, live: live, schema: schema) + tableStatements(desired, live: live, allTables: allTables, schema: schema)
    }

    /// What the tables' copies use: new extensions, enums, sequences, functions.
    static func baseStatements(_ desired: Catalog, live: Catalog, schema: String) -> [Statement] {
        // New extensions first, inside the same rolled-back savepoint: the types, functions and
        // operator classes they bring are what the copies below may use.
        var statements = desired.extensions.values.filter { live.extensions[$0.name] == nil }.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createExtension($0), origin: $0.origin)
        }
        statements += ObjectKinds.all.flatMap { $0.scratch(desired, schema: schema) }
        // PostgreSQL never looks for functions in pg_temp: a copy of each new function under its
        // own name lets the copies of defaults, checks and policies that call it resolve. It is
        // rolled back with the rest and takes no lock on anything live.
        for function in FunctionKind.new(in: desired, live: live, schema: schema) {
            statements.append(ScratchStatement(sql: SQLRenderer.createFunction(function), origin: function.origin))
        }
        return statements
    }

    /// The copies of `schema`'s tables with their objects, their triggers and the views.
    static func tableStatements(_ desired: Catalog, live: Catalog, allTables: Set<QualifiedName>?, schema: String) -> [Statement] {
        var statements: [Statement] = []
        // Parents before their partitions (a partition's copy is a partition of the parent's copy).
        let tables = desired.tables.values.filter { $0.name.schema == schema }.map { ($0, desired.ancestors(of: $0.name).count) }
        for (table, _) in tables.sorted(by: { ($0.1, $0.0.name) < ($1.1, $1.0.name) }) {
            for kind in ObjectKinds.all { statements += kind.scratch(table) }
        }
        // Triggers on the tables' copies, or on stand-ins of tables outside the blueprints; views
        // on the tables' copies, each after the views it reads.
        return statements + TriggerKind.scratchTriggers(desired, schema: schema)
            + ViewKind.scratchViews(desired, live: live, allTables: allTables ?? Set(desired.tables.keys), schema: schema)
    }

    /// Takes the server's text for every compared field; keeps what the scratch copy cannot say
    /// (RLS flags, grants, comments, foreign keys, origins).
    /// `routines: false` leaves enums, sequences and functions (merged from an earlier chunk).
    static func merge(_ scratch: Catalog, from tempSchema: String, into desired: inout Catalog, schema: String,
                      only tables: Set<QualifiedName>? = nil, routines: Bool = true) {
        for (name, _) in desired.enums where name.schema == schema && tables == nil && routines {
            // Enums without a scratch copy (unchanged live ones) keep their labels as written.
            if let canonical = scratch.enums[QualifiedName(schema: tempSchema, name: name.name)] {
                desired.enums[name]?.values = canonical.values
            }
        }
        for (name, _) in desired.sequences where name.schema == schema && tables == nil && routines {
            if let canonical = scratch.sequences[QualifiedName(schema: tempSchema, name: name.name)] {
                SequenceKind.adopt(canonical, into: &desired.sequences[name]!)
            }
        }
        if tables == nil {
            // Functions take the server's identity: they are keyed anew.
            for (key, function) in desired.functions where key.name.schema == schema && routines {
                guard let copy = FunctionKind.copy(of: function, in: scratch, tempSchema: tempSchema, desired: desired) else { continue }
                var merged = function
                FunctionKind.adopt(copy, into: &merged)
                desired.functions[key] = nil
                desired.functions[merged.key] = merged
            }
            TriggerKind.adoptWhen(scratch, from: tempSchema, into: &desired, schema: schema)
            ViewKind.adoptViews(scratch, from: tempSchema, into: &desired, schema: schema)
        } else {
            // Views that had no scratch copy, as the server printed them once created.
            for (name, view) in desired.views where name.schema == schema && view.columns.isEmpty {
                if let live = scratch.views[name] { ViewKind.adoptCreated(live, into: &desired.views[name]!) }
            }
            // After apply, the new tables' triggers as the server printed them (`scratch` is the live catalog here).
            for (key, _) in desired.triggers where tables!.contains(key.table) && desired.triggers[key]?.when != nil {
                if let live = scratch.triggers[key] { desired.triggers[key]?.when = live.when }
            }
        }
        for (name, table) in desired.tables where name.schema == schema && tables?.contains(name) ?? true {
            guard let canonical = scratch.tables[QualifiedName(schema: tempSchema, name: name.name)] else { continue }
            var merged = table
            for kind in ObjectKinds.all { kind.adopt(canonical, into: &merged) }
            desired.tables[name] = merged
        }
    }
}
