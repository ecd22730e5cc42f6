import Yams

/// A parsed YAML/JSON node with its position: the decoder's input.
///
/// JSON is read by the same YAML parser (YAML is a superset of JSON), so both formats get the
/// same line:column in every message, including for truncated or malformed files.
indirect enum SourceNode {
    case scalar(Scalar)
    case mapping([(key: String, keyMark: Mark?, value: SourceNode)], Mark?)
    case sequence([SourceNode], Mark?)

    struct Scalar {
        var text: String
        /// What YAML resolved the plain scalar to (quoted scalars are always strings).
        var kind: Kind
        var mark: Mark?
        enum Kind { case string, int, float, bool, null }
    }

    struct Mark: Equatable {
        var line: Int
        var column: Int
    }

    var mark: Mark? {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(_, let mark), .sequence(_, let mark): mark
        }
    }

    var isNull: Bool {
        if case .scalar(let scalar) = self, scalar.kind == .null { return true }
        return false
    }

    /// A short name of the node's kind, for "expected a list, found a mapping".
    var kindName: String {
        switch self {
        case .scalar(let scalar):
            switch scalar.kind {
            case .null: "null"
            case .bool: "a boolean"
            case .int, .float: "a number"
            case .string: "a string"
            }
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

/// Why a document could not be read at all.
struct SourceParseFailure: Error {
    var code: String
    var message: String
    var line: Int?
    var column: Int?
}

enum SourceParser {
    /// Without aliases a document has fewer nodes than bytes; aliases may multiply that a
    /// little (shared column lists), never exponentially. More than this many nodes per byte
    /// is an alias bomb ("billion laughs") and is refused before it is expanded further.
    static let maximumNodesPerByte = 20
    static let maximumNodes = 5_000_000
    /// Deeper than this is no blueprint (the format nests six levels).
    static let maximumDepth = 64

    /// Parses one YAML or JSON text into a `SourceNode`; `nil` for an empty document.
    /// - Throws: `SourceParseFailure` with the parser's line and column.
    static func parse(_ text: String) throws -> SourceNode? {
        try checkNesting(text)
        let root: Node?
        do {
            // `.basic` skips Yams' regex tag resolution (`kind(of:)` below does it by hand); an
            // explicit encoding saves reading the environment for every document.
            root = try Yams.compose(yaml: text, .basic, .default, .utf8)
        } catch let error as YamlError {
            throw clamp(failure(from: error), to: text)
        }
        guard let root else { return nil }
        var budget = min(maximumNodes, max(10_000, text.utf8.count * maximumNodesPerByte))
        return try convert(root, depth: 0, budget: &budget)
    }

    /// Flow collections nest without indentation; refuse absurd depth before the recursive
    /// composer sees it.
    private static func checkNesting(_ text: String) throws {
        var depth = 0
        var line = 1
        var column = 0
        var quote: UInt8? = nil
        for byte in text.utf8 {
            column += 1
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
                quote = nil
                continue
            }
            if let open = quote {
                if byte == open { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth {
                    throw SourceParseFailure(
                        code: "too_deep", message: "the document nests deeper than \(maximumDepth) levels",
                        line: line, column: column)
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
    }

    private static func convert(_ node: Node, depth: Int, budget: inout Int) throws -> SourceNode {
        budget -= 1
        guard budget >= 0 else {
            throw SourceParseFailure(
                code: "too_large",
                message: "the document expands to far more nodes than its size explains (YAML aliases that multiply?); refused",
                line: node.mark.map(\.line), column: node.mark.map(\.column))
        }
        guard depth <= maximumDepth else {
            throw SourceParseFailure(
                code: "too_deep", message: "the document nests deeper than \(maximumDepth) levels",
                line: node.mark.map(\.line), column: node.mark.map(\.column))
        }
        let mark = node.mark.map { SourceNode.Mark(line: $0.line, column: $0.column) }
        switch node {
        case .scalar(let scalar):
            return .scalar(.init(text: scalar.string, kind: kind(of: scalar), mark: mark))
        case .mapping(let mapping):
            var pairs: [(key: String, keyMark: SourceNode.Mark?, value: SourceNode)] = []
            for (key, value) in mapping {
                let keyMark = key.mark.map { SourceNode.Mark(line: $0.line, column: $0.column) }
                pairs.append((key.string ?? "", keyMark, try convert(value, depth: depth + 1, budget: &budget)))
            }
            return .mapping(pairs, mark)
        case .sequence(let sequence):
            var items: [SourceNode] = []
            for item in sequence {
                items.append(try convert(item, depth: depth + 1, budget: &budget))
            }
            return .sequence(items, mark)
        case .alias:
            throw SourceParseFailure(
                code: "parse_error", message: "unresolved YAML alias", line: mark?.line, column: mark?.column)
        }
    }

    /// YAML 1.1's resolution of plain scalars, written out: the regex resolver costs a
    /// thousand times more, and the decoder only needs the broad kind.
    static func kind(of scalar: Node.Scalar) -> SourceNode.Scalar.Kind {
        guard scalar.style == .plain else { return .string }
        let text = scalar.string
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
             "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N":
            return .bool
        case ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN": return .float
        default: break
        }
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard let first = digits.first, first.isASCII, first.isNumber || first == "." else { return .string }
        if digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }) { return .int }
        if digits.hasPrefix("0x") && digits.dropFirst(2).allSatisfy(\.isHexDigit) && digits.count > 2 { return .int }
        if Double(digits.replacingOccurrences(of: "_", with: "")) != nil { return .float }
        return .string
    }

    /// libyaml reports an unexpected end of input one line past the last; point at the last.
    private static func clamp(_ failure: SourceParseFailure, to text: String) -> SourceParseFailure {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let lastLine = text.hasSuffix("\n") ? lines.count - 1 : lines.count
        guard let line = failure.line, line > lastLine, lastLine > 0 else { return failure }
        var clamped = failure
        clamped.line = lastLine
        clamped.column = lines[lastLine - 1].count + 1
        return clamped
    }

    private static func failure(from error: YamlError) -> SourceParseFailure {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            return SourceParseFailure(
                code: "parse_error", message: "not valid YAML or JSON: \(detail)", line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return SourceParseFailure(
                code: "duplicate_key",
                message: "the key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) appears twice in one mapping",
                line: context.mark.line, column: context.mark.column)
        default:
            return SourceParseFailure(code: "parse_error", message: "not valid YAML or JSON: \(error)")
        }
    }
}
