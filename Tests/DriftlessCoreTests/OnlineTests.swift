import DriftlessCore
import Testing

// `--online` without a database (production.md and docs/operations.md, Online changes): which statement runs in which phase, what a killed run left behind is taken up,
// and what stays in the transaction.

private let docs = QualifiedName(schema: "public", name: "docs")
private let owners = QualifiedName(schema: "public", name: "owners")
private let D = "\"public\".\"docs\""

private func docsTable(_ columns: [Column] = [Column(name: "id", type: "bigint", notNull: true), Column(name: "owner_id", type: "bigint"),
                                               Column(name: "code", type: "text")],
                       constraints: [Constraint] = [], indexes: [Index] = [], partitioned: Bool = false) -> Table {
    var table = Table(name: docs, columns: columns, constraints: Dictionary(uniqueKeysWithValues: constraints.map { ($0.name, $0) }),
                      indexes: Dictionary(uniqueKeysWithValues: indexes.map { ($0.name, $0) }))
    if partitioned { table.partitionKey = "RANGE (id)" }
    return table
}

private func ownersTable() -> Table {
    Table(name: owners, columns: [Column(name: "id", type: "bigint", notNull: true)],
          constraints: ["owners_pkey": Constraint(name: "owners_pkey", kind: .primaryKey, columns: ["id"])])
}

private func catalog(_ tables: Table...) -> Catalog {
    Catalog(tables: Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0) }))
}

private func phases(_ desired: Catalog, _ actual: Catalog, prune: Bool = false) -> [(ExecutionPhase, String)] {
    let plan = Differ(desired: desired, actual: actual, managedSchemas: ["public"], existingSchemas: ["public"], previouslyManaged: [],
                      prune: prune).plan()
    return Online.phases(plan.changes, actual: actual).filter(\.applied).flatMap { change in change.statements.map { (change.execution, $0) } }
}

private let codeIndex = Index(name: "docs_code_idx", method: .btree, keys: ["code"], unique: false)
private let ownerKey = Constraint(name: "docs_owner_fkey", kind: .foreignKey, columns: ["owner_id"], referencedTable: owners,
                                  referencedColumns: ["id"], onDelete: .noAction, onUpdate: .noAction)
private let codeKey = Constraint(name: "docs_code_key", kind: .unique, columns: ["code"])

@Suite("--online: phases of a plan, pure")
struct OnlineTests {
    @Test func anIndexAUniqueConstraintAForeignKeyAndANotNullRunInPhases() {
        let desired = catalog(docsTable([Column(name: "id", type: "bigint", notNull: true), Column(name: "owner_id", type: "bigint"),
                                         Column(name: "code", type: "text", notNull: true)],
                                        constraints: [ownerKey, codeKey], indexes: [codeIndex]), ownersTable())
        let actual = catalog(docsTable(), ownersTable())
        let got = phases(desired, actual)
        let expected: [(ExecutionPhase, String)] = [
            (.transaction, "ALTER TABLE \(D) ADD CONSTRAINT \"code_driftless_not_null\" CHECK ((\"code\" IS NOT NULL)) NOT VALID"),
            (.transaction, "ALTER TABLE \(D) ADD CONSTRAINT \"docs_owner_fkey\" FOREIGN KEY (\"owner_id\") REFERENCES \"public\".\"owners\" (\"id\") NOT VALID"),
            (.concurrent, "CREATE UNIQUE INDEX CONCURRENTLY \"docs_code_key\" ON \(D) (\"code\")"),
            (.concurrent, "CREATE INDEX CONCURRENTLY \"docs_code_idx\" ON \(D) (\"code\")"),
            (.validate, "ALTER TABLE \(D) VALIDATE CONSTRAINT \"code_driftless_not_null\""),
            (.validate, "ALTER TABLE \(D) ALTER COLUMN \"code\" SET NOT NULL"),
            (.validate, "ALTER TABLE \(D) DROP CONSTRAINT \"code_driftless_not_null\""),
            (.validate, "ALTER TABLE \(D) ADD CONSTRAINT \"docs_code_key\" UNIQUE USING INDEX \"docs_code_key\""),
            (.validate, "ALTER TABLE \(D) VALIDATE CONSTRAINT \"docs_owner_fkey\""),
        ]
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == expected.map(\.1))
        // locks_table is not reported for what runs online; may_fail still is.
        let plan = Differ(desired: desired, actual: actual, managedSchemas: ["public"], existingSchemas: ["public"], previouslyManaged: [],
                          prune: false).plan()
        let online = Online.phases(plan.changes, actual: actual)
        #expect(plan.changes.flatMap(\.hazards).contains { $0.hazard == .locksTable })
        #expect(!online.flatMap(\.hazards).contains { $0.hazard == .locksTable })
        #expect(online.flatMap(\.hazards).contains { $0.hazard == .mayFail })
        // Each online statement passes the statement guard.
        #expect(StatementGuard.violations(in: online).isEmpty)
    }

    @Test func aKilledRunsLeftoversAreTakenUpNotBuiltTwice() {
        let desired = catalog(docsTable([Column(name: "id", type: "bigint", notNull: true), Column(name: "owner_id", type: "bigint"),
                                         Column(name: "code", type: "text", notNull: true)],
                                        constraints: [codeKey], indexes: [codeIndex]), ownersTable())
        // The transaction committed the NOT VALID check; the unique index was built; the plain
        // index's build failed (invalid).
        var check = Constraint(name: "code_driftless_not_null", kind: .check, columns: ["code"], expression: "(code IS NOT NULL)")
        check.validated = false
        var broken = codeIndex
        broken.valid = false
        let actual = catalog(docsTable(constraints: [check],
                                       indexes: [Index(name: "docs_code_key", method: .btree, keys: ["code"], unique: true), broken]),
                             ownersTable())
        for prune in [false, true] {
            let got = phases(desired, actual, prune: prune)
            #expect(got.map(\.1) == [
                "DROP INDEX CONCURRENTLY \"public\".\"docs_code_idx\"",
                "CREATE INDEX CONCURRENTLY \"docs_code_idx\" ON \(D) (\"code\")",
                "ALTER TABLE \(D) VALIDATE CONSTRAINT \"code_driftless_not_null\"",
                "ALTER TABLE \(D) ALTER COLUMN \"code\" SET NOT NULL",
                "ALTER TABLE \(D) DROP CONSTRAINT \"code_driftless_not_null\"",
                "ALTER TABLE \(D) ADD CONSTRAINT \"docs_code_key\" UNIQUE USING INDEX \"docs_code_key\"",
            ], "prune: \(prune)")
        }
    }

    @Test func aChangedIndexIsSwappedUnderATemporaryName() {
        let desired = catalog(docsTable(indexes: [Index(name: "docs_code_idx", method: .btree, keys: ["code", "id"], unique: false)]))
        let actual = catalog(docsTable(indexes: [codeIndex]))
        #expect(phases(desired, actual).map(\.1) == [
            "CREATE INDEX CONCURRENTLY \"docs_code_idx_driftless_swap\" ON \(D) (\"code\", \"id\")",
            "DROP INDEX CONCURRENTLY \"public\".\"docs_code_idx\"",
            "ALTER INDEX \"public\".\"docs_code_idx_driftless_swap\" RENAME TO \"docs_code_idx\"",
        ])
        #expect(Online.swapName(String(repeating: "x", count: 63)).utf8.count == 63)
    }

    @Test func newTablesPartitionedTablesAndReferencedUniquesStayInTheTransaction() {
        // A new table: nothing to protect.
        let fresh = phases(catalog(docsTable(indexes: [codeIndex])), catalog())
        #expect(fresh.allSatisfy { $0.0 == .transaction })
        // A partitioned table: no concurrent builds in PostgreSQL 15.
        let partitioned = phases(catalog(docsTable(indexes: [codeIndex], partitioned: true)), catalog(docsTable(partitioned: true)))
        #expect(partitioned.map(\.1) == ["CREATE INDEX \"docs_code_idx\" ON \(D) (\"code\")"])
        // A unique constraint a new foreign key references is needed inside the transaction.
        let ownerCode = Constraint(name: "docs_code_key", kind: .unique, columns: ["code"])
        var refs = Table(name: owners, columns: [Column(name: "id", type: "bigint", notNull: true), Column(name: "code", type: "text")])
        refs.constraints["owners_code_fkey"] = Constraint(name: "owners_code_fkey", kind: .foreignKey, columns: ["code"], referencedTable: docs,
                                                          referencedColumns: ["code"], onDelete: .noAction, onUpdate: .noAction)
        let actualRefs = Table(name: owners, columns: refs.columns)
        let referenced = phases(catalog(docsTable(constraints: [ownerCode]), refs), catalog(docsTable(), actualRefs))
        #expect(referenced.first { $0.1.contains("docs_code_key") }?.0 == .transaction)
    }
}
