internal import CLibPQ
import Foundation

/// One libpq connection. Blocking: use it from one thread at a time (see `BlockingIO`).
///
/// Every statement goes through `PQexecParams`, so one call runs exactly one statement and
/// parameters never mix with SQL text. `simpleQuery` (several statements in one string) exists
/// for trusted scripts only, such as the test emulation of Supabase.
public final class Connection {
    private let handle: OpaquePointer
    /// The string this connection was made from, for redaction.
    public let connectionString: ConnectionString

    /// Connects, with `application_name` set to `applicationName`.
    /// - Throws: `PostgresError.connectionFailed` with libpq's message, password removed.
    public init(_ connectionString: ConnectionString, applicationName: String = "driftless") throws {
        self.connectionString = connectionString
        // expand_dbname = 1: the "dbname" value may itself be a URL or keyword string. Entries
        // before it are defaults the string may override; the application_name after it
        // overrides whatever the string says. The defaults bound how long an unreachable or
        // silent server can hold a reconciliation (docs/reliability.md, Deadlines): a connection
        // attempt gives up after 10 s, and a peer that stops answering is noticed by keepalives
        // within about a minute instead of the kernel's two hours.
        let defaults = Connection.networkDefaults
        let keywords = defaults.map(\.0) + ["dbname", "application_name"]
        let values = defaults.map { Optional($0.1) } + [connectionString.raw.isEmpty ? nil : connectionString.raw, applicationName]
        let conn: OpaquePointer? = withCStringArray(keywords) { keywordPointers in
            withOptionalCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let conn else {
            throw PostgresError(code: .connectionFailed, message: "out of memory allocating a libpq connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = connectionString.redact(Connection.trimmed(PQerrorMessage(conn)))
            // A failed connection still owns memory: PQfinish it.
            PQfinish(conn)
            throw PostgresError(code: .connectionFailed, sqlstate: "08001", message: message)
        }
        self.handle = conn
        // Notices (truncated identifiers, "already exists, skipping") would go to stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit {
        PQfinish(handle)
    }

    /// libpq parameters every connection starts from; the connection string overrides each.
    static let networkDefaults: [(String, String)] = [
        ("connect_timeout", "10"), ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "60000"),
        // No probe for Kerberos credentials on every connection (a fleet connects once per tick);
        // a URL that wants GSS encryption says gssencmode=prefer or require.
        ("gssencmode", "disable"),
    ]

    /// The server's version as an integer (150018 for 15.18).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The largest message this connection sent or received so far, in bytes (a statement with
    /// its parameters, or one row of a result). libpq grows its input and output buffers to the
    /// largest message and never shrinks them until the connection closes, so a connection kept
    /// for long should not be one that moved tens of megabytes once (docs/operations.md, Memory).
    public private(set) var largestMessage = 0

    /// Whether the connection is still usable.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs exactly one statement with text parameters `$1, $2, ...` (`nil` is NULL).
    /// - Throws: `PostgresError` with SQLSTATE, message, detail, hint and the statement.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        for parameter in parameters where parameter?.utf8.contains(0) == true {
            throw PostgresError(
                code: .invalidArgument, message: "a parameter contains a NUL byte, which PostgreSQL text cannot hold",
                statement: sql)
        }
        noteMessage(parameters.reduce(sql.utf8.count) { $0 + ($1?.utf8.count ?? 0) })
        let result: OpaquePointer? = withOptionalCStringArray(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try consume(result, statement: sql)
    }

    /// Runs `statements`, each exactly one statement without parameters, one after another in
    /// a single round trip (libpq's pipeline mode), stopping at the first that fails: the ones
    /// after it are not run. Each keeps its own statement timeout. Inside a transaction block a
    /// failure leaves the transaction aborted, as `query` would.
    ///
    /// Keep the list short (a hundred statements or so): the server's answers wait in the
    /// socket buffer until every statement has been sent.
    /// - Throws: `PipelineError` naming the statement that failed, or `PostgresError` when the
    ///   connection broke or libpq refused pipeline mode.
    public func pipeline(_ statements: [String]) throws {
        guard !statements.isEmpty else { return }
        if let index = statements.firstIndex(where: { $0.utf8.contains(0) }) {
            throw PipelineError(index: index, error: PostgresError(
                code: .invalidArgument, message: "a statement contains a NUL byte", statement: statements[index]))
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(code: .statementFailed, message: "libpq refused pipeline mode: " + Connection.trimmed(PQerrorMessage(handle)))
        }
        var sent = 0
        for statement in statements {
            noteMessage(statement.utf8.count)
            guard PQsendQueryParams(handle, statement, 0, nil, nil, nil, nil, 0) == 1 else { break }
            sent += 1
        }
        // A statement that could not be sent (the connection broke): read what was, then report.
        let synced = PQpipelineSync(handle) == 1
        var failure: PipelineError?
        var index = 0
        var sawSync = false
        while synced, !sawSync, index <= sent {
            guard let result = PQgetResult(handle) else {
                // The end of one statement's results.
                if PQstatus(handle) != CONNECTION_OK { break }
                index += 1
                continue
            }
            switch PQresultStatus(result) {
            case PGRES_PIPELINE_SYNC:
                sawSync = true
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_PIPELINE_ABORTED:
                break
            default:
                if failure == nil, index < statements.count {
                    failure = PipelineError(index: index, error: error(from: result, statement: statements[index]))
                }
            }
            PQclear(result)
        }
        if let failure { _ = PQexitPipelineMode(handle); throw failure }
        guard sawSync, sent == statements.count, PQexitPipelineMode(handle) == 1 else {
            let lost = PQstatus(handle) != CONNECTION_OK
            let message = connectionString.redact(Connection.trimmed(PQerrorMessage(handle)))
            throw PipelineError(index: min(index, statements.count - 1), error: PostgresError(
                code: lost ? .connectionLost : .statementFailed, sqlstate: lost ? "08006" : nil,
                message: message.isEmpty ? "the pipeline ended early" : message, statement: statements[min(index, statements.count - 1)]))
        }
    }

    /// Runs a script of several statements with the simple protocol. Trusted input only.
    /// - Throws: `PostgresError` for the first statement that fails.
    public func simpleQuery(_ script: String) throws {
        noteMessage(script.utf8.count)
        _ = try consume(PQexec(handle, script), statement: script)
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// - Throws: what `body` throws, or the error of BEGIN/COMMIT.
    @discardableResult
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body(self)
            try query("COMMIT")
            return value
        } catch {
            rollbackQuietly()
            throw error
        }
    }

    /// ROLLBACK, ignoring failure (the connection may already be gone).
    public func rollbackQuietly() {
        if PQtransactionStatus(handle) != PQTRANS_IDLE {
            _ = try? query("ROLLBACK")
        }
    }

    /// Whether a transaction block is open (idle in transaction or failed in one).
    public var inTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// A token that cancels the statement running on this connection from another thread.
    public func makeCancelToken() -> CancelToken? {
        PQgetCancel(handle).map(CancelToken.init)
    }

    /// Quotes an identifier for SQL text the way the server does (`"order"`, `"a""b"`).
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + (name.contains("\"") ? name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") : name) + "\""
    }

    private func consume(_ result: OpaquePointer?, statement: String) throws -> QueryResult {
        guard let result else {
            let message = connectionString.redact(Connection.trimmed(PQerrorMessage(handle)))
            let lost = PQstatus(handle) != CONNECTION_OK
            throw PostgresError(
                code: lost ? .connectionLost : .statementFailed, sqlstate: lost ? "08006" : nil,
                message: message, statement: statement)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let (copied, largestRow) = Connection.copy(result)
            noteMessage(largestRow)
            return copied
        default:
            throw error(from: result, statement: statement)
        }
    }

    private func error(from result: OpaquePointer, statement: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return connectionString.redact(String(cString: value))
        }
        let sqlstate = field("C")
        var message = field("M") ?? connectionString.redact(Connection.trimmed(PQresultErrorMessage(result)))
        if message.isEmpty { message = connectionString.redact(Connection.trimmed(PQerrorMessage(handle))) }
        let lost = PQstatus(handle) != CONNECTION_OK
        return PostgresError(
            code: lost ? .connectionLost : .statementFailed,
            sqlstate: sqlstate ?? (lost ? "08006" : nil),
            message: message, detail: field("D"), hint: field("H"), statement: statement)
    }

    private func noteMessage(_ bytes: Int) {
        if bytes > largestMessage { largestMessage = bytes }
    }

    /// The result's rows, and the size of the largest in bytes.
    private static func copy(_ result: OpaquePointer) -> (QueryResult, largestRow: Int) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        var index: [String: Int] = [:]
        for column in 0..<columnCount {
            let name = String(cString: PQfname(result, Int32(column)))
            columns.append(name)
            if index[name] == nil { index[name] = column }
        }
        var rows: [Row] = []
        rows.reserveCapacity(rowCount)
        var largestRow = 0
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            var size = 0
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    size += Int(PQgetlength(result, Int32(row), Int32(column)))
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            largestRow = max(largestRow, size)
            rows.append(Row(columnIndex: index, values: values))
        }
        let tuples = String(cString: PQcmdTuples(result))
        return (QueryResult(columns: columns, rows: rows, affectedRows: Int(tuples)), largestRow)
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A statement of `Connection.pipeline` failed: the one at `index`; those after it were not run.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public var index: Int
    public var error: PostgresError
    public var description: String { "statement \(index + 1) of the pipeline: \(error)" }
}

/// Cancels the running statement of a connection; safe to use from any thread.
public final class CancelToken: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = NSLock()

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { PQfreeCancel(handle) }

    /// Asks the server to cancel the statement in progress; returns whether the request was sent.
    @discardableResult
    public func cancel() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(handle, &buffer, Int32(buffer.count)) == 1
    }
}

/// Calls `body` with a NULL-terminated C array of the strings; pointers live only inside it.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStringArray(strings.map(Optional.some), body)
}

/// As `withCStringArray`, with `nil` entries passed as NULL pointers.
func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { duplicated.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = duplicated.map { $0.map { UnsafePointer($0) } }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
