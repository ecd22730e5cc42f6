import Foundation
import GitSource
import Testing
import TestSupport

@Suite("GitSource over libgit2 with real repositories")
struct GitSourceTests {
    @Test func readsFilesAtOlderCommitsWithoutAWorkTree() async throws {
        try await blocking {
            let fixture = try GitFixture()
            try fixture.write("blueprints/a.yaml", "version: 1\n")
            try fixture.write("README.md", "top\n")
            let first = try fixture.commit("first")
            try fixture.write("blueprints/a.yaml", "version: 2\n")
            try fixture.write("blueprints/nested/b.json", "{}")
            let second = try fixture.commit("second\n\nDriftless-Allow: deletes_data")

            let repository = try GitRepository.open(at: fixture.path)
            let old = try repository.files(at: CommitID(hex: first), under: "blueprints")
            #expect(old == [GitFile(path: "a.yaml", contents: Data("version: 1\n".utf8))])
            let new = try repository.files(at: CommitID(hex: second), under: "/blueprints/")
            #expect(new.map(\.path) == ["a.yaml", "nested/b.json"])
            #expect(new[0].contents == Data("version: 2\n".utf8))
            #expect(try repository.files(at: CommitID(hex: second)).map(\.path) == ["README.md", "blueprints/a.yaml", "blueprints/nested/b.json"])
            #expect(try repository.message(of: CommitID(hex: second)).contains("Driftless-Allow: deletes_data"))
        }
    }

    /// A cache stays open between fetches, so its remote is looked up once: each lookup leaks
    /// about 18 KB in Debian 12's libgit2 (docs/benchmarks.md, Fleet).
    @Test func aCacheIsKeptOpenBetweenFetches() async throws {
        try await blocking {
            let fixture = try GitFixture()
            try fixture.write("a.yaml", "1")
            try fixture.commit("one")
            let cache = NSTemporaryDirectory() + "driftless-kept-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: cache) }
            let first = try GitRepository.cached(url: fixture.fileURL, cacheDirectory: cache)
            try fixture.write("a.yaml", "2")
            let second = try fixture.commit("two")
            let again = try GitRepository.cached(url: fixture.fileURL, cacheDirectory: cache)
            #expect(first === again)
            #expect(try again.resolve("main").hex == second, "the kept cache fetched the new commit")
        }
    }

    @Test func resolvesBranchesTagsAndCommits() async throws {
        try await blocking {
            let fixture = try GitFixture()
            try fixture.write("x.yaml", "1")
            let first = try fixture.commit("one")
            try fixture.git("tag", "v1")
            try fixture.git("tag", "-a", "v1-annotated", "-m", "annotated tag")
            try fixture.write("x.yaml", "2")
            let second = try fixture.commit("two")
            try fixture.git("branch", "release", first)

            let repository = try GitRepository.open(at: fixture.path)
            #expect(try repository.resolve("main").hex == second)
            #expect(try repository.resolve(nil).hex == second)
            #expect(try repository.resolve("v1").hex == first)
            #expect(try repository.resolve("v1-annotated").hex == first)
            #expect(try repository.resolve("release").hex == first)
            #expect(try repository.resolve(first).hex == first)
            #expect(try repository.resolve(String(first.prefix(10))).hex == first)
        }
    }

    @Test func missingRefsAndPathsGiveClearErrors() async throws {
        try await blocking {
            let fixture = try GitFixture()
            try fixture.write("blueprints/a.yaml", "1")
            let commit = try fixture.commit("one")
            let repository = try GitRepository.open(at: fixture.path)
            let missing = try #require(throws: GitError.self) { try repository.resolve("no-such-branch") }
            #expect(missing.code == .referenceNotFound)
            #expect(missing.description.contains("no-such-branch"))
            let noPath = try #require(throws: GitError.self) {
                try repository.files(at: CommitID(hex: commit), under: "nowhere")
            }
            #expect(noPath.code == .pathNotFound)
            #expect(noPath.description.contains("nowhere"))
            let notRepo = try #require(throws: GitError.self) { try GitRepository.open(at: "/nonexistent/repo") }
            #expect(notRepo.code == .repository)
            #expect(!notRepo.message.isEmpty)
        }
    }

    @Test func clonesAndFetchesIntoACache() async throws {
        try await blocking {
            let fixture = try GitFixture()
            try fixture.write("b/t.yaml", "one")
            let first = try fixture.commit("one")
            let cache = NSTemporaryDirectory() + "driftless-cache-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: cache) }

            let clone = try GitRepository.cached(url: fixture.fileURL, cacheDirectory: cache)
            #expect(try clone.resolve("main").hex == first)
            #expect(try clone.resolve(nil).hex == first)

            try fixture.write("b/t.yaml", "two")
            let second = try fixture.commit("two")
            // Not fetched yet: the cache still sees the old main.
            #expect(try clone.resolve("main").hex == first)
            try clone.fetch()
            #expect(try clone.resolve("main").hex == second)
            #expect(try clone.files(at: CommitID(hex: second), under: "b")[0].contents == Data("two".utf8))

            // A force-pushed branch moves backwards on the next fetch.
            try fixture.git("reset", "-q", "--hard", first)
            try clone.fetch()
            #expect(try clone.resolve("main").hex == first)

            // A branch deleted on the remote is gone from the cache after the next fetch
            // (pruned), rather than answered from its stale copy.
            try fixture.git("branch", "-q", "release", first)
            try clone.fetch()
            #expect(try clone.resolve("release").hex == first)
            try fixture.git("branch", "-q", "-D", "release")
            try clone.fetch()
            let deleted = try #require(throws: GitError.self) { try clone.resolve("release") }
            #expect(deleted.message.contains("release"), "\(deleted)")

            // A corrupt cache is rebuilt rather than trusted.
            try "garbage".write(toFile: clone.path + "/HEAD", atomically: true, encoding: .utf8)
            let rebuilt = try GitRepository.cached(url: fixture.fileURL, cacheDirectory: cache)
            #expect(try rebuilt.resolve("main").hex == first)
        }
    }

    @Test func unreachableRemoteFailsWithLibgit2sMessage() async throws {
        try await blocking {
            let cache = NSTemporaryDirectory() + "driftless-cache-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: cache) }
            let error = try #require(throws: GitError.self) {
                try GitRepository.cached(
                    url: "https://user:tok3n-secret@127.0.0.1:1/none.git", cacheDirectory: cache,
                    credentials: GitCredentials(token: "tok3n-secret"))
            }
            #expect(error.code == .fetch)
            #expect(!error.message.isEmpty)
            #expect(!error.description.contains("tok3n-secret"))
        }
    }
}
