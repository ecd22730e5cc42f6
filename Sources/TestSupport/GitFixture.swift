import BlockingIO
import Foundation

/// A real git repository made in a test with the `git` program: write files, commit, tag.
public final class GitFixture: @unchecked Sendable {
    /// The work tree's folder.
    public let path: String

    /// Creates an empty repository on branch `main` in a new temporary folder.
    /// - Throws: `ProcessFailure` when git fails.
    public init() throws {
        path = NSTemporaryDirectory() + "driftless-git-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
        try git("config", "user.name", "Driftless Tests")
        try git("config", "user.email", "tests@driftless.invalid")
        try git("config", "commit.gpgsign", "false")
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A `file://` URL for cloning this repository.
    public var fileURL: String { "file://" + path }

    /// Writes `contents` to `relativePath` (creating folders).
    /// - Throws: a file system error.
    public func write(_ relativePath: String, _ contents: String) throws {
        let full = path + "/" + relativePath
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: true, encoding: .utf8)
    }

    /// Removes `relativePath` from the work tree.
    /// - Throws: a file system error.
    public func remove(_ relativePath: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + relativePath)
    }

    /// Stages everything and commits; returns the new commit id.
    /// - Throws: `ProcessFailure` when git fails.
    @discardableResult
    public func commit(_ message: String) throws -> String {
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs git in the work tree and returns its standard output.
    /// - Throws: `ProcessFailure` when git exits non-zero.
    @discardableResult
    public func git(_ arguments: String...) throws -> String {
        guard let git = ProcessRunner.which("git") else {
            throw ProcessFailure(command: "git", output: ProcessOutput(status: 127, stdout: "", stderr: "git is not installed"))
        }
        return try ProcessRunner.run(git, ["-C", path] + arguments).stdout
    }
}

/// Runs blocking test code (libpq, libgit2, processes) on a thread of its own, off the
/// cooperative pool and off `BlockingIO`'s pool: a test body that waits for the controller must
/// not hold one of the threads the controller's own blocking calls need.
/// - Throws: what `body` throws.
@discardableResult
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = "driftless-test"
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Carries a value that is used by one thread at a time across an `await` (a connection held
/// open by a test while it waits for something else).
public final class Handoff<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
