/// Declarative partitioning (docs/blueprints.md, Partitions): how a partitioned table divides
/// its rows (`partition_by`) and which rows a partition holds (`partition_of`).
///
/// Both are compared as the server prints them (`pg_get_partkeydef`, `pg_get_expr` of
/// `relpartbound`) and rendered from these structured forms, whose user parts (a key
/// expression, the bound values) go into statements as expression fragments the statement
/// guard checks.
public struct PartitionKey: Sendable, Equatable, Codable {
    public enum Strategy: String, Sendable, Equatable, Codable, CaseIterable { case range, list, hash }

    public var strategy: Strategy
    /// Key columns, or one key expression.
    public var columns: [String]?
    public var expression: String?

    public init(strategy: Strategy, columns: [String]? = nil, expression: String? = nil) {
        self.strategy = strategy
        self.columns = columns
        self.expression = expression
    }

    /// What the blueprint says before the server prints it: `RANGE (created_at)`.
    public var text: String {
        let keys = columns.map { $0.map(quoteIdentifier).joined(separator: ", ") } ?? "(\(expression ?? ""))"
        return "\(strategy.rawValue.uppercased()) (\(keys))"
    }

    /// The structured form of `pg_get_partkeydef`'s text: plain or quoted column names become
    /// `columns`, a single other key becomes `expression`; nil for anything else (several keys
    /// with an expression among them, operator classes, collations).
    public init?(server text: String) {
        var scanner = BoundScanner(text)
        guard let word = scanner.word(), let strategy = Strategy(rawValue: word.lowercased()),
              let keys = scanner.group(), scanner.atEnd, !keys.isEmpty else { return nil }
        self.strategy = strategy
        let names = keys.map(BoundScanner.identifier)
        if names.allSatisfy({ $0 != nil }) {
            columns = names.compactMap { $0 }
        } else if keys.count == 1 {
            var key = keys[0]
            // `((a + b))` is printed with the parentheses the grammar needs around an expression.
            while key.hasPrefix("("), key.hasSuffix(")"), BoundScanner.enclosed(key) { key = String(key.dropFirst().dropLast()) }
            expression = key
        } else {
            return nil
        }
    }
}

/// The rows a partition holds: `FOR VALUES IN (...)`, `FROM (...) TO (...)`, `WITH (MODULUS m,
/// REMAINDER r)`, or `DEFAULT`.
public enum PartitionBound: Sendable, Equatable, Codable {
    case `default`
    case list([String])
    case range(from: [String], to: [String])
    case hash(modulus: Int, remainder: Int)

    /// Reads the bound a blueprint writes or the server prints. Values stay text (each one
    /// expression, checked where it is used); nil when the text is not one of the four forms.
    public init?(_ text: String) {
        var scanner = BoundScanner(text)
        guard let first = scanner.word()?.uppercased() else { return nil }
        if first == "DEFAULT" {
            guard scanner.atEnd else { return nil }
            self = .default
            return
        }
        guard first == "FOR", scanner.word()?.uppercased() == "VALUES", let form = scanner.word()?.uppercased() else { return nil }
        switch form {
        case "IN":
            guard let values = scanner.group(), !values.isEmpty, scanner.atEnd else { return nil }
            self = .list(values)
        case "FROM":
            guard let from = scanner.group(), scanner.word()?.uppercased() == "TO", let to = scanner.group(), scanner.atEnd,
                  !from.isEmpty, from.count == to.count else { return nil }
            self = .range(from: from, to: to)
        case "WITH":
            guard let parts = scanner.group(), scanner.atEnd, parts.count == 2 else { return nil }
            func number(_ part: String, _ keyword: String) -> Int? {
                let words = part.split(whereSeparator: \.isWhitespace)
                guard words.count == 2, words[0].uppercased() == keyword else { return nil }
                return Int(words[1])
            }
            guard let modulus = number(parts[0], "MODULUS"), let remainder = number(parts[1], "REMAINDER"),
                  modulus > 0, remainder >= 0, remainder < modulus else { return nil }
            self = .hash(modulus: modulus, remainder: remainder)
        default:
            return nil
        }
    }

    /// The values that are expressions (MINVALUE and MAXVALUE are words of the bound).
    public var values: [String] {
        switch self {
        case .default, .hash: return []
        case .list(let values): return values
        case .range(let from, let to): return (from + to).filter { !Self.isLimit($0) }
        }
    }

    static func isLimit(_ value: String) -> Bool { ["MINVALUE", "MAXVALUE"].contains(value.uppercased()) }

    /// The strategies this bound can belong to.
    public func fits(_ strategy: PartitionKey.Strategy) -> Bool {
        switch self {
        case .default: return strategy != .hash
        case .list: return strategy == .list
        case .range: return strategy == .range
        case .hash: return strategy == .hash
        }
    }
}

/// Splits a partition key or bound into words and parenthesized groups, the groups into their
/// comma-separated items, skipping quoted text ('...', E'...', "...", $tag$...$tag$) so a comma
/// or parenthesis inside a literal is literal.
struct BoundScanner {
    private let characters: [Character]
    private var position = 0

    init(_ text: String) { characters = Array(text) }

    var atEnd: Bool {
        mutating get {
            skipSpace()
            return position == characters.count
        }
    }

    private mutating func skipSpace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    /// A keyword or number.
    mutating func word() -> String? {
        skipSpace()
        let start = position
        while position < characters.count, characters[position].isLetter || characters[position].isNumber || characters[position] == "_" {
            position += 1
        }
        return position > start ? String(characters[start..<position]) : nil
    }

    /// `( a, b )`: the trimmed items; nil when no group starts here or it does not close.
    mutating func group() -> [String]? {
        skipSpace()
        guard position < characters.count, characters[position] == "(" else { return nil }
        position += 1
        var items: [String] = []
        var current = ""
        var depth = 0
        while position < characters.count {
            let character = characters[position]
            if let quoted = quoted() {
                current += quoted
                continue
            }
            position += 1
            switch character {
            case "(":
                depth += 1
                current.append(character)
            case ")" where depth == 0:
                let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !last.isEmpty || !items.isEmpty { items.append(last) }
                return items.contains(where: \.isEmpty) ? nil : items
            case ")":
                depth -= 1
                current.append(character)
            case "," where depth == 0:
                items.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            default:
                current.append(character)
            }
        }
        return nil
    }

    /// A quoted run starting here, consumed whole (to the end when it does not close).
    private mutating func quoted() -> String? {
        let start = position
        let character = characters[position]
        if character == "'" || character == "\"" {
            // E'...' takes backslash escapes; the E was already read as part of the item.
            let escapes = character == "'" && start > 0 && (characters[start - 1] == "E" || characters[start - 1] == "e")
            position += 1
            while position < characters.count {
                if escapes && characters[position] == "\\" { position += 2; continue }
                if characters[position] == character {
                    if position + 1 < characters.count, characters[position + 1] == character { position += 2; continue }
                    position += 1
                    break
                }
                position += 1
            }
        } else if character == "$" {
            var end = position + 1
            while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" { end += 1 }
            guard end < characters.count, characters[end] == "$" else { return nil }
            let tag = Array(characters[position...end])
            position = end + 1
            while position < characters.count {
                if characters[position] == "$", position + tag.count <= characters.count, Array(characters[position..<position + tag.count]) == tag {
                    position += tag.count
                    break
                }
                position += 1
            }
        } else {
            return nil
        }
        position = min(position, characters.count)
        return String(characters[start..<position])
    }

    /// The name a key item stands for when it is one identifier: `created_at`, `"createdAt"`.
    static func identifier(_ item: String) -> String? {
        if item.hasPrefix("\""), item.hasSuffix("\""), item.count >= 2 {
            let inner = String(item.dropFirst().dropLast())
            guard !inner.replacingOccurrences(of: "\"\"", with: "").contains("\"") else { return nil }
            return inner.replacingOccurrences(of: "\"\"", with: "\"")
        }
        guard let first = item.first, first.isLetter || first == "_",
              item.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" || ($0.isLetter && !$0.isUppercase) }) else { return nil }
        return item
    }

    /// Whether the outer parentheses of `text` enclose all of it (`(a) + (b)` is not enclosed).
    static func enclosed(_ text: String) -> Bool {
        var scanner = BoundScanner(text)
        guard let items = scanner.group(), scanner.atEnd else { return false }
        return items.count == 1
    }
}
