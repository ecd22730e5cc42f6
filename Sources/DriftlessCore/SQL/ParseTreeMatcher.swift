/// Compares two parse trees in libpg_query's JSON text without decoding them: the tree of a
/// template (markers where fragments, types and literals stand) against the tree of a text.
/// Both were written by the same parser, so outside the markers they must be equal byte for
/// byte, except for `"location"` members (offsets into the text, which move with every
/// fragment's length).
///
/// At a marker any one value of the right kind is accepted: any object for the expression
/// marker, any object with `names` first for the type marker, any string (or none, since the
/// parser leaves empty strings out) for the literal marker. Decoding both trees through
/// Foundation cost more than the rest of a 1,000-table apply (docs/benchmarks.md); this walk
/// allocates nothing.
struct ParseTreeMatcher {
    static let expressionMarker = Array(#"{"ColumnRef":{"fields":[{"String":{"sval":"\#(SQL.expressionMarker)"}}]"#.utf8)
    static let typeMarker = Array(#"{"names":[{"String":{"sval":"\#(SQL.typeMarker)"}}]"#.utf8)
    static let literalMarker = Array(#""\#(SQL.literalMarker)""#.utf8)
    static let location = Array(#""location""#.utf8)

    /// Whether `text`'s tree is `template`'s with the markers filled in.
    static func matches(template: [UInt8], text: [UInt8]) -> Bool {
        template.withUnsafeBufferPointer { meant in
            text.withUnsafeBufferPointer { actual in
                var walk = ParseTreeMatcher(meant: meant, actual: actual)
                return walk.value() && walk.i == meant.count && walk.j == actual.count
            }
        }
    }

    /// How many statements a parse tree holds (the elements of its `stmts` list).
    static func statementCount(_ json: [UInt8]) -> Int {
        let key = Array(#""stmts":["#.utf8)
        return json.withUnsafeBufferPointer { bytes in
            var start = 0
            while start + key.count <= bytes.count {
                if (0..<key.count).allSatisfy({ bytes[start + $0] == key[$0] }) { break }
                start += 1
            }
            var k = start + key.count
            guard k <= bytes.count else { return 0 }
            var count = 0
            while k < bytes.count, bytes[k] != closeList {
                k = skipValue(bytes, k)
                count += 1
                if k < bytes.count, bytes[k] == comma { k += 1 }
            }
            return count
        }
    }

    let meant: UnsafeBufferPointer<UInt8>
    let actual: UnsafeBufferPointer<UInt8>
    /// Positions in `meant` and `actual`.
    var i = 0
    var j = 0

    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let open = UInt8(ascii: "{")
    static let close = UInt8(ascii: "}")
    static let openList = UInt8(ascii: "[")
    static let closeList = UInt8(ascii: "]")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")

    /// Compares one value at `i` and `j`, moving both past it.
    mutating func value() -> Bool {
        guard i < meant.count, j < actual.count else { return false }
        switch meant[i] {
        case Self.open:
            if starts(meant, i, with: Self.expressionMarker) {
                guard actual[j] == Self.open else { return false }
                i = Self.skipValue(meant, i)
                j = Self.skipValue(actual, j)
                return true
            }
            if starts(meant, i, with: Self.typeMarker) {
                guard starts(actual, j, with: Array(#"{"names":"#.utf8)) else { return false }
                i = Self.skipValue(meant, i)
                j = Self.skipValue(actual, j)
                return true
            }
            return object()
        case Self.openList:
            return list()
        case Self.quote:
            if starts(meant, i, with: Self.literalMarker) {
                guard actual[j] == Self.quote else { return false }
                i = Self.skipValue(meant, i)
                j = Self.skipValue(actual, j)
                return true
            }
            return same()
        default:
            return same()
        }
    }

    /// A scalar (string, number, true, false, null): the same bytes on both sides.
    mutating func same() -> Bool {
        let endMeant = Self.skipValue(meant, i)
        let endActual = Self.skipValue(actual, j)
        guard endMeant - i == endActual - j else { return false }
        for offset in 0..<(endMeant - i) where meant[i + offset] != actual[j + offset] { return false }
        i = endMeant
        j = endActual
        return true
    }

    mutating func list() -> Bool {
        i += 1
        j += 1
        while true {
            guard i < meant.count, j < actual.count else { return false }
            if meant[i] == Self.closeList || actual[j] == Self.closeList {
                guard meant[i] == Self.closeList, actual[j] == Self.closeList else { return false }
                i += 1
                j += 1
                return true
            }
            guard value() else { return false }
            if i < meant.count, meant[i] == Self.comma { i += 1 }
            if j < actual.count, actual[j] == Self.comma { j += 1 }
        }
    }

    mutating func object() -> Bool {
        i += 1
        j += 1
        while true {
            i = skipLocation(meant, i)
            j = skipLocation(actual, j)
            guard i < meant.count, j < actual.count else { return false }
            if meant[i] == Self.close || actual[j] == Self.close {
                // An empty literal is left out of the text's tree: the marker's member may be missing.
                while i < meant.count, meant[i] != Self.close, isLiteralMember(meant, i) {
                    i = Self.skipMember(meant, i)
                    i = skipLocation(meant, i)
                }
                guard i < meant.count, meant[i] == Self.close, actual[j] == Self.close else { return false }
                i += 1
                j += 1
                return true
            }
            // The same key on both sides.
            let keyEndMeant = Self.skipValue(meant, i)
            let keyEndActual = Self.skipValue(actual, j)
            let sameKey = keyEndMeant - i == keyEndActual - j
                && (0..<(keyEndMeant - i)).allSatisfy { meant[i + $0] == actual[j + $0] }
            if !sameKey {
                guard isLiteralMember(meant, i) else { return false }
                i = Self.skipMember(meant, i)
                continue
            }
            i = keyEndMeant + 1
            j = keyEndActual + 1
            guard value() else { return false }
            if i < meant.count, meant[i] == Self.comma { i += 1 }
            if j < actual.count, actual[j] == Self.comma { j += 1 }
        }
    }

    /// Whether the member at `index` (a key) holds the literal marker.
    func isLiteralMember(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        guard index < bytes.count, bytes[index] == Self.quote else { return false }
        let keyEnd = Self.skipValue(bytes, index)
        return keyEnd < bytes.count && bytes[keyEnd] == Self.colon && starts(bytes, keyEnd + 1, with: Self.literalMarker)
    }

    /// Past a `"location":N` member (and its comma) at `index`, or `index` itself.
    func skipLocation(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Int {
        guard starts(bytes, index, with: Self.location), index + Self.location.count < bytes.count,
              bytes[index + Self.location.count] == Self.colon else { return index }
        var end = Self.skipValue(bytes, index + Self.location.count + 1)
        if end < bytes.count, bytes[end] == Self.comma { end += 1 }
        return end
    }

    /// Past the member (key, colon, value, comma) at `index`.
    static func skipMember(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Int {
        var end = skipValue(bytes, skipValue(bytes, index) + 1)
        if end < bytes.count, bytes[end] == comma { end += 1 }
        return end
    }

    func starts(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, with prefix: [UInt8]) -> Bool {
        guard index + prefix.count <= bytes.count else { return false }
        for offset in 0..<prefix.count where bytes[index + offset] != prefix[offset] { return false }
        return true
    }

    /// The index just past the JSON value starting at `index`.
    static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Int {
        var k = index
        guard k < bytes.count else { return k }
        switch bytes[k] {
        case quote:
            k += 1
            while k < bytes.count, bytes[k] != quote {
                k += bytes[k] == backslash ? 2 : 1
            }
            return k + 1
        case open, openList:
            var depth = 0
            while k < bytes.count {
                switch bytes[k] {
                case quote:
                    k = skipValue(bytes, k)
                    continue
                case open, openList:
                    depth += 1
                case close, closeList:
                    depth -= 1
                    if depth == 0 { return k + 1 }
                default:
                    break
                }
                k += 1
            }
            return k
        default:
            while k < bytes.count, ![comma, close, closeList].contains(bytes[k]) { k += 1 }
            return k
        }
    }
}
