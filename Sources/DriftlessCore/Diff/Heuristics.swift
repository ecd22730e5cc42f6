/// Which type changes keep data and which rewrite or may lose it.
public enum TypeChange {
    /// The hazards of `ALTER COLUMN ... TYPE` from `old` to `new` (server-printed types).
    public static func hazards(from old: String, to new: String) -> [HazardKind] {
        let (oldBase, oldArgs) = split(old)
        let (newBase, newArgs) = split(new)
        if old.hasSuffix("[]") != new.hasSuffix("[]") { return [.rewritesTable, .deletesData] }
        let texts: Set<String> = ["character varying", "text"]
        // Widening a varchar, or varchar to text: a catalog-only change.
        if texts.contains(oldBase) && newBase == "text" { return [] }
        if oldBase == "character varying" && newBase == "character varying" {
            guard let was = oldArgs.first else { return [.rewritesTable, .deletesData] }
            guard let now = newArgs.first else { return [] }
            return now >= was ? [] : [.rewritesTable, .deletesData]
        }
        if oldBase == "numeric" && newBase == "numeric" {
            if newArgs.isEmpty { return [] }
            if oldArgs.count == 2, newArgs.count == 2, newArgs[1] == oldArgs[1], newArgs[0] >= oldArgs[0] { return [] }
            return [.rewritesTable, .deletesData]
        }
        let widenings: Set<[String]> = [
            ["smallint", "integer"], ["smallint", "bigint"], ["integer", "bigint"], ["real", "double precision"],
            ["smallint", "numeric"], ["integer", "numeric"], ["bigint", "numeric"],
            ["timestamp without time zone", "timestamp with time zone"],
        ]
        if widenings.contains([oldBase, newBase]) { return [.rewritesTable] }
        return [.rewritesTable, .deletesData]
    }

    static func split(_ type: String) -> (String, [Int]) {
        var text = type
        while text.hasSuffix("[]") { text.removeLast(2) }
        guard let open = text.firstIndex(of: "("), let close = text.firstIndex(of: ")") else { return (text, []) }
        let args = text[text.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let base = (String(text[..<open]) + text[text.index(after: close)...]).trimmingCharacters(in: .whitespaces)
        return (base, args)
    }
}

/// Defaults that PostgreSQL must evaluate per row when a column is added (a table rewrite): the
/// differ's estimate, which the server's decision replaces whenever it can be probed
/// (Reconciler's RewriteProbe; docs/operations.md, Hazards decided by the server).
public enum Volatility {
    static let volatileFunctions = [
        "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "gen_random_bytes", "random",
        "clock_timestamp", "timeofday", "nextval", "txid_current",
    ]

    /// Whether `expression` calls a volatile function Driftless knows.
    public static func isVolatile(_ expression: String) -> Bool {
        let lower = expression.lowercased()
        return volatileFunctions.contains { lower.contains("\($0)(") }
    }
}

/// Renames applied to a model of the actual catalog, so the rest of a plan compares against
/// the names the database will have after the RENAME statements run.
public enum CatalogRename {
    public static func renameColumn(_ old: String, to new: String, in table: Table) -> Table {
        var table = table
        for index in table.columns.indices where table.columns[index].name == old {
            table.columns[index].name = new
        }
        for (key, constraint) in table.constraints {
            var updated = constraint
            updated.columns = constraint.columns.map { $0 == old ? new : $0 }
            updated.expression = constraint.expression.map { replaceIdentifier(old, with: new, in: $0) }
            table.constraints[key] = updated
        }
        for (key, index) in table.indexes {
            var updated = index
            updated.keys = index.keys.map { replaceIdentifier(old, with: new, in: $0) }
            updated.predicate = index.predicate.map { replaceIdentifier(old, with: new, in: $0) }
            table.indexes[key] = updated
        }
        for (key, policy) in table.policies {
            var updated = policy
            updated.using = policy.using.map { replaceIdentifier(old, with: new, in: $0) }
            updated.withCheck = policy.withCheck.map { replaceIdentifier(old, with: new, in: $0) }
            table.policies[key] = updated
        }
        return table
    }

    /// Replaces whole-word occurrences of identifier `old` outside string literals.
    static func replaceIdentifier(_ old: String, with new: String, in text: String) -> String {
        var output = ""
        var word = ""
        var inString = false
        func flush() {
            output += word == old ? new : (word == "\"\(old)\"" ? quoteIdentifier(new) : word)
            word = ""
        }
        for character in text {
            if inString {
                output.append(character)
                if character == "'" { inString = false }
                continue
            }
            if character == "'" {
                flush()
                inString = true
                output.append(character)
            } else if character.isLetter || character.isNumber || character == "_" || character == "\"" {
                word.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }
}
