@testable import Controller
import Postgres
import Testing
import TestSupport

/// The controller keeps its connection between ticks, except one whose libpq buffers grew
/// large (docs/operations.md, Memory).
@Suite("The controller's kept connection")
struct KeptConnectionTests {
    @Test func aConnectionThatMovedALargeMessageIsNotKept() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let kept = KeptConnection()
            let small = try kept.take(db.url)
            try small.query("SELECT 1")
            kept.give(back: small)
            #expect(try kept.take(db.url) === small)

            let large = try kept.take(db.url)
            try large.query("SELECT length($1)", [String(repeating: "x", count: KeptConnection.largestKeptMessage + 1)])
            kept.give(back: large)
            let next = try kept.take(db.url)
            #expect(next !== large)
            #expect(next.largestMessage < KeptConnection.largestKeptMessage)
        }
    }
}
