/// Quoting for generated SQL.
public enum SQLText {
    /// A string literal: `'it''s'`.
    public static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A role name in GRANT/POLICY: `PUBLIC` or a quoted identifier.
    public static func role(_ name: String) -> String {
        name == "public" ? "PUBLIC" : quoteIdentifier(name)
    }
}
