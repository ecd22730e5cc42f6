import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres wrapper against a real server")
struct PostgresTests {
    /// Text arrays sent as one parameter arrive element for element, whatever they contain.
    @Test func textArraysRoundTripThroughTheServer() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let values = ["a", "b \"c\"", "back\\slash", "", "NULL", "{x,y}", "ünïcode", "two\nlines", "DROP TABLE x; --"]
            let rows = try db.connect().query("SELECT v FROM unnest($1::text[]) WITH ORDINALITY u(v, n) ORDER BY n", [PostgresArray.text(values)])
            #expect(try rows.rows.map { try $0.string("v") } == values)
            #expect(PostgresArray.parseText(try db.connect().query("SELECT $1::text[]::text AS a", [PostgresArray.text(values)]).first!.string("a")) == values)
            // As the server prints them: bare and quoted elements, NULLs dropped, the empty array.
            let printed = try db.connect().query("SELECT ARRAY['x', NULL, 'y z', 'NULL', 'é,è']::text AS a, '{}'::text[]::text AS e").first!
            #expect(try printed.string("a") == #"{x,NULL,"y z","NULL","é,è"}"#)
            #expect(PostgresArray.parseText(try printed.string("a")) == ["x", "y z", "NULL", "é,è"])
            #expect(PostgresArray.parseText(try printed.string("e")) == [])
        }
    }

    @Test func queriesReturnTypedRows() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            let result = try connection.query(
                "SELECT $1::int + 1 AS n, $2::text AS s, NULL::text AS missing, true AS yes, '[1,2]'::jsonb AS j",
                ["41", "hello"])
            let row = try #require(result.first)
            #expect(try row.int("n") == 42)
            #expect(try row.string("s") == "hello")
            #expect(try row.text("missing") == nil)
            #expect(try row.bool("yes"))
            #expect(try row.json("j", as: [Int].self) == [1, 2])
            #expect(connection.serverVersion >= 150000)
            #expect(throws: PostgresError.self) { try row.string("missing") }
            #expect(throws: PostgresError.self) { try row.text("no_such_column") }
        }
    }

    /// The largest statement, parameters or row a connection moved (libpq's buffers stay that
    /// large until it closes), through each way of sending.
    @Test func aConnectionKnowsTheLargestMessageItMoved() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            #expect(connection.largestMessage < 1_000)
            let sent = String(repeating: "x", count: 300_000)
            try connection.query("SELECT length($1) AS n", [sent])
            #expect(connection.largestMessage >= 300_000 && connection.largestMessage < 301_000)
            // A row received: two columns of a million bytes and one of three.
            try connection.query("SELECT repeat('y', 1000000) AS a, repeat('z', 1000000) AS b, 'abc' AS c")
            #expect(connection.largestMessage == 2_000_003)
            try connection.pipeline(["SELECT '\(String(repeating: "p", count: 3_000_000))'"])
            #expect(connection.largestMessage > 3_000_000)
            try connection.simpleQuery("SELECT 1; -- \(String(repeating: "s", count: 4_000_000))")
            #expect(connection.largestMessage > 4_000_000)
        }
    }

    @Test func applicationNameIsDriftless() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try Connection(ConnectionString(db.url))
            let row = try #require(try connection.query("SELECT current_setting('application_name') AS name").first)
            #expect(try row.string("name") == "driftless")
        }
    }

    @Test func twoStatementsAreRefusedByTheParameterisedPath() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            try connection.query("CREATE TABLE t (x int)")
            let error = try #require(throws: PostgresError.self) {
                try connection.query("INSERT INTO t VALUES (1); DROP TABLE t")
            }
            #expect(error.sqlstate == "42601")
            #expect(error.statement == "INSERT INTO t VALUES (1); DROP TABLE t")
            // Nothing of the smuggled statement ran: the table is still there and empty.
            let count = try #require(try connection.query("SELECT count(*) AS n FROM t").first)
            #expect(try count.int("n") == 0)
        }
    }

    @Test func serverErrorsCarrySQLStateDetailAndStatement() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            try connection.query("CREATE TABLE u (id int PRIMARY KEY)")
            try connection.query("INSERT INTO u VALUES (1)")
            let error = try #require(throws: PostgresError.self) { try connection.query("INSERT INTO u VALUES (1)") }
            #expect(error.code == .statementFailed)
            #expect(error.sqlstate == "23505")
            #expect(error.message.contains("duplicate key"))
            #expect(error.detail?.contains("(id)=(1)") == true)
            #expect(error.statement == "INSERT INTO u VALUES (1)")
            let missing = try #require(throws: PostgresError.self) { try connection.query("SELECT * FROM nope") }
            #expect(missing.sqlstate == "42P01")
        }
    }

    @Test func transactionsCommitOrRollBack() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            try connection.query("CREATE TABLE v (x int)")
            try connection.transaction { try $0.query("INSERT INTO v VALUES (1)") }
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try connection.transaction { conn in
                    try conn.query("INSERT INTO v VALUES (2)")
                    throw Boom()
                }
            }
            #expect(!connection.inTransaction)
            let rows = try connection.query("SELECT x FROM v ORDER BY x").rows.map { try $0.int("x") }
            #expect(rows == [1])
        }
    }

    @Test func connectionErrorsAreRedacted() async throws {
        try await blocking {
            let cluster = try PostgresCluster.shared()
            let secret = "S3cr3t-Pa55word-x9"
            let attempts = [
                // No such database: the server answers with SQLSTATE-bearing text.
                "postgresql://postgres:\(secret)@127.0.0.1:\(cluster.port)/no_such_database",
                // Nothing listens on port 1.
                "postgresql://postgres:\(secret)@127.0.0.1:1/postgres",
                // Keyword form, with a syntax error after the password.
                "host=127.0.0.1 port=\(cluster.port) password=\(secret) dbname='unterminated",
            ]
            for attempt in attempts {
                let connectionString = ConnectionString(attempt)
                #expect(!connectionString.description.contains(secret))
                #expect(connectionString.description.contains("***"))
                let error = try #require(throws: PostgresError.self) { try Connection(connectionString) }
                #expect(error.code == .connectionFailed)
                #expect(error.sqlstate == "08001")
                #expect(!error.message.isEmpty)
                for text in [error.description, error.debugDescription, "\(error)", String(reflecting: error)] {
                    #expect(!text.contains(secret), "password leaked in: \(text)")
                }
            }
        }
    }

    @Test func redactionCoversEveryForm() {
        let secret = "p@ss:w/rd"
        let encoded = "p%40ss%3Aw%2Frd"
        let url = ConnectionString("postgresql://app:\(encoded)@db.example.com:5432/postgres?sslmode=require")
        #expect(url.redacted == "postgresql://app:***@db.example.com:5432/postgres?sslmode=require")
        #expect(url.redact("failed for \(secret) and \(encoded)") == "failed for *** and ***")
        let keywords = ConnectionString(#"host=db password='it\'s secret' dbname=app"#)
        #expect(!keywords.redacted.contains("secret"))
    }

    @Test func cancelTokenStopsARunningStatement() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            let token = try #require(connection.makeCancelToken())
            afterAMoment { token.cancel() }
            let error = try #require(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(30)") }
            #expect(error.sqlstate == "57014")
        }
    }

    /// A pipeline runs its statements in order and reports the first that fails by position;
    /// nothing after it runs, and the connection is usable once the transaction is rolled back.
    @Test func pipelinesRunInOrderAndNameTheStatementThatFailed() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            try connection.transaction { connection in
                try connection.pipeline((0..<250).map { "CREATE TABLE t\($0) (id int PRIMARY KEY)" })
            }
            let tables = try #require(try connection.query("SELECT count(*) AS n FROM pg_tables WHERE tablename ~ '^t[0-9]+$'").first)
            #expect(try tables.int("n") == 250)

            try connection.query("BEGIN")
            let failure = try #require(throws: PipelineError.self) {
                try connection.pipeline([
                    "CREATE TABLE a (id int)", "INSERT INTO a VALUES (1)", "INSERT INTO a VALUES ('x')",
                    "CREATE TABLE b (id int)", "SELECT * FROM no_such_table",
                ])
            }
            #expect(failure.index == 2)
            #expect(failure.error.sqlstate == "22P02")
            #expect(failure.error.statement == "INSERT INTO a VALUES ('x')")
            connection.rollbackQuietly()
            let left = try #require(try connection.query("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL AS gone").first)
            #expect(try left.bool("gone"))
            // Back in ordinary mode: a parameterised query works.
            #expect(try connection.query("SELECT $1::int AS n", ["7"]).first!.int("n") == 7)
        }
    }

    /// Outside a transaction block the statements of one pipeline commit or fail together.
    @Test func aPipelineOutsideATransactionIsOneImplicitTransaction() async throws {
        try await blocking {
            let connection = try PostgresCluster.shared().createDatabase().connect()
            #expect(throws: PipelineError.self) {
                try connection.pipeline(["CREATE TABLE kept (id int)", "CREATE TABLE kept (id int)"])
            }
            let row = try #require(try connection.query("SELECT to_regclass('kept') IS NULL AS gone").first)
            #expect(try row.bool("gone"))
            #expect(!connection.inTransaction)
        }
    }

    @Test func cancelStopsTheStatementAPipelineIsRunning() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            let token = try #require(connection.makeCancelToken())
            // Cancel once the server runs the sleep (a fixed delay lost the race on a loaded machine).
            let watcher = Handoff(try db.connect(applicationName: "driftless-watcher"))
            Thread {
                for _ in 0..<600 {
                    let sleeping = (try? watcher.value.query(
                        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'")
                        .first?.int("n")) ?? 0
                    if sleeping > 0 { break }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                token.cancel()
            }.start()
            try connection.query("BEGIN")
            let failure = try #require(throws: PipelineError.self) {
                try connection.pipeline(["CREATE TABLE c (id int)", "SELECT pg_sleep(30)", "CREATE TABLE d (id int)"])
            }
            #expect(failure.index == 1)
            #expect(failure.error.sqlstate == "57014")
            connection.rollbackQuietly()
        }
    }

    /// A server that goes away mid-pipeline is a connection error, not a hang.
    @Test func aConnectionKilledMidPipelineIsAConnectionError() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let connection = try db.connect()
            let pid = try connection.query("SELECT pg_backend_pid() AS pid").first!.int("pid")
            afterAMoment { _ = try? db.connect().query("SELECT pg_terminate_backend($1::int)", [String(pid)]) }
            let failure = try #require(throws: PipelineError.self) {
                try connection.pipeline(["SELECT 1", "SELECT pg_sleep(30)", "SELECT 2"])
            }
            #expect(failure.index == 1)
            #expect(failure.error.isConnectionError || failure.error.sqlstate == "57P01")
            #expect(!connection.isHealthy)
        }
    }

    /// Runs `body` on a thread of its own 0.3 s from now (while the caller's statement runs).
    func afterAMoment(_ body: @escaping @Sendable () -> Void) {
        Thread {
            Thread.sleep(forTimeInterval: 0.3)
            body()
        }.start()
    }
}
