/// PostgreSQL's text form of one-dimensional text arrays (`{"a","b \"c\""}`), for parameters
/// and results.
public enum PostgresArray {
    /// `["a", "b"]` → `{"a","b"}` with quotes and backslashes escaped.
    public static func text(_ values: [String]) -> String {
        // Byte by byte: Foundation's replacingOccurrences cost half a second for the 6,000
        // statements of a large apply's history row.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `{a,"b c",NULL}` (NULL elements are dropped).
    public static func parseText(_ text: String) -> [String] {
        // Byte by byte (the structural characters are ASCII, so a multi-byte character's bytes
        // never match one): by Character, grapheme breaking was most of a read-back's decoding.
        var text = text
        return text.withUTF8 { bytes -> [String] in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return [] }
            guard bytes.count > 2 else { return [] }
            var values: [String] = []
            var current: [UInt8] = []
            var quoted = false
            var wasQuoted = false
            var escape = false
            let null = Array("NULL".utf8)
            for byte in bytes[1..<(bytes.count - 1)] {
                if escape {
                    current.append(byte)
                    escape = false
                } else if byte == UInt8(ascii: "\\") {
                    escape = true
                } else if byte == UInt8(ascii: "\"") {
                    quoted.toggle()
                    wasQuoted = true
                } else if byte == UInt8(ascii: ",") && !quoted {
                    if wasQuoted || current != null { values.append(String(decoding: current, as: UTF8.self)) }
                    current.removeAll(keepingCapacity: true)
                    wasQuoted = false
                } else {
                    current.append(byte)
                }
            }
            if wasQuoted || current != null { values.append(String(decoding: current, as: UTF8.self)) }
            return values
        }
    }
}
