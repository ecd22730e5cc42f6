/// A secret (database URL, API token, webhook secret, git token) whose `description`,
/// `debugDescription` and reflection print `<redacted>`: logging a configuration, or a value
/// holding one, never prints it (docs/security.md, Secrets).
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The secret itself, for the one call that needs it.
    public var revealed: String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
