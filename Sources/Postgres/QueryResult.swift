import Foundation

/// The rows of one statement, copied out of libpq so they outlive the `PGresult`.
public struct QueryResult: Sendable {
    /// Column names, in order.
    public let columns: [String]
    /// Every row as text values (`nil` is SQL NULL), in the server's text format.
    public let rows: [Row]
    /// The command tag's row count (`UPDATE 3` → 3), when the statement reports one.
    public let affectedRows: Int?

    public init(columns: [String], rows: [Row], affectedRows: Int?) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The first row, if any.
    public var first: Row? { rows.first }
}

/// One row of a `QueryResult`; values are read by column name or index, typed on demand.
public struct Row: Sendable {
    let columnIndex: [String: Int]
    /// The raw text values; `nil` is SQL NULL.
    public let values: [String?]

    init(columnIndex: [String: Int], values: [String?]) {
        self.columnIndex = columnIndex
        self.values = values
    }

    /// The text of column `name`, `nil` for NULL.
    /// - Throws: `PostgresError.decodingFailed` when there is no such column.
    public func text(_ name: String) throws -> String? {
        guard let index = columnIndex[name] else {
            throw PostgresError(code: .decodingFailed, message: "no column named \(name) in the result")
        }
        return values[index]
    }

    /// The text of column `name`, which must not be NULL.
    /// - Throws: `PostgresError.decodingFailed` for NULL or a missing column.
    public func string(_ name: String) throws -> String {
        guard let value = try text(name) else {
            throw PostgresError(code: .decodingFailed, message: "column \(name) is NULL")
        }
        return value
    }

    /// Column `name` read as an integer.
    /// - Throws: `PostgresError.decodingFailed` for NULL, a missing column or non-integer text.
    public func int(_ name: String) throws -> Int {
        let value = try string(name)
        guard let number = Int(value) else {
            throw PostgresError(code: .decodingFailed, message: "column \(name) is not an integer: \(value)")
        }
        return number
    }

    /// Column `name` read as a boolean (`t`/`f` in the text format).
    /// - Throws: `PostgresError.decodingFailed` for NULL, a missing column or other text.
    public func bool(_ name: String) throws -> Bool {
        switch try string(name) {
        case "t", "true": return true
        case "f", "false": return false
        case let other: throw PostgresError(code: .decodingFailed, message: "column \(name) is not a boolean: \(other)")
        }
    }

    /// Column `name` decoded from JSON text (json/jsonb columns, `json_agg` results).
    /// - Throws: `PostgresError.decodingFailed` when the text is NULL or not the expected JSON.
    public func json<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let value = try string(name)
        do {
            return try JSONDecoder().decode(T.self, from: Data(value.utf8))
        } catch {
            throw PostgresError(code: .decodingFailed, message: "column \(name) is not the expected JSON: \(error)")
        }
    }
}
