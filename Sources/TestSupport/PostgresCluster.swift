import Foundation
import Postgres

/// A throwaway PostgreSQL cluster: initdb into a temporary folder, loopback only, a free
/// port, a private socket folder, stopped when the process exits.
///
/// Debian keeps the server binaries under `/usr/lib/postgresql/<major>/bin`; `initdb` refuses
/// to run as root, so as root the cluster runs as the `postgres` system user.
public final class PostgresCluster: @unchecked Sendable {
    /// The port the server listens on (127.0.0.1 only).
    public let port: Int
    /// The cluster's data folder.
    public let dataDirectory: String
    private let binDirectory: String
    private let runAsPostgres: Bool
    private let lock = NSLock()
    private var databaseCounter = 0
    private var stopped = false

    /// A connection string for `user` (default `postgres`, as on Supabase not a superuser) to
    /// `database`.
    public func url(database: String = "postgres", user: String = "postgres") -> String {
        "postgresql://\(user)@127.0.0.1:\(port)/\(database)"
    }

    /// The cluster's superuser, as on Supabase.
    public static let superuser = "supabase_admin"

    private func admin(database: String = "postgres") throws -> Connection {
        try Connection(ConnectionString(url(database: database, user: Self.superuser)))
    }

    private nonisolated(unsafe) static var sharedResult: Result<PostgresCluster, Error>?
    private static let sharedLock = NSLock()

    /// The cluster of this test process: started on first use, stopped at exit.
    /// - Throws: when the server binaries are missing or the server does not start.
    public static func shared() throws -> PostgresCluster {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let sharedResult { return try sharedResult.get() }
        let result = Result { try PostgresCluster.start() }
        sharedResult = result
        if case .success = result {
            atexit { if case .success(let cluster)? = PostgresCluster.sharedResult { cluster.stop() } }
        }
        return try result.get()
    }

    /// Starts a new cluster with the Supabase emulation loaded into one template database per
    /// kind of project.
    /// - Throws: `ProcessFailure` from initdb/pg_ctl, or `PostgresError` from loading.
    public static func start() throws -> PostgresCluster {
        let binDirectory = try findServerBinaries()
        let runAsPostgres = getuid() == 0
        let base = NSTemporaryDirectory() + "driftless-pg-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let data = base + "/data"
        let sockets = base + "/sock"
        try FileManager.default.createDirectory(atPath: sockets, withIntermediateDirectories: true)
        if runAsPostgres {
            try ProcessRunner.run("/bin/chown", ["-R", "postgres:postgres", base])
        }
        let port = try freePort()
        let cluster = PostgresCluster(
            port: port, dataDirectory: data, binDirectory: binDirectory, runAsPostgres: runAsPostgres)
        try cluster.server("initdb", ["-D", data, "-A", "trust", "-U", superuser, "-E", "UTF8", "--no-sync", "--locale=C"])
        let options = [
            "-c listen_addresses=127.0.0.1", "-p \(port)", "-k \(sockets)",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=200", "-c shared_buffers=128MB",
        ].joined(separator: " ")
        try cluster.server("pg_ctl", ["-D", data, "-l", base + "/server.log", "-o", options, "-w", "-t", "60", "start"])
        try cluster.makeTemplates()
        return cluster
    }

    private init(port: Int, dataDirectory: String, binDirectory: String, runAsPostgres: Bool) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
        self.runAsPostgres = runAsPostgres
    }

    /// Stops the server immediately and removes its folder.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        _ = try? server("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"], check: false)
        try? FileManager.default.removeItem(atPath: (dataDirectory as NSString).deletingLastPathComponent)
    }

    /// Restarts the server (same port, same data), for fault tests.
    /// - Throws: `ProcessFailure` from pg_ctl.
    public func restart(mode: String = "fast") throws {
        try server("pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "-t", "60", "restart"])
    }

    /// A fresh database, owned by `postgres`, copied from the template of `kind` (tens of
    /// milliseconds).
    /// - Throws: `PostgresError` when the database cannot be created.
    public func createDatabase(prefix: String = "test", kind: SupabaseProject = .legacy) throws -> TestDatabase {
        lock.lock()
        databaseCounter += 1
        let name = "\(prefix)_\(databaseCounter)_\(UUID().uuidString.prefix(6).lowercased())"
        lock.unlock()
        try admin().query(
            "CREATE DATABASE \(Connection.quoteIdentifier(name)) TEMPLATE \(kind.template) OWNER postgres")
        return TestDatabase(cluster: self, name: name, kind: kind)
    }

    private func makeTemplates() throws {
        let emulation = try Self.resource("supabase-emulation")
        let legacy = try Self.resource("supabase-legacy-privileges")
        // The databases are postgres's, as on Supabase; the emulation gives the role the rest.
        try admin().query("CREATE ROLE postgres LOGIN")
        for kind in SupabaseProject.allCases {
            try admin().query("CREATE DATABASE \(kind.template) TEMPLATE template0 OWNER postgres")
            let template = try admin(database: kind.template)
            try template.simpleQuery(emulation)
            if kind == .legacy { try template.simpleQuery(legacy) }
        }
    }

    private static func resource(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "sql") else {
            throw PostgresError(code: .invalidArgument, message: "\(name).sql is missing from TestSupport's bundle")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    @discardableResult
    private func server(_ program: String, _ arguments: [String], check: Bool = true) throws -> ProcessOutput {
        let executable = binDirectory + "/" + program
        if runAsPostgres {
            return try ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments, check: check)
        }
        return try ProcessRunner.run(executable, arguments, check: check)
    }

    private static func findServerBinaries() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let configured = environment["DRIFTLESS_PG_BINDIR"] { candidates.append(configured) }
        candidates.append("/usr/lib/postgresql/15/bin")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        if let initdb = ProcessRunner.which("initdb") { candidates.append((initdb as NSString).deletingLastPathComponent) }
        for directory in candidates where FileManager.default.isExecutableFile(atPath: directory + "/initdb") {
            return directory
        }
        throw ProcessFailure(
            command: "find initdb",
            output: ProcessOutput(
                status: 127, stdout: "",
                stderr: "no PostgreSQL server binaries found (looked in \(candidates.joined(separator: ", "))); install postgresql or set DRIFTLESS_PG_BINDIR"))
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostgresError(code: .invalidArgument, message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw PostgresError(code: .invalidArgument, message: "could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The two kinds of Supabase project in the wild (docs/engine.md, Testing).
public enum SupabaseProject: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Created before 2026-05-30: default privileges give the API roles ALL on every new
    /// table in `public`.
    case legacy
    /// "No auto-expose", the default since 2026-10-30: a new table has no grants for the API
    /// roles.
    case noAutoExpose

    var template: String { self == .legacy ? "supabase_legacy_template" : "supabase_private_template" }
    public var description: String { self == .legacy ? "legacy default privileges" : "no auto-expose" }
}

/// One database of a test cluster, with the Supabase emulation loaded.
public struct TestDatabase: Sendable {
    public let cluster: PostgresCluster
    public let name: String
    /// Which kind of Supabase project it emulates.
    public let kind: SupabaseProject

    /// The connection string of `postgres`, the role a Supabase user has: owner of the
    /// database, not a superuser, BYPASSRLS.
    public var url: String { cluster.url(database: name) }

    /// The connection string of the cluster's superuser (`supabase_admin`), for what only the
    /// platform may do.
    public var superuserURL: String { cluster.url(database: name, user: PostgresCluster.superuser) }

    /// Connects as `user` (default `postgres`), named `driftless-test` so tests can
    /// tell their own sessions from the ones of a `driftless` process under test.
    /// - Throws: `PostgresError.connectionFailed`.
    public func connect(user: String = "postgres", applicationName: String = "driftless-test") throws -> Connection {
        try Connection(ConnectionString(cluster.url(database: name, user: user)), applicationName: applicationName)
    }

    /// How many sessions of this database (never another test's: the cluster is shared by tests
    /// running in parallel) have an application name matching the SQL LIKE `pattern`, only those
    /// waiting on a lock when `waitingOnLock` is set.
    /// - Throws: `PostgresError` when the query fails.
    public func sessions(applicationName pattern: String = "driftless", waitingOnLock: Bool = false) throws -> Int {
        try connect().query("""
            SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name LIKE $1
              AND (NOT $2::bool OR wait_event_type = 'Lock')
            """, [pattern, waitingOnLock ? "true" : "false"]).first!.int("n")
    }

    /// Runs `body` as a Supabase API role with JWT `claims`, in a transaction that is rolled
    /// back afterwards (unless `commit` is true), exactly as PostgREST would set it up.
    /// - Throws: what `body` throws, or a `PostgresError` from setting the role.
    public func asRole<T>(
        _ role: String = "authenticated", claims: [String: Any]? = nil, commit: Bool = false,
        on connection: Connection, _ body: (Connection) throws -> T
    ) throws -> T {
        try connection.query("BEGIN")
        do {
            try connection.query("SET LOCAL ROLE \(Connection.quoteIdentifier(role))")
            if let claims {
                let json = String(decoding: try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]), as: UTF8.self)
                try connection.query("SELECT set_config('request.jwt.claims', $1, true)", [json])
            }
            let value = try body(connection)
            try connection.query(commit ? "COMMIT" : "ROLLBACK")
            return value
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// Claims of a signed-in user of `tenant` (tenant id in app_metadata, as Driftless expects).
    public static func tenantClaims(tenant: String, user: String = UUID().uuidString.lowercased()) -> [String: Any] {
        ["sub": user, "role": "authenticated", "app_metadata": ["tenant_id": tenant]]
    }
}
