/// A libgit2 failure, with libgit2's own message and the operation that failed.
public struct GitError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed, broadly.
    public enum Code: String, Sendable {
        /// The repository could not be opened, created or cloned.
        case repository
        /// Fetching from the remote failed (network, auth, host key).
        case fetch
        /// A branch, tag or commit could not be resolved.
        case referenceNotFound
        /// A path under the commit was missing or was not what was expected.
        case pathNotFound
        /// Reading objects failed.
        case object
        /// The arguments were wrong (an unreadable SSH key, say).
        case invalidArgument
    }

    public var code: Code
    /// What we were doing, e.g. `resolve 'main'`.
    public var operation: String
    /// libgit2's message (`git_error_last()`), secrets removed.
    public var message: String
    /// libgit2's return code (negative), when there was one.
    public var libgit2Code: Int32?
    /// libgit2's error class (`GIT_ERROR_NET`, ...), when there was one.
    public var libgit2Class: Int32?

    /// Whether the failure was in reaching the remote (network, TLS, SSH, HTTP, auth
    /// callbacks) rather than in the local repository.
    public var isTransport: Bool {
        guard code == .fetch, let libgit2Class else { return false }
        // GIT_ERROR_OS 2, NET 12, SSL 16, SSH 23, CALLBACK 26, HTTP 34.
        return [2, 12, 16, 23, 26, 34].contains(libgit2Class)
    }

    public init(code: Code, operation: String, message: String, libgit2Code: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.message = message
        self.libgit2Code = libgit2Code
    }

    public var description: String { "git \(operation): \(message)" + (libgit2Code.map { " (libgit2 code \($0))" } ?? "") }
}
