/// One problem found in the blueprints: where (file, line, column, JSON path), a stable code,
/// and a sentence a person can act on.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }

    public var severity: Severity
    /// Stable machine-readable code (`invalid_name`, `duplicate_table`, ...).
    public var code: String
    public var message: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    /// JSON path of the offending node, e.g. `$.tables[2].columns[0].type`.
    public var path: String?

    public init(
        _ severity: Severity = .error, code: String, message: String, file: String? = nil,
        line: Int? = nil, column: Int? = nil, path: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
    }

    public init(_ severity: Severity = .error, code: String, message: String, at origin: Origin) {
        self.init(
            severity, code: code, message: message, file: origin.file, line: origin.line,
            column: origin.column, path: origin.path)
    }

    /// Compiler style: `file:line:col: error[code]: message (at $.path)`.
    public var description: String {
        var location = file ?? "<blueprints>"
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        var text = "\(location): \(severity.rawValue)[\(code)]: \(message)"
        if let path { text += " (at \(path))" }
        return text
    }

    private enum CodingKeys: String, CodingKey { case code, message, file, line, column, path, severity }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        try container.encodeIfPresent(file, forKey: .file)
        try container.encodeIfPresent(line, forKey: .line)
        try container.encodeIfPresent(column, forKey: .column)
        try container.encodeIfPresent(path, forKey: .path)
        if severity == .warning { try container.encode(severity, forKey: .severity) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(String.self, forKey: .code)
        message = try container.decode(String.self, forKey: .message)
        file = try container.decodeIfPresent(String.self, forKey: .file)
        line = try container.decodeIfPresent(Int.self, forKey: .line)
        column = try container.decodeIfPresent(Int.self, forKey: .column)
        path = try container.decodeIfPresent(String.self, forKey: .path)
        severity = try container.decodeIfPresent(Severity.self, forKey: .severity) ?? .error
    }
}

/// Where a blueprint element came from, so later stages (server canonicalization, apply) can
/// point back at the file and JSON path that produced a failing statement.
public struct Origin: Sendable, Equatable, Hashable, Codable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var path: String

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
    }

    /// `file:line:col`, for messages.
    public var location: String {
        var text = file
        if let line { text += ":\(line)" }
        if let column { text += ":\(column)" }
        return text
    }
}
