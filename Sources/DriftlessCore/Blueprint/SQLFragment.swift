import SQLParser

/// The SQL fragments users write (types, defaults, checks, predicates, policy expressions,
/// index expressions, the tenancy expression), each parsed by PostgreSQL's own parser as
/// exactly the syntactic category its field holds (docs/security.md, Fragments).
///
/// A fragment is parsed inside the very text the renderer embeds it in (`SELECT (<fragment>)`
/// for an expression, `CREATE TABLE t (c <type>)` for a type), and the tree must be exactly one
/// statement of the expected form with nothing beside the fragment: a fragment that closes the
/// parentheses and continues the enclosing statement, a second statement, a comment that
/// swallows the closing parenthesis or a clause such as `FROM` all fail here, whatever quoting
/// trick (`E'...'`, `U&'...'`, `$tag$`, nested comments) they use, because the judge is the
/// grammar the server runs.
public enum SQLFragment {
    /// What a field holds.
    public enum Category: String, Sendable {
        /// One value expression (`length(name) > 0`).
        case expression
        /// One type name (`varchar(80)[]`, `public.mood`).
        case typeName = "type"
        /// One SELECT query (a view's definition).
        case query
    }

    /// Why a fragment was refused: the code, a sentence, and the character of the fragment the
    /// parser pointed at.
    public struct Problem: Equatable, Sendable {
        public var code: String
        public var message: String
        /// 1-based character offset into the fragment, when the parser named one.
        public var position: Int?
    }

    /// The first problem of `text` as a fragment of `category`, or nil when it is exactly one.
    public static func problem(in text: String, as category: Category) -> Problem? {
        if text.allSatisfy(\.isWhitespace) {
            return Problem(code: "empty_sql", message: "the SQL fragment is empty")
        }
        if text.unicodeScalars.contains(where: { $0.value == 0 }) {
            return Problem(code: "invalid_fragment", message: "the SQL fragment contains a NUL character")
        }
        for (prefix, suffix) in wrappers(category) {
            if let problem = problem(in: text, as: category, within: prefix, suffix) { return problem }
        }
        return nil
    }

    /// The text fragments of `category` are parsed inside: the way the renderer embeds them.
    /// An expression is parsed bare and in the parentheses it is rendered in: bare, a fragment
    /// that closes the parentheses (or comments them out) does not parse; parenthesized, a
    /// comma list would be one row constructor.
    static func wrappers(_ category: Category) -> [(String, String)] {
        switch category {
        case .expression: return [("SELECT ", ""), ("SELECT (", ")")]
        case .typeName: return [("CREATE TABLE t (c ", ")")]
        case .query: return [("", "")]
        }
    }

    /// The tree of exactly one fragment of `category` in a wrapper: its marker stands where the
    /// fragment does. Parsed once.
    static let templates: [Category: [UInt8]] = [
        .expression: (try? SQLParser.parseJSON("SELECT " + quoteIdentifier(SQL.expressionMarker))) ?? [],
        .typeName: (try? SQLParser.parseJSON("CREATE TABLE t (c " + quoteIdentifier(SQL.typeMarker) + ")")) ?? [],
    ]

    static func problem(in text: String, as category: Category, within prefix: String, _ suffix: String) -> Problem? {
        // The fast path: the tree is the category's template with the fragment in the marker's place.
        if let template = templates[category], let tree = try? SQLParser.parseJSON(prefix + text + suffix),
           ParseTreeMatcher.matches(template: template, text: tree) {
            return nil
        }
        let statements: [SQLParser.Statement]
        do {
            statements = try SQLParser.parse(prefix + text + suffix)
        } catch {
            let position = error.position.map { $0 - prefix.count }
            let place = position.map { $0 >= 1 && $0 <= text.count ? " at character \($0) of the fragment" : " after the fragment" } ?? ""
            return Problem(code: "invalid_fragment",
                           message: "PostgreSQL's parser refuses this \(category.noun): \(error.message)\(place)",
                           position: position.flatMap { $0 >= 1 && $0 <= text.count ? $0 : nil })
        }
        guard statements.count == 1, let statement = statements.first else {
            return Problem(code: "invalid_fragment",
                           message: "the \(category.noun) holds \(statements.count) statements; a fragment is exactly one \(category.noun)")
        }
        if let reason = shapeProblem(statement, category) {
            return Problem(code: "invalid_fragment", message: "not exactly one \(category.noun): \(reason)")
        }
        // The template decides; the decoded tree only explains. A query has no template.
        guard templates[category] == nil else {
            return Problem(code: "invalid_fragment", message: "not exactly one \(category.noun): its parse tree has more than the \(category.noun)")
        }
        return nil
    }

    /// Why the parsed wrapper is not exactly one fragment of the category, or nil.
    static func shapeProblem(_ statement: SQLParser.Statement, _ category: Category) -> String? {
        switch category {
        case .expression:
            guard statement.tag == "SelectStmt" else { return "it continues into a \(statement.tag)" }
            let extra = statement.node.keys.subtracting(["targetList", "limitOption", "op"])
            if !extra.isEmpty { return "it continues with \(clauseNames(extra))" }
            let targets = statement.node["targetList"]?.elements ?? []
            guard targets.count == 1 else { return "it is \(targets.count) expressions separated by commas" }
            guard let target = targets[0]["ResTarget"], target["val"] != nil,
                  target.keys.subtracting(["val", "location"]).isEmpty else {
                return "it names its result or is not a value"
            }
            return nil
        case .typeName:
            guard statement.tag == "CreateStmt" else { return "it continues into a \(statement.tag)" }
            let extra = statement.node.keys.subtracting(["relation", "tableElts", "oncommit"])
            if !extra.isEmpty { return "it continues with \(clauseNames(extra))" }
            let elements = statement.node["tableElts"]?.elements ?? []
            guard elements.count == 1, let column = elements[0]["ColumnDef"] else {
                return "it is followed by more column or constraint definitions"
            }
            let beside = column.keys.subtracting(["colname", "typeName", "is_local", "location"])
            if !beside.isEmpty { return "it carries \(clauseNames(beside)) beside the type" }
            return nil
        case .query:
            guard statement.tag == "SelectStmt" else { return "it is a \(statement.tag), not a SELECT" }
            let forbidden = statement.node.keys.intersection(["intoClause", "lockingClause"])
            if !forbidden.isEmpty { return "it carries \(clauseNames(forbidden))" }
            return nil
        }
    }

    static func clauseNames(_ keys: Set<String>) -> String {
        keys.sorted().joined(separator: ", ")
    }
}

extension SQLFragment.Category {
    var noun: String {
        switch self {
        case .expression: return "expression"
        case .typeName: return "type name"
        case .query: return "query"
        }
    }
}
