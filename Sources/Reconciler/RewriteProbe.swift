import DriftlessCore
import Foundation
import Postgres

/// Whether a change rewrites its table, decided by the server rather than by a list of names
/// (production.md and docs/operations.md, Hazards decided by the server): the column is
/// added, or its type changed, on an empty stand-in in `pg_temp` inside a savepoint, and the
/// stand-in's `relfilenode` says whether PostgreSQL wrote the table anew. That is PostgreSQL's
/// own decision: a volatile function anywhere in a default (`gen_random_bytes`,
/// `uuid_generate_v1mc()`, a user's function declared VOLATILE), an identity, a domain with
/// constraints; a type change that is not binary coercible. `statement_timestamp()` (stable)
/// and `varchar(10)` → `text` do not rewrite. New enums, sequences and functions of the plan
/// exist in the savepoint too, so a default calling a function the same revision creates is
/// decided by that function's declared volatility. Stored generated columns always rewrite
/// (PostgreSQL computes them for every row) and are not probed. When the stand-in cannot be
/// built, the plan keeps the differ's estimate (`Volatility`, `TypeChange`).
enum RewriteProbe {
    static let standIn = QualifiedName(schema: "pg_temp", name: "driftless_rewrite_probe")

    /// `changes` with their `rewrites_table` hazards as the server decides them.
    /// - Throws: `PostgresError` of a lost connection.
    static func decide(_ changes: [Change], desired: Catalog, actual: Catalog, _ connection: Connection) throws -> [Change] {
        var decided = changes
        var supports: [String: [SQL]] = [:]
        for (position, change) in changes.enumerated() where change.applied {
            guard let table = change.table, actual.tables[table] != nil,
                  let probe = probe(for: change, live: actual.tables[table]!) else { continue }
            if supports[table.schema] == nil { supports[table.schema] = support(desired, actual: actual, schema: table.schema) }
            guard let rewrites = try run(probe, schema: table.schema, support: supports[table.schema]!, connection) else { continue }
            var hazards = change.hazards.filter { $0.hazard != .rewritesTable }
            if rewrites {
                hazards.append(Hazard(.rewritesTable, object: change.object, detail: "PostgreSQL rewrites every row of the table for it: \(probe.what)"))
            }
            decided[position] = change.with(change.operations, execution: change.execution, hazards: hazards)
        }
        return decided
    }

    struct Probe {
        /// The stand-in's columns before the statement (the live column, for a type change).
        var columns: [Column]
        var statement: SQL
        var what: String
    }

    /// The statement to try on the stand-in, or nil when there is nothing to decide.
    static func probe(for change: Change, live: Table) -> Probe? {
        for operation in change.operations {
            switch operation {
            case .addColumn(let column, _) where column.generated == nil && (column.defaultExpression != nil || column.identity != nil):
                var bare = column
                bare.notNull = false
                return Probe(columns: [], statement: SQLRenderer.addColumn(bare, to: standIn),
                             what: column.identity != nil ? "an identity column" : "the default \(column.defaultExpression ?? "")")
            case .setType(let type, let name, _, let conversion):
                guard var existing = live.column(name) else { return nil }
                existing.defaultExpression = nil
                existing.generated = nil
                existing.identity = nil
                existing.notNull = false
                return Probe(columns: [existing], statement: SQLRenderer.setType(type, column: name, of: standIn, conversion: conversion),
                             what: "type \(existing.type) → \(type) is not binary coercible")
            default: continue
            }
        }
        return nil
    }

    /// The plan's new enums, sequences and functions of `schema`: what a default or a
    /// conversion may name before the plan creates it.
    static func support(_ desired: Catalog, actual: Catalog, schema: String) -> [SQL] {
        let enums: [EnumType] = desired.enums.values.filter { $0.name.schema == schema && actual.enums[$0.name] == nil }.sorted { $0.name < $1.name }
        let sequences: [SequenceObject] = desired.sequences.values.filter { $0.name.schema == schema && actual.sequences[$0.name] == nil }
            .sorted { $0.name < $1.name }
        let functions = FunctionKind.new(in: desired, live: actual, schema: schema)
        var statements: [SQL] = enums.map { SQLRenderer.createEnum($0) }
        statements += sequences.map { SQLRenderer.createSequence($0) }
        statements += functions.map { SQLRenderer.createFunction($0) }
        return statements
    }

    /// Whether the stand-in's relfilenode changed, or nil when the server refused to build it
    /// (the plan keeps its estimate).
    static func run(_ probe: Probe, schema: String, support: [SQL], _ connection: Connection) throws -> Bool? {
        try connection.query("SAVEPOINT driftless_rewrite")
        defer {
            _ = try? connection.query("ROLLBACK TO SAVEPOINT driftless_rewrite")
            _ = try? connection.query("RELEASE SAVEPOINT driftless_rewrite")
        }
        do {
            try connection.query("SELECT set_config('search_path', $1, true)", [quoteIdentifier(schema)])
            for statement in support { try connection.query(statement.text) }
            try connection.query(SQLRenderer.createTable(Table(name: standIn, columns: probe.columns)).text)
            let before = try connection.query("SELECT relfilenode::text AS node FROM pg_class WHERE oid = 'pg_temp.driftless_rewrite_probe'::regclass").first!.string("node")
            try connection.query(probe.statement.text)
            let after = try connection.query("SELECT relfilenode::text AS node FROM pg_class WHERE oid = 'pg_temp.driftless_rewrite_probe'::regclass").first!.string("node")
            return before != after
        } catch let error as PostgresError where !error.isConnectionError {
            return nil
        }
    }
}
