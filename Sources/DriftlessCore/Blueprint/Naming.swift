/// Names: the identifier rule and the deterministic names Driftless generates, following
/// PostgreSQL's own conventions where it has one.
public enum Naming {
    /// PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated by the server.
    public static let maximumBytes = 63

    /// Why `name` is not a valid identifier, or `nil` when it is.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "a name cannot be empty" }
        if name.utf8.count > maximumBytes {
            return "'\(name)' is \(name.utf8.count) bytes; PostgreSQL keeps only \(maximumBytes)"
        }
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else {
            return "'\(name)' must start with a lower-case letter a-z or '_'"
        }
        for scalar in name.unicodeScalars where !(scalar == "_" || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)) {
            let shown = scalar.isASCII ? "'\(scalar)'" : "U+\(String(scalar.value, radix: 16, uppercase: true))"
            return "'\(name)' may use only a-z, 0-9 and '_' (found \(shown))"
        }
        return nil
    }

    public static func primaryKey(table: String) -> String { "\(table)_pkey" }
    public static func unique(table: String, columns: [String]) -> String { "\(table)_\(columns.joined(separator: "_"))_key" }
    public static func columnCheck(table: String, column: String) -> String { "\(table)_\(column)_check" }
    /// Unnamed table checks: `<table>_check`, `<table>_check1`, ... as PostgreSQL numbers them.
    public static func tableCheck(table: String, ordinal: Int) -> String { ordinal == 0 ? "\(table)_check" : "\(table)_check\(ordinal)" }
    public static func foreignKey(table: String, columns: [String]) -> String { "\(table)_\(columns.joined(separator: "_"))_fkey" }
    public static func index(table: String, columns: [String]) -> String { "\(table)_\(columns.joined(separator: "_"))_idx" }
    /// An expression index: the expression's words, `lower(name)` → `<table>_lower_name_idx`.
    public static func expressionIndex(table: String, expression: String) -> String {
        var words: [String] = []
        var current = ""
        for scalar in expression.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return "\(table)_\(words.isEmpty ? "expr" : words.joined(separator: "_"))_idx"
    }
    public static func tenantPolicy(table: String, command: PolicyCommand) -> String { "\(table)_tenant_\(command.rawValue)" }
}
