import SQLParser

/// Splits lists the server prints as one text into their expressions, by PostgreSQL's parser.
public enum SQLSplit {
    /// `10, 'x'::text` (a function's argument defaults, `pg_get_expr(proargdefaults, 0)`) →
    /// `["10", "'x'::text"]`. Empty for an empty or unparsable text.
    public static func expressions(_ list: String) -> [String] {
        guard !list.isEmpty else { return [] }
        let prefix = "SELECT "
        let text = prefix + list
        guard let statements = try? SQLParser.parse(text), statements.count == 1,
              let targets = statements[0].node["targetList"]?.elements, !targets.isEmpty else { return [] }
        let bytes = Array(text.utf8)
        let starts = targets.compactMap { target -> Int? in
            guard let location = target["ResTarget"]?["location"]?.text else { return nil }
            return Int(location)
        }
        guard starts.count == targets.count, starts == starts.sorted(), starts.allSatisfy({ $0 >= prefix.utf8.count && $0 < bytes.count }) else {
            return []
        }
        return starts.enumerated().map { index, start in
            let end = index + 1 < starts.count ? starts[index + 1] : bytes.count
            var piece = String(decoding: bytes[start..<end], as: UTF8.self)
            while let last = piece.last, last == " " || last == "," { piece.removeLast() }
            return piece
        }
    }
}

extension SQLSplit {
    /// `a int, "Total" numeric(10, 2)` (the columns of `RETURNS TABLE (...)`) → `[("a", "int"),
    /// ("Total", "numeric(10, 2)")]`, names as the parser folds them and types as written; nil
    /// when the text is not a plain list of names and types (a constraint, a collation, a
    /// default: nothing `RETURNS TABLE` accepts).
    public static func columns(_ list: String) -> [(name: String, type: String)]? {
        let prefix = "CREATE TABLE t ("
        let text = prefix + list + ")"
        guard let statements = try? SQLParser.parse(text), statements.count == 1,
              let elements = statements[0].node["tableElts"]?.elements, !elements.isEmpty else { return nil }
        let bytes = Array(text.utf8)
        var definitions: [(name: String, start: Int)] = []
        for element in elements {
            guard let column = element["ColumnDef"], let name = column["colname"]?.text,
                  let location = column["location"]?.text.flatMap({ Int($0) }),
                  column["constraints"] == nil, column["collClause"] == nil, column["raw_default"] == nil else { return nil }
            definitions.append((name, location))
        }
        guard definitions.map(\.start) == definitions.map(\.start).sorted(),
              definitions.allSatisfy({ $0.start >= prefix.utf8.count && $0.start < bytes.count - 1 }) else { return nil }
        var columns: [(name: String, type: String)] = []
        for (index, definition) in definitions.enumerated() {
            let end = index + 1 < definitions.count ? definitions[index + 1].start : bytes.count - 1
            var piece = String(decoding: bytes[definition.start..<end], as: UTF8.self)
            while let last = piece.last, last.isWhitespace || last == "," { piece.removeLast() }
            // The name token: a quoted identifier (doubled quotes inside) or one word.
            var rest = Substring(piece)
            if rest.hasPrefix("\"") {
                var index = rest.index(after: rest.startIndex)
                while index < rest.endIndex {
                    if rest[index] == "\"" {
                        let next = rest.index(after: index)
                        if next < rest.endIndex && rest[next] == "\"" { index = rest.index(after: next); continue }
                        index = next
                        break
                    }
                    index = rest.index(after: index)
                }
                rest = rest[index...]
            } else {
                rest = rest.drop { !$0.isWhitespace }
            }
            let type = rest.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !type.isEmpty else { return nil }
            columns.append((definition.name, type))
        }
        return columns
    }
}
