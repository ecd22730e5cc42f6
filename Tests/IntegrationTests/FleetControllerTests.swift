import DriftlessCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import Reconciler
import Testing
import TestSupport

/// A fleet (fleet.md) with the real command line, real HTTP and real databases: twenty-one
/// targets over two controller processes as shards, one of them a database that is not there;
/// a targets file edited under the running controllers; waves halted by a failing target of an
/// earlier wave until it is suspended.
@Suite("A fleet of databases from one targets file", .serialized)
struct FleetControllerTests {
    static let token = "fleet-admin-token-\(UUID().uuidString.prefix(8))"

    static let blueprint = document("""
        tables:
          - name: notes
            columns:
              - {name: id, type: uuid, primary_key: true, default: gen_random_uuid()}
              - {name: tenant_id, type: uuid, nullable: false}
              - {name: body, type: text}
        """)

    /// `driftless run --targets` as shard `ordinal` of `shards` (its host name says which).
    func controller(_ targetsFile: String, ordinal: Int, shards: Int, environment extra: [String: String],
                    arguments: [String] = []) throws -> BackgroundProcess {
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["HOSTNAME"] = "driftless-\(ordinal)"
        environment["DRIFTLESS_API_TOKEN"] = Self.token
        return try BackgroundProcess(RepositoryPaths.driftlessExecutable, [
            "run", "--targets", targetsFile, "--shards", String(shards), "--shard", "auto", "--listen", "127.0.0.1:0",
            "--shutdown-timeout", "1s", "--retry-interval", "1s",
            "--git-cache", NSTemporaryDirectory() + "driftless-fleet-\(UUID().uuidString.prefix(6))",
        ] + arguments, environment: environment)
    }

    func port(_ process: BackgroundProcess) async throws -> String {
        #expect(await eventually { process.output().contains("listening") }, "\(process.output())")
        return try #require(process.output().firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) })
    }

    func get(_ port: String, _ path: String, method: String = "GET") async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(Self.token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The controller column of every history row of `db` (nil: no history yet).
    func controllers(_ db: TestDatabase) throws -> [String]? {
        try? db.connect().query("SELECT controller || ' ' || status AS row FROM driftless.schema_migrations ORDER BY id").rows.map { try $0.string("row") }
    }

    func targetsFile(_ entries: [String], defaults: String) -> String {
        "version: 1\ndefaults:\n\(defaults)\ntargets:\n" + entries.joined(separator: "\n") + "\n"
    }

    @Test func twentyTargetsOverTwoShardsEachReconciledByItsOwnShard() async throws {
        let cluster = try PostgresCluster.shared()
        let databases = try await blocking { try (0..<21).map { _ in try cluster.createDatabase(prefix: "fleet") } }
        let directory = NSTemporaryDirectory() + "driftless-fleet-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/blueprints", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.blueprint.write(toFile: directory + "/blueprints/notes.yaml", atomically: true, encoding: .utf8)
        var environment: [String: String] = [:]
        var entries: [String] = []
        for index in 0..<20 {
            environment["T\(index)_URL"] = databases[index].url
            entries.append("  - {name: t\(index), database_url_env: T\(index)_URL}")
        }
        // A target whose database is not there: nothing listens on port 1.
        environment["GONE_URL"] = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2"
        entries.append("  - {name: gone, database_url_env: GONE_URL}")
        environment["T20_URL"] = databases[20].url
        let file = directory + "/targets.yaml"
        let defaults = "  blueprints: \(directory)/blueprints\n  interval: 1h"
        try targetsFile(entries, defaults: defaults).write(toFile: file, atomically: true, encoding: .utf8)

        let shards = [try controller(file, ordinal: 0, shards: 2, environment: environment),
                      try controller(file, ordinal: 1, shards: 2, environment: environment)]
        defer { for process in shards { process.signal(SIGKILL); _ = process.wait() } }
        let ports = [try await port(shards[0]), try await port(shards[1])]

        // Every target converges, each reconciled by its own shard only.
        let converged = try await eventually(120) {
            try await blocking { try (0..<20).allSatisfy { (try controllers(databases[$0]) ?? []).contains { $0.hasSuffix(" ok") } } }
        }
        #expect(converged, "\(shards[0].output())\n\(shards[1].output())")
        var perShard = [0, 0]
        for index in 0..<20 {
            let expected = Sharding.shard(of: "t\(index)", shards: 2)
            perShard[expected] += 1
            let rows = try await blocking { try controllers(databases[index]) ?? [] }
            #expect(!rows.isEmpty && rows.allSatisfy { $0.hasPrefix("driftless-\(expected) ") }, "t\(index): \(rows)")
        }
        print("fleet: targets per shard \(perShard)")

        // Each replica lists only its own targets; the missing database is reported, not waited for.
        let goneShard = Sharding.shard(of: "gone", shards: 2)
        let (code, listing) = try await get(ports[goneShard], "/v1/targets")
        #expect(code == 200)
        let targets = try JSONDecoder().decode([TargetListing].self, from: Data(listing.utf8))
        #expect(Set(targets.map(\.name)) == Set((0..<20).map { "t\($0)" }.filter { Sharding.shard(of: $0, shards: 2) == goneShard } + ["gone"]))
        let gone = try #require(targets.first { $0.name == "gone" })
        #expect(gone.status.lastResult?.status == .retry && gone.status.lastResult?.summary.contains("cannot reach the database") == true,
                "\(listing)")
        #expect(gone.status.conditions.contains { $0.type == "Ready" && $0.status == "False" })
        let (_, status) = try await get(ports[goneShard], "/v1/targets/gone/status")
        #expect(status.contains("cannot reach the database"))
        #expect(try await get(ports[goneShard], "/v1/targets/nobody/status").0 == 404)
        let (_, metrics) = try await get(ports[goneShard], "/metrics")
        #expect(metrics.contains("driftless_reconcile_total{target=\"gone\",status=\"retry\"}"), "\(metrics.prefix(2000))")
        #expect(metrics.contains("driftless_targets{shard=\"\(goneShard)\"} \(targets.count)"))

        // A target added to the file under the running controllers is picked up by its shard.
        entries.append("  - {name: t20, database_url_env: T20_URL}")
        try targetsFile(entries, defaults: defaults).write(toFile: file, atomically: true, encoding: .utf8)
        let added = try await eventually(60) {
            try await blocking { (try controllers(databases[20]) ?? []).contains { $0.hasSuffix(" ok") } }
        }
        #expect(added)
        let rows = try await blocking { try controllers(databases[20]) ?? [] }
        #expect(rows.allSatisfy { $0.hasPrefix("driftless-\(Sharding.shard(of: "t20", shards: 2)) ") }, "\(rows)")

        // `fleet status` reads the same from each target's history.
        var cli = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        cli["HOSTNAME"] = "cli"
        let table = try ProcessRunner.run(RepositoryPaths.driftlessExecutable, ["fleet", "status", "--targets", file, "--shards", "2", "--format", "json"],
                                          environment: cli, check: false)
        #expect(table.status == 1, "gone is unreachable: \(table.stdout)\(table.stderr)")
        let fleetRows = try JSONDecoder().decode([FleetRowListing].self, from: Data(table.stdout.utf8))
        #expect(fleetRows.count == 22)
        #expect(fleetRows.filter { $0.status == "ok" || $0.status == "noop" }.count == 21, "\(table.stdout)")
        #expect(fleetRows.first { $0.target == "gone" }?.status == "unreachable")
        for process in shards { process.signal(SIGTERM) }
        for process in shards { #expect(process.wait().status == 0) }
    }

    @Test func aFailingTargetOfAnEarlierWaveHaltsTheNextUntilSuspended() async throws {
        let cluster = try PostgresCluster.shared()
        let canary = try await blocking { try cluster.createDatabase(prefix: "wave") }
        let later = try await blocking { try cluster.createDatabase(prefix: "wave") }
        // The canary has no Storage: a revision declaring a bucket fails there.
        try await blocking { try Connection(ConnectionString(canary.superuserURL)).query("DROP SCHEMA storage CASCADE") }
        let fixture = try GitFixture()
        try fixture.write("db/notes.yaml", Self.blueprint)
        try fixture.write("db/storage.yaml", document("""
            storage:
              buckets:
                - {id: avatars, public: false}
            """))
        let commit = try fixture.commit("notes and a bucket")
        let directory = NSTemporaryDirectory() + "driftless-wave-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/targets.yaml"
        let defaults = "  repo: \(fixture.fileURL)\n  ref: main\n  path: db\n  interval: 1h"
        func write(suspendCanary: Bool) throws {
            try targetsFile([
                "  - {name: canary, database_url_env: CANARY_URL, wave: 1, suspend: \(suspendCanary)}",
                "  - {name: later, database_url_env: LATER_URL, wave: 2}",
            ], defaults: defaults).write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write(suspendCanary: false)
        let process = try controller(file, ordinal: 0, shards: 1, environment: ["CANARY_URL": canary.url, "LATER_URL": later.url])
        defer { process.signal(SIGKILL); _ = process.wait() }
        let port = try await port(process)

        // The canary fails; the later wave is halted, naming it, and changes nothing.
        let halted = try await eventually(60) {
            let (_, body) = try await get(port, "/v1/targets/later/status")
            return body.contains("\"RolloutHalted\"") && body.contains("EarlierWaveFailed")
        }
        #expect(halted, "\(process.output())")
        let (_, body) = try await get(port, "/v1/targets/later/status")
        #expect(body.contains("target canary is failed at this revision"), "\(body)")
        #expect(try await blocking { try controllers(canary) ?? [] }.contains { $0.hasSuffix(" failed") })
        let laterRows = try await blocking {
            try later.connect().query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'notes'").first!.int("n")
        }
        #expect(laterRows == 0, "the later wave changed its database while halted")

        // The canary suspended (the file edited under the running controller): the rollout goes on.
        try write(suspendCanary: true)
        let reached = try await eventually(60) {
            try await blocking {
                (try? later.connect().query("SELECT status FROM driftless.schema_migrations WHERE revision LIKE $1 ORDER BY id DESC LIMIT 1",
                                            ["%\(commit.prefix(7))%"]).first?.string("status")) == "ok"
            }
        }
        #expect(reached, "\(process.output())")
    }
}

extension FleetControllerTests {
    /// One slot for two targets, and one of them stuck behind a lock for a minute: its
    /// reconciliation is cancelled at its deadline, so the other converges within seconds, and
    /// the stuck one's transaction left nothing behind (fleet.md, Targets; docs/reliability.md,
    /// Deadlines).
    @Test func aStuckTargetIsCancelledAtItsDeadlineAndNeverHoldsTheOther() async throws {
        let cluster = try PostgresCluster.shared()
        let stuck = try await blocking { try cluster.createDatabase(prefix: "deadline") }
        let other = try await blocking { try cluster.createDatabase(prefix: "deadline") }
        // The stuck target already has notes without body; a session holds a lock on it, so the
        // ALTER TABLE waits (no look at blockers, a minute of lock timeout).
        let held = try await blocking { () -> Handoff<Connection> in
            let connection = try stuck.connect(applicationName: "holder")
            try connection.query("CREATE TABLE notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL)")
            try connection.query("BEGIN")
            try connection.query("LOCK TABLE notes IN ACCESS SHARE MODE")
            return Handoff(connection)
        }
        let directory = NSTemporaryDirectory() + "driftless-deadline-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/blueprints", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.blueprint.write(toFile: directory + "/blueprints/notes.yaml", atomically: true, encoding: .utf8)
        let file = directory + "/targets.yaml"
        // "a-stuck" sorts first, so it is very likely the first to take the one slot.
        try targetsFile(["  - {name: a-stuck, database_url_env: STUCK_URL}", "  - {name: b-other, database_url_env: OTHER_URL}"],
                        defaults: "  blueprints: \(directory)/blueprints\n  interval: 1h").write(toFile: file, atomically: true, encoding: .utf8)
        let started = Date()
        let process = try controller(file, ordinal: 0, shards: 1, environment: ["STUCK_URL": stuck.url, "OTHER_URL": other.url], arguments: [
            "--concurrency", "1", "--reconcile-deadline", "2s", "--lock-timeout", "60s", "--max-blocker-age", "0s", "--retry-interval", "30s",
        ])
        defer { process.signal(SIGKILL); _ = process.wait() }
        let port = try await port(process)

        let otherDone = try await eventually(40) {
            try await blocking { (try controllers(other) ?? []).contains { $0.hasSuffix(" ok") } }
        }
        let waited = Date().timeIntervalSince(started)
        #expect(otherDone, "\(process.output())")
        // The stuck target answers at its deadline (whichever of the two took the slot first).
        let answered = try await eventually(20) {
            let body = try await get(port, "/v1/targets/a-stuck/status").1
            return try JSONDecoder().decode(TargetListing.Status.self, from: Data(body.utf8)).lastResult != nil
        }
        let body = try await get(port, "/v1/targets/a-stuck/status").1
        #expect(answered, "\(body)")
        let status = try JSONDecoder().decode(TargetListing.Status.self, from: Data(body.utf8))
        print("deadline: the other target converged \(String(format: "%.1f", waited)) s after start; the stuck one: \(status.lastResult?.summary ?? "no result yet")")
        // Well before the 60 s lock timeout: the deadline (2 s) freed the slot.
        #expect(waited < 30, "the other target waited \(waited) s")
        #expect(status.lastResult?.status == .retry, "\(body)")
        #expect(status.lastResult?.errors.first?.code == "deadline", "\(body)")
        #expect(status.lastResult?.summary.contains("deadline of 2s") == true, "\(body)")
        // The holder was never cancelled, and the stuck database is as it was: no body column.
        #expect(try await blocking { try held.value.query("SELECT 1 AS one").first!.int("one") } == 1)
        let columns = try await blocking {
            try other.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'body'").first!.int("n")
        }
        #expect(columns == 1)
        let stuckColumns = try await blocking {
            try stuck.connect().query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'body'").first!.int("n")
        }
        #expect(stuckColumns == 0)
        // Once the holder commits, the stuck target converges at its next try.
        try await blocking { try held.value.query("COMMIT") }
        _ = try await get(port, "/v1/targets/a-stuck/reconcile", method: "POST")
        let stuckDone = try await eventually(40) {
            try await blocking { (try controllers(stuck) ?? []).contains { $0.hasSuffix(" ok") } }
        }
        #expect(stuckDone, "\(process.output())")
    }
}

/// The parts of a `fleet status` row the tests read.
struct FleetRowListing: Decodable {
    var target: String
    var status: String
}

/// The parts of `GET /v1/targets` the tests read.
struct TargetListing: Decodable {
    var name: String
    var shard: Int
    var wave: Int
    var status: Status

    struct Status: Decodable {
        var lastResult: ReconcileResult?
        var conditions: [Condition]
        enum CodingKeys: String, CodingKey {
            case conditions
            case lastResult = "last_result"
        }
    }

    struct Condition: Decodable {
        var type: String
        var status: String
    }
}
