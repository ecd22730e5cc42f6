/// Writes `Encodable` values as JSON straight into one byte buffer, as they are encoded
/// (docs/engine.md, Caches). Foundation's `JSONEncoder` first builds every value as a tree of
/// references and then serializes the tree: for the canonical cache of 1,000 tables that was
/// about 1.85 billion instructions of a 12.9 billion apply (docs/benchmarks.md). The document
/// is the one `JSONEncoder` writes with its default strategies, whitespace and the escaping of
/// `/` aside, so `JSONDecoder` reads it: keyed containers are objects in the order their keys
/// were encoded, unkeyed ones arrays, a value that encodes nothing is `{}`, a nil optional left
/// out by `encodeIfPresent` stays out. Not handled, because nothing written with it has them:
/// `Data`, `Date`, `URL` and `Decimal`, which `JSONEncoder` writes in forms of its own.
public final class StreamingJSONEncoder {
    private let writer = JSONWriter()

    /// The JSON written so far.
    public var bytes: [UInt8] { writer.bytes }

    public init(capacity: Int = 0) { writer.bytes.reserveCapacity(capacity) }

    /// Appends `value`'s JSON.
    /// - Throws: `EncodingError.invalidValue` for a number JSON cannot hold (NaN, infinity).
    public func append<T: Encodable>(_ value: T) throws {
        try writer.value(value)
    }

    /// Appends text as it is (the punctuation between values, which the caller writes).
    public func appendRaw(_ text: String) {
        writer.bytes.append(contentsOf: text.utf8)
    }
}

/// The buffer and the containers open in it. Containers nest strictly: a nested container
/// asked of a keyed or unkeyed container is closed before its parent writes anything else.
final class JSONWriter {
    var bytes: [UInt8] = []
    static let hex = Array("0123456789abcdef".utf8)

    /// Writes one whole value: a scalar directly, anything else through its `encode(to:)`.
    func value<T: Encodable>(_ value: T) throws {
        if try scalar(value) { return }
        let slot = JSONSlot(writer: self)
        try value.encode(to: StreamingEncoder(slot: slot))
        slot.close()
    }

    /// Writes `value` when it is one of the standard scalars; false when it is not.
    func scalar<T: Encodable>(_ value: T) throws -> Bool {
        // By metatype, not `as?`: a failed dynamic cast per scalar type for every struct cost
        // more than the writing.
        if T.self == String.self { string(unsafeBitCast(value, to: String.self)) }
        else if T.self == Bool.self { literal(unsafeBitCast(value, to: Bool.self) ? "true" : "false") }
        else if T.self == Int.self { integer(unsafeBitCast(value, to: Int.self)) }
        else if T.self == Int64.self { integer(unsafeBitCast(value, to: Int64.self)) }
        else if T.self == Int32.self { integer(unsafeBitCast(value, to: Int32.self)) }
        else if T.self == Int16.self { integer(unsafeBitCast(value, to: Int16.self)) }
        else if T.self == Int8.self { integer(unsafeBitCast(value, to: Int8.self)) }
        else if T.self == UInt.self { integer(unsafeBitCast(value, to: UInt.self)) }
        else if T.self == UInt64.self { integer(unsafeBitCast(value, to: UInt64.self)) }
        else if T.self == UInt32.self { integer(unsafeBitCast(value, to: UInt32.self)) }
        else if T.self == UInt16.self { integer(unsafeBitCast(value, to: UInt16.self)) }
        else if T.self == UInt8.self { integer(unsafeBitCast(value, to: UInt8.self)) }
        else if T.self == Double.self { try floating(unsafeBitCast(value, to: Double.self)) }
        else if T.self == Float.self { try floating(Double(unsafeBitCast(value, to: Float.self))) }
        else { return false }
        return true
    }

    func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    func integer<N: BinaryInteger>(_ number: N) {
        bytes.append(contentsOf: String(number).utf8)
    }

    func floating(_ number: Double) throws {
        guard number.isFinite else {
            throw EncodingError.invalidValue(number, .init(codingPath: [], debugDescription: "JSON cannot hold \(number)"))
        }
        bytes.append(contentsOf: number.description.utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), JSONWriter.hex[Int(byte >> 4)], JSONWriter.hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// One value being written: what it has opened, how many members it has, and the nested
/// container still open inside it.
final class JSONSlot {
    enum State { case empty, object, array, single }
    let writer: JSONWriter
    var state = State.empty
    var count = 0
    var openChild: JSONSlot?

    init(writer: JSONWriter) { self.writer = writer }

    func open(_ wanted: State) {
        switch (state, wanted) {
        case (.empty, .object): writer.bytes.append(UInt8(ascii: "{"))
        case (.empty, .array): writer.bytes.append(UInt8(ascii: "["))
        case (.empty, .single): break
        case (.object, .object), (.array, .array), (.single, .single): return
        default: preconditionFailure("a value asked for two different containers while it was encoded")
        }
        state = wanted
    }

    /// Before a member is written: the nested container left open is closed, then a comma.
    func nextMember() {
        closeChild()
        if count > 0 { writer.bytes.append(UInt8(ascii: ",")) }
        count += 1
    }

    func key(_ key: any CodingKey) {
        nextMember()
        writer.string(key.stringValue)
        writer.bytes.append(UInt8(ascii: ":"))
    }

    func closeChild() {
        openChild?.close()
        openChild = nil
    }

    /// A nested slot, open until this one writes its next member or closes.
    func child(_ state: State) -> JSONSlot {
        let slot = JSONSlot(writer: writer)
        if state != .empty { slot.open(state) }
        openChild = slot
        return slot
    }

    func close() {
        closeChild()
        switch state {
        case .empty: writer.bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
        case .object: writer.bytes.append(UInt8(ascii: "}"))
        case .array: writer.bytes.append(UInt8(ascii: "]"))
        case .single: if count == 0 { writer.literal("null") }
        }
    }
}

struct StreamingEncoder: Encoder {
    let slot: JSONSlot
    /// Not kept: nothing this writes can fail but a number JSON cannot hold, and building the
    /// path cost an array per value.
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        slot.open(.object)
        return KeyedEncodingContainer(StreamingKeyedContainer<Key>(slot: slot))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.open(.array)
        return StreamingUnkeyedContainer(slot: slot)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        slot.open(.single)
        return StreamingSingleValueContainer(slot: slot)
    }
}

struct StreamingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: JSONSlot
    /// Not kept: nothing this writes can fail but a number JSON cannot hold, and building the
    /// path cost an array per value.
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        slot.key(key)
        slot.writer.literal("null")
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        slot.key(key)
        try slot.writer.value(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        slot.key(key)
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(slot: slot.child(.object)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        slot.key(key)
        return StreamingUnkeyedContainer(slot: slot.child(.array))
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        slot.key(key)
        return StreamingEncoder(slot: slot.child(.empty))
    }
}

struct StreamingUnkeyedContainer: UnkeyedEncodingContainer {
    let slot: JSONSlot
    /// Not kept: nothing this writes can fail but a number JSON cannot hold, and building the
    /// path cost an array per value.
    var codingPath: [any CodingKey] { [] }
    var count: Int { slot.count }

    mutating func encodeNil() throws {
        slot.nextMember()
        slot.writer.literal("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        slot.nextMember()
        try slot.writer.value(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        slot.nextMember()
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(slot: slot.child(.object)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.nextMember()
        return StreamingUnkeyedContainer(slot: slot.child(.array))
    }

    mutating func superEncoder() -> any Encoder {
        slot.nextMember()
        return StreamingEncoder(slot: slot.child(.empty))
    }
}

struct StreamingSingleValueContainer: SingleValueEncodingContainer {
    let slot: JSONSlot
    /// Not kept: nothing this writes can fail but a number JSON cannot hold, and building the
    /// path cost an array per value.
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws {
        precondition(slot.count == 0, "a single value container encoded two values")
        slot.count = 1
        slot.writer.literal("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        precondition(slot.count == 0, "a single value container encoded two values")
        slot.count = 1
        try slot.writer.value(value)
    }
}
