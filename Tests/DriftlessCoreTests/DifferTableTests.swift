import DriftlessCore
import Foundation
import Testing

// The differ, table-driven, without a database (docs/engine.md, Testing the engine): for each
// case a desired and an actual catalog (both as the server would print them), what was managed
// before, and the exact statements that would run, their hazards, and what is only reported.

private let publicT = QualifiedName(schema: "public", name: "t")
private let publicU = QualifiedName(schema: "public", name: "u")
private let status = QualifiedName(schema: "public", name: "status")

private func col(_ name: String, _ type: String = "integer", notNull: Bool = false, default value: String? = nil,
                 identity: Column.Identity? = nil, generated: String? = nil, comment: String? = nil, renamedFrom: String? = nil,
                 using: String? = nil) -> Column {
    Column(name: name, type: type, notNull: notNull, defaultExpression: value, identity: identity, generated: generated, comment: comment,
           renamedFrom: renamedFrom, using: using)
}

private func table(
    _ name: QualifiedName = publicT, _ columns: [Column] = [col("id", notNull: true)], constraints: [Constraint] = [],
    indexes: [Index] = [], rls: Bool = false, forced: Bool = false, policies: [Policy] = [], grants: [String: Set<String>]? = nil,
    comment: String? = nil, renamedFrom: String? = nil, owner: String? = nil
) -> Table {
    var table = Table(name: name, columns: columns, constraints: Dictionary(uniqueKeysWithValues: constraints.map { ($0.name, $0) }),
                      indexes: Dictionary(uniqueKeysWithValues: indexes.map { ($0.name, $0) }), rlsEnabled: rls, rlsForced: forced,
                      policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.name, $0) }), grants: grants, comment: comment,
                      renamedFrom: renamedFrom)
    table.owner = owner
    return table
}

private func catalog(_ tables: Table..., enums: [EnumType] = [], sequences: [SequenceObject] = [], functions: [FunctionObject] = [],
                     triggers: [TriggerObject] = [], extensions: [ExtensionObject] = [], views: [ViewObject] = []) -> Catalog {
    Catalog(enums: Dictionary(uniqueKeysWithValues: enums.map { ($0.name, $0) }),
            tables: Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0) }),
            sequences: Dictionary(uniqueKeysWithValues: sequences.map { ($0.name, $0) }),
            functions: Dictionary(uniqueKeysWithValues: functions.map { ($0.key, $0) }),
            triggers: Dictionary(uniqueKeysWithValues: triggers.map { ($0.key, $0) }),
            extensions: Dictionary(uniqueKeysWithValues: extensions.map { ($0.name, $0) }),
            views: Dictionary(uniqueKeysWithValues: views.map { ($0.name, $0) }))
}

/// A table with Realtime settings; the live side's catalog has the publication unless told.
private func realtime(_ member: Bool?, _ identity: ReplicaIdentity? = nil, _ base: Table = table()) -> Table {
    var table = base
    table.realtime = member
    table.replicaIdentity = identity
    return table
}

private func published(_ catalog: Catalog, allTables: Bool = false) -> Catalog {
    var catalog = catalog
    catalog.realtimePublication = RealtimePublication(allTables: allTables)
    return catalog
}

/// A catalog whose only content is Storage.
private func storage(_ buckets: [Bucket], _ policies: [Policy] = []) -> Catalog {
    var catalog = Catalog()
    catalog.storage = StorageState(buckets: Dictionary(uniqueKeysWithValues: buckets.map { ($0.id, $0) }),
                                   policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.name, $0) }))
    return catalog
}
private let publicRead = Policy(name: "Public read.", command: .select, roles: ["anon", "authenticated"], using: "(bucket_id = 'avatars'::text)")
private let O = "\"storage\".\"objects\""

private let openView = QualifiedName(schema: "public", name: "open_t")
private let countView = QualifiedName(schema: "public", name: "count_t")
private let V = "\"public\".\"open_t\""
/// A view, as both sides print it; `reads`/`readers` as the live side's pg_depend says.
private func view(_ name: QualifiedName = openView, _ query: String = "SELECT t.id FROM t", columns: [String] = ["id integer"],
                  invoker: Bool = true, materialized: Bool = false, grants: [String: Set<String>]? = nil, reads: [String] = [],
                  readers: [QualifiedName] = []) -> ViewObject {
    var view = ViewObject(name: name, query: query, columns: columns, securityInvoker: invoker, materialized: materialized, grants: grants)
    view.reads = reads.map { ViewObject.ColumnUse(table: publicT, column: $0) }
    view.dependentViews = readers
    return view
}

private let touchName = QualifiedName(schema: "public", name: "touch")
private let authUsers = QualifiedName(schema: "auth", name: "users")
/// A trigger function, as both sides print it (the desired side also keeps what it renders).
private func fn(_ name: String = "touch", arguments: [FunctionObject.Argument] = [], result: String = "trigger", body: String = "begin return new; end",
                language: String = "plpgsql", security: FunctionObject.Security = .invoker, grants: [String: Set<String>]? = nil,
                owner: String? = nil, searchPath: [String]? = [], dependents: FunctionDependents? = nil) -> FunctionObject {
    var function = FunctionObject(
        key: FunctionKey(name: QualifiedName(schema: "public", name: name), arguments: arguments.filter { $0.mode != .out }.map(\.type)),
        argumentList: arguments.map { [$0.name, $0.type].compactMap { $0 }.joined(separator: " ") }.joined(separator: ", "),
        result: result, language: language, security: security, config: searchPath.map { ["search_path=" + ($0.isEmpty ? "\"\"" : $0.joined(separator: ", "))] } ?? [],
        body: body, grants: grants, owner: owner, arguments: arguments, searchPath: searchPath)
    function.dependents = dependents
    return function
}
private func trg(_ name: String = "t_touch", on table: QualifiedName = publicT, timing: TriggerObject.Timing = .before,
                 events: [TriggerObject.Event] = [.update], when: String? = nil, function: QualifiedName = touchName,
                 enabled: TriggerObject.Enabled = .origin) -> TriggerObject {
    TriggerObject(key: TriggerKey(table: table, name: name), timing: timing, events: events, when: when, function: function, enabled: enabled,
                  declaredIn: "public")
}
private let touchSQL = "CREATE FUNCTION \"public\".\"touch\"() RETURNS trigger LANGUAGE \"plpgsql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'begin return new; end'"

private let invoiceNo = QualifiedName(schema: "public", name: "invoice_no")
private let S = "\"public\".\"invoice_no\""
private func seq(_ type: String = "bigint", start: Int64? = nil, increment: Int64 = 1, min: Int64? = nil, max: Int64? = nil,
                 cycle: Bool = false, ownedBy column: String? = nil, grants: [String: Set<String>]? = nil, owner: String? = nil) -> SequenceObject {
    SequenceObject(name: invoiceNo, type: type, start: start, increment: increment, min: min, max: max, cycle: cycle,
                   ownedBy: column.map { SequenceObject.Owner(table: publicT, column: $0) }, grants: grants, owner: owner)
}

private func pk(_ columns: String..., name: String = "t_pkey") -> Constraint { Constraint(name: name, kind: .primaryKey, columns: columns) }
private func policy(_ name: String, _ command: PolicyCommand = .select, roles: Set<String> = ["authenticated"], permissive: Bool = true,
                    using: String? = "true", withCheck: String? = nil) -> Policy {
    Policy(name: name, command: command, roles: roles, permissive: permissive, using: using, withCheck: withCheck)
}

private let T = "\"public\".\"t\""

private let events = QualifiedName(schema: "public", name: "events")
private let early = QualifiedName(schema: "public", name: "a_2026")

/// A table partitioned by range of `at`, as the blueprint and the server both say it.
private func partitioned(_ name: QualifiedName = events, key: String = "RANGE (at)") -> Table {
    var table = table(name, [col("at", "date", notNull: true)])
    table.partitionKey = key
    table.partitioning = PartitionKey(strategy: .range, columns: ["at"])
    return table
}

private func partition(_ name: QualifiedName = early, of parent: QualifiedName = events, from: String = "'2026-01-01'", to: String = "'2027-01-01'") -> Table {
    var table = table(name, [col("at", "date", notNull: true)])
    table.partitionOf = parent
    table.bound = .range(from: [from], to: [to])
    table.partitionBound = "FOR VALUES FROM (\(from)) TO (\(to))"
    return table
}

private func fk(_ name: String, _ deferral: Deferral) -> Constraint {
    var constraint = Constraint(name: name, kind: .foreignKey, columns: ["t_id"], referencedTable: publicT, referencedColumns: ["id"])
    constraint.deferral = deferral
    return constraint
}

struct DiffCase: Sendable, CustomTestStringConvertible {
    var name: String
    var desired: Catalog
    var actual: Catalog
    var managed: Set<ObjectID> = []
    var prune = false
    var existingSchemas: Set<String> = ["public"]
    /// The statements that run, in order.
    var sql: [String]
    var hazards: Set<HazardKind> = []
    /// Objects reported but not applied (unmanaged, not pruned).
    var reported: [String] = []
    var testDescription: String { name }

    /// The plan of this case: the managed schemas are those its catalogs mention, and public.
    var plan: Plan {
        Differ(desired: desired, actual: actual, managedSchemas: desired.schemas.union(actual.schemas).union(["public"]).subtracting(["auth"]),
               existingSchemas: existingSchemas, previouslyManaged: managed, prune: prune).plan()
    }
}

private let cases: [DiffCase] = [
    // Schemas
    DiffCase(name: "a table in a new schema creates the schema first",
             desired: catalog(table(QualifiedName(schema: "app", name: "t"))), actual: catalog(), existingSchemas: ["public"],
             sql: ["CREATE SCHEMA IF NOT EXISTS \"app\"", "CREATE TABLE \"app\".\"t\" (\n  \"id\" integer NOT NULL\n)"]),
    DiffCase(name: "identical catalogs: nothing", desired: catalog(table()), actual: catalog(table()), sql: []),

    // Enums
    DiffCase(name: "a new enum", desired: catalog(enums: [EnumType(name: status, values: ["a", "b"])]), actual: catalog(),
             sql: ["CREATE TYPE \"public\".\"status\" AS ENUM ('a', 'b')"]),
    DiffCase(name: "a label added at the end",
             desired: catalog(enums: [EnumType(name: status, values: ["a", "b", "c"])]), actual: catalog(enums: [EnumType(name: status, values: ["a", "b"])]),
             sql: ["ALTER TYPE \"public\".\"status\" ADD VALUE 'c' AFTER 'b'"]),
    DiffCase(name: "a label added before the first",
             desired: catalog(enums: [EnumType(name: status, values: ["z", "a"])]), actual: catalog(enums: [EnumType(name: status, values: ["a"])]),
             sql: ["ALTER TYPE \"public\".\"status\" ADD VALUE 'z' BEFORE 'a'"]),
    DiffCase(name: "a label added in the middle",
             desired: catalog(enums: [EnumType(name: status, values: ["a", "m", "z"])]), actual: catalog(enums: [EnumType(name: status, values: ["a", "z"])]),
             sql: ["ALTER TYPE \"public\".\"status\" ADD VALUE 'm' AFTER 'a'"]),
    DiffCase(name: "a label removed: the enum is recreated and its columns move through text",
             desired: catalog(table(publicT, [col("s", "status", default: "'a'::status")]), enums: [EnumType(name: status, values: ["a"])]),
             actual: catalog(table(publicT, [col("s", "status", default: "'a'::status")]), enums: [EnumType(name: status, values: ["a", "b"])]),
             sql: ["ALTER TYPE \"public\".\"status\" RENAME TO \"status__driftless_old\"", "CREATE TYPE \"public\".\"status\" AS ENUM ('a')",
                   "ALTER TABLE \(T) ALTER COLUMN \"s\" DROP DEFAULT", "ALTER TABLE \(T) ALTER COLUMN \"s\" TYPE status USING \"s\"::text::status",
                   "ALTER TABLE \(T) ALTER COLUMN \"s\" SET DEFAULT ('a'::status)", "DROP TYPE \"public\".\"status__driftless_old\""],
             hazards: [.deletesData]),
    DiffCase(name: "labels reordered: recreated, an array column too",
             desired: catalog(table(publicT, [col("s", "status[]")]), enums: [EnumType(name: status, values: ["b", "a"])]),
             actual: catalog(table(publicT, [col("s", "status[]")]), enums: [EnumType(name: status, values: ["a", "b"])]),
             sql: ["ALTER TYPE \"public\".\"status\" RENAME TO \"status__driftless_old\"", "CREATE TYPE \"public\".\"status\" AS ENUM ('b', 'a')",
                   "ALTER TABLE \(T) ALTER COLUMN \"s\" TYPE status[] USING \"s\"::text[]::status[]", "DROP TYPE \"public\".\"status__driftless_old\""],
             hazards: [.deletesData]),
    DiffCase(name: "an enum recreated under a policy has the policy recreated",
             desired: catalog(table(publicT, [col("s", "status")], policies: [policy("p", using: "(s = 'a'::status)")]), enums: [EnumType(name: status, values: ["a"])]),
             actual: catalog(table(publicT, [col("s", "status")], policies: [policy("p", using: "(s = 'a'::status)")]), enums: [EnumType(name: status, values: ["a", "b"])]),
             sql: ["ALTER TYPE \"public\".\"status\" RENAME TO \"status__driftless_old\"", "CREATE TYPE \"public\".\"status\" AS ENUM ('a')",
                   "DROP POLICY \"p\" ON \(T)", "ALTER TABLE \(T) ALTER COLUMN \"s\" TYPE status USING \"s\"::text::status",
                   "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING ((s = 'a'::status))",
                   "DROP TYPE \"public\".\"status__driftless_old\""],
             hazards: [.deletesData]),
    DiffCase(name: "an enum nobody managed is only reported", desired: catalog(), actual: catalog(enums: [EnumType(name: status, values: ["a"])]),
             sql: [], reported: ["public.status"]),
    DiffCase(name: "a managed enum removed is dropped", desired: catalog(), actual: catalog(enums: [EnumType(name: status, values: ["a"])]),
             managed: [.enumType(status)], sql: ["DROP TYPE \"public\".\"status\""], hazards: [.deletesData]),
    DiffCase(name: "an unmanaged enum with --prune is dropped", desired: catalog(), actual: catalog(enums: [EnumType(name: status, values: ["a"])]),
             prune: true, sql: ["DROP TYPE \"public\".\"status\""], hazards: [.deletesData]),

    // Sequences
    DiffCase(name: "a new sequence with its settings spelled out", desired: catalog(sequences: [seq(start: 1000)]), actual: catalog(),
             sql: ["CREATE SEQUENCE \(S) AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1000 CACHE 1 NO CYCLE"]),
    DiffCase(name: "a descending smallint sequence takes PostgreSQL's defaults", desired: catalog(sequences: [seq("smallint", increment: -1)]),
             actual: catalog(),
             sql: ["CREATE SEQUENCE \(S) AS smallint INCREMENT BY -1 MINVALUE -32768 MAXVALUE -1 START WITH -1 CACHE 1 NO CYCLE"]),
    DiffCase(name: "a sequence owned by a new table's column: created before the table, owned after it",
             desired: catalog(table(publicT, [col("n", "bigint", notNull: true, default: "nextval('invoice_no'::regclass)")]),
                              sequences: [seq(ownedBy: "n")]),
             actual: catalog(),
             sql: ["CREATE SEQUENCE \(S) AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE",
                   "CREATE TABLE \(T) (\n  \"n\" bigint DEFAULT (nextval('invoice_no'::regclass)) NOT NULL\n)",
                   "ALTER SEQUENCE \(S) OWNED BY \(T).\"n\""]),
    DiffCase(name: "a sequence's settings changed in place, never restarted", desired: catalog(sequences: [seq(start: 10, increment: 5)]),
             actual: catalog(sequences: [seq()]),
             sql: ["ALTER SEQUENCE \(S) AS bigint INCREMENT BY 5 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 10 CACHE 1 NO CYCLE"]),
    DiffCase(name: "a narrower sequence type may fail", desired: catalog(sequences: [seq("integer")]), actual: catalog(sequences: [seq()]),
             sql: ["ALTER SEQUENCE \(S) AS integer INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE"],
             hazards: [.mayFail]),
    DiffCase(name: "a sequence made to count down hands numbers out again", desired: catalog(sequences: [seq(increment: -1, min: 1, max: 100, cycle: true)]),
             actual: catalog(sequences: [seq(max: 100)]),
             sql: ["ALTER SEQUENCE \(S) AS bigint INCREMENT BY -1 MINVALUE 1 MAXVALUE 100 START WITH 100 CACHE 1 CYCLE"],
             hazards: [.deletesData]),
    DiffCase(name: "a sequence's owning column changes before the old column is dropped",
             desired: catalog(table(publicT, [col("m", "bigint")]), sequences: [seq(ownedBy: "m")]),
             actual: catalog(table(publicT, [col("m", "bigint"), col("n", "bigint")]), sequences: [seq(ownedBy: "n")]),
             managed: [.member(.column, of: publicT, "n")],
             sql: ["ALTER SEQUENCE \(S) OWNED BY \(T).\"m\"", "ALTER TABLE \(T) DROP COLUMN \"n\""], hazards: [.deletesData]),
    DiffCase(name: "sequence privileges: exactly the listed ones, a new sequence's defaults revoked",
             desired: catalog(sequences: [seq(grants: ["authenticated": ["usage", "select"]], owner: "app_owner")]), actual: catalog(),
             sql: ["CREATE SEQUENCE \(S) AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE",
                   "REVOKE UPDATE ON SEQUENCE \(S) FROM \"authenticated\"", "GRANT SELECT, USAGE ON SEQUENCE \(S) TO \"authenticated\"",
                   "ALTER SEQUENCE \(S) OWNER TO \"app_owner\""]),
    DiffCase(name: "a sequence given to anon relaxes security", desired: catalog(sequences: [seq(grants: ["anon": ["update"]])]),
             actual: catalog(sequences: [seq(grants: [:], owner: "anon")]),
             sql: ["GRANT UPDATE ON SEQUENCE \(S) TO \"anon\"", "ALTER SEQUENCE \(S) OWNER TO CURRENT_USER"], hazards: [.relaxesSecurity]),
    DiffCase(name: "a sequence nobody managed is only reported", desired: catalog(), actual: catalog(sequences: [seq()]),
             sql: [], reported: ["public.invoice_no"]),
    DiffCase(name: "a managed sequence removed is dropped after the tables", desired: catalog(),
             actual: catalog(table(publicT, [col("n", "bigint", default: "nextval('invoice_no'::regclass)")]), sequences: [seq(ownedBy: "n")]),
             managed: [.sequence(invoiceNo), .table(publicT)],
             sql: ["DROP TABLE \(T)", "DROP SEQUENCE IF EXISTS \(S)"], hazards: [.deletesData]),

    // Tables
    DiffCase(name: "a new table", desired: catalog(table(publicT, [col("id", "bigint", notNull: true), col("name", "text")])), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" bigint NOT NULL,\n  \"name\" text\n)"]),
    DiffCase(name: "a new table with identity and defaults",
             desired: catalog(table(publicT, [col("id", "bigint", notNull: true, identity: .always), col("at", "timestamp with time zone", default: "now()")])),
             actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,\n  \"at\" timestamp with time zone DEFAULT (now())\n)"]),
    DiffCase(name: "a table renamed", desired: catalog(table(publicU, renamedFrom: "t")), actual: catalog(table(publicT)),
             sql: ["ALTER TABLE \(T) RENAME TO \"u\""]),
    DiffCase(name: "a rename whose old name is still wanted creates instead",
             desired: catalog(table(publicT), table(publicU, renamedFrom: "t")), actual: catalog(table(publicT)),
             sql: ["CREATE TABLE \"public\".\"u\" (\n  \"id\" integer NOT NULL\n)"]),
    DiffCase(name: "a managed table removed is dropped", desired: catalog(), actual: catalog(table()), managed: [.table(publicT)],
             sql: ["DROP TABLE \(T)"], hazards: [.deletesData]),
    DiffCase(name: "an unmanaged table is only reported", desired: catalog(), actual: catalog(table()), sql: [], reported: ["public.t"]),
    DiffCase(name: "an unmanaged table with --prune is dropped", desired: catalog(), actual: catalog(table()), prune: true,
             sql: ["DROP TABLE \(T)"], hazards: [.deletesData]),
    DiffCase(name: "tables of schemas no blueprint manages are never touched",
             desired: catalog(), actual: catalog(table(QualifiedName(schema: "auth", name: "users"))), prune: true, sql: []),
    DiffCase(name: "a managed column record does not make a table of that name managed",
             desired: catalog(), actual: catalog(table()), managed: [.member(.column, of: QualifiedName(schema: "public", name: "x"), "t")],
             sql: [], reported: ["public.t"]),

    // Columns
    DiffCase(name: "a nullable column added", desired: catalog(table(publicT, [col("id", notNull: true), col("b", "text")])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ADD COLUMN \"b\" text"]),
    DiffCase(name: "a NOT NULL column without a default may fail",
             desired: catalog(table(publicT, [col("id", notNull: true), col("b", "text", notNull: true)])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ADD COLUMN \"b\" text NOT NULL"], hazards: [.mayFail]),
    DiffCase(name: "a NOT NULL column with a default is safe",
             desired: catalog(table(publicT, [col("id", notNull: true), col("b", "text", notNull: true, default: "'x'::text")])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ADD COLUMN \"b\" text DEFAULT ('x'::text) NOT NULL"]),
    DiffCase(name: "a volatile default rewrites the table",
             desired: catalog(table(publicT, [col("id", notNull: true), col("u", "uuid", default: "gen_random_uuid()")])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ADD COLUMN \"u\" uuid DEFAULT (gen_random_uuid())"], hazards: [.rewritesTable]),
    DiffCase(name: "a column renamed", desired: catalog(table(publicT, [col("key", notNull: true, renamedFrom: "id")])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) RENAME COLUMN \"id\" TO \"key\""]),
    DiffCase(name: "integer to bigint rewrites", desired: catalog(table(publicT, [col("id", "bigint", notNull: true)])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"id\" TYPE bigint USING \"id\"::bigint"], hazards: [.rewritesTable]),
    DiffCase(name: "text to integer may lose data",
             desired: catalog(table(publicT, [col("id", notNull: true)])), actual: catalog(table(publicT, [col("id", "text", notNull: true)])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"id\" TYPE integer USING \"id\"::integer"], hazards: [.rewritesTable, .deletesData]),
    DiffCase(name: "a varchar widened is catalog-only",
             desired: catalog(table(publicT, [col("n", "character varying(80)")])), actual: catalog(table(publicT, [col("n", "character varying(40)")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" TYPE character varying(80) USING \"n\"::character varying(80)"]),
    DiffCase(name: "a type change with the blueprint's using",
             desired: catalog(table(publicT, [col("at", "timestamp with time zone", using: "to_timestamp(at)")])), actual: catalog(table(publicT, [col("at", "bigint")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"at\" TYPE timestamp with time zone USING (to_timestamp(at))"], hazards: [.rewritesTable, .deletesData]),
    DiffCase(name: "a column moved from one enum to another goes through text",
             desired: catalog(table(publicT, [col("e", "b")]), enums: [EnumType(name: QualifiedName(schema: "public", name: "a"), values: ["x"]),
                                                                 EnumType(name: QualifiedName(schema: "public", name: "b"), values: ["x"])]),
             actual: catalog(table(publicT, [col("e", "a")]), enums: [EnumType(name: QualifiedName(schema: "public", name: "a"), values: ["x"]),
                                                                EnumType(name: QualifiedName(schema: "public", name: "b"), values: ["x"])]),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"e\" TYPE b USING \"e\"::text::b"], hazards: [.rewritesTable, .deletesData]),
    DiffCase(name: "a generated column added to a table rewrites it",
             desired: catalog(table(publicT, [col("b"), col("c", generated: "(b * 2)")])), actual: catalog(table(publicT, [col("b")])),
             sql: ["ALTER TABLE \(T) ADD COLUMN \"c\" integer GENERATED ALWAYS AS ((b * 2)) STORED"], hazards: [.rewritesTable]),
    DiffCase(name: "a generated column's expression changed: its index goes and comes back around the column",
             desired: catalog(table(publicT, [col("b"), col("c", generated: "(b * 3)")], indexes: [Index(name: "t_c_idx", method: .btree, keys: ["c"], unique: false)])),
             actual: catalog(table(publicT, [col("b"), col("c", generated: "(b * 2)")], indexes: [Index(name: "t_c_idx", method: .btree, keys: ["c"], unique: false)])),
             sql: ["DROP INDEX \"public\".\"t_c_idx\"", "ALTER TABLE \(T) DROP COLUMN \"c\"",
                   "ALTER TABLE \(T) ADD COLUMN \"c\" integer GENERATED ALWAYS AS ((b * 3)) STORED",
                   "CREATE INDEX \"t_c_idx\" ON \(T) (\"c\")"], hazards: [.rewritesTable, .locksTable]),
    DiffCase(name: "a generated column made plain keeps its values",
             desired: catalog(table(publicT, [col("b"), col("c", default: "0")])), actual: catalog(table(publicT, [col("b"), col("c", generated: "(b * 2)")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"c\" DROP EXPRESSION", "ALTER TABLE \(T) ALTER COLUMN \"c\" SET DEFAULT (0)"]),
    DiffCase(name: "a varchar narrowed may lose data",
             desired: catalog(table(publicT, [col("n", "character varying(10)")])), actual: catalog(table(publicT, [col("n", "character varying(40)")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" TYPE character varying(10) USING \"n\"::character varying(10)"], hazards: [.rewritesTable, .deletesData]),
    DiffCase(name: "a type change keeps the default",
             desired: catalog(table(publicT, [col("n", "bigint", default: "0")])), actual: catalog(table(publicT, [col("n", default: "0")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" DROP DEFAULT", "ALTER TABLE \(T) ALTER COLUMN \"n\" TYPE bigint USING \"n\"::bigint",
                   "ALTER TABLE \(T) ALTER COLUMN \"n\" SET DEFAULT (0)"], hazards: [.rewritesTable]),
    DiffCase(name: "a default changed", desired: catalog(table(publicT, [col("n", default: "1")])), actual: catalog(table(publicT, [col("n", default: "0")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" SET DEFAULT (1)"]),
    DiffCase(name: "a default dropped", desired: catalog(table(publicT, [col("n")])), actual: catalog(table(publicT, [col("n", default: "0")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" DROP DEFAULT"]),
    DiffCase(name: "an identity added to a nullable column with a default",
             desired: catalog(table(publicT, [col("n", notNull: true, identity: .byDefault)])), actual: catalog(table(publicT, [col("n", default: "0")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" DROP DEFAULT", "ALTER TABLE \(T) ALTER COLUMN \"n\" SET NOT NULL",
                   "ALTER TABLE \(T) ALTER COLUMN \"n\" ADD GENERATED BY DEFAULT AS IDENTITY"]),
    DiffCase(name: "an identity switched to ALWAYS",
             desired: catalog(table(publicT, [col("n", notNull: true, identity: .always)])), actual: catalog(table(publicT, [col("n", notNull: true, identity: .byDefault)])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" SET GENERATED ALWAYS"]),
    DiffCase(name: "an identity dropped for a default",
             desired: catalog(table(publicT, [col("n", notNull: true, default: "0")])), actual: catalog(table(publicT, [col("n", notNull: true, identity: .always)])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" DROP IDENTITY", "ALTER TABLE \(T) ALTER COLUMN \"n\" SET DEFAULT (0)"]),
    DiffCase(name: "SET NOT NULL may fail", desired: catalog(table(publicT, [col("n", notNull: true)])), actual: catalog(table(publicT, [col("n")])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" SET NOT NULL"], hazards: [.mayFail, .locksTable]),
    DiffCase(name: "DROP NOT NULL is safe", desired: catalog(table(publicT, [col("n")])), actual: catalog(table(publicT, [col("n", notNull: true)])),
             sql: ["ALTER TABLE \(T) ALTER COLUMN \"n\" DROP NOT NULL"]),
    DiffCase(name: "a managed column removed is dropped",
             desired: catalog(table()), actual: catalog(table(publicT, [col("id", notNull: true), col("old", "text")])),
             managed: [.member(.column, of: publicT, "old")], sql: ["ALTER TABLE \(T) DROP COLUMN \"old\""], hazards: [.deletesData]),
    DiffCase(name: "an unmanaged column is only reported",
             desired: catalog(table()), actual: catalog(table(publicT, [col("id", notNull: true), col("old", "text")])),
             sql: [], reported: ["public.t.old"]),
    DiffCase(name: "an index record does not make a column of that name managed",
             desired: catalog(table()), actual: catalog(table(publicT, [col("id", notNull: true), col("old", "text")])),
             managed: [.member(.index, of: publicT, "old")], sql: [], reported: ["public.t.old"]),
    DiffCase(name: "a primary key dropped before DROP NOT NULL of its column",
             desired: catalog(table(publicT, [col("id")])),
             actual: catalog(table(publicT, [col("id", notNull: true)], constraints: [pk("id")])),
             managed: [.member(.constraint, of: publicT, "t_pkey")],
             sql: ["ALTER TABLE \(T) DROP CONSTRAINT \"t_pkey\"", "ALTER TABLE \(T) ALTER COLUMN \"id\" DROP NOT NULL"]),

    // Constraints
    DiffCase(name: "a primary key added to a table with rows may fail",
             desired: catalog(table(publicT, constraints: [pk("id")])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ADD CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\")"], hazards: [.mayFail, .locksTable]),
    DiffCase(name: "a new table's constraints carry no hazard",
             desired: catalog(table(publicT, constraints: [pk("id")])), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)", "ALTER TABLE \(T) ADD CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\")"]),
    DiffCase(name: "a unique constraint", desired: catalog(table(publicT, constraints: [Constraint(name: "t_id_key", kind: .unique, columns: ["id"])])),
             actual: catalog(table()), sql: ["ALTER TABLE \(T) ADD CONSTRAINT \"t_id_key\" UNIQUE (\"id\")"], hazards: [.mayFail, .locksTable]),
    DiffCase(name: "a check constraint", desired: catalog(table(publicT, constraints: [Constraint(name: "t_id_check", kind: .check, columns: [], expression: "(id > 0)")])),
             actual: catalog(table()), sql: ["ALTER TABLE \(T) ADD CONSTRAINT \"t_id_check\" CHECK ((id > 0))"], hazards: [.mayFail, .locksTable]),
    DiffCase(name: "a changed check is dropped and added",
             desired: catalog(table(publicT, constraints: [Constraint(name: "c", kind: .check, columns: [], expression: "(id > 1)")])),
             actual: catalog(table(publicT, constraints: [Constraint(name: "c", kind: .check, columns: [], expression: "(id > 0)")])),
             sql: ["ALTER TABLE \(T) DROP CONSTRAINT \"c\"", "ALTER TABLE \(T) ADD CONSTRAINT \"c\" CHECK ((id > 1))"], hazards: [.mayFail, .locksTable]),
    DiffCase(name: "a NOT VALID check is validated in place",
             desired: catalog(table(publicT, constraints: [Constraint(name: "c", kind: .check, columns: [], expression: "(id > 0)")])),
             actual: catalog(table(publicT, constraints: [{ var c = Constraint(name: "c", kind: .check, columns: [], expression: "(id > 0)"); c.validated = false; return c }()])),
             sql: ["ALTER TABLE \(T) VALIDATE CONSTRAINT \"c\""], hazards: [.mayFail]),
    DiffCase(name: "a check made NOT VALID and NO INHERIT is added again so",
             desired: catalog(table(publicT, constraints: [{ var c = Constraint(name: "c", kind: .check, columns: [], expression: "(id > 0)"); c.validated = false; c.noInherit = true; return c }()])),
             actual: catalog(table(publicT, constraints: [Constraint(name: "c", kind: .check, columns: [], expression: "(id > 0)")])),
             sql: ["ALTER TABLE \(T) DROP CONSTRAINT \"c\"", "ALTER TABLE \(T) ADD CONSTRAINT \"c\" CHECK ((id > 0)) NO INHERIT NOT VALID"], hazards: [.mayFail]),
    DiffCase(name: "a constraint renamed when only its name differs",
             desired: catalog(table(publicT, constraints: [pk("id", name: "t_key")])), actual: catalog(table(publicT, constraints: [pk("id")])),
             sql: ["ALTER TABLE \(T) RENAME CONSTRAINT \"t_pkey\" TO \"t_key\""]),
    DiffCase(name: "foreign keys come after the tables and keys they reference",
             desired: catalog(table(publicT, constraints: [pk("id")]),
                              table(publicU, [col("t_id")], constraints: [Constraint(name: "u_t_fkey", kind: .foreignKey, columns: ["t_id"],
                                                                                       referencedTable: publicT, referencedColumns: ["id"], onDelete: .cascade)])),
             actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)", "CREATE TABLE \"public\".\"u\" (\n  \"t_id\" integer\n)",
                   "ALTER TABLE \(T) ADD CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\")",
                   "ALTER TABLE \"public\".\"u\" ADD CONSTRAINT \"u_t_fkey\" FOREIGN KEY (\"t_id\") REFERENCES \(T) (\"id\") ON DELETE CASCADE"]),
    DiffCase(name: "a foreign key's action changed",
             desired: catalog(table(publicU, [col("t_id")], constraints: [Constraint(name: "f", kind: .foreignKey, columns: ["t_id"], referencedTable: publicT, referencedColumns: ["id"], onDelete: .setNull)])),
             actual: catalog(table(publicU, [col("t_id")], constraints: [Constraint(name: "f", kind: .foreignKey, columns: ["t_id"], referencedTable: publicT, referencedColumns: ["id"])])),
             sql: ["ALTER TABLE \"public\".\"u\" DROP CONSTRAINT \"f\"",
                   "ALTER TABLE \"public\".\"u\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"t_id\") REFERENCES \(T) (\"id\") ON DELETE SET NULL"],
             hazards: [.mayFail, .locksTable]),
    DiffCase(name: "a deferrable foreign key is created so",
             desired: catalog(table(publicU, [col("t_id")], constraints: [fk("f", Deferral(deferrable: true, initiallyDeferred: true))])),
             actual: catalog(table(publicU, [col("t_id")])),
             sql: ["ALTER TABLE \"public\".\"u\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"t_id\") REFERENCES \(T) (\"id\") DEFERRABLE INITIALLY DEFERRED"],
             hazards: [.mayFail, .locksTable]),
    DiffCase(name: "a foreign key's deferral is altered in place",
             desired: catalog(table(publicU, [col("t_id")], constraints: [fk("f", Deferral(deferrable: true))])),
             actual: catalog(table(publicU, [col("t_id")], constraints: [fk("f", Deferral(deferrable: true, initiallyDeferred: true))])),
             sql: ["ALTER TABLE \"public\".\"u\" ALTER CONSTRAINT \"f\" DEFERRABLE INITIALLY IMMEDIATE"], hazards: [.mayFail]),
    DiffCase(name: "a foreign key made not deferrable and validated is altered and validated",
             desired: catalog(table(publicU, [col("t_id")], constraints: [fk("f", Deferral())])),
             actual: catalog(table(publicU, [col("t_id")], constraints: [{ var c = fk("f", Deferral(deferrable: true)); c.validated = false; return c }()])),
             sql: ["ALTER TABLE \"public\".\"u\" ALTER CONSTRAINT \"f\" NOT DEFERRABLE",
                   "ALTER TABLE \"public\".\"u\" VALIDATE CONSTRAINT \"f\""], hazards: [.mayFail]),
    DiffCase(name: "a unique constraint made deferrable is dropped and added",
             desired: catalog(table(publicT, constraints: [{ var c = Constraint(name: "k", kind: .unique, columns: ["id"]); c.deferral = Deferral(deferrable: true); return c }()])),
             actual: catalog(table(publicT, constraints: [Constraint(name: "k", kind: .unique, columns: ["id"])])),
             sql: ["ALTER TABLE \(T) DROP CONSTRAINT \"k\"", "ALTER TABLE \(T) ADD CONSTRAINT \"k\" UNIQUE (\"id\") DEFERRABLE INITIALLY IMMEDIATE"],
             hazards: [.mayFail, .locksTable]),
    // Partitions
    DiffCase(name: "a partition is created after its parent, whatever their names",
             desired: catalog(partitioned(), partition()), actual: catalog(),
             sql: ["CREATE TABLE \"public\".\"events\" (\n  \"at\" date NOT NULL\n) PARTITION BY RANGE (\"at\")",
                   "CREATE TABLE \"public\".\"a_2026\" PARTITION OF \"public\".\"events\" FOR VALUES FROM (('2026-01-01')) TO (('2027-01-01'))"]),
    DiffCase(name: "a partition's columns are its parent's and never altered there",
             desired: catalog(partitioned(), partition()),
             actual: catalog(partitioned(), { var p = partition(); p.columns = [col("at", "date", notNull: true, default: "CURRENT_DATE")]; return p }()),
             sql: []),
    DiffCase(name: "a changed bound detaches and attaches again",
             desired: catalog(partitioned(), partition(to: "'2026-07-01'")), actual: catalog(partitioned(), partition()),
             sql: ["ALTER TABLE \"public\".\"events\" DETACH PARTITION \"public\".\"a_2026\"",
                   "ALTER TABLE \"public\".\"events\" ATTACH PARTITION \"public\".\"a_2026\" FOR VALUES FROM (('2026-01-01')) TO (('2026-07-01'))"],
             hazards: [.mayFail]),
    DiffCase(name: "a table that becomes partitioned is recreated, which deletes its rows",
             desired: catalog(partitioned()), actual: catalog(table(events, [col("at", "date", notNull: true)])),
             sql: ["DROP TABLE \"public\".\"events\"", "CREATE TABLE \"public\".\"events\" (\n  \"at\" date NOT NULL\n) PARTITION BY RANGE (\"at\")"],
             hazards: [.deletesData]),
    DiffCase(name: "a partition removed with its parent is dropped first",
             desired: catalog(), actual: catalog(partitioned(), partition()),
             managed: [.table(events), .table(early)],
             sql: ["DROP TABLE \"public\".\"a_2026\"", "DROP TABLE \"public\".\"events\""], hazards: [.deletesData]),
    DiffCase(name: "a managed constraint removed is dropped without a hazard",
             desired: catalog(table()), actual: catalog(table(publicT, constraints: [pk("id")])), managed: [.member(.constraint, of: publicT, "t_pkey")],
             sql: ["ALTER TABLE \(T) DROP CONSTRAINT \"t_pkey\""]),
    DiffCase(name: "an unmanaged constraint is only reported",
             desired: catalog(table()), actual: catalog(table(publicT, constraints: [pk("id")])), sql: [], reported: ["public.t.t_pkey"]),
    DiffCase(name: "a managed foreign key is dropped before other constraints",
             desired: catalog(table(publicU, [col("t_id")])),
             actual: catalog(table(publicU, [col("t_id")], constraints: [pk("t_id", name: "u_pkey"),
                                                                    Constraint(name: "f", kind: .foreignKey, columns: ["t_id"], referencedTable: publicT, referencedColumns: ["id"])])),
             managed: [.member(.constraint, of: publicU, "f"), .member(.constraint, of: publicU, "u_pkey")],
             sql: ["ALTER TABLE \"public\".\"u\" DROP CONSTRAINT \"f\"", "ALTER TABLE \"public\".\"u\" DROP CONSTRAINT \"u_pkey\""]),

    // Indexes
    DiffCase(name: "an index on a table with rows locks it",
             desired: catalog(table(publicT, indexes: [Index(name: "t_id_idx", method: .btree, keys: ["id"], unique: false)])), actual: catalog(table()),
             sql: ["CREATE INDEX \"t_id_idx\" ON \(T) (\"id\")"], hazards: [.locksTable]),
    DiffCase(name: "a unique index may fail too",
             desired: catalog(table(publicT, indexes: [Index(name: "t_id_idx", method: .btree, keys: ["id"], unique: true)])), actual: catalog(table()),
             sql: ["CREATE UNIQUE INDEX \"t_id_idx\" ON \(T) (\"id\")"], hazards: [.locksTable, .mayFail]),
    DiffCase(name: "a new table's index carries no hazard",
             desired: catalog(table(publicT, indexes: [Index(name: "t_id_idx", method: .btree, keys: ["id"], unique: false)])), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)", "CREATE INDEX \"t_id_idx\" ON \(T) (\"id\")"]),
    DiffCase(name: "an expression key and a predicate are parenthesized",
             desired: catalog(table(publicT, [col("n", "text")], indexes: [Index(name: "i", method: .btree, keys: ["lower(n)"], unique: false, predicate: "(n IS NOT NULL)")])),
             actual: catalog(table(publicT, [col("n", "text")])),
             sql: ["CREATE INDEX \"i\" ON \(T) ((lower(n))) WHERE ((n IS NOT NULL))"], hazards: [.locksTable]),
    DiffCase(name: "a gin index names its method",
             desired: catalog(table(publicT, [col("tags", "text[]")], indexes: [Index(name: "i", method: .gin, keys: ["tags"], unique: false)])),
             actual: catalog(table(publicT, [col("tags", "text[]")])),
             sql: ["CREATE INDEX \"i\" ON \(T) USING gin (\"tags\")"], hazards: [.locksTable]),
    DiffCase(name: "an index renamed when only its name differs",
             desired: catalog(table(publicT, indexes: [Index(name: "new", method: .btree, keys: ["id"], unique: false)])),
             actual: catalog(table(publicT, indexes: [Index(name: "old", method: .btree, keys: ["id"], unique: false)])),
             sql: ["ALTER INDEX \"public\".\"old\" RENAME TO \"new\""]),
    DiffCase(name: "a changed index is dropped and created",
             desired: catalog(table(publicT, indexes: [Index(name: "i", method: .hash, keys: ["id"], unique: false)])),
             actual: catalog(table(publicT, indexes: [Index(name: "i", method: .btree, keys: ["id"], unique: false)])),
             sql: ["DROP INDEX \"public\".\"i\"", "CREATE INDEX \"i\" ON \(T) USING hash (\"id\")"], hazards: [.locksTable]),
    DiffCase(name: "a managed index removed is dropped",
             desired: catalog(table()), actual: catalog(table(publicT, indexes: [Index(name: "i", method: .btree, keys: ["id"], unique: false)])),
             managed: [.member(.index, of: publicT, "i")], sql: ["DROP INDEX \"public\".\"i\""]),
    DiffCase(name: "an unmanaged index named like a managed column survives",
             desired: catalog(table(publicT, [col("id", notNull: true), col("x", "text")])),
             actual: catalog(table(publicT, [col("id", notNull: true), col("x", "text")], indexes: [Index(name: "x", method: .btree, keys: ["id"], unique: false)])),
             managed: [.member(.column, of: publicT, "x")], sql: [], reported: ["public.t.x"]),

    // RLS
    DiffCase(name: "RLS enabled", desired: catalog(table(rls: true)), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ENABLE ROW LEVEL SECURITY"]),
    DiffCase(name: "RLS disabled relaxes security", desired: catalog(table()), actual: catalog(table(rls: true)),
             sql: ["ALTER TABLE \(T) DISABLE ROW LEVEL SECURITY"], hazards: [.relaxesSecurity]),
    DiffCase(name: "RLS forced", desired: catalog(table(rls: true, forced: true)), actual: catalog(table(rls: true)),
             sql: ["ALTER TABLE \(T) FORCE ROW LEVEL SECURITY"]),
    DiffCase(name: "RLS no longer forced relaxes security", desired: catalog(table(rls: true)), actual: catalog(table(rls: true, forced: true)),
             sql: ["ALTER TABLE \(T) NO FORCE ROW LEVEL SECURITY"], hazards: [.relaxesSecurity]),
    DiffCase(name: "RLS on a new table", desired: catalog(table(rls: true)), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)", "ALTER TABLE \(T) ENABLE ROW LEVEL SECURITY"]),

    // Policies
    DiffCase(name: "a policy created", desired: catalog(table(rls: true, policies: [policy("read")])), actual: catalog(table(rls: true)),
             sql: ["CREATE POLICY \"read\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING (true)"]),
    DiffCase(name: "a policy's expression changed in place",
             desired: catalog(table(rls: true, policies: [policy("read", using: "(id > 0)")])), actual: catalog(table(rls: true, policies: [policy("read")])),
             sql: ["ALTER POLICY \"read\" ON \(T) TO \"authenticated\" USING ((id > 0))"]),
    DiffCase(name: "a policy's roles changed in place",
             desired: catalog(table(rls: true, policies: [policy("read", roles: ["anon", "authenticated"])])), actual: catalog(table(rls: true, policies: [policy("read")])),
             sql: ["ALTER POLICY \"read\" ON \(T) TO \"anon\", \"authenticated\" USING (true)"]),
    DiffCase(name: "a policy's command changed: dropped and created",
             desired: catalog(table(rls: true, policies: [policy("p", .update)])), actual: catalog(table(rls: true, policies: [policy("p")])),
             sql: ["DROP POLICY \"p\" ON \(T)", "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR UPDATE TO \"authenticated\" USING (true)"]),
    DiffCase(name: "a policy made restrictive: dropped and created",
             desired: catalog(table(rls: true, policies: [policy("p", permissive: false)])), actual: catalog(table(rls: true, policies: [policy("p")])),
             sql: ["DROP POLICY \"p\" ON \(T)", "CREATE POLICY \"p\" ON \(T) AS RESTRICTIVE FOR SELECT TO \"authenticated\" USING (true)"]),
    DiffCase(name: "a policy gaining WITH CHECK: dropped and created",
             desired: catalog(table(rls: true, policies: [policy("p", .all, withCheck: "true")])), actual: catalog(table(rls: true, policies: [policy("p", .all)])),
             sql: ["DROP POLICY \"p\" ON \(T)", "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR ALL TO \"authenticated\" USING (true) WITH CHECK (true)"]),
    DiffCase(name: "a policy renamed", desired: catalog(table(rls: true, policies: [policy("new")])), actual: catalog(table(rls: true, policies: [policy("old")])),
             sql: ["ALTER POLICY \"old\" ON \(T) RENAME TO \"new\""]),
    DiffCase(name: "a managed permissive policy removed is dropped without a hazard",
             desired: catalog(table(rls: true)), actual: catalog(table(rls: true, policies: [policy("p")])), managed: [.member(.policy, of: publicT, "p")],
             sql: ["DROP POLICY \"p\" ON \(T)"]),
    DiffCase(name: "a managed restrictive policy removed relaxes security",
             desired: catalog(table(rls: true)), actual: catalog(table(rls: true, policies: [policy("p", permissive: false)])),
             managed: [.member(.policy, of: publicT, "p")], sql: ["DROP POLICY \"p\" ON \(T)"], hazards: [.relaxesSecurity]),
    DiffCase(name: "an unmanaged policy is only reported",
             desired: catalog(table(rls: true)), actual: catalog(table(rls: true, policies: [policy("p")])), sql: [], reported: ["public.t.p"]),
    DiffCase(name: "a column type change under a policy recreates the policy",
             desired: catalog(table(publicT, [col("id", "bigint", notNull: true)], rls: true, policies: [policy("p", using: "(id > 0)")])),
             actual: catalog(table(publicT, [col("id", notNull: true)], rls: true, policies: [policy("p", using: "(id > 0)")])),
             sql: ["DROP POLICY \"p\" ON \(T)", "ALTER TABLE \(T) ALTER COLUMN \"id\" TYPE bigint USING \"id\"::bigint",
                   "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING ((id > 0))"],
             hazards: [.rewritesTable]),
    DiffCase(name: "a column type change under a policy recreates that table's policies, not another's",
             desired: catalog(table(publicT, [col("id", "bigint", notNull: true)], rls: true, policies: [policy("p", using: "(id > 0)")]),
                              table(publicU, [col("id", notNull: true)], rls: true, policies: [policy("q", using: "(id > 0)")])),
             actual: catalog(table(publicT, [col("id", notNull: true)], rls: true, policies: [policy("p", using: "(id > 0)")]),
                             table(publicU, [col("id", notNull: true)], rls: true, policies: [policy("q", using: "(id > 0)")])),
             sql: ["DROP POLICY \"p\" ON \(T)", "ALTER TABLE \(T) ALTER COLUMN \"id\" TYPE bigint USING \"id\"::bigint",
                   "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING ((id > 0))"],
             hazards: [.rewritesTable]),
    DiffCase(name: "a managed column dropped under a policy recreates the policies",
             desired: catalog(table(publicT, [col("id", notNull: true)], rls: true, policies: [policy("p")])),
             actual: catalog(table(publicT, [col("id", notNull: true), col("old")], rls: true, policies: [policy("p")])),
             managed: [.member(.column, of: publicT, "old")],
             sql: ["DROP POLICY \"p\" ON \(T)", "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING (true)",
                   "ALTER TABLE \(T) DROP COLUMN \"old\""],
             hazards: [.deletesData]),
    DiffCase(name: "an unmanaged policy under a dropped column is put back as it was",
             desired: catalog(table(publicT, [col("id", notNull: true)], rls: true)),
             actual: catalog(table(publicT, [col("id", notNull: true), col("old")], rls: true, policies: [policy("mine")])),
             managed: [.member(.column, of: publicT, "old")],
             sql: ["DROP POLICY \"mine\" ON \(T)", "CREATE POLICY \"mine\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING (true)",
                   "ALTER TABLE \(T) DROP COLUMN \"old\""],
             hazards: [.deletesData], reported: ["public.t.mine"]),
    DiffCase(name: "an unmanaged column leaves the policies alone",
             desired: catalog(table(publicT, [col("id", notNull: true)], rls: true, policies: [policy("p")])),
             actual: catalog(table(publicT, [col("id", notNull: true), col("old")], rls: true, policies: [policy("p")])),
             sql: [], reported: ["public.t.old"]),

    // Grants
    DiffCase(name: "a grant to authenticated", desired: catalog(table(grants: ["authenticated": ["select"]])), actual: catalog(table(grants: [:])),
             sql: ["GRANT SELECT ON \(T) TO \"authenticated\""]),
    DiffCase(name: "a grant to anon relaxes security", desired: catalog(table(grants: ["anon": ["select"]])), actual: catalog(table(grants: [:])),
             sql: ["GRANT SELECT ON \(T) TO \"anon\""], hazards: [.relaxesSecurity]),
    DiffCase(name: "extra privileges revoked", desired: catalog(table(grants: ["authenticated": ["select"]])),
             actual: catalog(table(grants: ["authenticated": ["select", "insert", "delete"]])),
             sql: ["REVOKE DELETE, INSERT ON \(T) FROM \"authenticated\""]),
    DiffCase(name: "a privilege given with its grant option, another one's option taken back",
             desired: catalog(table(grants: ["reporting": ["select with grant option", "insert"]])),
             actual: catalog(table(grants: ["reporting": ["select", "insert with grant option"]])),
             sql: ["REVOKE GRANT OPTION FOR INSERT ON \(T) FROM \"reporting\"", "GRANT SELECT ON \(T) TO \"reporting\" WITH GRANT OPTION"]),
    DiffCase(name: "a privilege held with its grant option and revoked takes the option with it",
             desired: catalog(table(grants: ["reporting": []])), actual: catalog(table(grants: ["reporting": ["select with grant option"]])),
             sql: ["REVOKE SELECT ON \(T) FROM \"reporting\""]),
    DiffCase(name: "a grant option to anon relaxes security",
             desired: catalog(table(grants: ["anon": ["select with grant option"]])), actual: catalog(table(grants: ["anon": ["select"]])),
             sql: ["GRANT SELECT ON \(T) TO \"anon\" WITH GRANT OPTION"], hazards: [.relaxesSecurity]),
    DiffCase(name: "a tenant table whose role holds its privileges with the grant option needs nothing more",
             desired: catalog({ var t = table(); t.tenantGrants = ["authenticated": DesiredCatalog.tenantPrivileges]; return t }()),
             actual: catalog(table(grants: ["authenticated": Set(DesiredCatalog.tenantPrivileges.map(Privilege.grantable))])), sql: []),
    DiffCase(name: "a tenant table's role lacking a privilege gets it, never the grant option",
             desired: catalog({ var t = table(); t.tenantGrants = ["authenticated": DesiredCatalog.tenantPrivileges]; return t }()),
             actual: catalog(table(grants: ["authenticated": ["select with grant option"]])),
             sql: ["GRANT DELETE, INSERT, UPDATE ON \(T) TO \"authenticated\""]),
    // Storage
    DiffCase(name: "a new bucket and a policy on storage.objects; someone else's policy and bucket untouched",
             desired: storage([Bucket(id: "avatars", isPublic: true, fileSizeLimit: 1024, allowedMimeTypes: ["image/png"])], [publicRead]),
             actual: storage([Bucket(id: "theirs", hasObjects: true)],
                             [Policy(name: "Theirs.", command: .all, roles: ["service_role"], using: "true")]),
             sql: ["INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES ('avatars', 'avatars', true, 1024, ARRAY['image/png']::text[])",
                   "CREATE POLICY \"Public read.\" ON \(O) AS PERMISSIVE FOR SELECT TO \"anon\", \"authenticated\" USING ((bucket_id = 'avatars'::text))"],
             reported: ["storage.theirs"]),
    DiffCase(name: "a private bucket made public relaxes security; its limit goes",
             desired: storage([Bucket(id: "avatars", isPublic: true)]), actual: storage([Bucket(id: "avatars", fileSizeLimit: 10)]),
             sql: ["UPDATE storage.buckets SET (public, file_size_limit, allowed_mime_types) = ROW(true, NULL::bigint, NULL::text[]) WHERE id = 'avatars'"],
             hazards: [.relaxesSecurity]),
    DiffCase(name: "pruning drops an empty undeclared bucket, never one holding objects",
             desired: storage([]), actual: storage([Bucket(id: "empty"), Bucket(id: "full", hasObjects: true)]), prune: true,
             sql: ["DELETE FROM storage.buckets WHERE id = 'empty' AND NOT EXISTS (SELECT FROM storage.objects WHERE bucket_id = 'empty')"],
             reported: ["storage.full"]),
    DiffCase(name: "a managed storage policy removed from the blueprints is dropped, a changed one altered",
             desired: storage([], [{ var p = publicRead; p.roles = ["anon"]; return p }()]),
             actual: storage([], [publicRead, Policy(name: "Old.", command: .select, roles: ["anon"], using: "false")]),
             managed: [StorageKind.policyID("Old."), StorageKind.policyID("Public read.")],
             sql: ["ALTER POLICY \"Public read.\" ON \(O) TO \"anon\" USING ((bucket_id = 'avatars'::text))", "DROP POLICY \"Old.\" ON \(O)"]),

    // Realtime
    DiffCase(name: "a table added to Realtime with full replica identity",
             desired: catalog(realtime(true, .full)), actual: published(catalog(realtime(false, .default))),
             sql: ["ALTER TABLE \(T) REPLICA IDENTITY FULL", "ALTER PUBLICATION supabase_realtime ADD TABLE \(T)"]),
    DiffCase(name: "a table removed from Realtime, its replica identity back to the default",
             desired: catalog(realtime(false, .default)), actual: published(catalog(realtime(true, .full))),
             sql: ["ALTER TABLE \(T) REPLICA IDENTITY DEFAULT", "ALTER PUBLICATION supabase_realtime DROP TABLE \(T)"]),
    DiffCase(name: "absent realtime and replica identity leave both as they are",
             desired: catalog(realtime(nil, nil)), actual: published(catalog(realtime(true, .nothing))), sql: []),
    DiffCase(name: "a new table in Realtime, the publication created first, identity by an index",
             desired: catalog(realtime(true, .index("t_pkey"), table(constraints: [Constraint(name: "t_pkey", kind: .primaryKey, columns: ["id"])]))),
             actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)", "ALTER TABLE \(T) ADD CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\")",
                   "CREATE PUBLICATION supabase_realtime", "ALTER TABLE \(T) REPLICA IDENTITY USING INDEX \"t_pkey\"",
                   "ALTER PUBLICATION supabase_realtime ADD TABLE \(T)"]),
    DiffCase(name: "a table cannot leave a FOR ALL TABLES publication: may fail",
             desired: catalog(realtime(false)), actual: published(catalog(realtime(true, .default)), allTables: true),
             sql: ["ALTER PUBLICATION supabase_realtime DROP TABLE \(T)"], hazards: [.mayFail]),
    DiffCase(name: "a revoke from anon is not a relaxation", desired: catalog(table(grants: ["anon": []])), actual: catalog(table(grants: ["anon": ["select"]])),
             sql: ["REVOKE SELECT ON \(T) FROM \"anon\""]),
    DiffCase(name: "a new table's grants override default privileges",
             desired: catalog(table(grants: ["authenticated": ["select", "insert"]])), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)", "REVOKE DELETE, REFERENCES, TRIGGER, TRUNCATE, UPDATE ON \(T) FROM \"authenticated\"",
                   "GRANT INSERT, SELECT ON \(T) TO \"authenticated\""]),
    DiffCase(name: "with --prune, a role the grants do not list loses its privileges",
             desired: catalog(table(grants: ["authenticated": ["select"]])),
             actual: catalog(table(grants: ["authenticated": ["select"], "reporting": ["select", "insert"]])), prune: true,
             sql: ["REVOKE INSERT, SELECT ON \(T) FROM \"reporting\""]),
    DiffCase(name: "grants not listed are left as they are", desired: catalog(table()), actual: catalog(table(grants: ["anon": ["select"]])), sql: []),
    DiffCase(name: "equal grants: nothing", desired: catalog(table(grants: ["authenticated": ["select"]])),
             actual: catalog(table(grants: ["authenticated": ["select"], "service_role": ["select"]])), sql: []),

    // Owners
    DiffCase(name: "a table owned by anon is taken back", desired: catalog(table()), actual: catalog(table(owner: "anon")),
             sql: ["ALTER TABLE \(T) OWNER TO CURRENT_USER"]),
    DiffCase(name: "a table owned by postgres is left alone", desired: catalog(table()), actual: catalog(table(owner: "postgres")), sql: []),
    DiffCase(name: "a blueprint giving a table to authenticated relaxes security",
             desired: catalog(table(owner: "authenticated")), actual: catalog(table(owner: "postgres")),
             sql: ["ALTER TABLE \(T) OWNER TO \"authenticated\""], hazards: [.relaxesSecurity]),
    DiffCase(name: "a blueprint's own owner", desired: catalog(table(owner: "app_owner")), actual: catalog(table(owner: "postgres")),
             sql: ["ALTER TABLE \(T) OWNER TO \"app_owner\""]),

    // Triggers
    DiffCase(name: "an undeclared trigger disabled by hand is enabled again", desired: catalog(table(), functions: [fn()]),
             actual: catalog(table(), functions: [fn()], triggers: [trg("audit", enabled: .disabled)]),
             sql: ["ALTER TABLE \(T) ENABLE TRIGGER \"audit\""]),
    DiffCase(name: "an undeclared enabled trigger of a managed table: reported only", desired: catalog(table(), functions: [fn()]),
             actual: catalog(table(), functions: [fn()], triggers: [trg("audit")]), sql: [], reported: ["public.t.audit"]),
    DiffCase(name: "a new trigger after its function and table",
             desired: catalog(table(), functions: [fn()], triggers: [trg(when: "old.* IS DISTINCT FROM new.*")]), actual: catalog(),
             sql: [touchSQL, "CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)",
                   "CREATE TRIGGER \"t_touch\" BEFORE UPDATE ON \(T) FOR EACH ROW WHEN (old.* IS DISTINCT FROM new.*) EXECUTE FUNCTION \"public\".\"touch\"()"]),
    DiffCase(name: "a changed trigger is replaced in place",
             desired: catalog(table(), functions: [fn()], triggers: [trg(events: [.insert, .update])]),
             actual: catalog(table(), functions: [fn()], triggers: [trg()]),
             sql: ["CREATE OR REPLACE TRIGGER \"t_touch\" BEFORE INSERT OR UPDATE ON \(T) FOR EACH ROW EXECUTE FUNCTION \"public\".\"touch\"()"]),
    DiffCase(name: "a declared trigger found disabled is enabled; one declared disabled stays so",
             desired: catalog(table(), functions: [fn()], triggers: [trg(), trg("quiet", enabled: .disabled)]),
             actual: catalog(table(), functions: [fn()], triggers: [trg(enabled: .disabled), trg("quiet", enabled: .disabled)]),
             sql: ["ALTER TABLE \(T) ENABLE TRIGGER \"t_touch\""]),
    DiffCase(name: "a trigger on auth.users: created; another one there is never reported",
             desired: catalog(functions: [fn("handle_new_user", security: .definer)],
                              triggers: [trg("on_auth_user_created", on: authUsers, timing: .after, events: [.insert],
                                             function: QualifiedName(schema: "public", name: "handle_new_user"))]),
             actual: catalog(functions: [fn("handle_new_user", security: .definer)], triggers: [trg("theirs", on: authUsers)]),
             sql: ["CREATE TRIGGER \"on_auth_user_created\" AFTER INSERT ON \"auth\".\"users\" FOR EACH ROW EXECUTE FUNCTION \"public\".\"handle_new_user\"()"]),
    DiffCase(name: "a managed trigger on auth.users removed from the blueprints is dropped",
             desired: catalog(), actual: catalog(triggers: [trg("on_auth_user_created", on: authUsers)]),
             managed: [TriggerKey(table: authUsers, name: "on_auth_user_created").id],
             sql: ["DROP TRIGGER \"on_auth_user_created\" ON \"auth\".\"users\""]),

    // Functions
    DiffCase(name: "a new function with EXECUTE for authenticated only: PUBLIC's is revoked",
             desired: catalog(functions: [fn("is_me", arguments: [.init(name: "p_id", type: "uuid")], result: "boolean", body: "select true",
                                             language: "sql", grants: ["authenticated": ["execute"], "public": []])]),
             actual: catalog(),
             sql: ["CREATE FUNCTION \"public\".\"is_me\"(IN \"p_id\" uuid) RETURNS boolean LANGUAGE \"sql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'select true'",
                   "GRANT EXECUTE ON FUNCTION \"public\".\"is_me\"(uuid) TO \"authenticated\"",
                   "REVOKE EXECUTE ON FUNCTION \"public\".\"is_me\"(uuid) FROM PUBLIC"]),
    DiffCase(name: "a new body: CREATE OR REPLACE",
             desired: catalog(functions: [fn(body: "begin new.at := now(); return new; end")]), actual: catalog(functions: [fn()]),
             sql: ["CREATE OR REPLACE FUNCTION \"public\".\"touch\"() RETURNS trigger LANGUAGE \"plpgsql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'begin new.at := now(); return new; end'"]),
    DiffCase(name: "a new result type under a policy: the policy is dropped first and created after",
             desired: catalog(table(rls: true, policies: [policy("p", using: "is_ok()")]), functions: [fn("is_ok", result: "boolean", body: "select true", language: "sql")]),
             actual: catalog(table(rls: true, policies: [policy("p", using: "is_ok()")]),
                             functions: [fn("is_ok", result: "integer", body: "select 1", language: "sql",
                                            dependents: FunctionDependents(policies: [.member(.policy, of: publicT, "p")]))]),
             sql: ["DROP POLICY \"p\" ON \(T)", "DROP FUNCTION \"public\".\"is_ok\"()",
                   "CREATE FUNCTION \"public\".\"is_ok\"() RETURNS boolean LANGUAGE \"sql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'select true'",
                   "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING (is_ok())"]),
    DiffCase(name: "a renamed argument under a trigger: the trigger is dropped first and created after; a default elsewhere may fail",
             desired: catalog(table(), functions: [fn(arguments: [.init(name: "b", type: "integer")], result: "integer", body: "select 1", language: "sql")],
                              triggers: []),
             actual: catalog(table(), functions: [fn(arguments: [.init(name: "a", type: "integer")], result: "integer", body: "select 1", language: "sql",
                                                     dependents: FunctionDependents(triggers: [TriggerKey(table: publicT, name: "t_touch")],
                                                                                    others: ["default value for column x of table t"]))],
                             triggers: [trg()]),
             sql: ["DROP TRIGGER \"t_touch\" ON \(T)", "DROP FUNCTION \"public\".\"touch\"(integer)",
                   "CREATE FUNCTION \"public\".\"touch\"(IN \"b\" integer) RETURNS integer LANGUAGE \"sql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'select 1'",
                   "CREATE TRIGGER \"t_touch\" BEFORE UPDATE ON \(T) FOR EACH ROW EXECUTE FUNCTION \"public\".\"touch\"()"],
             hazards: [.mayFail]),
    DiffCase(name: "an enum recreated under a function taking it: the function is dropped before and created after",
             desired: catalog(enums: [EnumType(name: status, values: ["a"])],
                              functions: [fn("label", arguments: [.init(name: "s", type: "status")], result: "text", body: "select s::text", language: "sql")]),
             actual: catalog(enums: [EnumType(name: status, values: ["a", "b"])],
                             functions: [fn("label", arguments: [.init(name: "s", type: "status")], result: "text", body: "select s::text", language: "sql")]),
             sql: ["DROP FUNCTION \"public\".\"label\"(status)", "ALTER TYPE \"public\".\"status\" RENAME TO \"status__driftless_old\"",
                   "CREATE TYPE \"public\".\"status\" AS ENUM ('a')",
                   "CREATE FUNCTION \"public\".\"label\"(IN \"s\" status) RETURNS text LANGUAGE \"sql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'select s::text'",
                   "DROP TYPE \"public\".\"status__driftless_old\""],
             hazards: [.deletesData]),
    DiffCase(name: "a managed function no blueprint declares is dropped after the tables (deletes_data); an unmanaged one is reported",
             desired: catalog(), actual: catalog(functions: [fn(), fn("other")]), managed: [.function(fn().key)],
             sql: ["DROP FUNCTION \"public\".\"touch\"()"], hazards: [.deletesData], reported: ["public.other()"]),
    DiffCase(name: "a new signature under a trigger whose text stays: the trigger goes first, comes back on the new function, the old one is dropped",
             desired: catalog(table(), functions: [fn("worth", arguments: [.init(name: "v", type: "character varying")], result: "boolean",
                                                      body: "select true", language: "sql"), fn()],
                              triggers: [trg(when: "worth(new.id)")]),
             actual: catalog(table(), functions: [fn("worth", arguments: [.init(name: "v", type: "text")], result: "boolean", body: "select true",
                                                     language: "sql", dependents: FunctionDependents(triggers: [TriggerKey(table: publicT, name: "t_touch")])),
                                                  fn()],
                             triggers: [trg(when: "worth(new.id)")]),
             managed: [.function(FunctionKey(name: QualifiedName(schema: "public", name: "worth"), arguments: ["text"]))],
             sql: ["DROP TRIGGER \"t_touch\" ON \(T)",
                   "CREATE FUNCTION \"public\".\"worth\"(IN \"v\" character varying) RETURNS boolean LANGUAGE \"sql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'select true'",
                   "CREATE TRIGGER \"t_touch\" BEFORE UPDATE ON \(T) FOR EACH ROW WHEN (worth(new.id)) EXECUTE FUNCTION \"public\".\"touch\"()",
                   "DROP FUNCTION \"public\".\"worth\"(text)"],
             hazards: [.deletesData]),
    DiffCase(name: "EXECUTE granted to anon on a definer function relaxes security",
             desired: catalog(functions: [fn("f", security: .definer, grants: ["anon": ["execute"]])]),
             actual: catalog(functions: [fn("f", security: .definer, grants: [:])]),
             sql: ["GRANT EXECUTE ON FUNCTION \"public\".\"f\"() TO \"anon\""], hazards: [.relaxesSecurity]),
    DiffCase(name: "a function given to another owner",
             desired: catalog(functions: [fn(owner: "app_owner")]), actual: catalog(functions: [fn(owner: "postgres")]),
             sql: ["ALTER FUNCTION \"public\".\"touch\"() OWNER TO \"app_owner\""]),

    // Views
    DiffCase(name: "a new view after its table, a view reading it after it",
             desired: catalog(table(), views: [view(countView, "SELECT count(*) AS n FROM open_t", columns: ["n bigint"]), view()]), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer NOT NULL\n)",
                   "CREATE VIEW \(V) WITH (security_invoker = true, security_barrier = false) AS SELECT t.id FROM t",
                   "CREATE VIEW \"public\".\"count_t\" WITH (security_invoker = true, security_barrier = false) AS SELECT count(*) AS n FROM open_t"]),
    DiffCase(name: "a view with a column appended is replaced in place",
             desired: catalog(table(), views: [view(openView, "SELECT t.id, t.id AS again FROM t", columns: ["id integer", "again integer"])]),
             actual: catalog(table(), views: [view()]),
             sql: ["CREATE OR REPLACE VIEW \(V) WITH (security_invoker = true, security_barrier = false) AS SELECT t.id, t.id AS again FROM t"]),
    DiffCase(name: "a view losing a column is dropped and created, with the view that reads it",
             desired: catalog(table(), views: [view(openView, "SELECT 1 AS one FROM t", columns: ["one integer"]),
                                               view(countView, "SELECT count(*) AS n FROM open_t", columns: ["n bigint"])]),
             actual: catalog(table(), views: [view(readers: [countView]), view(countView, "SELECT count(*) AS n FROM open_t", columns: ["n bigint"])]),
             sql: ["DROP VIEW \"public\".\"count_t\"", "DROP VIEW \(V)",
                   "CREATE VIEW \(V) WITH (security_invoker = true, security_barrier = false) AS SELECT 1 AS one FROM t",
                   "CREATE VIEW \"public\".\"count_t\" WITH (security_invoker = true, security_barrier = false) AS SELECT count(*) AS n FROM open_t"]),
    DiffCase(name: "a view losing a column: its instead_of trigger dropped before it, created after it",
             desired: catalog(table(), functions: [fn()], triggers: [trg("v_write", on: openView, timing: .insteadOf, events: [.insert])],
                              views: [view(openView, "SELECT 1 AS one FROM t", columns: ["one integer"])]),
             actual: catalog(table(), functions: [fn()], triggers: [trg("v_write", on: openView, timing: .insteadOf, events: [.insert])], views: [view()]),
             sql: ["DROP TRIGGER \"v_write\" ON \(V)", "DROP VIEW \(V)",
                   "CREATE VIEW \(V) WITH (security_invoker = true, security_barrier = false) AS SELECT 1 AS one FROM t",
                   "CREATE TRIGGER \"v_write\" INSTEAD OF INSERT ON \(V) FOR EACH ROW EXECUTE FUNCTION \"public\".\"touch\"()"]),
    DiffCase(name: "a function's result changed under a view calling it: the view dropped before it, created after",
             desired: catalog(table(), functions: [fn("f", result: "bigint", body: "select 1", language: "sql")],
                              views: [view(openView, "SELECT f() AS n FROM t", columns: ["n bigint"])]),
             actual: catalog(table(), functions: [fn("f", result: "integer", body: "select 1", language: "sql", dependents: FunctionDependents(views: [openView]))],
                             views: [view(openView, "SELECT f() AS n FROM t", columns: ["n integer"])]),
             sql: ["DROP VIEW \(V)", "DROP FUNCTION \"public\".\"f\"()",
                   "CREATE FUNCTION \"public\".\"f\"() RETURNS bigint LANGUAGE \"sql\" VOLATILE SECURITY INVOKER CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = '' AS 'select 1'",
                   "CREATE VIEW \(V) WITH (security_invoker = true, security_barrier = false) AS SELECT f() AS n FROM t"]),
    DiffCase(name: "a column type change under a view: dropped before, created after",
             desired: catalog(table(publicT, [col("id", "bigint", notNull: true)]), views: [view(columns: ["id bigint"])]),
             actual: catalog(table(), views: [view(reads: ["id"])]),
             sql: ["DROP VIEW \(V)", "ALTER TABLE \(T) ALTER COLUMN \"id\" TYPE bigint USING \"id\"::bigint",
                   "CREATE VIEW \(V) WITH (security_invoker = true, security_barrier = false) AS SELECT t.id FROM t"],
             hazards: [.rewritesTable]),
    DiffCase(name: "a view made security definer, readable by anon: replaced and granted (relaxes_security)",
             desired: catalog(table(), views: [view(invoker: false, grants: ["anon": ["select"]])]),
             actual: catalog(table(), views: [view(grants: [:])]),
             sql: ["CREATE OR REPLACE VIEW \(V) WITH (security_invoker = false, security_barrier = false) AS SELECT t.id FROM t",
                   "GRANT SELECT ON \(V) TO \"anon\""],
             hazards: [.relaxesSecurity]),
    DiffCase(name: "a materialized view's query changed: created again (rewrites_table)",
             desired: catalog(table(), views: [view(countView, "SELECT count(*) AS m FROM t", columns: ["m bigint"], materialized: true)]),
             actual: catalog(table(), views: [view(countView, "SELECT count(*) AS n FROM t", columns: ["n bigint"], materialized: true)]),
             sql: ["DROP MATERIALIZED VIEW \"public\".\"count_t\"", "CREATE MATERIALIZED VIEW \"public\".\"count_t\" AS SELECT count(*) AS m FROM t\n WITH DATA"],
             hazards: [.rewritesTable]),
    DiffCase(name: "a managed view removed is dropped first; an unmanaged one is reported",
             desired: catalog(), actual: catalog(views: [view(), view(countView, "SELECT 1", columns: ["?column? integer"])]),
             managed: [.view(openView)], sql: ["DROP VIEW \(V)"], reported: ["public.count_t"]),

    // Extensions
    DiffCase(name: "a new extension, in its schema", desired: catalog(extensions: [ExtensionObject(name: "pg_trgm", schema: "extensions")]),
             actual: catalog(), sql: ["CREATE EXTENSION IF NOT EXISTS \"pg_trgm\" WITH SCHEMA \"extensions\""]),
    DiffCase(name: "a declared version is updated to; an undeclared one is left",
             desired: catalog(extensions: [ExtensionObject(name: "vector", schema: "extensions", version: "0.8.0"),
                                           ExtensionObject(name: "pg_trgm", schema: "extensions")]),
             actual: catalog(extensions: [ExtensionObject(name: "vector", schema: "extensions", version: "0.7.0"),
                                          ExtensionObject(name: "pg_trgm", schema: "extensions", version: "1.6"),
                                          ExtensionObject(name: "pgcrypto", schema: "extensions", version: "1.3")]),
             sql: ["ALTER EXTENSION \"vector\" UPDATE TO '0.8.0'"]),
    DiffCase(name: "an extension managed before and no longer listed is dropped (deletes_data)",
             desired: catalog(), actual: catalog(extensions: [ExtensionObject(name: "pg_trgm", schema: "extensions", version: "1.6")]),
             managed: [.extensionObject("pg_trgm")], sql: ["DROP EXTENSION \"pg_trgm\""], hazards: [.deletesData]),

    // Comments
    DiffCase(name: "a table comment set", desired: catalog(table(comment: "Things")), actual: catalog(table()),
             sql: ["COMMENT ON TABLE \(T) IS 'Things'"]),
    DiffCase(name: "a column comment changed",
             desired: catalog(table(publicT, [col("id", notNull: true, comment: "new")])), actual: catalog(table(publicT, [col("id", notNull: true, comment: "old")])),
             sql: ["COMMENT ON COLUMN \(T).\"id\" IS 'new'"]),
    DiffCase(name: "a comment on a column added in the same plan",
             desired: catalog(table(publicT, [col("id", notNull: true), col("n", "text", comment: "it's new")])), actual: catalog(table()),
             sql: ["ALTER TABLE \(T) ADD COLUMN \"n\" text", "COMMENT ON COLUMN \(T).\"n\" IS 'it''s new'"]),
    DiffCase(name: "a new table's comments come after it", desired: catalog(table(publicT, [col("id", comment: "key")], comment: "T")), actual: catalog(),
             sql: ["CREATE TABLE \(T) (\n  \"id\" integer\n)", "COMMENT ON COLUMN \(T).\"id\" IS 'key'", "COMMENT ON TABLE \(T) IS 'T'"]),
    DiffCase(name: "a comment the blueprints no longer have is left alone", desired: catalog(table()), actual: catalog(table(comment: "x")), sql: []),
    DiffCase(name: "a managed table comment removed is dropped", desired: catalog(table()), actual: catalog(table(comment: "x")),
             managed: [.property(.comment, of: publicT)], sql: ["COMMENT ON TABLE \(T) IS NULL"]),
    DiffCase(name: "a column comment removed with --prune is dropped",
             desired: catalog(table()), actual: catalog(table(publicT, [col("id", notNull: true, comment: "x")])), prune: true,
             sql: ["COMMENT ON COLUMN \(T).\"id\" IS NULL"]),
    DiffCase(name: "equal comments: nothing", desired: catalog(table(comment: "x")), actual: catalog(table(comment: "x")), sql: []),

    // Names as PostgreSQL allows them
    DiffCase(name: "names with quotes, dots and spaces are quoted",
             desired: catalog(table(QualifiedName(schema: "public", name: "a \"b\".c"), [col("Mixed Case")])), actual: catalog(),
             sql: ["CREATE TABLE \"public\".\"a \"\"b\"\".c\" (\n  \"Mixed Case\" integer\n)"]),

    // Order
    DiffCase(name: "enums, tables, columns, constraints, indexes, RLS, policies, comments in order",
             desired: catalog(table(publicT, [col("id", notNull: true), col("s", "status")], constraints: [pk("id")],
                                    indexes: [Index(name: "i", method: .btree, keys: ["s"], unique: false)], rls: true,
                                    policies: [policy("p")], comment: "c"),
                              enums: [EnumType(name: status, values: ["a"])]),
             actual: catalog(table()),
             sql: ["CREATE TYPE \"public\".\"status\" AS ENUM ('a')", "ALTER TABLE \(T) ADD COLUMN \"s\" status",
                   "ALTER TABLE \(T) ADD CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\")", "CREATE INDEX \"i\" ON \(T) (\"s\")",
                   "ALTER TABLE \(T) ENABLE ROW LEVEL SECURITY",
                   "CREATE POLICY \"p\" ON \(T) AS PERMISSIVE FOR SELECT TO \"authenticated\" USING (true)", "COMMENT ON TABLE \(T) IS 'c'"],
             hazards: [.mayFail, .locksTable]),
    DiffCase(name: "drops run last, in reverse: policies, indexes, foreign keys, constraints, columns, tables, enums",
             desired: catalog(table(publicU, [col("id", notNull: true)])),
             actual: catalog(table(publicU, [col("id", notNull: true), col("s", "status")], constraints: [pk("id", name: "u_pkey")],
                                   indexes: [Index(name: "i", method: .btree, keys: ["s"], unique: false)], rls: true, policies: [policy("p")]),
                             table(), enums: [EnumType(name: status, values: ["a"])]),
             prune: true,
             sql: ["DROP POLICY \"p\" ON \"public\".\"u\"", "ALTER TABLE \"public\".\"u\" DISABLE ROW LEVEL SECURITY", "DROP INDEX \"public\".\"i\"",
                   "ALTER TABLE \"public\".\"u\" DROP CONSTRAINT \"u_pkey\"", "ALTER TABLE \"public\".\"u\" DROP COLUMN \"s\"",
                   "DROP TABLE \(T)", "DROP TYPE \"public\".\"status\""],
             hazards: [.relaxesSecurity, .deletesData]),
]

@Suite("The differ, table-driven: catalogs in, typed operations and SQL out")
struct DifferTableTests {
    @Test(arguments: cases)
    func theDifferPlansExactlyThis(_ example: DiffCase) {
        let plan = example.plan
        let applied = plan.applied
        #expect(applied.flatMap(\.statements) == example.sql)
        #expect(Set(applied.flatMap(\.hazards).map(\.hazard)) == example.hazards)
        #expect(plan.changes.filter { !$0.applied }.map(\.object) == example.reported)
        // Every statement is what its typed operation renders, and passes the statement guard.
        for change in applied {
            #expect(change.sql.map(\.text) == change.operations.map { SQLRenderer.render($0).text })
            #expect(StatementGuard.violations(in: [change]).isEmpty, "\(change.statements)")
        }
    }

    /// The per-table kinds may run in shares on several cores (Differ.plan): with a share per
    /// table, run last table first, every case plans the very changes of one pass in order.
    @Test(arguments: cases)
    func sharesOfTablesRunInAnyOrderPlanTheSameChanges(_ example: DiffCase) {
        let lastFirst = Parallelism { count, body in
            for index in (0..<count).reversed() { body(index) }
        }
        var differ = Differ(desired: example.desired, actual: example.actual,
                            managedSchemas: example.desired.schemas.union(example.actual.schemas).union(["public"]).subtracting(["auth"]),
                            existingSchemas: example.existingSchemas, previouslyManaged: example.managed, prune: example.prune,
                            parallelism: lastFirst)
        differ.tablesPerShare = 1
        #expect(differ.changes() == example.plan.changes)
    }

    @Test func thereAreEnoughCasesForEveryKindAndHazard() {
        #expect(cases.count >= 80)
        // Every kind is exercised by some case, and every hazard is expected by some case.
        var kinds: Set<Change.ObjectType> = []
        for example in cases {
            kinds.formUnion(example.plan.changes.map(\.objectType))
        }
        // Partitions are the table kind's (attach, detach).
        #expect(kinds == Change.ObjectType.modelled.union([.partition]))
        #expect(Set(cases.flatMap(\.hazards)) == Set(HazardKind.allCases))
    }
}

@Suite("Typed identities and the kind registry")
struct ObjectIdentityTests {
    @Test func keysNeverCollideAcrossKindsOrDots() {
        let column = ObjectID.member(.column, of: publicT, "x")
        let index = ObjectID.member(.index, of: publicT, "x")
        #expect(column.description == index.description)
        #expect(column.key != index.key)
        // "a.b" + "c" and "a" + "b.c": one description, two keys.
        let left = ObjectID.table(QualifiedName(schema: "a.b", name: "c"))
        let right = ObjectID.table(QualifiedName(schema: "a", name: "b.c"))
        #expect(left.description == right.description)
        #expect(left.key != right.key)
    }

    @Test(arguments: [
        ObjectID.schema("public"), .enumType(status), .table(publicT), .member(.column, of: publicT, "we\"ird.name"),
        .member(.policy, of: QualifiedName(schema: "my schema", name: "t"), "Users can read their own rows"),
        .property(.rls, of: publicT), .property(.comment, of: publicT), .member(.comment, of: publicT, "id"),
        .sequence(QualifiedName(schema: "public", name: "invoice.no")),
    ])
    func aKeyReadsBackAsTheSameIdentity(_ id: ObjectID) {
        #expect(ObjectID(key: id.key) == id)
    }

    @Test func malformedKeysAreRefused() {
        for key in ["", "table", "nokind:\"a\".\"b\"", "table:a.b", "table:\"a\"", "table:\"a\".\"b", "column:\"a\""] {
            #expect(ObjectID(key: key) == nil, "\(key)")
        }
    }

    @Test func everyKindIsRegisteredOnce() {
        let types = ObjectKinds.all.map { $0.type }
        #expect(Set(types) == Change.ObjectType.modelled)
        #expect(types.count == Set(types).count)
        #expect(ObjectKinds.all.allSatisfy { !$0.catalogs.isEmpty })
    }

    @Test func theIntrospectionIsAssembledFromTheKinds() {
        let parts = ObjectKinds.all.compactMap { $0.introspection }
        #expect(Set(parts.map(\.code)).count == parts.count)
        for part in parts { #expect(CatalogQuery.text.contains("SELECT '\(part.code)' AS kind, \(part.select)")) }
        // Rows of every kind read back into the catalog, tables first whatever the row order.
        func row(_ values: String?...) -> CatalogRow { CatalogRow(values: values, parseArray: { text in
            text.dropFirst().dropLast().split(separator: ",").map(String.init) }) }
        let read = CatalogQuery.read([
            row("c", "public", "t", "b", "2", "text", "false", nil, "", nil, nil),
            row("c", "public", "t", "a", "1", "integer", "true", nil, "a", "key", nil),
            row("p", "public", "t", "p", "r", "true", "{authenticated}", "true", nil, nil, nil),
            row("t", "public", "t", nil, "true", "false", "T", "postgres", nil, nil, nil),
            row("s", "public", nil, nil, nil, nil, nil, nil, nil, nil, nil),
            row("e", "public", nil, "status", "{a,b}", nil, nil, nil, nil, nil, nil),
            row("g", "public", "t", nil, "anon", "select", nil, nil, nil, nil, nil),
            row("r", "public", "t", "audit", "{after,row,disabled,public,touch}", "{insert,update}", nil, nil, "a\\\\b\\000c\\000", nil, nil),
        ])
        let table = try! #require(read.catalog.tables[publicT])
        #expect(table.columns.map(\.name) == ["a", "b"])
        #expect(table.columns[0].identity == .always && table.columns[0].comment == "key")
        #expect(table.rlsEnabled && table.comment == "T" && table.owner == "postgres")
        #expect(table.policies["p"]?.command == .select)
        #expect(table.grants == ["anon": ["select"]])
        let trigger = try! #require(read.catalog.triggers[TriggerKey(table: publicT, name: "audit")])
        #expect(trigger.enabled == .disabled && trigger.events == [.insert, .update] && trigger.timing == .after)
        #expect(trigger.function == touchName && trigger.arguments == ["a\\b", "c"])
        #expect(read.catalog.enums[status]?.values == ["a", "b"])
        #expect(read.existingSchemas == ["public"])
    }

    /// docs/blueprints.md, Partitions: what a blueprint cannot hold is set aside as unsupported,
    /// with the partitions below it; what it can hold is read as tables.
    @Test func partitionsABlueprintCannotHoldAreUnsupported() {
        func row(_ values: String?...) -> CatalogRow { CatalogRow(values: values, parseArray: { text in
            text.dropFirst().dropLast().split(separator: ",").map(String.init) }) }
        func table(_ name: String, key: String? = nil, parent: String? = nil) -> CatalogRow {
            row("t", "public", name, nil, "true", "false", nil, "postgres", key, parent, parent == nil ? nil : "DEFAULT")
        }
        let read = CatalogQuery.read([
            table("events", key: "RANGE (created_at)"),
            table("events_default", parent: "{public,events}"),
            table("mixed", key: "RANGE (a, ((b + 1)))"),
            table("mixed_default", key: "LIST (a)", parent: "{public,mixed}"),
            table("mixed_default_x", parent: "{public,mixed_default}"),
            table("elsewhere", parent: "{archive,events}"),
            table("orphan", parent: "{public,extension_table}"),
        ])
        #expect(Set(read.catalog.tables.keys.map(\.name)) == ["events", "events_default"])
        #expect(read.catalog.tables[QualifiedName(schema: "public", name: "events_default")]?.partitionOf == QualifiedName(schema: "public", name: "events"))
        #expect(read.catalog.unsupported.map(\.name).sorted() == ["elsewhere", "mixed", "mixed_default", "mixed_default_x", "orphan"])
        #expect(read.catalog.unsupported.allSatisfy { $0.type == .partition && $0.schema == "public" })
    }

    @Test func theManagedRecordNamesEveryKindThatCanBeDropped() {
        let desired = catalog(table(publicT, constraints: [pk("id")], indexes: [Index(name: "i", method: .btree, keys: ["id"], unique: false)],
                                    policies: [policy("p")]), enums: [EnumType(name: status, values: ["a"])])
        #expect(ObjectKinds.identities(in: desired) == [
            .enumType(status), .table(publicT), .member(.column, of: publicT, "id"), .member(.constraint, of: publicT, "t_pkey"),
            .member(.index, of: publicT, "i"), .member(.policy, of: publicT, "p"),
        ])
        #expect(Set(ObjectKinds.identities(in: catalog(table(publicT, [col("id", comment: "c")], comment: "t"))).filter { $0.kind == .comment })
                == [.property(.comment, of: publicT), .member(.comment, of: publicT, "id")])
    }

    @Test func equalityIgnoresWhereADefinitionWasWritten() {
        var written = table(publicT, [col("id", renamedFrom: "key")])
        written.origin = Origin(file: "a.yaml", line: 3, path: "$.tables[0]")
        var printed = table(publicT, [col("id")])
        printed.owner = nil
        #expect(written == printed)
        var other = printed
        other.columns[0].notNull = true
        #expect(written != other)
    }
}

@Suite("Plan order: dependency edges over phases")
struct PlanOrderTests {
    func change(_ name: String, _ phase: Change.Phase, dependsOn: Set<ObjectID> = []) -> Change {
        var change = Change(kind: .missing, id: .table(QualifiedName(schema: "public", name: name)), action: .create,
                            operations: [.createSchema(name)], phase: phase)
        change.dependsOn = dependsOn
        return change
    }

    @Test func withoutEdgesThePhaseOrderStandsAndTiesKeepTheirOrder() {
        let plan = Plan(ordering: [change("c", .indexes), change("a", .createTable), change("b", .createTable), change("d", .schema)])
        #expect(plan.changes.map(\.id.name) == ["d", "a", "b", "c"])
    }

    @Test func anEdgeMovesAChangeAfterWhatItDependsOn() {
        let plan = Plan(ordering: [change("late", .dropTables), change("early", .columns, dependsOn: [.table(QualifiedName(schema: "public", name: "late"))]),
                                   change("other", .columns)])
        #expect(plan.changes.map(\.id.name) == ["other", "late", "early"])
    }

    @Test func aCycleStillPlansEveryChangeOnce() {
        let a = QualifiedName(schema: "public", name: "a"), b = QualifiedName(schema: "public", name: "b")
        let plan = Plan(ordering: [change("a", .columns, dependsOn: [.table(b)]), change("b", .columns, dependsOn: [.table(a)])])
        #expect(plan.changes.map(\.id.name) == ["a", "b"])
    }
}

@Suite("Summaries count what changed, by kind")
struct SummaryTests {
    func summary(_ example: String) -> String {
        Summary.describe(cases.first { $0.name == example }!.plan.applied, verb: "applied", rlsTables: [])
    }

    @Test func eachKindInItsOrderWithItsWords() {
        #expect(summary("enums, tables, columns, constraints, indexes, RLS, policies, comments in order")
                == "applied 7 statements: 1 column added, 1 enum created, 1 constraint created, 1 index created, 1 policy created, 1 comment set")
        #expect(summary("a table in a new schema creates the schema first") == "applied 2 statements: 1 table created")
        #expect(summary("a table renamed") == "applied 1 statement: 1 table renamed")
        #expect(summary("a managed column removed is dropped") == "applied 1 statement: 1 column dropped")
        // A new sequence and its OWNED BY are one sequence created.
        #expect(summary("a sequence owned by a new table's column: created before the table, owned after it")
                == "applied 3 statements: 1 table created, 1 sequence created")
    }

    @Test func stepsThatPutSomethingBackAreNotCounted() {
        // The policy is dropped and created again unchanged: the column is what changed.
        #expect(summary("a column type change under a policy recreates the policy") == "applied 3 statements: 1 column changed")
        // The enum is what changed; its column only follows it.
        #expect(summary("a label removed: the enum is recreated and its columns move through text") == "applied 6 statements: 1 enum changed")
    }
}

@Suite("Lock levels of operations")
struct LockLevelTests {
    @Test func eachChangeNamesTheStrongestLockItTakes() {
        func lock(_ example: String) -> LockLevel? { cases.first { $0.name == example }!.plan.applied.map(\.lock).max() }
        #expect(lock("a new enum") == LockLevel.none)
        #expect(lock("a grant to authenticated") == LockLevel.none)
        #expect(lock("an index on a table with rows locks it") == .share)
        #expect(lock("a foreign key's action changed") == .accessExclusive)
        #expect(lock("a nullable column added") == .accessExclusive)
        #expect(lock("an undeclared trigger disabled by hand is enabled again") == .shareRowExclusive)
        #expect(lock("a new body: CREATE OR REPLACE") == LockLevel.none)
        #expect(lock("a managed trigger on auth.users removed from the blueprints is dropped") == .accessExclusive)
        let foreignKey = Operation.addConstraint(Constraint(name: "f", kind: .foreignKey, columns: ["a"], referencedTable: publicT, referencedColumns: ["id"]), table: publicU)
        #expect(foreignKey.lock == .shareRowExclusive)
    }
}

/// The canonical cache's JSON, written an object at a time (docs/engine.md, The canonical
/// cache): it reads back as the same catalog, and it writes every stored property.
@Suite struct CatalogJSONTests {
    /// A catalog with something of every kind, both optionals set.
    static var everything: Catalog {
        var whole = catalog(table(publicT, [col("id")], constraints: [pk("id")], policies: [policy("Members read.")]),
                            partitioned(), partition(),
                            enums: [EnumType(name: status, values: ["a", "b"])], sequences: [seq(ownedBy: "id")],
                            functions: [fn(), fn("total", result: "bigint", language: "sql")], triggers: [trg()],
                            extensions: [ExtensionObject(name: "pg_trgm", schema: "extensions")], views: [view(), view(countView, materialized: true)])
        whole.unsupported = [UnsupportedObject(type: .partition, schema: "public", table: "t", name: "t_old")]
        whole.realtimePublication = RealtimePublication(allTables: false)
        whole.storage = StorageState(buckets: ["avatars": Bucket(id: "avatars", isPublic: true)], policies: ["Public read.": publicRead])
        return whole
    }

    @Test func theStreamedJSONReadsBackAsTheSameCatalog() throws {
        let decoded = try JSONDecoder().decode(Catalog.self, from: try Self.everything.streamedJSON())
        #expect(decoded == Self.everything)
        #expect(try JSONDecoder().decode(Catalog.self, from: try Catalog().streamedJSON()) == Catalog())
    }

    @Test func theStreamedJSONWritesEveryStoredProperty() throws {
        // A property added to Catalog and not to streamedJSON would be lost from the cache.
        #expect(Mirror(reflecting: Self.everything).children.compactMap(\.label) == Catalog.streamedProperties)
        let object = try #require(try JSONSerialization.jsonObject(with: try Self.everything.streamedJSON()) as? [String: Any])
        #expect(Set(object.keys) == Set(Catalog.streamedProperties))
    }
}
