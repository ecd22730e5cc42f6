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
