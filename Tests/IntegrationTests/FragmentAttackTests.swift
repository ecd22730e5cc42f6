import DriftlessCore
import Foundation
import Postgres
@testable import Reconciler
import Testing
import TestSupport

/// docs/security.md, Fragments and Errors that carry no data, attacked on the real database.
@Suite("Hostile SQL fragments and errors that carry data, on the real database")
struct FragmentAttackTests {
    static let baseline = document("""
        tables:
          - name: docs
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: name, type: text}
              - {name: created, type: date}
              - {name: secret, type: text}

        """)

    /// The catalog rows of schema public a statement could touch: relations with their owner,
    /// columns, constraints, policies, and the ACLs.
    static func snapshot(_ connection: Connection) throws -> [String] {
        try connection.query("""
            SELECT 'rel ' || c.relname || ' owner=' || pg_get_userbyid(c.relowner) || ' acl=' || coalesce(c.relacl::text, '')
                   || ' rls=' || c.relrowsecurity AS row
              FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' nn=' || a.attnotnull
                   || ' def=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'pol ' || polname || ' ' || polrelid::regclass::text FROM pg_policy
            UNION ALL
            SELECT 'own ' || relname || ' ' || pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'auth'::regnamespace
            ORDER BY 1
            """).rows.map { (try? $0.text("row")) ?? nil ?? "" }
    }

    /// Thousands of generated fragments: each one the checker accepts, rendered as a CHECK and
    /// sent in a savepoint, changes exactly that constraint and nothing else; none the checker
    /// refuses is sent.
    @Test func acceptedFragmentsChangeExactlyTheirObject() throws {
        let db = try PostgresCluster.shared().createDatabase()
        #expect(try reconcile(db, ["docs.yaml": Self.baseline]).result.status == .ok)
        let connection = try db.connect()
        let table = QualifiedName(schema: "public", name: "docs")
        var generator = FragmentGenerator(seed: 2026_1203)
        var accepted = 0
        var appliedByServer = 0
        try connection.query("BEGIN")
        try connection.query("SET LOCAL standard_conforming_strings = on")
        let before = try Self.snapshot(connection)
        for ordinal in 0..<3000 {
            let fragment = ordinal % 3 == 0 ? "name = name" + generator.fragment() : generator.fragment()
            guard SQLFragment.problem(in: fragment, as: .expression) == nil else { continue }
            accepted += 1
            let statement = SQLRenderer.addConstraint(Constraint(name: "probe", kind: .check, columns: [], expression: fragment), to: table)
            try StatementGuard.check(statement)
            try connection.query("SAVEPOINT probe")
            do {
                try connection.query(statement.text)
                appliedByServer += 1
                let after = try Self.snapshot(connection)
                let added = after.filter { !before.contains($0) }
                let removed = before.filter { !after.contains($0) }
                #expect(removed.isEmpty, "\(fragment) removed \(removed)")
                #expect(added.count == 1 && added[0].hasPrefix("con probe CHECK"), "\(fragment) added \(added)")
            } catch let error as PostgresError where !error.isConnectionError {
                // The server may refuse the expression (an unknown column, a type error): then nothing changed.
            }
            try connection.query("ROLLBACK TO SAVEPOINT probe")
        }
        try connection.query("ROLLBACK")
        #expect(accepted > 200)
        #expect(appliedByServer > 20)
    }

    /// The four attacks of the issue, as blueprints: refused with `invalid_fragment` and the
    /// check's location; the database keeps its owner, its column and its rows.
    @Test("a check that breaks out of ALTER TABLE is refused with its location", arguments: [
        "name = name'\\\\'), OWNER TO anon, ADD CHECK (name = name'\\\\'",
        "true ELSE'\\\\'), DROP COLUMN secret CASCADE, ADD CHECK (true",
        "created = date'\\\\') , ADD COLUMN x int DEFAULT pg_sleep(0)::text::int, ADD CHECK (true",
        "true), OWNER TO anon --",
    ])
    func breakoutBlueprintsAreRefused(_ check: String) throws {
        let db = try PostgresCluster.shared().createDatabase()
        #expect(try reconcile(db, ["docs.yaml": Self.baseline]).result.status == .ok)
        try db.connect().query("INSERT INTO docs (tenant_id, name, secret) VALUES (gen_random_uuid(), 'a', 'kept')")
        let hostile = Self.baseline + "    checks:\n      - {name: hostile, expression: \"\(check)\"}\n"
        let set = BlueprintSet.load([BlueprintSource(path: "docs.yaml", text: hostile)])
        let error = try #require(set.errors.first)
        #expect(error.code == "invalid_fragment")
        #expect(error.path == "$.tables[0].checks[0].expression")
        #expect(error.file == "docs.yaml")
        #expect(error.line == 12)
        for apply in [false, true] {
            let result = try reconcile(db, ["docs.yaml": hostile], apply: apply).result
            #expect(result.status == .blocked)
            #expect(result.errors.contains { $0.code == "invalid_fragment" && $0.path == "$.tables[0].checks[0].expression" })
        }
        let row = try db.connect().query("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'public.docs'::regclass").first
        #expect(try row?.text("owner") == "postgres")
        #expect(try db.connect().query("SELECT secret FROM docs").first?.text("secret") == "kept")
        #expect(try db.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'docs' AND column_name = 'x'").first?.int("n") == 0)
    }

    /// `apply` checks its statements chunk by chunk just ahead of the ones being sent
    /// (docs/engine.md, Overlap). Two hostile checks among 900 changes (the differ renders no
    /// such statement from a valid blueprint, so they are built by hand): the chunks before the
    /// first were sent (that is the overlap), neither hostile statement nor anything after the
    /// first was, the refusal lists both with their blueprint place, and the rollback leaves the
    /// database as it was. On both kinds of Supabase project.
    @Test(arguments: SupabaseProject.allCases)
    func aRefusedStatementAmongHundredsIsNeverSentAndWhatRanBeforeIsRolledBack(kind: SupabaseProject) throws {
        let db = try PostgresCluster.shared().createDatabase(kind: kind)
        #expect(try reconcile(db, ["docs.yaml": Self.baseline]).result.status == .ok)
        let docs = QualifiedName(schema: "public", name: "docs")
        func schema(_ index: Int) -> Change {
            Change(kind: .missing, id: .schema("guard_ahead_\(index)"), action: .create, operations: [.createSchema("guard_ahead_\(index)")],
                   phase: .schema)
        }
        func hostile(_ name: String, line: Int) -> Change {
            Change(kind: .missing, id: .table(docs), action: .alter,
                   operations: [.addConstraint(Constraint(name: name, kind: .check, columns: [], expression: "true), OWNER TO anon --"), table: docs)],
                   phase: .constraints, origin: Origin(file: "docs.yaml", line: line, column: 9, path: "$.tables[0].checks[0].expression"))
        }
        // The first refused statement stands in the third chunk (indices 512 to 767).
        let changes = (0..<600).map(schema) + [hostile("first", line: 12)] + (600..<800).map(schema) + [hostile("second", line: 13)]
            + (800..<900).map(schema)
        let count = "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'guard\\_ahead\\_%'"
        let before = try Self.snapshot(db.connect())
        let connection = try db.connect()
        try connection.query("BEGIN")
        let reconciler = Reconciler(blueprints: BlueprintSet.load([]), revision: nil, options: ReconcileOptions())
        do {
            try reconciler.run(changes, connection, checkedBy: GuardAhead(changes))
            Issue.record("every statement was sent")
        } catch let refusal as GuardAhead.Refusal {
            #expect(refusal.refused.map(\.0.origin?.line) == [12, 13])
            #expect(refusal.refused.allSatisfy { $0.1.statement.contains("OWNER TO anon") })
        }
        // Inside the transaction, before it is rolled back: the two chunks before the refused one ran, nothing of its own chunk.
        #expect(try connection.query(count).first!.int("n") == 2 * GuardAhead.chunk)
        #expect(try connection.query("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'public.docs'::regclass").first!
            .text("owner") == "postgres")
        #expect(try connection.query("SELECT count(*) AS n FROM pg_constraint WHERE conname IN ('first', 'second')").first!.int("n") == 0)
        try connection.query("ROLLBACK")
        #expect(try connection.query(count).first!.int("n") == 0)
        #expect(try Self.snapshot(connection) == before)
    }

    /// A check that makes the server quote a whole table in its error message: the Result,
    /// the history row and its summary keep the SQLSTATE, statement and location, never a row.
    @Test func anErrorQuotingATableCarriesNoRowOut() throws {
        let db = try PostgresCluster.shared().createDatabase()
        let secretEmail = "ceo-\(UUID().uuidString.prefix(8).lowercased())@victim.example"
        try db.connect().query("INSERT INTO auth.users (id, email) VALUES (gen_random_uuid(), $1)", [secretEmail])
        #expect(try reconcile(db, ["docs.yaml": Self.baseline]).result.status == .ok)
        try db.connect().query("INSERT INTO docs (tenant_id, name) VALUES (gen_random_uuid(), 'a')")
        let exfiltrate = Self.baseline + "    checks:\n      - {name: leak, expression: \"(table_to_xml('auth.users', true, false, ''))::text::int > 0\"}\n"
        let result = try reconcile(db, ["docs.yaml": exfiltrate]).result
        #expect(result.status == .failed)
        let error = try #require(result.errors.first)
        #expect(error.sqlstate == "22P02")
        #expect(error.path == "$.tables[0].checks[0].expression")
        #expect(error.statement?.contains("ADD CONSTRAINT \"leak\"") == true)
        #expect(error.message.contains("characters elided"))
        #expect(error.message.count <= 340)
        let encoded = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(!encoded.contains(secretEmail))
        let history = try db.connect().query("SELECT summary || errors::text AS text FROM driftless.schema_migrations ORDER BY id DESC LIMIT 1").first?.text("text") ?? ""
        #expect(history.contains("22P02"))
        #expect(!history.contains(secretEmail))
    }

    @Test func messagesAreCutAndLongQuotedValuesElided() {
        let value = String(repeating: "x", count: 500)
        let message = PostgresError(code: .statementFailed, message: "invalid input syntax for type integer: \"\(value)\"").message
        #expect(message == "invalid input syntax for type integer: \"<500 characters elided>\"")
        let short = PostgresError(code: .statementFailed, message: "relation \"public.docs\" does not exist").message
        #expect(short == "relation \"public.docs\" does not exist")
        let long = PostgresError(code: .statementFailed, message: String(repeating: "word ", count: 200)).message
        #expect(long.count < 340 && long.hasSuffix("(cut at 300 characters)"))
        let full = PostgresError(code: .statementFailed, message: "value 'it is " + value + "'")
        #expect(full.debugDescription.contains(value) && !full.description.contains(value))
    }
}
