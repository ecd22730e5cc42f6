import DriftlessCore
import Foundation
import Testing

/// Values of every shape Codable makes: nested containers (enums with associated values),
/// dictionaries by string, integer and other keys, optionals, escapes, a value that encodes
/// nothing, a custom encode through a super encoder.
private struct Sample: Codable, Equatable {
    enum Shape: Codable, Equatable {
        case circle(radius: Int)
        case labelled(String, tags: [String])
        case nothing
    }
    struct Empty: Codable, Equatable {}
    var text = "quote \" backslash \\ slash / newline \n tab \t bell \u{7} nul \u{0} ünïcode 🎉"
    var flag = true
    var small: Int8 = -8
    var large: UInt64 = .max
    var wide: Int64 = .min
    var ratio = 0.25
    var tiny: Float = 1.5
    var missing: String? = nil
    var present: String? = "here"
    var shapes: [Shape] = [.circle(radius: 3), .labelled("a", tags: ["x", "y"]), .nothing]
    var byName: [String: [Int]] = ["one": [1], "none": []]
    var byNumber: [Int: String] = [1: "a", 2: "b"]
    var byKey: [QualifiedName: Empty] = [QualifiedName(schema: "public", name: "t"): Empty()]
    var optionals: [String?] = ["a", nil]
    var nested: [[String: Bool]] = [[:], ["k": false]]
    var wrapped = Wrapped(inner: "w")
}

private struct Wrapped: Codable, Equatable {
    var inner: String
    enum Keys: String, CodingKey { case inner, base }
    init(inner: String) { self.inner = inner }
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        inner = try container.decode(String.self, forKey: .inner)
        _ = try container.superDecoder(forKey: .base)
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(inner, forKey: .inner)
        var base = container.superEncoder(forKey: .base).unkeyedContainer()
        try base.encode(1)
        try base.encode("two")
    }
}

@Suite struct StreamingJSONEncoderTests {
    func streamed<T: Encodable>(_ value: T) throws -> Data {
        let encoder = StreamingJSONEncoder()
        try encoder.append(value)
        return Data(encoder.bytes)
    }

    @Test func itWritesTheDocumentJSONEncoderWrites() throws {
        let data = try streamed(Sample())
        #expect(try JSONDecoder().decode(Sample.self, from: data) == Sample())
        // The same document, member for member, as Foundation's encoder writes.
        let ours = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? NSDictionary
        let theirs = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(Sample()), options: [.fragmentsAllowed]) as? NSDictionary
        #expect(ours != nil && ours == theirs)
        // Keys in the order they were encoded, as JSONEncoder keeps them.
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"text":"quote \" backslash \\ slash / newline \n tab \t bell \u0007 nul \u0000 ünïcode 🎉","flag":true,"small":-8,"#))
        #expect(!text.contains("missing"))
    }

    @Test func scalarsAndEmptyValuesStandAlone() throws {
        #expect(String(decoding: try streamed("a\"b"), as: UTF8.self) == #""a\"b""#)
        #expect(String(decoding: try streamed(42), as: UTF8.self) == "42")
        #expect(String(decoding: try streamed([String]()), as: UTF8.self) == "[]")
        #expect(String(decoding: try streamed(Sample.Empty()), as: UTF8.self) == "{}")
        #expect(String(decoding: try streamed([String?.none]), as: UTF8.self) == "[null]")
        #expect(throws: EncodingError.self) { try streamed(Double.nan) }
    }

    @Test func valuesFollowOneAnotherInOneBuffer() throws {
        let encoder = StreamingJSONEncoder()
        encoder.appendRaw("[")
        try encoder.append(["a": 1])
        encoder.appendRaw(",")
        try encoder.append(Sample.Shape.circle(radius: 2))
        encoder.appendRaw("]")
        #expect(String(decoding: encoder.bytes, as: UTF8.self) == #"[{"a":1},{"circle":{"radius":2}}]"#)
    }
}
