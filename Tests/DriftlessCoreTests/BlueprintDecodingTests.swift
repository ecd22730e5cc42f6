import Crypto
import DriftlessCore
import Foundation
import Testing

@Suite("Blueprint decoding, defaults and hashing")
struct BlueprintDecodingTests {
    static let yaml = """
        version: 1
        tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b
        tables:
          - name: projects
            columns:
              - {name: id, type: uuid, primary_key: true}
              - {name: tenant_id, type: uuid}
        """
    static let json = """
        {"version": 1, "tenant_id": "7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b",
         "tables": [{"name": "projects", "columns": [
           {"name": "id", "type": "uuid", "primary_key": true}, {"name": "tenant_id", "type": "uuid"}]}]}
        """

    @Test func yamlAndJSONDecodeToTheSameBlueprint() throws {
        let fromYAML = try #require(BlueprintDecoder.decode(file: "a", text: Self.yaml).blueprint)
        let fromJSON = try #require(BlueprintDecoder.decode(file: "a", text: Self.json).blueprint)
        #expect(fromYAML.tables.map(\.name) == fromJSON.tables.map(\.name))
        #expect(fromYAML.tables[0].columns.map(\.name) == fromJSON.tables[0].columns.map(\.name))
        #expect(fromYAML.tables[0].columns.map(\.primaryKey) == [true, false])
    }

    /// Every value's line and column by its path; a path the decoder never saw takes its
    /// nearest parent's.
    @Test func positionsAreFoundByPathAndFallBackToTheParent() throws {
        let blueprint = try #require(BlueprintDecoder.decode(file: "a.yaml", text: Self.yaml).blueprint)
        #expect(blueprint.positions["$.version"] == Position(line: 1, column: 10))
        #expect(blueprint.positions["$.tables[0].columns[1].type"] == Position(line: 7, column: 33))
        #expect(blueprint.positions["$.tables[0].columns[2]"] == nil)
        #expect(blueprint.positions["$"] == Position(line: 1, column: 1))
        #expect(blueprint.positions["$.zzz"] == nil)
        let origin = blueprint.origin(at: "$.tables[0].columns[0].primary_key.missing")
        #expect((origin.line, origin.column) == (6, 45))
        #expect(blueprint.origin(at: "$.tables[0].name").line == 4)
        // Two documents of one set: the paths they share are equal after sharing.
        var set = Set<String>()
        var copy = blueprint.positions
        copy.share(&set)
        #expect(copy == blueprint.positions)
        #expect(set.count == blueprint.positions.count)
    }

    @Test func defaultsAreThoseOfTheSpec() throws {
        let blueprint = try #require(BlueprintDecoder.decode(file: "a", text: Self.yaml).blueprint)
        #expect(blueprint.schema == "public")
        #expect(blueprint.tenancy.column == "tenant_id")
        #expect(blueprint.tenancy.claim == "app_metadata.tenant_id")
        #expect(blueprint.tenancy.roles == ["authenticated"])
        #expect(blueprint.tenancy.expression == nil)
        let table = blueprint.tables[0]
        #expect(table.rls.enabled)
        #expect(!table.rls.force)
        #expect(table.rls.tenantPolicies == .auto)
        #expect(table.grants == nil)
        #expect(table.columns[1].nullable == nil)  // absent: the catalog builder applies "true"
        #expect(BlueprintValidator.isTenantTable(table, tenancy: blueprint.tenancy))
    }

    /// `all with grant option` stands for every privilege, each grantable; a privilege listed
    /// both ways is held with its grant option.
    @Test func grantOptionsExpandAndWin() throws {
        let text = Self.yaml + """

                grants:
                  reporting: [all with grant option]
                  auditor: [select, select with grant option, insert]
            """
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: text)])
        #expect(set.errors.isEmpty)
        let table = try #require(DesiredCatalog.build(set).tables[QualifiedName(schema: "public", name: "projects")])
        #expect(table.grants?["reporting"] == Set(DesiredCatalog.allPrivileges.map(Privilege.grantable)))
        #expect(table.grants?["auditor"] == ["select with grant option", "insert"])
    }

    @Test func payloadHashIgnoresFormattingButNotContent() {
        let a = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: Self.yaml)])
        let b = BlueprintSet.load([BlueprintSource(path: "a.json", text: Self.json)])
        let c = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: Self.yaml.replacingOccurrences(of: "projects", with: "project"))])
        #expect(a.payloadHash == b.payloadHash)
        #expect(a.payloadHash != c.payloadHash)
        #expect(a.payloadHash.count == 64)
    }

    /// The hash is SHA-256 of the canonical JSON of the array of every file's document, as
    /// recorded in histories: hashing it a file at a time must not change a single value.
    @Test func payloadHashIsThatOfTheCanonicalArrayOfDocuments() throws {
        let sources = [BlueprintSource(path: "b.json", text: Self.json),
                       BlueprintSource(path: "a.yaml", text: Self.yaml.replacingOccurrences(of: "projects", with: "tasks")),
                       BlueprintSource(path: "c.yaml", text: "version: 1\nnot a mapping: [")]
        let documents = try sources.sorted { $0.path < $1.path }.compactMap { source in
            BlueprintDecoder.decode(file: source.path, text: String(decoding: source.contents, as: UTF8.self)).json
        }
        #expect(documents.count == 2)
        let expected = SHA256.hash(data: Data(JSONValue.array(documents).canonical.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(BlueprintSet.load(sources).payloadHash == expected)
        #expect(BlueprintSet.load([]).payloadHash == SHA256.hash(data: Data("[]".utf8)).map { String(format: "%02x", $0) }.joined())
    }

    @Test func canonicalJSONSortsKeysAndEscapes() {
        let value = JSONValue.object(["b": .array([.number("1"), .bool(true), .null]), "a": .string("x\"\n\u{01}")])
        #expect(value.canonical == #"{"a":"x\"\n\u0001","b":[1,true,null]}"#)
    }

    @Test func generatedNamesFollowPostgres() {
        #expect(Naming.primaryKey(table: "projects") == "projects_pkey")
        #expect(Naming.unique(table: "projects", columns: ["tenant_id", "name"]) == "projects_tenant_id_name_key")
        #expect(Naming.foreignKey(table: "tasks", columns: ["project_id"]) == "tasks_project_id_fkey")
        #expect(Naming.index(table: "tasks", columns: ["tenant_id", "status"]) == "tasks_tenant_id_status_idx")
        #expect(Naming.expressionIndex(table: "tasks", expression: "lower(title)") == "tasks_lower_title_idx")
        #expect(Naming.columnCheck(table: "t", column: "a") == "t_a_check")
        #expect(Naming.tableCheck(table: "t", ordinal: 0) == "t_check")
        #expect(Naming.tableCheck(table: "t", ordinal: 2) == "t_check2")
        #expect(Naming.tenantPolicy(table: "tasks", command: .update) == "tasks_tenant_update")
        #expect(Naming.problem(with: String(repeating: "a", count: 63)) == nil)
        #expect(Naming.problem(with: String(repeating: "a", count: 64)) != nil)
        #expect(Naming.problem(with: "order") == nil)  // reserved words are quoted, so they are fine
    }

    @Test("SQL fragments", arguments: [
        ("now()", nil), ("'a;b'", nil), ("$$a;b$$", nil), ("$x$ -- $x$", nil), ("E'it\\'s; fine'", nil),
        ("\"odd;name\" > 0", nil), ("x = $1", nil), ("/* c */ 1", nil), ("a > 0;", "invalid_fragment"),
        ("1 -- c", "invalid_fragment"), ("(a", "invalid_fragment"), ("a) or (b", "invalid_fragment"), ("a), (b", "invalid_fragment"),
        ("'open", "invalid_fragment"), ("$$open", "invalid_fragment"), ("  ", "empty_sql"),
    ] as [(String, String?)])
    func sqlFragments(_ text: String, _ code: String?) {
        #expect(SQLFragment.problem(in: text, as: .expression)?.code == code)
    }

    @Test("partition bounds as blueprints and the server write them", arguments: [
        ("default", PartitionBound.default),
        ("DEFAULT", .default),
        ("FOR VALUES IN ('eu', 'us')", .list(["'eu'", "'us'"])),
        ("for values in ('a,b', 'c)')", .list(["'a,b'", "'c)'"])),
        ("FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')", .range(from: ["'2026-01-01'"], to: ["'2027-01-01'"])),
        ("FOR VALUES FROM (MINVALUE, 0) TO (10, MAXVALUE)", .range(from: ["MINVALUE", "0"], to: ["10", "MAXVALUE"])),
        ("FOR VALUES WITH (modulus 4, remainder 3)", .hash(modulus: 4, remainder: 3)),
        ("FOR VALUES IN (lower('X'), (1 + 2))", .list(["lower('X')", "(1 + 2)"])),
    ])
    func partitionBounds(_ text: String, _ bound: PartitionBound) {
        #expect(PartitionBound(text) == bound)
    }

    @Test func partitionBoundsThatAreNotOne() {
        for text in ["", "FOR VALUES", "FOR VALUES IN ()", "FOR VALUES IN (1", "FOR VALUES IN (1) ; DROP TABLE x", "FOR VALUES FROM (1) TO (2, 3)",
                     "FOR VALUES WITH (modulus 4, remainder 4)", "FOR VALUES IN (1,)", "DEFAULT PARTITION"] {
            #expect(PartitionBound(text) == nil, "\(text)")
        }
        #expect(PartitionBound("FOR VALUES IN (1, 2)")!.values == ["1", "2"])
        #expect(PartitionBound("FOR VALUES FROM (MINVALUE) TO (5)")!.values == ["5"])
    }

    @Test func partitionKeysAsTheServerPrintsThem() {
        #expect(PartitionKey(server: "RANGE (created_at)") == PartitionKey(strategy: .range, columns: ["created_at"]))
        #expect(PartitionKey(server: "LIST (\"Region\", kind)") == PartitionKey(strategy: .list, columns: ["Region", "kind"]))
        #expect(PartitionKey(server: "LIST (lower(name))") == PartitionKey(strategy: .list, expression: "lower(name)"))
        #expect(PartitionKey(server: "RANGE (((a + b)))") == PartitionKey(strategy: .range, expression: "a + b"))
        #expect(PartitionKey(server: "HASH (a, lower(b))") == nil)
        #expect(PartitionKey(strategy: .hash, columns: ["Id"]).text == "HASH (\"Id\")")
    }

    @Test func durationsParse() {
        #expect(TimeSpan(parsing: "500ms")?.milliseconds == 500)
        #expect(TimeSpan(parsing: "5s")?.milliseconds == 5000)
        #expect(TimeSpan(parsing: "2m")?.milliseconds == 120_000)
        #expect(TimeSpan(parsing: "1h")?.milliseconds == 3_600_000)
        #expect(TimeSpan(parsing: "5") == nil)
        #expect(TimeSpan(parsing: "-1s") == nil)
        #expect(TimeSpan(parsing: "1.5s") == nil)
        #expect(TimeSpan(milliseconds: 300_000).description == "5m")
    }
}
