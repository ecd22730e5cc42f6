internal import CLibPgQuery
import Foundation

/// PostgreSQL's own parser (libpg_query, the PostgreSQL 15 grammar), the one judge of what a
/// piece of SQL is. No C type leaves this module: a parse answers a tree of `ParseNode`s.
///
/// The parser reads strings as a server with `standard_conforming_strings = on` does (the
/// default since PostgreSQL 9.1, and what the reconciler sets for its transactions), so both
/// sides agree on where every literal starts and ends.
public enum SQLParser {
    /// The grammar's refusal: its message and the 1-based character position it points at.
    public struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        /// 1-based character offset into the parsed text; nil when the parser names none.
        public var position: Int?
        public var description: String {
            position.map { "\(message) at character \($0)" } ?? message
        }
    }

    /// One statement of a parsed text.
    public struct Statement: Equatable, Sendable {
        /// `SelectStmt`, `AlterTableStmt`, ...
        public var tag: String
        /// The statement's node (the value under its tag).
        public var node: ParseNode
    }

    /// The parser's tree of `sql` as the JSON text libpg_query writes: `{"version":...,
    /// "stmts":[{"stmt":{"<Tag>":{...}}}, ...]}`, fields in a fixed order, defaults (false, 0,
    /// empty) left out. Cheap to compare without decoding (`ParseTreeMatcher`).
    /// - Throws: `SyntaxError` when the grammar refuses it.
    public static func parseJSON(_ sql: String) throws(SyntaxError) -> [UInt8] {
        let result = pg_query_parse(sql)
        defer { pg_query_free_parse_result(result) }
        if let error = result.error {
            let position = Int(error.pointee.cursorpos)
            throw SyntaxError(message: String(cString: error.pointee.message), position: position > 0 ? position : nil)
        }
        guard let tree = result.parse_tree else { return [] }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(tree).assumingMemoryBound(to: UInt8.self), count: strlen(tree)))
    }

    /// Parses `sql` into its statements, decoded.
    /// - Throws: `SyntaxError` when the grammar refuses it.
    public static func parse(_ sql: String) throws(SyntaxError) -> [Statement] {
        let json = try parseJSON(sql)
        guard !json.isEmpty else { return [] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)), case .object(let root) = ParseNode(object),
              case .array(let statements)? = root["stmts"] ?? .array([]) else {
            throw SyntaxError(message: "the parser's answer could not be read", position: nil)
        }
        return statements.compactMap { raw in
            guard case .object(let fields) = raw, case .object(let wrapped)? = fields["stmt"],
                  let (tag, node) = wrapped.first, wrapped.count == 1 else { return nil }
            return Statement(tag: tag, node: node)
        }
    }

    /// Parses the PL/pgSQL body of a `CREATE FUNCTION ... LANGUAGE plpgsql` statement.
    /// - Throws: `SyntaxError` when the body does not parse.
    public static func parsePLpgSQL(_ createFunction: String) throws(SyntaxError) -> ParseNode {
        let result = pg_query_parse_plpgsql(createFunction)
        defer { pg_query_free_plpgsql_parse_result(result) }
        if let error = result.error {
            let position = Int(error.pointee.cursorpos)
            throw SyntaxError(message: String(cString: error.pointee.message), position: position > 0 ? position : nil)
        }
        guard let text = result.plpgsql_funcs,
              let object = try? JSONSerialization.jsonObject(with: Data(String(cString: text).utf8)) else {
            throw SyntaxError(message: "the parser's answer could not be read", position: nil)
        }
        return ParseNode(object)
    }
}

/// A node of the parser's tree: objects keyed by field name, lists, and scalars (numbers and
/// booleans as their text; a tree is compared, never computed with).
public indirect enum ParseNode: Equatable, Sendable {
    case object([String: ParseNode])
    case array([ParseNode])
    case scalar(String)

    init(_ value: Any) {
        switch value {
        case let dictionary as [String: Any]: self = .object(dictionary.mapValues(ParseNode.init))
        case let array as [Any]: self = .array(array.map(ParseNode.init))
        case let string as String: self = .scalar(string)
        case let number as NSNumber: self = .scalar(number.stringValue)
        default: self = .scalar("")
        }
    }

    /// The field `key` of an object node.
    public subscript(key: String) -> ParseNode? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    /// The elements of a list node (empty for anything else).
    public var elements: [ParseNode] {
        if case .array(let items) = self { return items }
        return []
    }

    /// The field names of an object node.
    public var keys: Set<String> {
        if case .object(let fields) = self { return Set(fields.keys) }
        return []
    }

    /// The text of a scalar node.
    public var text: String? {
        if case .scalar(let value) = self { return value }
        return nil
    }
}
