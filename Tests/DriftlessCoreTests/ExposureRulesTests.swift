import DriftlessCore
import Testing

/// The rules of who can reach what (docs/security.md, Exposure), without a database.
@Suite("Exposure rules")
struct ExposureRulesTests {
    let name = QualifiedName(schema: "public", name: "t")

    func table(rls: Bool, grants: [String: Set<String>], policies: [Policy] = []) -> Catalog {
        Catalog(tables: [name: Table(name: name, columns: [Column(name: "id", type: "integer")], rlsEnabled: rls,
                                     policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.name, $0) }), grants: grants)])
    }

    func summary(_ before: Catalog, _ after: Catalog) -> [String] {
        Exposure.between(before, after).map { "\($0.role) \($0.change.rawValue) \($0.privileges.joined(separator: ",")) \($0.rls)" }
    }

    @Test func rlsTurnedOffWidensAndTurnedOnNarrows() {
        let open = table(rls: false, grants: ["anon": ["select"]])
        let closed = table(rls: true, grants: ["anon": ["select"]])
        #expect(summary(closed, open) == ["anon gained select disabled"])
        #expect(summary(open, closed) == ["anon lost select enabled"])
    }

    @Test func aGrantToPublicReachesBothRolesAndTruncateIgnoresRLS() {
        let before = table(rls: true, grants: [:])
        #expect(summary(before, table(rls: true, grants: ["public": ["truncate"]])) == ["anon gained truncate enabled", "authenticated gained truncate enabled"])
    }

    @Test func aNewOrChangedPermissivePolicyIsListedARemovedRestrictiveOneToo() {
        let tight = Policy(name: "own", command: .select, roles: ["authenticated"], using: "(owner = auth.uid())")
        let loose = Policy(name: "own", command: .select, roles: ["authenticated"], using: "true")
        let fence = Policy(name: "fence", command: .all, roles: ["authenticated"], permissive: false, using: "(org = 1)")
        let grants: [String: Set<String>] = ["authenticated": ["select"]]
        #expect(summary(table(rls: true, grants: grants, policies: [tight]), table(rls: true, grants: grants, policies: [loose]))
            == ["authenticated gained select enabled"])
        #expect(summary(table(rls: true, grants: grants, policies: [tight, fence]), table(rls: true, grants: grants, policies: [tight]))
            == ["authenticated gained select enabled"])
        #expect(summary(table(rls: true, grants: grants, policies: [tight]), table(rls: true, grants: grants, policies: [tight, fence])).isEmpty)
        // The last policy that let the role in goes: lost.
        #expect(summary(table(rls: true, grants: grants, policies: [tight]), table(rls: true, grants: grants)) == ["authenticated lost select enabled"])
    }

    @Test func theProjectionFollowsThePlanThroughGrantsRevokesAndGrantOptions() {
        let actual = table(rls: false, grants: ["anon": ["select", "insert"]])
        let change = { (operation: Operation) in
            Change(kind: .changed, id: .member(.grant, of: name, "anon"), action: .alter, operations: [operation], phase: .grants)
        }
        let optionOnly = Exposure.project(actual, desired: actual, changes: [change(.revoke(["select with grant option"], table: name, role: "anon"))])
        #expect(summary(actual, optionOnly).isEmpty)
        let revoked = Exposure.project(actual, desired: actual, changes: [change(.revoke(["insert"], table: name, role: "anon"))])
        #expect(summary(actual, revoked) == ["anon lost insert disabled"])
    }
}
