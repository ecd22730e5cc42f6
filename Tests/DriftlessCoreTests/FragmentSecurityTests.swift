import DriftlessCore
import SQLParser
import Testing
import TestSupport

/// The attacks of docs/security.md (Fragments) against the fragment checker and the statement
/// guard, without a database: each hostile fragment is shown to be a real attack (PostgreSQL's
/// grammar accepts the statement it would make, with more in it than the renderer meant) and
/// then shown to be refused.
@Suite struct FragmentSecurityTests {
    static let table = QualifiedName(schema: "public", name: "docs")

    /// Check expressions that close the CHECK and continue the ALTER TABLE. The first ones are
    /// the walk-around of the old hand-written lexer: a string right after an identifier ending
    /// in `e` is a plain string to PostgreSQL, not an E-string.
    static let breakouts: [(String, String)] = [
        ("owner to anon", "name = name'\\'), OWNER TO anon, ADD CHECK (name = name'\\'"),
        ("owner to anon after date", "created = date'\\') , OWNER TO anon, ADD CHECK (true"),
        ("drop column cascade", "true ELSE'\\'), DROP COLUMN secret CASCADE, ADD CHECK (true"),
        ("added column with a default", "true), ADD COLUMN x int DEFAULT pg_sleep(1)::text::int, ADD CHECK (true"),
        ("like then a quote", "name LIKE'\\') , OWNER TO anon, ADD CHECK (true"),
        ("dollar tag inside an identifier", "a$x$ = 1), OWNER TO anon, ADD CHECK ($x$ = 'b'"),
        ("unicode string", "U&'\\0027') , OWNER TO anon, ADD CHECK (true"),
        ("comment before the breakout", "true /* ) */ ), OWNER TO anon, ADD CHECK (true"),
        ("second statement", "true); ALTER TABLE public.docs OWNER TO anon; SELECT (1"),
        ("line comment", "true), OWNER TO anon --"),
    ]

    @Test("a breakout is a real attack on the grammar, and refused", arguments: breakouts)
    func breakoutIsRefused(_ name: String, _ fragment: String) throws {
        let constraint = Constraint(name: "c", kind: .check, columns: [], expression: fragment)
        let statement = SQLRenderer.addConstraint(constraint, to: Self.table)
        // Refused by the fragment check, as a blueprint's check would be at validation.
        let problem = SQLFragment.problem(in: fragment, as: .expression)
        #expect(problem?.code == "invalid_fragment", "\(name): \(fragment)")
        // And by the guard, should a fragment ever reach the renderer unchecked.
        #expect(throws: StatementGuard.Violation.self) { try StatementGuard.check(statement) }
    }

    @Test func theAttacksReallyParseAsMoreThanTheRendererMeant() throws {
        // Without these, the tests above could pass against a parser that refuses everything.
        var accepted = 0
        for (_, fragment) in Self.breakouts {
            let text = SQLRenderer.addConstraint(Constraint(name: "c", kind: .check, columns: [], expression: fragment), to: Self.table).text
            guard let statements = try? SQLParser.parse(text) else { continue }
            let commands = statements.first?.node["cmds"]?.elements.count ?? 0
            #expect(statements.count > 1 || commands > 1, "\(text)")
            accepted += 1
        }
        #expect(accepted >= 7)
    }

    @Test func theOwnerAttackIsAnAlterTableOwnerSubcommand() throws {
        let text = SQLRenderer.addConstraint(Constraint(name: "c", kind: .check, columns: [], expression: Self.breakouts[0].1), to: Self.table).text
        let statement = try #require(try SQLParser.parse(text).first)
        let subtypes = statement.node["cmds"]?.elements.compactMap { $0["AlterTableCmd"]?["subtype"]?.text }
        #expect(subtypes == ["AT_AddConstraint", "AT_ChangeOwner", "AT_AddConstraint"])
    }

    @Test("each field is parsed as its own category", arguments: [
        ("varchar(80)[]", SQLFragment.Category.typeName, true),
        ("timestamp(3) with time zone", .typeName, true),
        ("public.\"My Type\"", .typeName, true),
        ("double precision", .typeName, true),
        ("text COLLATE \"C\"", .typeName, false),
        ("int PRIMARY KEY", .typeName, false),
        ("int, owner_id uuid", .typeName, false),
        ("int) INHERITS (auth.users", .typeName, false),
        ("int DEFAULT 1", .typeName, false),
        ("select 1", .query, true),
        ("select 1 into x", .query, false),
        ("select * from t for update", .query, false),
        ("delete from t", .query, false),
        ("1 as one", .expression, false),
        ("1 from auth.users", .expression, false),
        ("(select count(*) from auth.users) > 0", .expression, true),
        ("x is not null and y > 2", .expression, true),
    ])
    func categories(_ text: String, _ category: SQLFragment.Category, _ valid: Bool) {
        #expect((SQLFragment.problem(in: text, as: category) == nil) == valid, "\(text) as \(category)")
    }

    @Test func theProblemPointsIntoTheFragment() throws {
        let problem = try #require(SQLFragment.problem(in: "a > > 1", as: .expression))
        #expect(problem.code == "invalid_fragment")
        #expect(problem.position == 5)
        #expect(problem.message.contains("syntax error"))
    }

    @Test func everyRenderedShapePassesTheGuard() throws {
        let column = Column(name: "body", type: "varchar(80)[]", notNull: true, defaultExpression: "'{}'::varchar[]")
        var table = Table(name: Self.table, columns: [column])
        table.indexes["i"] = Index(name: "i", method: .btree, keys: ["lower(body[1])", "body"], unique: false, predicate: "body is not null")
        let policy = Policy(name: "Users can read their own docs.", command: .update, roles: ["authenticated", "public"],
                            permissive: false, using: "auth.uid() = owner", withCheck: "true")
        let statements: [SQL] = [
            SQLRenderer.createTable(table), SQLRenderer.addColumn(column, to: Self.table),
            SQLRenderer.setDefault("now()", column: "body", of: Self.table), SQLRenderer.setDefault(nil, column: "body", of: Self.table),
            SQLRenderer.setType("text", column: "body", of: Self.table, conversion: .throughText),
            SQLRenderer.createIndex(table.indexes["i"]!, on: table), SQLRenderer.createPolicy(policy, on: Self.table),
            SQLRenderer.alterPolicy(policy, on: Self.table), SQLRenderer.comment(onTable: Self.table, "it's 'quoted' \\ here"),
            SQLRenderer.comment(onColumn: "body", of: Self.table, nil), SQLRenderer.comment(onTable: Self.table, ""),
            SQLRenderer.createEnum(EnumType(name: QualifiedName(schema: "public", name: "mood"), values: ["a'b", "c"])),
            SQLRenderer.addEnumValue(QualifiedName(schema: "public", name: "mood"), value: "d", after: "c"),
            SQLRenderer.grant(["select", "insert"], on: Self.table, to: "anon"),
            SQLRenderer.grant(["select with grant option"], on: Self.table, to: "reporting"),
            SQLRenderer.revoke(["select with grant option", "insert with grant option"], on: Self.table, from: "reporting"),
            SQLRenderer.createRealtimePublication(), SQLRenderer.publish(Self.table, true), SQLRenderer.publish(Self.table, false),
            SQLRenderer.setReplicaIdentity(.full, of: Self.table), SQLRenderer.setReplicaIdentity(.index("we\"ird idx"), of: Self.table),
        ]
        for statement in statements {
            #expect(throws: Never.self, "\(statement.text)") { try StatementGuard.check(statement) }
        }
    }

    @Test func aPolicyExpressionCannotAddAWithCheckOrWidenItsRoles() {
        for using in ["true) WITH CHECK (true", "true) TO anon USING (true"] {
            let policy = Policy(name: "p", command: .all, roles: ["authenticated"], permissive: true, using: using, withCheck: nil)
            #expect(throws: StatementGuard.Violation.self) { try StatementGuard.check(SQLRenderer.createPolicy(policy, on: Self.table)) }
        }
    }

    @Test func aDefaultCannotAddAColumnToCreateTable() {
        let column = Column(name: "a", type: "int", notNull: false, defaultExpression: "1), owner uuid DEFAULT (null")
        let table = Table(name: Self.table, columns: [column])
        #expect(throws: StatementGuard.Violation.self) { try StatementGuard.check(SQLRenderer.createTable(table)) }
    }

    @Test func aTypeCannotCarryAConstraint() {
        let column = Column(name: "a", type: "int REFERENCES auth.users ON DELETE CASCADE", notNull: false)
        #expect(throws: StatementGuard.Violation.self) { try StatementGuard.check(SQLRenderer.addColumn(column, to: Self.table)) }
    }

    @Test func aLiteralThatIsNotOneConstantIsRefused() {
        // SQLText.literal doubles quotes; a text that is not one literal is refused.
        var statement: SQL = "COMMENT ON TABLE \(Self.table) IS \(literal: "x")"
        #expect(throws: Never.self) { try StatementGuard.check(statement) }
        statement = "COMMENT ON TABLE \(Self.table) IS \(keyword: "'x'; DROP TABLE t; --")"
        #expect(throws: StatementGuard.Violation.self) { try StatementGuard.check(statement) }
    }
}

/// Thousands of generated fragments: every one the checker accepts embeds as exactly one
/// expression wherever the renderer puts expressions (the guard agrees); every one it refuses
/// is refused by the grammar or would change the statement.
@Suite struct GeneratedFragmentTests {
    @Test func acceptedFragmentsStayInTheirPlace() throws {
        var generator = FragmentGenerator(seed: 20261203)
        var accepted = 0
        var refused = 0
        let table = QualifiedName(schema: "public", name: "docs")
        for _ in 0..<5000 {
            let fragment = generator.fragment()
            guard SQLFragment.problem(in: fragment, as: .expression) == nil else {
                refused += 1
                continue
            }
            accepted += 1
            let policy = Policy(name: "p", command: .update, roles: ["authenticated"], permissive: true, using: fragment, withCheck: fragment)
            let column = Column(name: "a", type: "text", notNull: false, defaultExpression: fragment)
            let index = Index(name: "i", method: .btree, keys: [fragment], unique: false, predicate: fragment)
            let statements = [
                SQLRenderer.addConstraint(Constraint(name: "c", kind: .check, columns: [], expression: fragment), to: table),
                SQLRenderer.createPolicy(policy, on: table), SQLRenderer.alterPolicy(policy, on: table),
                SQLRenderer.addColumn(column, to: table), SQLRenderer.setDefault(fragment, column: "a", of: table),
                SQLRenderer.createIndex(index, on: Table(name: table, columns: [column])),
                SQLRenderer.createTable(Table(name: table, columns: [column])),
            ]
            for statement in statements {
                #expect(throws: Never.self, "accepted fragment \(fragment) broke out of \(statement.text)") { try StatementGuard.check(statement) }
            }
        }
        // The generator must exercise both sides, or it proves nothing.
        #expect(accepted > 300)
        #expect(refused > 1000)
    }
}

/// Owners (docs/security.md, Owners): a table given to an API role is a change back, and a
/// blueprint that gives one away is relaxes_security.
@Suite struct OwnerDiffTests {
    static let name = QualifiedName(schema: "public", name: "docs")

    func changes(want: String?, have: String) -> [Change] {
        var desired = Table(name: Self.name, columns: [Column(name: "id", type: "uuid", notNull: true)])
        desired.owner = want
        var actual = desired
        actual.owner = have
        return Differ(desired: Catalog(tables: [Self.name: desired]), actual: Catalog(tables: [Self.name: actual]),
                      managedSchemas: ["public"], existingSchemas: ["public"]).changes()
    }

    @Test func anAPIRoleOwnerIsTakenBack() {
        for role in ["anon", "authenticated"] {
            let change = changes(want: nil, have: role)
            #expect(change.map(\.objectType) == [.owner])
            #expect(change.first?.statements == ["ALTER TABLE \"public\".\"docs\" OWNER TO CURRENT_USER"])
            #expect(change.first?.hazards.isEmpty == true)
        }
        #expect(changes(want: nil, have: "postgres").isEmpty)
        #expect(changes(want: nil, have: "supabase_admin").isEmpty)
    }

    @Test func givingATableToAnAPIRoleRelaxesSecurity() {
        let change = changes(want: "anon", have: "postgres")
        #expect(change.first?.statements == ["ALTER TABLE \"public\".\"docs\" OWNER TO \"anon\""])
        #expect(change.first?.hazards.map(\.hazard) == [.relaxesSecurity])
        #expect(changes(want: "app_owner", have: "postgres").first?.hazards.isEmpty == true)
    }

    @Test func aNewTableChangesHandsOnlyWhenTheBlueprintNamesAnOwner() {
        func newTable(owner: String?) -> [Change] {
            var desired = Table(name: Self.name, columns: [Column(name: "id", type: "uuid", notNull: true)])
            desired.owner = owner
            return Differ(desired: Catalog(tables: [Self.name: desired]), actual: Catalog(),
                          managedSchemas: ["public"], existingSchemas: ["public"]).changes().filter { $0.objectType == .owner }
        }
        #expect(newTable(owner: nil).isEmpty)
        let given = newTable(owner: "app_owner")
        #expect(given.first?.statements == ["ALTER TABLE \"public\".\"docs\" OWNER TO \"app_owner\""])
        #expect(given.first?.hazards.isEmpty == true)
        #expect(newTable(owner: "authenticated").first?.hazards.map(\.hazard) == [.relaxesSecurity])
    }
}

/// The byte-level comparison the guard runs on every statement, on its corner cases.
@Suite struct ParseTreeMatcherTests {
    static let table = QualifiedName(schema: "public", name: "docs")

    func passes(_ sql: SQL) -> Bool { (try? StatementGuard.check(sql)) != nil }

    @Test func locationsMoveWithTheFragmentsLength() {
        for expression in ["a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa > 1"] {
            let policy = Policy(name: "p", command: .update, roles: ["authenticated"], permissive: true, using: expression, withCheck: expression)
            #expect(passes(SQLRenderer.createPolicy(policy, on: Self.table)))
        }
    }

    @Test func emptyLiteralsAreLeftOutOfTheTreeAndStillMatch() {
        #expect(passes(SQLRenderer.comment(onTable: Self.table, "")))
        #expect(passes(SQLRenderer.createEnum(EnumType(name: Self.table, values: ["", "b"]))))
        #expect(passes(SQLRenderer.createEnum(EnumType(name: Self.table, values: ["a", ""]))))
        #expect(passes(SQLRenderer.addEnumValue(Self.table, value: "", after: "a")))
    }

    @Test func anExtraMemberOrElementIsRefused() {
        // A type that brings a constraint, a default that brings a column: more than the template.
        #expect(!passes(SQLRenderer.addColumn(Column(name: "a", type: "int NOT NULL", notNull: false), to: Self.table)))
        #expect(!passes(SQLRenderer.createTable(Table(name: Self.table, columns: [
            Column(name: "a", type: "int", notNull: false, defaultExpression: "1), b int DEFAULT (2"),
        ]))))
        #expect(!passes(SQLRenderer.createIndex(
            Index(name: "i", method: .btree, keys: ["a"], unique: false, predicate: "true) INCLUDE (a"), on: Table(name: Self.table, columns: []))))
    }
}

/// The statements of functions, triggers and views (docs/security.md, SQL fragments): what a
/// blueprint author writes there can never become a second statement or another clause, even
/// when it got past validation.
@Suite struct RoutineStatementGuardTests {
    let table = QualifiedName(schema: "public", name: "t")

    func view(_ query: String, check: ViewObject.CheckOption? = nil) -> SQL {
        SQLRenderer.createView(ViewObject(name: QualifiedName(schema: "public", name: "v"), query: query, checkOption: check))
    }

    @Test func aViewQueryIsExactlyOneSelect() throws {
        try StatementGuard.check(view("select id from t where a > 0"))
        try StatementGuard.check(view("with x as (select 1 as a) select a from x union select 2", check: .local))
        // A trailing comment ends at the line break before WITH ... CHECK OPTION; SELECT INTO is
        // refused by validation and by the server (views must not contain it).
        try StatementGuard.check(view("select 1 -- note", check: .local))
        for hostile in ["select 1; drop table t", "select 1 with local check option; grant all on t to anon",
                        "delete from t returning *", "select 1) as x; drop table t; --"] {
            #expect(throws: StatementGuard.Violation.self, "\(hostile)") { try StatementGuard.check(view(hostile, check: .cascaded)) }
        }
    }

    @Test func aFunctionBodyIsOneLiteralWhateverItHolds() throws {
        let key = FunctionKey(name: QualifiedName(schema: "public", name: "f"), arguments: [])
        let body = "select 1'; drop table t; -- $$ ' $x$"
        let sql = SQLRenderer.createFunction(FunctionObject(key: key, result: "integer", language: "sql", body: body, searchPath: []))
        try StatementGuard.check(sql)
        let statements = try SQLParser.parse(sql.text)
        #expect(statements.count == 1 && statements[0].tag == "CreateFunctionStmt")
        #expect(sql.text.hasSuffix(" AS 'select 1''; drop table t; -- $$ '' $x$'"))
    }

    @Test func aTriggerConditionOrArgumentCannotAddAClauseOrStatement() throws {
        func trigger(when: String?, arguments: [String] = []) -> SQL {
            SQLRenderer.createTrigger(TriggerObject(key: TriggerKey(table: table, name: "g"), timing: .before, events: [.update], when: when,
                                                    function: QualifiedName(schema: "public", name: "f"), arguments: arguments))
        }
        try StatementGuard.check(trigger(when: "old.a is distinct from new.a", arguments: ["it's", "x"]))
        for hostile in ["true) execute function evil(); --", "true); drop table t; --"] {
            #expect(throws: StatementGuard.Violation.self, "\(hostile)") { try StatementGuard.check(trigger(when: hostile)) }
        }
        // An argument is a literal: quotes inside it stay inside.
        try StatementGuard.check(trigger(when: nil, arguments: ["'); drop table t; --"]))
    }
}
