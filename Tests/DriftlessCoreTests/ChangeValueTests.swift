import DriftlessCore
import Testing

/// A `Change` keeps its fields behind one shared reference, copied on write (docs/engine.md,
/// Copies): it must still behave as a value, and its equality must still see every field.
@Suite("A change is a value")
struct ChangeValueTests {
    static let table = QualifiedName(schema: "public", name: "notes")

    static func change() -> Change {
        Change(kind: .missing, id: .table(table), action: .create, operations: [.createSchema("app")], desired: "wanted", actual: nil,
               hazards: [Hazard(.locksTable, object: "public.notes", detail: "ACCESS EXCLUSIVE")], phase: .createTable,
               origin: Origin(file: "a.yaml", line: 3, column: 5, path: "$.tables[0]"))
    }

    /// Each writable field, written to something else.
    static let writes: [(field: String, write: @Sendable (inout Change) -> Void)] = [
        ("kind", { $0.kind = .changed }),
        ("id", { $0.id = .table(QualifiedName(schema: "public", name: "other")) }),
        ("action", { $0.action = .alter }),
        ("desired", { $0.desired = "something else" }),
        ("actual", { $0.actual = "what is there" }),
        ("hazards", { $0.hazards = [] }),
        ("applied", { $0.applied = false }),
        ("phase", { $0.phase = .indexes }),
        ("origin", { $0.origin = nil }),
        ("isRecreate", { $0.isRecreate = true }),
        ("dependsOn", { $0.dependsOn = [.table(QualifiedName(schema: "public", name: "other"))] }),
        ("execution", { $0.execution = .concurrent }),
    ]

    @Test func writingACopyLeavesTheOriginalAsItWas() {
        let original = Self.change()
        for (field, write) in Self.writes {
            var copy = original
            #expect(copy == original)
            write(&copy)
            #expect(original == Self.change(), "writing \(field) of a copy changed the original")
            #expect(copy != original, "equality does not see \(field)")
        }
    }

    @Test func aCopyOfACopyIsIndependentOfBoth() {
        var first = Self.change()
        var second = first
        second.applied = false
        var third = second
        third.applied = true
        first.phase = .indexes
        #expect(first.applied && first.phase == .indexes)
        #expect(!second.applied && second.phase == .createTable)
        #expect(third.applied && third.phase == .createTable)
        #expect(third != first && third != second)
    }

    @Test func theStatementsAreRenderedOnceFromTheOperations() {
        var change = Self.change()
        let statements = change.statements
        change.applied = false
        #expect(change.statements == statements)
        #expect(change.sql.map(\.text) == statements)
        #expect(statements == ["CREATE SCHEMA IF NOT EXISTS \"app\""])
    }
}
