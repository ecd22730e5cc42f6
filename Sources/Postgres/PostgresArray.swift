/// PostgreSQL's text form of one-dimensional text arrays (`{"a","b \"c\""}`), for parameters
/// and results.
public enum PostgresArray {
    /// `["a", "b"]` → `{"a","b"}` with quotes and backslashes escaped.
    public static func text(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    /// Parses `{a,"b c",NULL}` (NULL elements are dropped).
    public static func parseText(_ text: String) -> [String] {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return [] }
        var values: [String] = []
        var current = ""
        var quoted = false
        var wasQuoted = false
        var escape = false
        for character in text.dropFirst().dropLast() {
            if escape {
                current.append(character)
                escape = false
            } else if character == "\\" {
                escape = true
            } else if character == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if character == "," && !quoted {
                if wasQuoted || current != "NULL" { values.append(current) }
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        if !(text == "{}") && (wasQuoted || current != "NULL") { values.append(current) }
        return values
    }
}
