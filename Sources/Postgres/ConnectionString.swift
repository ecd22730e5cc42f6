internal import CLibPQ
import Foundation

/// A libpq connection string (URL or `key=value` form), kept apart from its secrets.
///
/// The raw text is only ever handed to libpq. Everything shown to a person goes through
/// `redacted`, and every message libpq produces is scrubbed of the password before it leaves
/// this module.
public struct ConnectionString: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The text as given; empty means "libpq defaults and PG* environment variables".
    let raw: String
    /// Secrets that must never appear in output: the password from the string or `PGPASSWORD`.
    let secrets: [String]

    /// Wraps a URL (`postgres://user:pass@host/db`), a keyword string (`host=... dbname=...`)
    /// or an empty string (use `PG*` variables and service files).
    public init(_ raw: String) {
        self.raw = raw
        var secrets: [String] = []
        if let password = ConnectionString.parsedPassword(raw), !password.isEmpty {
            secrets.append(password)
            // A URL carries the password percent-encoded; scrub that spelling too.
            if let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
               encoded != password {
                secrets.append(encoded)
            }
        }
        // getenv, not ProcessInfo's environment: that copies every variable into a dictionary on
        // each call, and a fleet's process holds a variable per target.
        if let env = getenv("PGPASSWORD").map({ String(cString: $0) }), !env.isEmpty {
            secrets.append(env)
        }
        self.secrets = secrets
    }

    /// The connection string with its password replaced by `***`, safe to print.
    public var redacted: String { redact(raw.isEmpty ? "(libpq defaults / PG* environment)" : raw) }

    public var description: String { redacted }
    public var debugDescription: String { redacted }

    /// Replaces every secret of this connection string in `text` with `***`.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        // Belt and braces: a URL's userinfo password and a password keyword, whatever they hold.
        result = result.replacingOccurrences(
            of: #"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@"#, with: "$1***@", options: .regularExpression)
        result = result.replacingOccurrences(
            of: #"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)"#, with: "$1***",
            options: [.regularExpression, .caseInsensitive])
        return result
    }

    /// The password libpq would use from the string itself (not from PGPASSWORD or .pgpass).
    private static func parsedPassword(_ raw: String) -> String? {
        guard !raw.isEmpty else { return nil }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(raw, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                return String(cString: value)
            }
            option = option.advanced(by: 1)
        }
        return nil
    }
}
