/// An error from libpq or the server, with the context an operator needs to act on it.
///
/// `description` carries the SQLSTATE and the server's message (which never contains the
/// connection password); `debugDescription` adds detail, hint and the statement.
public struct PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable, Equatable {
    /// What went wrong, broadly.
    public enum Code: String, Sendable, Equatable {
        /// The connection could not be established (bad host, auth, database missing).
        case connectionFailed
        /// The server rejected a statement; `sqlstate` says why.
        case statementFailed
        /// The connection broke while a statement ran.
        case connectionLost
        /// A value could not be read as the type asked for.
        case decodingFailed
        /// The caller broke a rule of this wrapper (say, a NUL byte in a parameter).
        case invalidArgument
    }

    public var code: Code
    /// Five-character SQLSTATE (`42P01`, `08006`, ...) when the server or libpq gave one.
    public var sqlstate: String?
    /// The primary message, redacted of any secret and of data: at most 300 characters, every
    /// quoted value longer than 40 characters elided (docs/security.md, Errors that carry no
    /// data). This is what Results, history, answers and logs carry.
    public var message: String
    /// The server's whole message, for a debug log only: it may quote a row's values.
    public var fullMessage: String
    /// The server's DETAIL, for a debug log only (`Failing row contains (...)`, `Key (...)=(...)`).
    public var detail: String?
    public var hint: String?
    /// The statement that failed, when there was one.
    public var statement: String?

    public init(
        code: Code, sqlstate: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil, statement: String? = nil
    ) {
        self.code = code
        self.sqlstate = sqlstate
        self.message = PostgresError.withoutData(message)
        self.fullMessage = message
        self.detail = detail
        self.hint = hint
        self.statement = statement
    }

    /// SQLSTATE class 08 (connection exception), or a connection that broke mid-statement.
    public var isConnectionError: Bool {
        code == .connectionFailed || code == .connectionLost || (sqlstate?.hasPrefix("08") ?? false)
    }

    public var description: String {
        var text = "PostgreSQL \(code.rawValue)"
        if let sqlstate { text += " [\(sqlstate)]" }
        return text + ": " + message
    }

    /// `message` cut to 300 characters, with each double- or single-quoted run longer than 40
    /// characters replaced by a note of its length. PostgreSQL quotes the offending value that
    /// way (`invalid input syntax for type integer: "<value>"`), and a value can be any row.
    public static func withoutData(_ message: String) -> String {
        let limit = 300
        let longest = 40
        var output = ""
        var characters = Array(message)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "\"" || character == "'",
                  let close = characters[(index + 1)...].firstIndex(of: character) else {
                output.append(character)
                index += 1
                continue
            }
            let length = close - index - 1
            if length > longest {
                output += "\(character)<\(length) characters elided>\(character)"
            } else {
                output += String(characters[index...close])
            }
            index = close + 1
        }
        characters = Array(output)
        guard characters.count > limit else { return output }
        return String(characters[..<limit]) + "… (cut at \(limit) characters)"
    }

    public var debugDescription: String {
        var text = description
        if fullMessage != message { text += "\nFULL MESSAGE: \(fullMessage)" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        if let statement { text += "\nSTATEMENT: \(statement)" }
        return text
    }
}
