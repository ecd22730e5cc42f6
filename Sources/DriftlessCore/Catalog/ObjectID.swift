/// The typed identity of one managed object (docs/engine.md, Identities). Two objects of
/// different kinds never share an identity, whatever their names: a column `a.b.c` and an
/// index `a.b.c` are different objects.
public struct ObjectID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var kind: Change.ObjectType
    public var schema: String
    /// The table the object belongs to (columns, constraints, indexes, policies, grants, ...).
    public var table: String?
    /// The object's own name (the role of a grant, the column of a column comment, empty for
    /// the RLS flags, owner and comment of a table).
    public var name: String

    public init(kind: Change.ObjectType, schema: String, table: String? = nil, name: String) {
        self.kind = kind
        self.schema = schema
        self.table = table
        self.name = name
    }

    public static func schema(_ name: String) -> ObjectID { ObjectID(kind: .schema, schema: name, name: "") }
    public static func enumType(_ name: QualifiedName) -> ObjectID { ObjectID(kind: .enum, schema: name.schema, name: name.name) }
    public static func table(_ name: QualifiedName) -> ObjectID { ObjectID(kind: .table, schema: name.schema, name: name.name) }
    public static func sequence(_ name: QualifiedName) -> ObjectID { ObjectID(kind: .sequence, schema: name.schema, name: name.name) }
    public static func view(_ name: QualifiedName) -> ObjectID { ObjectID(kind: .view, schema: name.schema, name: name.name) }
    /// A function by name and input argument types: `authorize(uuid, text)`.
    public static func function(_ key: FunctionKey) -> ObjectID { ObjectID(kind: .function, schema: key.name.schema, name: key.signature) }
    /// An extension: its identity is its name alone (it is installed once per database).
    public static func extensionObject(_ name: String) -> ObjectID { ObjectID(kind: .extension, schema: name, name: "") }
    /// An object of `table`: a column, constraint, index, policy, grant (by role) or trigger.
    public static func member(_ kind: Change.ObjectType, of table: QualifiedName, _ name: String) -> ObjectID {
        ObjectID(kind: kind, schema: table.schema, table: table.name, name: name)
    }
    /// A property of the table itself: its RLS flags, owner or comment.
    public static func property(_ kind: Change.ObjectType, of table: QualifiedName) -> ObjectID {
        ObjectID(kind: kind, schema: table.schema, table: table.name, name: "")
    }

    /// The table this object is or belongs to.
    public var tableName: QualifiedName? {
        if kind == .table { return QualifiedName(schema: schema, name: name) }
        return table.map { QualifiedName(schema: schema, name: $0) }
    }

    /// `public.projects`, `public.projects.name`: how reports name it (ambiguous across kinds
    /// and with dots in names; never used as a key).
    public var description: String {
        switch (table, name.isEmpty) {
        case (nil, true): return schema
        case (nil, false): return "\(schema).\(name)"
        case (let table?, true): return "\(schema).\(table)"
        case (let table?, false): return "\(schema).\(table).\(name)"
        }
    }

    /// `column:"public"."projects"."name"`: the kind and every part quoted, so no two objects
    /// share a key. The managed-object record and the ownership record are keyed by it.
    public var key: String {
        let parts = [schema] + (table.map { [$0] } ?? []) + (name.isEmpty ? [] : [name])
        return "\(kind.rawValue):" + parts.map(quoteIdentifier).joined(separator: ".")
    }

    /// The identity a `key` names, or nil for a key of another shape.
    public init?(key: String) {
        guard let colon = key.firstIndex(of: ":"), let kind = Change.ObjectType(rawValue: String(key[..<colon])) else { return nil }
        var parts: [String] = []
        var rest = key[key.index(after: colon)...]
        while !rest.isEmpty {
            guard rest.first == "\"" else { return nil }
            rest = rest.dropFirst()
            var part = ""
            while true {
                guard let character = rest.first else { return nil }
                rest = rest.dropFirst()
                if character == "\"" {
                    if rest.first == "\"" { part.append("\""); rest = rest.dropFirst(); continue }
                    break
                }
                part.append(character)
            }
            parts.append(part)
            if rest.first == "." { rest = rest.dropFirst() } else if !rest.isEmpty { return nil }
        }
        switch (kind, parts.count) {
        case (.schema, 1): self = .schema(parts[0])
        case (.extension, 1): self = .extensionObject(parts[0])
        case (.enum, 2), (.table, 2), (.sequence, 2), (.function, 2), (.view, 2): self.init(kind: kind, schema: parts[0], name: parts[1])
        case (.rls, 2), (.owner, 2), (.comment, 2): self.init(kind: kind, schema: parts[0], table: parts[1], name: "")
        case (_, 3): self.init(kind: kind, schema: parts[0], table: parts[1], name: parts[2])
        default: return nil
        }
    }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.key < rhs.key }
}

/// A value that is carried along but never part of its owner's equality: where a definition
/// was written (`Origin`), a rename instruction, a generated flag. With it, the model types
/// let the compiler synthesize `==` (docs/engine.md, Equality).
@propertyWrapper
public struct NotCompared<Value: Sendable & Codable>: Sendable, Codable, Hashable {
    public var wrappedValue: Value

    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }

    public static func == (lhs: NotCompared, rhs: NotCompared) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// An absent key decodes as nil for optional `NotCompared` values.
    public func decode<Wrapped: Sendable & Codable>(_ type: NotCompared<Wrapped?>.Type, forKey key: Key) throws -> NotCompared<Wrapped?> {
        NotCompared(wrappedValue: try decodeIfPresent(Wrapped.self, forKey: key))
    }

    /// An absent key decodes as false for `NotCompared<Bool>`.
    public func decode(_ type: NotCompared<Bool>.Type, forKey key: Key) throws -> NotCompared<Bool> {
        NotCompared(wrappedValue: try decodeIfPresent(Bool.self, forKey: key) ?? false)
    }
}
