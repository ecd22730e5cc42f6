import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished program printed and how it exited.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// A helper program that failed, with its command line and output.
public struct ProcessFailure: Error, CustomStringConvertible {
    public let command: String
    public let output: ProcessOutput
    public var description: String {
        "`\(command)` exited \(output.status): \(output.stderr)\(output.stdout)"
    }
}

/// Runs programs to completion: initdb, pg_ctl, git, psql.
///
/// Built on posix_spawn and waitpid rather than Foundation's `Process`, which learns of a
/// child's exit through a descriptor that a daemon started by the child (pg_ctl start)
/// inherits, and then waits forever. Output goes to files for the same reason.
public enum ProcessRunner {
    /// Runs `executable` with `arguments`; throws unless it exits 0 (when `check` is true).
    /// - Throws: `ProcessFailure` with the command and its output.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        check: Bool = true
    ) throws -> ProcessOutput {
        let scratch = NSTemporaryDirectory() + "driftless-proc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outPath = scratch + "/out"
        let errPath = scratch + "/err"

        // A bare name is looked up on PATH, as a shell would.
        let executable = executable.contains("/") ? executable : (which(executable) ?? executable)
        let pid = try spawn(executable, arguments, environment: environment, stdout: outPath, stderr: errPath)
        let exitCode = waitForExit(pid)
        let output = ProcessOutput(
            status: exitCode,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        if check && output.status != 0 {
            throw ProcessFailure(command: ([executable] + arguments).joined(separator: " "), output: output)
        }
        return output
    }

    /// Starts `executable` with stdin from /dev/null and stdout/stderr into the given files.
    /// - Throws: `ProcessFailure` when it cannot start.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?, stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of this process goes with the child: SwiftNIO accepts sockets without
        // close-on-exec, and a PostgreSQL postmaster started here would hold every connection a
        // test's HTTP server had open at that moment, so the server's close would not reach the
        // client until the postmaster exits.
        closeFrom3?(&actions, 3)
        let argv = [executable] + arguments
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { argvPointer in
            withCStrings(envp) { envPointer in
                posix_spawn(&pid, executable, &actions, nil, argvPointer, envPointer)
            }
        }
        guard spawned == 0 else {
            throw ProcessFailure(
                command: argv.joined(separator: " "),
                output: ProcessOutput(status: 127, stdout: "", stderr: String(cString: strerror(spawned))))
        }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not declare; nil on a C library without it.
    private static let closeFrom3: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Waits for `pid` and returns its exit status (128 + signal when killed).
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// The full path of `name` on PATH, if any.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// A program started in the background (a controller under test), to signal and wait for.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    let outPath: String
    let errPath: String
    private let lock = NSLock()
    private var reaped = false

    /// A test that fails before it stops its process must not leave it running.
    deinit {
        guard !lock.withLock({ reaped }) else { return }
        kill(pid, SIGKILL)
        _ = ProcessRunner.waitForExit(pid)
    }

    /// Starts `executable`; output goes to files read by `output()`.
    /// - Throws: `ProcessFailure` when it cannot start.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let scratch = NSTemporaryDirectory() + "driftless-bg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        outPath = scratch + "/out"
        errPath = scratch + "/err"
        pid = try ProcessRunner.spawn(executable, arguments, environment: environment, stdout: outPath, stderr: errPath)
    }

    /// Sends `signal` (SIGTERM by default).
    public func signal(_ signal: Int32 = SIGTERM) { kill(pid, signal) }

    /// Waits for the exit and returns its status and output.
    public func wait() -> ProcessOutput {
        defer { lock.withLock { reaped = true } }
        return ProcessOutput(status: ProcessRunner.waitForExit(pid), stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// Waits at most `seconds` for the exit. A process still running then is killed (so a test
    /// never hangs) and nil is returned.
    public func wait(upTo seconds: Double) -> ProcessOutput? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                lock.withLock { self.reaped = true }
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                return ProcessOutput(status: code, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                                     stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(pid, SIGKILL)
        _ = ProcessRunner.waitForExit(pid)
        lock.withLock { self.reaped = true }
        return nil
    }

    /// What it has printed so far.
    public func output() -> String {
        ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}
