import DriftlessCore
import Foundation
import GitSource

/// Where the blueprints of a revision come from.
public enum BlueprintLocation: Sendable {
    /// A local directory, read as it is now.
    case directory(String)
    /// A git repository (URL or local path) at a ref, under a sub-path, read without a work tree.
    case git(repository: String, ref: String?, path: String?, cacheDirectory: String, credentials: GitCredentials)
}

/// The files of one revision, and what identifies it.
public struct LoadedRevision: Sendable {
    public var sources: [BlueprintSource]
    /// `main@sha1:3f2c...` for git, `dir:<path>` for a directory.
    public var revision: String
    /// The commit id, for git sources.
    public var commit: String?
    /// The commit message, for git sources (carries `Driftless-Allow:` trailers).
    public var commitMessage: String?
}

/// An error reading the blueprint source itself (missing directory, git failure).
public struct BlueprintLoadError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Reads blueprint files from a directory or a commit. Blocking: call it off the cooperative pool.
public enum BlueprintLoader {
    /// Reads every blueprint file under the location. A git revision that resolves to the commit
    /// `previous` was read from is not read again: `previous` is returned.
    /// - Throws: `BlueprintLoadError` for a missing directory, `GitError` for git failures.
    public static func load(_ location: BlueprintLocation, reusing previous: LoadedRevision? = nil) throws -> LoadedRevision {
        switch location {
        case .directory(let directory):
            return LoadedRevision(sources: try readDirectory(directory), revision: "dir:\(directory)", commit: nil, commitMessage: nil)
        case .git(let repository, let ref, let path, let cacheDirectory, let credentials):
            if isRemote(repository) {
                // Fetched and read while no other thread uses the cache.
                return try GitRepository.withCached(url: repository, cacheDirectory: cacheDirectory, credentials: credentials) {
                    try read($0, ref: ref, path: path, previous: previous)
                }
            }
            return try read(try GitRepository.open(at: repository), ref: ref, path: path, previous: previous)
        }
    }

    /// The blueprint files of `ref` under `path` in `repo`; `previous` when it was read from the
    /// same commit.
    static func read(_ repo: GitRepository, ref: String?, path: String?, previous: LoadedRevision?) throws -> LoadedRevision {
        let commit = try repo.resolve(ref)
        if let previous, previous.commit == commit.hex, previous.revision == "\(ref ?? "HEAD")@sha1:\(commit.hex)" {
            return previous
        }
        let files = try repo.files(at: commit, under: path ?? "")
        let prefix = (path ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let sources = files.map {
            BlueprintSource(path: $0.path, displayPath: prefix.isEmpty ? $0.path : "\(prefix)/\($0.path)", contents: $0.contents)
        }
        return LoadedRevision(
            sources: sources, revision: "\(ref ?? "HEAD")@sha1:\(commit.hex)", commit: commit.hex,
            commitMessage: try repo.message(of: commit))
    }

    /// Whether `repository` names a remote (URL or scp-like `user@host:path`) rather than a local path.
    public static func isRemote(_ repository: String) -> Bool {
        if repository.contains("://") { return true }
        if let colon = repository.firstIndex(of: ":"), let at = repository.firstIndex(of: "@"), at < colon, !repository.hasPrefix("/") {
            return true
        }
        return false
    }

    static func readDirectory(_ directory: String) throws -> [BlueprintSource] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BlueprintLoadError(message: "blueprint directory '\(directory)' does not exist or is not a directory")
        }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw BlueprintLoadError(message: "cannot read blueprint directory '\(directory)'")
        }
        var sources: [BlueprintSource] = []
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        while let relative = enumerator.nextObject() as? String {
            guard BlueprintSet.isBlueprintPath(relative) else { continue }
            let full = base + "/" + relative
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            guard let data = FileManager.default.contents(atPath: full) else {
                throw BlueprintLoadError(message: "cannot read '\(full)'")
            }
            sources.append(BlueprintSource(path: relative, displayPath: full, contents: data))
        }
        return sources.sorted { $0.path < $1.path }
    }
}
