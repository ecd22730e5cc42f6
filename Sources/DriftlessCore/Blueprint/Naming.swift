/// Names: the identifier rule and the deterministic names Driftless generates, following
/// PostgreSQL's own conventions where it has one.
public enum Naming {
    /// PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated by the server.
    public static let maximumBytes = 63

    /// Why `name` is not an identifier PostgreSQL accepts, or `nil` when it is
    /// (docs/blueprints.md, Names): 1 to 63 bytes of UTF-8, no control or invisible formatting
    /// character (NUL, newlines, zero-width and bidirectional controls), and no letter of a
    /// look-alike script (Cyrillic, Greek, Armenian, Cherokee) mixed into a Latin name.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "a name cannot be empty" }
        if name.utf8.count > maximumBytes {
            return "'\(name)' is \(name.utf8.count) bytes; PostgreSQL keeps only \(maximumBytes)"
        }
        for scalar in name.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned:
                return "'\(printable(name))' contains U+\(hex(scalar)), a control or invisible character"
            default: continue
            }
        }
        var latin: Unicode.Scalar?
        var lookAlike: Unicode.Scalar?
        for scalar in name.unicodeScalars where scalar.properties.isAlphabetic {
            if isLatin(scalar) { latin = latin ?? scalar } else if isLookAlikeScript(scalar) { lookAlike = lookAlike ?? scalar }
        }
        if let latin, let lookAlike {
            return "'\(name)' mixes Latin letters ('\(latin)') with a look-alike letter of another script (U+\(hex(lookAlike)) '\(lookAlike)')"
        }
        return nil
    }

    /// Whether `name` is lower snake case (`^[a-z_][a-z0-9_]*$`); other names are only a
    /// `non_snake_case_name` warning.
    public static func isSnakeCase(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    private static func isLatin(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return true
        default: return false
        }
    }

    private static func isLookAlikeScript(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x370...0x3FF, 0x1F00...0x1FFF: return true  // Greek
        case 0x400...0x52F, 0x2DE0...0x2DFF, 0xA640...0xA69F: return true  // Cyrillic
        case 0x530...0x58F: return true  // Armenian
        case 0x13A0...0x13FF, 0xAB70...0xABBF: return true  // Cherokee
        default: return false
        }
    }

    private static func hex(_ scalar: Unicode.Scalar) -> String { String(format: "%04X", scalar.value) }

    private static func printable(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .format ? "?" : $0
        }))
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
