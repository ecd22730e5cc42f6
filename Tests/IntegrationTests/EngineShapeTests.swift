import BlockingIO
import DriftlessCore
import Foundation
import Testing
@testable import Reconciler

/// The engine's shape (docs/engine.md): one bounded pool for blocking calls, bounded caches, a
/// steady-state fingerprint that covers every registered kind.
@Suite("Engine shape: threads, caches, registry")
struct EngineShapeTests {
    final class Concurrency: @unchecked Sendable {
        private let lock = NSLock()
        private var now = 0
        private(set) var most = 0
        var current: Int { lock.withLock { now } }
        func enter() { lock.withLock { now += 1; most = max(most, now) } }
        func leave() { lock.withLock { now -= 1 } }
    }

    @Test func blockingCallsShareOneBoundedPool() async throws {
        let running = Concurrency()
        let calls = BlockingIO.threadCount * 3
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<calls {
                group.addTask {
                    try await BlockingIO.run {
                        running.enter()
                        Thread.sleep(forTimeInterval: 0.02)
                        running.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        let most = running.most
        // Never more at once than the pool has threads, and more than one at a time.
        #expect(most <= BlockingIO.threadCount)
        #expect(most > 1)
        #expect(running.current == 0)
    }

    @Test func theCanonicalCacheInMemoryIsBounded() {
        for index in 0..<(CanonicalCache.memoryLimit * 3) {
            CanonicalCache.remember(Catalog(), key: "bounded-test-\(index)")
        }
        #expect(CanonicalCache.memoryCount <= CanonicalCache.memoryLimit)
        // The newest survive; the oldest are gone.
        #expect(CanonicalCache.recall("bounded-test-\(CanonicalCache.memoryLimit * 3 - 1)") != nil)
        #expect(CanonicalCache.recall("bounded-test-0") == nil)
    }

    /// A catalog of `size` objects (enums: the cheapest object to build).
    private func catalog(of size: Int) -> Catalog {
        Catalog(enums: Dictionary(uniqueKeysWithValues: (0..<size).map { index in
            let name = QualifiedName(schema: "public", name: "e\(index)")
            return (name, EnumType(name: name, values: ["a"]))
        }))
    }

    @Test func theCanonicalCacheKeepsNoLargeCatalogInMemory() {
        // Larger than the whole budget: read back from the history schema each time instead.
        CanonicalCache.remember(catalog(of: CanonicalCache.memoryBudget + 1), key: "budget-test-large")
        #expect(CanonicalCache.recall("budget-test-large") == nil)
        // Two that fit the budget only one at a time: the older one goes.
        let half = CanonicalCache.memoryBudget / 2 + 1
        CanonicalCache.remember(catalog(of: half), key: "budget-test-first")
        #expect(CanonicalCache.recall("budget-test-first")?.objectCount == half)
        CanonicalCache.remember(catalog(of: half), key: "budget-test-second")
        #expect(CanonicalCache.recall("budget-test-first") == nil)
        #expect(CanonicalCache.recall("budget-test-second")?.objectCount == half)
    }

    @Test func theFingerprintCoversEveryCatalogOfEveryRegisteredKind() {
        #expect(SteadyState.uncoveredCatalogs.isEmpty, "\(SteadyState.uncoveredCatalogs)")
        for catalog in ObjectKinds.catalogs {
            #expect(SteadyState.query.contains(" \(catalog) "), "\(catalog)")
        }
    }

    @Test func sequentialAndParallelDecodingAgree() {
        let sources = (0..<40).map { index in
            BlueprintSource(path: "t\(index).yaml", text: "version: 1\ntenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\ntables:\n  - name: t\(index)\n    columns:\n      - {name: id, type: int, primary_key: true}\n      - {name: n, type: text, check: \"length(n) > \(index)\"}\n")
        }
        let sequential = BlueprintSet.load(sources)
        let parallel = BlueprintSet.load(sources, parallelism: .cores)
        #expect(sequential.payloadHash == parallel.payloadHash)
        #expect(sequential.diagnostics == parallel.diagnostics)
        #expect(sequential.documents.count == 40 && parallel.isValid)
    }
}
