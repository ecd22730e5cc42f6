import Foundation

extension Catalog {
    /// The JSON `JSONEncoder().encode(self)` writes, written as it is encoded
    /// (`StreamingJSONEncoder`): `JSONEncoder` builds the whole document as a tree before
    /// writing it, which at 10,000 tables held more memory than the catalog itself, and took
    /// ten times the instructions (docs/benchmarks.md). `JSONDecoder` reads it back as any
    /// encoded catalog: a keyed object of the stored properties; the dictionaries keyed by
    /// names are arrays of key, value, key, value (how `JSONEncoder` writes a dictionary whose
    /// keys are not strings); optionals that are nil are left out.
    public func streamedJSON() throws -> Data {
        let out = StreamingJSONEncoder(capacity: tables.count * 6_000)
        out.appendRaw("{")
        func key(_ name: String) { out.appendRaw("\"\(name)\":") }
        func pairs<Key: Encodable, Value: Encodable>(_ name: String, _ dictionary: [Key: Value]) throws {
            key(name)
            out.appendRaw("[")
            var first = true
            for (k, v) in dictionary {
                if !first { out.appendRaw(",") }
                first = false
                try out.append(k)
                out.appendRaw(",")
                try out.append(v)
            }
            out.appendRaw("],")
        }
        try pairs("enums", enums)
        try pairs("tables", tables)
        try pairs("sequences", sequences)
        try pairs("functions", functions)
        try pairs("triggers", triggers)
        key("extensions")
        try out.append(extensions)
        out.appendRaw(",")
        try pairs("views", views)
        key("unsupported")
        try out.append(unsupported)
        if let realtimePublication {
            out.appendRaw(",\"realtimePublication\":")
            try out.append(realtimePublication)
        }
        if let storage {
            out.appendRaw(",\"storage\":")
            try out.append(storage)
        }
        out.appendRaw("}")
        return Data(out.bytes)
    }

    /// The stored properties `streamedJSON` writes, by name (a test holds the type to it).
    public static let streamedProperties = ["enums", "tables", "sequences", "functions", "triggers", "extensions", "views",
                                            "unsupported", "realtimePublication", "storage"]
}
