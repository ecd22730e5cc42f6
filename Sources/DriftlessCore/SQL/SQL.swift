import SQLParser

/// One generated statement: its text, and its template, the same statement with every user
/// fragment and every literal replaced by a marker. The template is the shape the renderer
/// meant; `StatementGuard` parses both and refuses a text whose tree differs from the
/// template's anywhere but at the markers (docs/security.md, Fragments).
///
/// Built only by interpolation, each part saying what it is: `\(name)` for a qualified name,
/// `\(ident:)`, `\(role:)`, `\(literal:)`, `\(keyword:)` for words Driftless chose, and
/// `\(expression:)`, `\(type:)` and `\(query:)` for what a user wrote. There is no plain `String`
/// interpolation, so a fragment cannot be pasted in unmarked by mistake.
public struct SQL: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// What is sent to the server.
    public private(set) var text: String
    /// The statement with markers where fragments and literals stand.
    public private(set) var template: String

    public var description: String { text }

    public init(stringLiteral value: String) {
        text = value
        template = value
    }

    public init(stringInterpolation: StringInterpolation) {
        text = stringInterpolation.text
        template = stringInterpolation.template
    }

    /// Statements joined by `separator` (a list of column definitions, say).
    public static func joined(_ parts: [SQL], separator: String) -> SQL {
        var result = SQL(stringLiteral: "")
        for (index, part) in parts.enumerated() {
            if index > 0 { result.append(separator, separator) }
            result.append(part.text, part.template)
        }
        return result
    }

    mutating func append(_ text: String, _ template: String) {
        self.text += text
        self.template += template
    }

    static let expressionMarker = "__driftless_fragment__"
    static let typeMarker = "__driftless_type__"
    static let literalMarker = "__driftless_literal__"
    static let identifierMarker = "__driftless_ident__"
    static let queryMarker = "__driftless_query__"
    static let quotedIdentifierMarker = quoteIdentifier(identifierMarker)

    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""
        var template = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        mutating func append(_ both: String) {
            text += both
            template += both
        }

        public mutating func appendLiteral(_ literal: String) { append(literal) }

        /// Another piece of generated SQL.
        public mutating func appendInterpolation(_ sql: SQL) {
            text += sql.text
            template += sql.template
        }

        /// `"schema"."name"`.
        public mutating func appendInterpolation(_ name: QualifiedName) {
            text += name.sql
            template += SQL.quotedIdentifierMarker + "." + SQL.quotedIdentifierMarker
        }

        /// A double-quoted identifier. Names are not shape: the template holds a marker, so the
        /// templates of every table are the same text, parsed once per plan.
        public mutating func appendInterpolation(ident name: String) {
            text += quoteIdentifier(name)
            template += SQL.quotedIdentifierMarker
        }

        /// `PUBLIC` or a quoted role name.
        public mutating func appendInterpolation(role name: String) {
            if name == "public" { append("PUBLIC") } else { appendInterpolation(ident: name) }
        }

        /// A keyword or clause Driftless chose (`ENABLE`, `SELECT, INSERT`), never user text.
        public mutating func appendInterpolation(keyword: String) { append(keyword) }

        /// A string literal.
        public mutating func appendInterpolation(literal value: String) {
            text += SQLText.literal(value)
            template += SQLText.literal(SQL.literalMarker)
        }

        /// A user expression, in parentheses.
        public mutating func appendInterpolation(expression: String) {
            text += "(" + expression + ")"
            template += "(" + quoteIdentifier(SQL.expressionMarker) + ")"
        }

        /// A user query (a view's SELECT), as it stands.
        public mutating func appendInterpolation(query: String) {
            text += query
            template += "SELECT " + quoteIdentifier(SQL.queryMarker)
        }

        /// A user type name.
        public mutating func appendInterpolation(type: String) {
            text += type
            template += quoteIdentifier(SQL.typeMarker)
        }
    }
}

/// The check every generated statement passes before it is sent (blueprint.md, Validation):
/// exactly one statement, whose parse tree equals its template's except at the markers.
public enum StatementGuard {
    /// Why a statement was refused.
    public struct Violation: Error, Equatable, Sendable, CustomStringConvertible {
        public var statement: String
        public var reason: String
        public var description: String { "generated statement refused: \(reason)" }
    }

    /// Checks `sql` against its template.
    /// - Throws: `Violation` naming what differs.
    public static func check(_ sql: SQL) throws(Violation) {
        var checker = Checker()
        try checker.check(sql)
    }

    /// Checks many statements, parsing each distinct template once (the templates of a plan
    /// repeat table after table).
    public struct Checker {
        var templates: [String: [UInt8]] = [:]

        public init() {}

        /// Checks `sql` against its template.
        /// - Throws: `Violation` naming what differs.
        public mutating func check(_ sql: SQL) throws(Violation) {
            // The fast path compares the parser's JSON texts (ParseTreeMatcher); only a refusal
            // is decoded, to say where the trees differ.
            let text: [UInt8]
            do { text = try SQLParser.parseJSON(sql.text) } catch {
                throw Violation(statement: sql.text, reason: "it does not parse: \(error)")
            }
            let meant: [UInt8]
            if let known = templates[sql.template] {
                meant = known
            } else {
                meant = (try? SQLParser.parseJSON(sql.template)) ?? []
                templates[sql.template] = meant
            }
            if ParseTreeMatcher.statementCount(meant) == 1, ParseTreeMatcher.matches(template: meant, text: text) { return }
            try StatementGuard.explain(sql)
        }
    }

    /// Throws the violation of a statement the fast path refused, with where its tree differs.
    static func explain(_ sql: SQL) throws(Violation) {
        let actual = try single(sql.text, sql)
        let meant = try single(sql.template, sql)
        guard actual.tag == meant.tag else {
            throw Violation(statement: sql.text, reason: "it is a \(actual.tag), the renderer meant a \(meant.tag)")
        }
        let difference = compare(meant.node, actual.node, path: meant.tag) ?? meant.tag
        throw Violation(statement: sql.text, reason: "its shape differs from the one rendered at \(difference)")
    }

    /// Changes per chunk a checker of its own takes (here, and in apply's check ahead of the
    /// statements being sent).
    public static let chunkSize = 256

    /// Every statement of `changes` that the guard refuses, with its change.
    public static func violations(in changes: [Change], parallelism: Parallelism = .sequential) -> [(Change, Violation)] {
        // Parsing is the cost (a third of a 1,000-table apply's CPU): chunks spread the way
        // blueprint files are decoded, each with a checker of its own.
        parallelism.map(changes, runsOf: chunkSize) { chunk -> [Refusal] in
            var refused: [Refusal] = []
            var checker = Checker()
            for change in chunk {
                for sql in change.sql {
                    do throws(Violation) { try checker.check(sql) } catch { refused.append(Refusal(change: change, violation: error)) }
                }
            }
            return refused
        }.flatMap { $0.map { ($0.change, $0.violation) } }
    }

    struct Refusal: Sendable {
        var change: Change
        var violation: Violation
    }

    static func single(_ text: String, _ sql: SQL) throws(Violation) -> SQLParser.Statement {
        let statements: [SQLParser.Statement]
        do { statements = try SQLParser.parse(text) } catch {
            throw Violation(statement: sql.text, reason: "it does not parse: \(error)")
        }
        guard statements.count == 1 else {
            throw Violation(statement: sql.text, reason: "it is \(statements.count) statements, not one")
        }
        return statements[0]
    }

    /// The path of the first difference between the template's tree and the text's, or nil.
    static func compare(_ meant: ParseNode, _ actual: ParseNode, path: String) -> String? {
        switch meant {
        case .scalar(let value):
            if value == SQL.literalMarker || value == SQL.identifierMarker, actual.text != nil { return nil }
            return meant == actual ? nil : path
        case .array(let items):
            let others = actual.elements
            guard case .array = actual, items.count == others.count else { return path }
            for (index, item) in items.enumerated() {
                if let difference = compare(item, others[index], path: "\(path)[\(index)]") { return difference }
            }
            return nil
        case .object(let fields):
            if isMarker(meant) {
                guard case .object = actual else { return path }
                return nil
            }
            if isQueryMarker(meant) {
                return actual["SelectStmt"] != nil && actual.keys.count == 1 ? nil : path
            }
            if isTypeMarker(meant) {
                return actual["names"] != nil ? nil : path
            }
            guard case .object(let actualFields) = actual else { return path }
            // The parser leaves an empty string out: a literal marker's field may be missing.
            let optional = Set(fields.filter { $0.value.text == SQL.literalMarker }.keys)
            let keys = Set(fields.keys).subtracting(["location"])
            let actualKeys = Set(actualFields.keys).subtracting(["location"])
            guard actualKeys.isSubset(of: keys), keys.subtracting(actualKeys).isSubset(of: optional) else {
                return "\(path).{\(keys.symmetricDifference(actualKeys).sorted().joined(separator: ","))}"
            }
            for key in actualKeys.sorted() {
                if let difference = compare(fields[key]!, actualFields[key]!, path: "\(path).\(key)") { return difference }
            }
            return nil
        }
    }

    /// `ColumnRef` of the expression marker: any one expression may stand there.
    static func isMarker(_ node: ParseNode) -> Bool {
        guard let reference = node["ColumnRef"], node.keys.count == 1 else { return false }
        let fields = reference["fields"]?.elements ?? []
        return fields.count == 1 && fields[0]["String"]?["sval"]?.text == SQL.expressionMarker
    }

    /// The SELECT of the query marker: any one SELECT may stand there.
    static func isQueryMarker(_ node: ParseNode) -> Bool {
        guard let select = node["SelectStmt"], node.keys.count == 1 else { return false }
        let targets = select["targetList"]?.elements ?? []
        guard targets.count == 1, let fields = targets[0]["ResTarget"]?["val"]?["ColumnRef"]?["fields"]?.elements else { return false }
        return fields.count == 1 && fields[0]["String"]?["sval"]?.text == SQL.queryMarker
    }

    /// A type name of the type marker: any one type name may stand there.
    static func isTypeMarker(_ node: ParseNode) -> Bool {
        let names = node["names"]?.elements ?? []
        return names.count == 1 && names[0]["String"]?["sval"]?.text == SQL.typeMarker
    }
}
