@testable import Controller
import Foundation
import GitSource
import Reconciler
import Testing
import TestSupport

/// A fleet's targets reading one repository share its clone and its fetches (docs/fleet.md,
/// Memory), with real repositories over libgit2.
@Suite("Shared revisions of a fleet")
struct SharedRevisionsTests {
    /// The commits the concurrent loads saw.
    final class Commits: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [String] = []
        func add(_ commit: String) { lock.withLock { seen.append(commit) } }
        var all: [String] { lock.withLock { seen } }
    }

    func location(_ fixture: GitFixture, cache: String, path: String) -> BlueprintLocation {
        .git(repository: fixture.fileURL, ref: "main", path: path, cacheDirectory: cache, credentials: GitCredentials())
    }

    @Test func targetsOfOneRepositoryShareOneCloneAndFetchOnceInAWhile() async throws {
        try await blocking {
            let fixture = try GitFixture()
            try fixture.write("db/a.yaml", "version: 1\n")
            try fixture.write("staging/a.yaml", "version: 1\n")
            let first = try fixture.commit("first")
            let cache = NSTemporaryDirectory() + "driftless-shared-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: cache) }
            let shared = SharedRevisions(freshness: .seconds(3600))

            // Eight targets at once, two paths of one repository: one clone, no race in libgit2.
            let commits = Commits()
            DispatchQueue.concurrentPerform(iterations: 8) { index in
                let path = index % 2 == 0 ? "db" : "staging"
                commits.add((try? shared.load(location(fixture, cache: cache, path: path), fresh: true, reusing: nil))?.commit ?? "failed")
            }
            #expect(commits.all == Array(repeating: first, count: 8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 1)

            // A new commit: the timer's ticks take what was fetched a moment ago; an explicit
            // tick (a push, an API call) fetches it.
            try fixture.write("db/a.yaml", "version: 2\n")
            let second = try fixture.commit("second")
            #expect(try shared.load(location(fixture, cache: cache, path: "db"), fresh: false, reusing: nil).commit == first)
            let fresh = try shared.load(location(fixture, cache: cache, path: "db"), fresh: true, reusing: nil)
            #expect(fresh.commit == second)
            #expect(fresh.sources.map(\.contents) == [Data("version: 2\n".utf8)])
            // The other path of the same repository has its own entry, still at the first commit
            // until its freshness passes or it is asked for.
            #expect(try shared.load(location(fixture, cache: cache, path: "staging"), fresh: false, reusing: nil).commit == first)

            // With no freshness every load fetches.
            let eager = SharedRevisions(freshness: .zero)
            try fixture.write("db/a.yaml", "version: 3\n")
            let third = try fixture.commit("third")
            #expect(try eager.load(location(fixture, cache: cache, path: "db"), fresh: false, reusing: nil).commit == third)
        }
    }
}

