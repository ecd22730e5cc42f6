/// Compares two parse trees in libpg_query's JSON text without decoding them: the tree of a
/// template (markers where fragments, types and literals stand) against the tree of a text.
/// Both were written by the same parser from statements that are the same outside the
/// markers, so the two JSON texts must be equal byte for byte except for
///
/// - the numbers of `"location"` members (offsets into the text, which move with every
///   fragment's length), and
/// - the values at the markers: any one object for the expression marker, any SELECT for the
///   query marker, any object with `names` first for the type marker, any string for the literal marker (or no member at
///   all: the parser leaves empty strings out).
///
/// One linear pass that allocates nothing: decoding both trees through Foundation cost more
/// than the rest of a 1,000-table apply, and a recursive walk a quarter of it
/// (docs/benchmarks.md).
enum ParseTreeMatcher {
    enum MarkerKind { case expression, typeName, literalMember, identifierMember, query }

    static let prefix = Array("__driftless_".utf8)
    static let expressionName = Array(SQL.expressionMarker.utf8)
    static let typeName = Array(SQL.typeMarker.utf8)
    static let literalName = Array(SQL.literalMarker.utf8)
    static let identifierName = Array(SQL.identifierMarker.utf8)
    static let queryName = Array(SQL.queryMarker.utf8)
    /// A query marker is `SELECT "__driftless_query__"`: the whole SELECT is what it replaces.
    static let queryLead = Array(#"{"SelectStmt":{"targetList":[{"ResTarget":{"val":{"ColumnRef":{"fields":[{"String":{"sval":""#.utf8)
    static let selectKey = Array(#"{"SelectStmt":"#.utf8)
    /// What stands before a marker's name from the start of the value it replaces.
    static let expressionLead = Array(#"{"ColumnRef":{"fields":[{"String":{"sval":""#.utf8)
    static let typeLead = Array(#"{"names":[{"String":{"sval":""#.utf8)
    static let namesKey = Array(#"{"names":"#.utf8)
    static let location = Array(#""location":"#.utf8)
    static let stmts = Array(#""stmts":["#.utf8)

    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let open = UInt8(ascii: "{")
    static let close = UInt8(ascii: "}")
    static let openList = UInt8(ascii: "[")
    static let closeList = UInt8(ascii: "]")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")

    /// Where the template's markers stand: the start of the value (expression, type) or of the
    /// member (literal) each replaces, in order.
    static func markers(_ meant: UnsafeBufferPointer<UInt8>) -> [(position: Int, kind: MarkerKind)] {
        var found: [(Int, MarkerKind)] = []
        var k = 0
        while let hit = find(prefix, in: meant, from: k) {
            k = hit + prefix.count
            if starts(meant, hit, with: expressionName), hit >= expressionLead.count,
               starts(meant, hit - expressionLead.count, with: expressionLead) {
                found.append((hit - expressionLead.count, .expression))
            } else if starts(meant, hit, with: queryName), hit >= queryLead.count, starts(meant, hit - queryLead.count, with: queryLead) {
                found.append((hit - queryLead.count, .query))
            } else if starts(meant, hit, with: typeName), hit >= typeLead.count, starts(meant, hit - typeLead.count, with: typeLead) {
                found.append((hit - typeLead.count, .typeName))
            } else if starts(meant, hit, with: literalName) || starts(meant, hit, with: identifierName),
                      hit >= 3, meant[hit - 1] == quote, meant[hit - 2] == colon {
                // Back from `":"` to the opening quote of the member's key.
                var start = hit - 3
                while start > 0, meant[start - 1] != quote { start -= 1 }
                found.append((start - 1, starts(meant, hit, with: literalName) ? .literalMember : .identifierMember))
            }
        }
        return found
    }

    /// Whether `text`'s tree is `template`'s with the markers filled in.
    static func matches(template: [UInt8], text: [UInt8]) -> Bool {
        template.withUnsafeBufferPointer { meant in
            text.withUnsafeBufferPointer { actual in
                let marks = markers(meant)
                var next = 0
                var i = 0
                var j = 0
                while i < meant.count {
                    if next < marks.count, marks[next].position == i {
                        let kind = marks[next].kind
                        next += 1
                        guard j < actual.count else { return false }
                        switch kind {
                        case .expression:
                            guard actual[j] == open else { return false }
                            i = skipValue(meant, i)
                            j = skipValue(actual, j)
                        case .query:
                            guard starts(actual, j, with: selectKey) else { return false }
                            i = skipValue(meant, i)
                            j = skipValue(actual, j)
                        case .typeName:
                            guard starts(actual, j, with: namesKey) else { return false }
                            i = skipValue(meant, i)
                            j = skipValue(actual, j)
                        case .literalMember, .identifierMember:
                            let keyEnd = skipValue(meant, i)
                            let keyLength = keyEnd - i
                            if j + keyLength < actual.count, (0..<keyLength).allSatisfy({ meant[i + $0] == actual[j + $0] }),
                               actual[j + keyLength] == colon, j + keyLength + 1 < actual.count, actual[j + keyLength + 1] == quote {
                                i = skipValue(meant, keyEnd + 1)
                                j = skipValue(actual, j + keyLength + 1)
                            } else {
                                // An identifier is never empty: it is never left out.
                                guard kind == .literalMember else { return false }
                                // The text's empty string was left out: so is the template's member.
                                i = skipValue(meant, keyEnd + 1)
                                if i < meant.count, meant[i] == comma { i += 1 } else if j > 0, actual[j - 1] == comma { j -= 1 }
                            }
                        }
                        continue
                    }
                    if j < actual.count, meant[i] == actual[j] {
                        i += 1
                        j += 1
                        continue
                    }
                    // A comma before a literal member the text left out.
                    if meant[i] == comma, next < marks.count, marks[next].position == i + 1, marks[next].kind == .literalMember {
                        i += 1
                        let keyEnd = skipValue(meant, i)
                        i = skipValue(meant, keyEnd + 1)
                        next += 1
                        continue
                    }
                    // Inside the number of a location: skip it on both sides.
                    var start = i
                    while start > 0, isNumberByte(meant[start - 1]) { start -= 1 }
                    guard start >= location.count, starts(meant, start - location.count, with: location) else { return false }
                    let back = i - start
                    guard j >= back else { return false }
                    i = start
                    j -= back
                    while i < meant.count, isNumberByte(meant[i]) { i += 1 }
                    while j < actual.count, isNumberByte(actual[j]) { j += 1 }
                }
                return j == actual.count
            }
        }
    }

    /// How many statements a parse tree holds (the elements of its `stmts` list).
    static func statementCount(_ json: [UInt8]) -> Int {
        json.withUnsafeBufferPointer { bytes in
            guard let start = find(stmts, in: bytes, from: 0) else { return 0 }
            var k = start + stmts.count
            var count = 0
            while k < bytes.count, bytes[k] != closeList {
                k = skipValue(bytes, k)
                count += 1
                if k < bytes.count, bytes[k] == comma { k += 1 }
            }
            return count
        }
    }

    static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == minus
    }

    static func starts(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, with prefix: [UInt8]) -> Bool {
        guard index >= 0, index + prefix.count <= bytes.count else { return false }
        for offset in 0..<prefix.count where bytes[index + offset] != prefix[offset] { return false }
        return true
    }

    static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        var k = start
        while k + needle.count <= bytes.count {
            if bytes[k] == first, starts(bytes, k, with: needle) { return k }
            k += 1
        }
        return nil
    }

    /// The index just past the JSON value starting at `index`.
    static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Int {
        var k = index
        guard k < bytes.count else { return k }
        switch bytes[k] {
        case quote:
            k += 1
            while k < bytes.count, bytes[k] != quote { k += bytes[k] == backslash ? 2 : 1 }
            return k + 1
        case open, openList:
            var depth = 0
            while k < bytes.count {
                let byte = bytes[k]
                if byte == quote {
                    k += 1
                    while k < bytes.count, bytes[k] != quote { k += bytes[k] == backslash ? 2 : 1 }
                } else if byte == open || byte == openList {
                    depth += 1
                } else if byte == close || byte == closeList {
                    depth -= 1
                    if depth == 0 { return k + 1 }
                }
                k += 1
            }
            return k
        default:
            while k < bytes.count, bytes[k] != comma, bytes[k] != close, bytes[k] != closeList { k += 1 }
            return k
        }
    }
}
