import DriftlessCore
import Testing

@Suite("Quoting of generated SQL")
struct SQLTextTests {
    @Test("identifiers", arguments: [
        ("orders", "\"orders\""),
        ("order", "\"order\""),
        ("a\"b", "\"a\"\"b\""),
        ("\"", "\"\"\"\""),
        ("\"\"x\"", "\"\"\"\"\"x\"\"\""),
        ("ünïcødé", "\"ünïcødé\""),
        ("", "\"\""),
    ])
    func identifier(_ name: String, _ quoted: String) {
        #expect(quoteIdentifier(name) == quoted)
    }

    @Test("string literals", arguments: [
        ("it's", "'it''s'"),
        ("''", "''''''"),
        ("plain", "'plain'"),
        ("'lead and trail'", "'''lead and trail'''"),
    ])
    func literal(_ text: String, _ quoted: String) {
        #expect(SQLText.literal(text) == quoted)
    }

    /// The words of each referential action are its blueprint spelling, upper case, with spaces.
    @Test(arguments: ReferentialAction.allCases) func referentialActionsAreSpelledAsTheirBlueprintNames(_ action: ReferentialAction) {
        #expect(action.sql == action.rawValue.split(separator: "_").joined(separator: " ").uppercased())
        #expect(!action.sql.isEmpty && !action.sql.contains("_"))
    }

    @Test func qualifiedNames() {
        #expect(QualifiedName(schema: "my schema", name: "t\"1").sql == "\"my schema\".\"t\"\"1\"")
    }
}
