import DriftlessCore
import Postgres

/// PostgreSQL's printed expressions are not a fixed point: a check created from
/// `k IN ('a', 'b')` prints as P1, and one created from P1 prints as P2. A blueprint written from
/// printed text (by `import`, or by copying from psql) then differs in text from the live object
/// while meaning the same. Before such a difference becomes a change, both sides go through the
/// server once more; they are equal when either re-print matches the other side.
enum Equivalence {
    /// `actual` with every expression that only differs in print replaced by the desired text.
    static func reconcile(desired: Catalog, actual: Catalog, changes: [Change], connection: Connection) throws -> Catalog? {
        let expressionKinds: Set<Change.ObjectType> = [.constraint, .policy, .index, .column]
        let tables = Set(changes.filter { $0.kind == .changed && expressionKinds.contains($0.objectType) }.compactMap(\.table))
            .filter { actual.tables[$0] != nil && desired.tables[$0] != nil }
        guard !tables.isEmpty else { return nil }
        let actualAgain = try Canonicalizer.canonicalize(Catalog(tables: actual.tables.filter { tables.contains($0.key) }), live: actual, connection: connection).catalog
        let desiredAgain = try Canonicalizer.canonicalize(
            Catalog(enums: desired.enums, tables: desired.tables.filter { tables.contains($0.key) }, sequences: desired.sequences),
            live: actual, connection: connection).catalog
        var adjusted = actual
        for name in tables {
            guard var have = adjusted.tables[name], let want = desired.tables[name],
                  let haveAgain = actualAgain.tables[name], let wantAgain = desiredAgain.tables[name] else { continue }
            func same(_ want: String?, _ have: String?, _ wantAgain: String?, _ haveAgain: String?) -> Bool {
                want == have || haveAgain == want || wantAgain == have || (haveAgain != nil && haveAgain == wantAgain)
            }
            for (key, constraint) in have.constraints {
                guard let wanted = want.constraints[key], wanted.expression != constraint.expression else { continue }
                if same(wanted.expression, constraint.expression, wantAgain.constraints[key]?.expression, haveAgain.constraints[key]?.expression) {
                    have.constraints[key]?.expression = wanted.expression
                }
            }
            for (key, policy) in have.policies {
                guard let wanted = want.policies[key] else { continue }
                if wanted.using != policy.using,
                   same(wanted.using, policy.using, wantAgain.policies[key]?.using, haveAgain.policies[key]?.using) {
                    have.policies[key]?.using = wanted.using
                }
                if wanted.withCheck != policy.withCheck,
                   same(wanted.withCheck, policy.withCheck, wantAgain.policies[key]?.withCheck, haveAgain.policies[key]?.withCheck) {
                    have.policies[key]?.withCheck = wanted.withCheck
                }
            }
            for (key, index) in have.indexes {
                guard let wanted = want.indexes[key] else { continue }
                if wanted.predicate != index.predicate,
                   same(wanted.predicate, index.predicate, wantAgain.indexes[key]?.predicate, haveAgain.indexes[key]?.predicate) {
                    have.indexes[key]?.predicate = wanted.predicate
                }
                if wanted.keys != index.keys, haveAgain.indexes[key]?.keys == wanted.keys || wantAgain.indexes[key]?.keys == index.keys {
                    have.indexes[key]?.keys = wanted.keys
                }
            }
            for index in have.columns.indices {
                let column = have.columns[index]
                guard let wanted = want.column(column.name), wanted.defaultExpression != column.defaultExpression else { continue }
                if same(wanted.defaultExpression, column.defaultExpression,
                        wantAgain.column(column.name)?.defaultExpression, haveAgain.column(column.name)?.defaultExpression) {
                    have.columns[index].defaultExpression = wanted.defaultExpression
                }
            }
            adjusted.tables[name] = have
        }
        return adjusted
    }
}
