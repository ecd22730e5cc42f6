import Foundation

extension Catalog {
    /// The JSON `JSONEncoder().encode(self)` writes, encoded an object at a time: `JSONEncoder`
    /// builds the whole document as a tree before writing it, which at 10,000 tables held more
    /// memory than the catalog itself (docs/benchmarks.md). `JSONDecoder` reads it back as any
    /// encoded catalog: a keyed object of the stored properties; the dictionaries keyed by
    /// names are arrays of key, value, key, value (how `JSONEncoder` writes a dictionary whose
    /// keys are not strings); optionals that are nil are left out.
    public func streamedJSON() throws -> Data {
        let encoder = JSONEncoder()
        var out = Data("{".utf8)
        func key(_ name: String) { out.append(contentsOf: Array("\"\(name)\":".utf8)) }
        func pairs<Key: Encodable, Value: Encodable>(_ name: String, _ dictionary: [Key: Value]) throws {
            key(name)
            out.append(UInt8(ascii: "["))
            var first = true
            for (k, v) in dictionary {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(try encoder.encode(k))
                out.append(UInt8(ascii: ","))
                out.append(try encoder.encode(v))
            }
            out.append(contentsOf: Array("],".utf8))
        }
        try pairs("enums", enums)
        try pairs("tables", tables)
        try pairs("sequences", sequences)
        try pairs("functions", functions)
        try pairs("triggers", triggers)
        key("extensions")
        out.append(try encoder.encode(extensions))
        out.append(UInt8(ascii: ","))
        try pairs("views", views)
        key("unsupported")
        out.append(try encoder.encode(unsupported))
        if let realtimePublication {
            out.append(contentsOf: Array(",\"realtimePublication\":".utf8))
            out.append(try encoder.encode(realtimePublication))
        }
        if let storage {
            out.append(contentsOf: Array(",\"storage\":".utf8))
            out.append(try encoder.encode(storage))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The stored properties `streamedJSON` writes, by name (a test holds the type to it).
    public static let streamedProperties = ["enums", "tables", "sequences", "functions", "triggers", "extensions", "views",
                                            "unsupported", "realtimePublication", "storage"]
}
