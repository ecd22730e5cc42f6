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
    /// The primary message, already redacted of any secret.
    public var message: String
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
        self.message = message
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

    public var debugDescription: String {
        var text = description
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        if let statement { text += "\nSTATEMENT: \(statement)" }
        return text
    }
}
