/// Generates SQL fragments for property tests of the fragment checker: random joins of pieces
/// that mix quotes, `E`/`U&` prefixes right after identifiers, dollar tags, comments,
/// parentheses and the words of known attacks. Deterministic (SplitMix64): a failure names a
/// reproducible seed.
public struct FragmentGenerator: Sendable {
    public static let pieces = [
        "name", "date", "ELSE", "LIKE", "e", "E", "U&", "'", "\\", "'\\'", "''", "$", "$x$", "$$", "a$x$", "--", "/*", "*/",
        "(", ")", ",", ";", " ", "\n", "1", "true", "OWNER TO anon", "DROP COLUMN x CASCADE", "= ", "::text", "\"", "\"q\"\"\"",
        "E'\\''", "U&'\\0041'", "and", "or", "not", "is null", "[1]", "length(name)", "auth.uid()", "WITH CHECK", "ADD CHECK",
    ]

    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// One to seven pieces joined.
    public mutating func fragment() -> String {
        let count = Int(next() % 7) + 1
        return (0..<count).map { _ in Self.pieces[Int(next() % UInt64(Self.pieces.count))] }.joined()
    }
}
