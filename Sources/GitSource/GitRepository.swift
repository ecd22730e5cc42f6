internal import CLibGit2
import Foundation

/// A commit id (40 hex digits).
public struct CommitID: Hashable, Sendable, CustomStringConvertible, Codable {
    public let hex: String
    public init(hex: String) { self.hex = hex }
    public var description: String { hex }
    /// The first 12 digits, for people.
    public var short: String { String(hex.prefix(12)) }
}

/// A file read from a commit's tree.
public struct GitFile: Sendable, Equatable {
    /// Path relative to the sub-path that was listed, with `/` separators.
    public let path: String
    public let contents: Data

    public init(path: String, contents: Data) {
        self.path = path
        self.contents = contents
    }
}

/// Credentials for fetching: an HTTPS token, or an SSH key with known hosts.
public struct GitCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Which credentials are set, never their values (docs/security.md, Secrets).
    public var description: String {
        "GitCredentials(token: \(token == nil ? "none" : "<redacted>"), ssh key: \(sshPrivateKey == nil ? "none" : "<redacted>"), known hosts: \(knownHosts == nil ? "none" : "set"))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    /// Token for HTTPS remotes (sent as the password of user `x-access-token`).
    public var token: String?
    /// A private key (PEM text, or a path to it) for SSH remotes.
    public var sshPrivateKey: String?
    /// known_hosts text (or a path to it); when set, SSH host keys must match an entry.
    public var knownHosts: String?

    public init(token: String? = nil, sshPrivateKey: String? = nil, knownHosts: String? = nil) {
        self.token = token
        self.sshPrivateKey = sshPrivateKey
        self.knownHosts = knownHosts
    }

    /// Reads `DRIFTLESS_GIT_TOKEN`, `DRIFTLESS_GIT_SSH_KEY` and `DRIFTLESS_GIT_KNOWN_HOSTS`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> GitCredentials {
        GitCredentials(
            token: environment["DRIFTLESS_GIT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
            sshPrivateKey: environment["DRIFTLESS_GIT_SSH_KEY"].flatMap { $0.isEmpty ? nil : $0 },
            knownHosts: environment["DRIFTLESS_GIT_KNOWN_HOSTS"].flatMap { $0.isEmpty ? nil : $0 })
    }

    var secrets: [String] { [token, sshPrivateKey].compactMap { $0 } }
}

private let libgit2Initialized: Bool = {
    git_libgit2_init()
    return true
}()

/// One git repository opened through libgit2. Not thread-safe: use it from one thread.
///
/// Files are read from commits' trees directly; there is never a work tree to keep in sync.
public final class GitRepository {
    private let handle: OpaquePointer
    /// Where the repository lives on disk (a work tree's `.git`, or a bare cache).
    public let path: String
    private var secrets: [String] = []
    /// Remote `origin`, looked up once per repository object: each `git_remote_lookup` leaks in
    /// Debian 12's libgit2 (see `remoteURL`).
    private var remote: OpaquePointer?

    private init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    deinit {
        if let remote { git_remote_free(remote) }
        git_repository_free(handle)
    }

    /// Opens an existing repository (a work tree or a bare one) at `path`.
    /// - Throws: `GitError.repository` with libgit2's message.
    public static func open(at path: String) throws -> GitRepository {
        _ = libgit2Initialized
        var repo: OpaquePointer?
        try check(git_repository_open(&repo, path), .repository, "open \(path)")
        return GitRepository(handle: repo!, path: path)
    }

    /// Opens the bare cache of `url` under `cacheDirectory` (creating it when missing or
    /// unreadable) and fetches every branch and tag into it.
    /// - Throws: `GitError.repository` or `GitError.fetch` with libgit2's message.
    public static func cached(
        url: String, cacheDirectory: String, credentials: GitCredentials = GitCredentials()
    ) throws -> GitRepository {
        try withCached(url: url, cacheDirectory: cacheDirectory, credentials: credentials) { $0 }
    }

    /// Fetches into the cache of `url` under `cacheDirectory`, then runs `body` with it, while no
    /// other thread of the process uses that cache. The cache stays open for the process's life
    /// (one per directory), so its remote is looked up once, not once per fetch.
    /// - Throws: what `cached` throws, or `body`'s error.
    public static func withCached<T>(
        url: String, cacheDirectory: String, credentials: GitCredentials = GitCredentials(),
        _ body: (GitRepository) throws -> T
    ) throws -> T {
        _ = libgit2Initialized
        let directory = (cacheDirectory as NSString).appendingPathComponent(cacheName(for: url))
        let gate = OpenCaches.shared.gate(directory)
        gate.lock()
        defer { gate.unlock() }
        let repository = try fetchedCache(url: url, directory: directory, cacheDirectory: cacheDirectory, credentials: credentials)
        return try body(repository)
    }

    /// The cache at `directory`, fetched: the one kept open, else opened, else made anew. The
    /// caller holds the directory's gate.
    private static func fetchedCache(
        url: String, directory: String, cacheDirectory: String, credentials: GitCredentials
    ) throws -> GitRepository {
        let kept = OpenCaches.shared.repository(directory)
        if let existing = kept ?? (try? open(at: directory)), existing.remoteURL() == url, existing.isIntact {
            existing.secrets = credentials.secrets
            do {
                try existing.fetch(credentials: credentials)
                OpenCaches.shared.keep(existing, at: directory)
                return existing
            } catch let error as GitError where error.isTransport {
                // The network failed, not the cache: keep it, so the last good revision stays readable.
                OpenCaches.shared.keep(existing, at: directory)
                throw error
            } catch {
                // Anything else means the cache itself is damaged: rebuild it below.
            }
        }
        OpenCaches.shared.forget(directory)
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        var repo: OpaquePointer?
        try check(git_repository_init(&repo, directory, 1), .repository, "create cache \(directory)")
        let repository = GitRepository(handle: repo!, path: directory)
        var remote: OpaquePointer?
        try check(
            git_remote_create_with_fetchspec(&remote, repo, "origin", url, "+refs/heads/*:refs/remotes/origin/*"),
            .repository, "add remote \(redactURL(url))")
        repository.remote = remote
        repository.secrets = credentials.secrets
        try repository.fetch(credentials: credentials)
        OpenCaches.shared.keep(repository, at: directory)
        return repository
    }

    /// Whether HEAD and the object database can be read (a cache can be half-written by a kill).
    var isIntact: Bool {
        var reference: OpaquePointer?
        guard git_reference_lookup(&reference, handle, "HEAD") == 0 else { return false }
        git_reference_free(reference)
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, handle) == 0 else { return false }
        git_odb_free(odb)
        return true
    }

    /// Fetches every branch (pruning deleted ones, accepting forced updates) and every tag.
    /// - Throws: `GitError.fetch` with libgit2's message, secrets removed.
    public func fetch(credentials: GitCredentials = GitCredentials()) throws {
        if remote == nil {
            var found: OpaquePointer?
            try check(git_remote_lookup(&found, handle, "origin"), .fetch, "find remote origin")
            remote = found
        }
        let context = Unmanaged.passRetained(CallbackContext(credentials: credentials)).toOpaque()
        defer { Unmanaged<CallbackContext>.fromOpaque(context).release() }

        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.prune = GIT_FETCH_PRUNE
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
        options.callbacks.payload = context
        options.callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            guard let payload else { return GIT_PASSTHROUGH.rawValue }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            return context.credential(out, usernameFromURL.map { String(cString: $0) }, allowed)
        }
        options.callbacks.certificate_check = { cert, valid, host, payload in
            guard let payload, let cert else { return valid != 0 ? 0 : GIT_PASSTHROUGH.rawValue }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            return context.checkCertificate(cert, valid: valid != 0, host: host.map { String(cString: $0) } ?? "")
        }
        try check(git_remote_fetch(remote, nil, &options, nil), .fetch, "fetch \(redactURL(git_remote_url(remote).map { String(cString: $0) } ?? "origin"))")

        // Remember the remote's default branch as origin/HEAD, for `--ref` left unset.
        var buffer = git_buf()
        if git_remote_default_branch(&buffer, remote) == 0, let pointer = buffer.ptr {
            let branch = String(cString: pointer).replacingOccurrences(of: "refs/heads/", with: "refs/remotes/origin/")
            var reference: OpaquePointer?
            if git_reference_symbolic_create(&reference, handle, "refs/remotes/origin/HEAD", branch, 1, nil) == 0 {
                git_reference_free(reference)
            }
        }
        git_buf_dispose(&buffer)
    }

    /// The URL of remote `origin`, if there is one, read from the repository's configuration.
    ///
    /// Not through `git_remote_lookup`: Debian 12's libgit2 (1.5.1, without libgit2 pull request
    /// #6382) leaks PCRE2 match data of about 18 KB in each remote lookup, which a controller
    /// fetching every tick turned into hundreds of megabytes (docs/benchmarks.md, Fleet).
    public func remoteURL() -> String? {
        var config: OpaquePointer?
        guard git_repository_config_snapshot(&config, handle) == 0 else { return nil }
        defer { git_config_free(config) }
        var value: UnsafePointer<CChar>?
        guard git_config_get_string(&value, config, "remote.origin.url") == 0, let value else { return nil }
        return String(cString: value)
    }

    /// Resolves a branch, tag, commit id (full or abbreviated) or `HEAD` to a commit.
    ///
    /// In a fetched cache, branch names are looked up among the remote's branches first, so
    /// `main` means the remote's main as of the last fetch. `nil` means the default branch.
    /// - Throws: `GitError.referenceNotFound` naming the ref and libgit2's message.
    public func resolve(_ ref: String?) throws -> CommitID {
        let isCache = remoteURL() != nil && git_repository_is_bare(handle) == 1
        var candidates: [String] = []
        if let ref, !ref.isEmpty {
            if isCache {
                candidates.append("refs/remotes/origin/\(ref)")
            }
            candidates += ["refs/tags/\(ref)", "refs/heads/\(ref)", ref]
        } else {
            candidates = isCache ? ["refs/remotes/origin/HEAD", "HEAD"] : ["HEAD"]
        }
        var lastMessage = ""
        for spec in candidates {
            var object: OpaquePointer?
            guard git_revparse_single(&object, handle, spec) == 0 else {
                lastMessage = GitRepository.lastErrorMessage()
                continue
            }
            defer { git_object_free(object) }
            var commit: OpaquePointer?
            guard git_object_peel(&commit, object, GIT_OBJECT_COMMIT) == 0 else {
                lastMessage = GitRepository.lastErrorMessage()
                continue
            }
            defer { git_object_free(commit) }
            return CommitID(hex: GitRepository.hex(git_object_id(commit)))
        }
        throw GitError(
            code: .referenceNotFound, operation: "resolve '\(ref ?? "HEAD")'",
            message: "no branch, tag or commit named '\(ref ?? "HEAD")' (\(redact(lastMessage)))")
    }

    /// The full message of `commit`.
    /// - Throws: `GitError.object` when the commit cannot be read.
    public func message(of commit: CommitID) throws -> String {
        try withCommit(commit) { String(cString: git_commit_message($0)) }
    }

    /// Every file under `subpath` (recursively) in `commit`'s tree, sorted by path.
    /// An empty `subpath` lists the whole tree.
    /// - Throws: `GitError.pathNotFound` when `subpath` is missing or not a folder.
    public func files(at commit: CommitID, under subpath: String = "") throws -> [GitFile] {
        try withCommit(commit) { commitPointer in
            var root: OpaquePointer?
            try check(git_commit_tree(&root, commitPointer), .object, "read tree of \(commit.short)")
            defer { git_tree_free(root) }
            let trimmed = subpath.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            guard !trimmed.isEmpty, trimmed != "." else {
                var files: [GitFile] = []
                try collect(tree: root!, prefix: "", into: &files)
                return files.sorted { $0.path < $1.path }
            }
            var entry: OpaquePointer?
            guard git_tree_entry_bypath(&entry, root, trimmed) == 0 else {
                throw GitError(
                    code: .pathNotFound, operation: "read '\(trimmed)' at \(commit.short)",
                    message: "no such path in the commit")
            }
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
                throw GitError(
                    code: .pathNotFound, operation: "read '\(trimmed)' at \(commit.short)",
                    message: "the path is a file, not a folder")
            }
            var subtree: OpaquePointer?
            try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), .object, "read tree '\(trimmed)'")
            defer { git_tree_free(subtree) }
            var files: [GitFile] = []
            try collect(tree: subtree!, prefix: "", into: &files)
            return files.sorted { $0.path < $1.path }
        }
    }

    private func collect(tree: OpaquePointer, prefix: String, into files: inout [GitFile]) throws {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            let path = prefix.isEmpty ? name : prefix + "/" + name
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_TREE:
                var subtree: OpaquePointer?
                try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), .object, "read tree '\(path)'")
                defer { git_tree_free(subtree) }
                try collect(tree: subtree!, prefix: path, into: &files)
            case GIT_OBJECT_BLOB:
                var blob: OpaquePointer?
                try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)), .object, "read blob '\(path)'")
                defer { git_blob_free(blob) }
                let size = Int(git_blob_rawsize(blob))
                let data = size == 0 ? Data() : Data(bytes: git_blob_rawcontent(blob), count: size)
                files.append(GitFile(path: path, contents: data))
            default:
                continue  // submodules (commits) carry no files of ours
            }
        }
    }

    private func withCommit<T>(_ commit: CommitID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = git_oid()
        try check(git_oid_fromstr(&oid, commit.hex), .invalidArgument, "parse commit id \(commit.hex)")
        var pointer: OpaquePointer?
        try check(git_commit_lookup(&pointer, handle, &oid), .object, "read commit \(commit.short)")
        defer { git_commit_free(pointer) }
        return try body(pointer!)
    }

    private func check(_ result: Int32, _ code: GitError.Code, _ operation: @autoclosure () -> String) throws {
        guard result < 0 else { return }
        // Read libgit2's per-thread error before `operation` makes any other libgit2 call.
        let message = redact(GitRepository.lastErrorMessage())
        let errorClass = GitRepository.lastErrorClass()
        var error = GitError(code: code, operation: operation(), message: message, libgit2Code: result)
        error.libgit2Class = errorClass
        throw error
    }

    private static func check(_ result: Int32, _ code: GitError.Code, _ operation: @autoclosure () -> String) throws {
        guard result < 0 else { return }
        let message = lastErrorMessage()
        throw GitError(code: code, operation: operation(), message: message, libgit2Code: result)
    }

    private func redact(_ text: String) -> String {
        secrets.reduce(redactURL(text)) { $0.replacingOccurrences(of: $1, with: "***") }
    }

    /// libgit2 keeps its last error per thread: read it right after the failing call.
    static func lastErrorMessage() -> String {
        guard let error = git_error_last(), let message = error.pointee.message else { return "unknown libgit2 error" }
        return String(cString: message)
    }

    static func lastErrorClass() -> Int32? {
        git_error_last().map { $0.pointee.klass }
    }

    static func hex(_ oid: UnsafePointer<git_oid>?) -> String {
        guard let oid else { return "" }
        return String(cString: git_oid_tostr_s(oid))
    }

    /// A stable folder name for a URL's cache: readable prefix plus a hash of the whole URL.
    static func cacheName(for url: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in url.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let readable = redactURL(url).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).suffix(2).joined(separator: "-")
        return "\(readable.prefix(40))-\(String(hash, radix: 16))"
    }
}

/// Removes the userinfo of a URL (`https://user:token@host` → `https://***@host`).
func redactURL(_ text: String) -> String {
    text.replacingOccurrences(of: #"([a-z][a-z0-9+.-]*://)[^/@\s]+@"#, with: "$1***@", options: .regularExpression)
}

/// What libgit2's callbacks need; passed through their `void *payload`.
private final class CallbackContext {
    let credentials: GitCredentials
    private var attempts = 0

    init(credentials: GitCredentials) { self.credentials = credentials }

    func credential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, _ username: String?, _ allowed: UInt32
    ) -> Int32 {
        // libgit2 asks again after a refusal; stop instead of looping on bad credentials.
        attempts += 1
        guard attempts <= 2 else { return GIT_EUSER.rawValue }
        if allowed & GIT_CREDENTIAL_SSH_MEMORY.rawValue != 0, let key = credentials.sshPrivateKey {
            let text = readIfPath(key)
            return git_credential_ssh_key_memory_new(out, username ?? "git", nil, text, nil)
        }
        if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0, let key = credentials.sshPrivateKey {
            if FileManager.default.fileExists(atPath: key) {
                return git_credential_ssh_key_new(out, username ?? "git", nil, key, nil)
            }
        }
        if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let token = credentials.token {
            return git_credential_userpass_plaintext_new(out, username ?? "x-access-token", token)
        }
        return GIT_PASSTHROUGH.rawValue
    }

    /// With known hosts configured, an SSH host key must match one of their entries exactly.
    func checkCertificate(_ cert: UnsafeMutablePointer<git_cert>, valid: Bool, host: String) -> Int32 {
        guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2, let knownHosts = credentials.knownHosts else {
            return valid ? 0 : GIT_PASSTHROUGH.rawValue
        }
        let hostkey = UnsafeMutableRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
        guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
            return GIT_ECERTIFICATE.rawValue
        }
        let presented = Data(bytes: raw, count: Int(hostkey.hostkey_len))
        for line in readIfPath(knownHosts).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, !line.hasPrefix("#") else { continue }
            let hosts = fields[0].split(separator: ",").map { $0.replacingOccurrences(of: "[", with: "").components(separatedBy: "]").first ?? "" }
            guard hosts.contains(host), let key = Data(base64Encoded: String(fields[2])) else { continue }
            if key == presented { return 0 }
        }
        return GIT_ECERTIFICATE.rawValue
    }

    private func readIfPath(_ value: String) -> String {
        if !value.contains("\n"), FileManager.default.fileExists(atPath: value),
           let text = try? String(contentsOfFile: value, encoding: .utf8) {
            return text
        }
        return value
    }
}

/// The caches kept open, one per directory, each with a gate so one thread at a time fetches
/// into it and reads it (libgit2 objects are not to be used from two threads at once).
private final class OpenCaches: @unchecked Sendable {
    static let shared = OpenCaches()
    private let lock = NSLock()
    private var gates: [String: NSLock] = [:]
    private var open: [String: GitRepository] = [:]

    func gate(_ directory: String) -> NSLock {
        lock.withLock {
            if let gate = gates[directory] { return gate }
            let gate = NSLock()
            gates[directory] = gate
            return gate
        }
    }

    func repository(_ directory: String) -> GitRepository? { lock.withLock { open[directory] } }

    func keep(_ repository: GitRepository, at directory: String) { lock.withLock { open[directory] = repository } }

    func forget(_ directory: String) { _ = lock.withLock { open.removeValue(forKey: directory) } }
}
