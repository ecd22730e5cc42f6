/// Static checks of the SQL fragments users write (defaults, checks, predicates, policy
/// expressions): each must stay inside the one place the generated statement gives it.
///
/// A `;` would end the statement, `--` or `/*` would comment out the rest of it, and an
/// unbalanced `)` would close the parentheses Driftless puts around it. String literals
/// (`'...'`, `E'...'`, `$tag$...$tag$`) and quoted identifiers are skipped.
public enum SQLFragment {
    public struct Problem: Equatable, Sendable {
        public var code: String
        public var message: String
    }

    /// The first problem found in `text`, or `nil` when it is safe to embed.
    public static func problem(in text: String) -> Problem? {
        let bytes = Array(text.utf8)
        var index = 0
        var depth = 0
        func at(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
        if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") }) {
            return Problem(code: "empty_sql", message: "the SQL expression is empty")
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"):
                // E'...' allows backslash escapes; a standard string only doubles quotes.
                let escapes = index > 0 && (bytes[index - 1] == UInt8(ascii: "E") || bytes[index - 1] == UInt8(ascii: "e"))
                index += 1
                var closed = false
                while index < bytes.count {
                    if escapes && bytes[index] == UInt8(ascii: "\\") { index += 2; continue }
                    if bytes[index] == UInt8(ascii: "'") {
                        if at(1) == UInt8(ascii: "'") { index += 2; continue }
                        closed = true
                        break
                    }
                    index += 1
                }
                if !closed { return Problem(code: "sql_unterminated", message: "a string literal is not closed") }
            case UInt8(ascii: "\""):
                index += 1
                var closed = false
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "\"") {
                        if at(1) == UInt8(ascii: "\"") { index += 2; continue }
                        closed = true
                        break
                    }
                    index += 1
                }
                if !closed { return Problem(code: "sql_unterminated", message: "a quoted identifier is not closed") }
            case UInt8(ascii: "$"):
                // $tag$ ... $tag$ (a positional parameter like $1 is not a quote).
                var end = index + 1
                while end < bytes.count, isTagByte(bytes[end]) { end += 1 }
                if end < bytes.count, bytes[end] == UInt8(ascii: "$"),
                   end == index + 1 || !isDigit(bytes[index + 1]) {
                    let tag = Array(bytes[index...end])
                    var search = end + 1
                    var found = false
                    while search + tag.count <= bytes.count {
                        if Array(bytes[search..<(search + tag.count)]) == tag { found = true; break }
                        search += 1
                    }
                    if !found { return Problem(code: "sql_unterminated", message: "a dollar-quoted string is not closed") }
                    index = search + tag.count - 1
                }
            case UInt8(ascii: ";"):
                return Problem(code: "sql_terminator", message: "';' would end the generated statement; a fragment is one expression")
            case UInt8(ascii: "-") where at(1) == UInt8(ascii: "-"):
                return Problem(code: "sql_comment", message: "'--' would comment out the rest of the generated statement")
            case UInt8(ascii: "/") where at(1) == UInt8(ascii: "*"):
                return Problem(code: "sql_comment", message: "'/*' would comment out the rest of the generated statement")
            case UInt8(ascii: "("):
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 {
                    return Problem(code: "sql_unbalanced", message: "a ')' closes more parentheses than the expression opened")
                }
            default:
                break
            }
            index += 1
        }
        if depth != 0 {
            return Problem(code: "sql_unbalanced", message: "\(depth) parenthesis(es) left open")
        }
        return nil
    }

    private static func isTagByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || isDigit(byte) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
