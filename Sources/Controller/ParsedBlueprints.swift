import DriftlessCore
import Foundation
import Reconciler

/// Parsed and validated blueprint sets, reused while the sources are the same: a tick at an
/// unchanged revision does not decode a thousand files again, and a fleet's targets reading one
/// revision share one set (docs/fleet.md, Memory). A git revision is the same when its commit
/// and location are (the files of a commit cannot change); other sources are compared byte for
/// byte through `BlueprintSet.sourcesDigest`.
final class ParsedBlueprints: @unchecked Sendable {
    private struct Entry {
        var scope: String
        var commit: String?
        var apiDigest: String
        var set: BlueprintSet
    }

    private let lock = NSLock()
    /// Most recently used first.
    private var entries: [Entry] = []
    private let capacity: Int

    /// Keeps the last `capacity` sets (a loop needs one; a fleet one per location and revision
    /// in use, plus the sets of targets with API blueprints).
    init(capacity: Int = 1) { self.capacity = max(1, capacity) }

    /// The set of `sources` (the desired state of `revision` read from `scope`, a location's
    /// identity; `DesiredState.sources`), decoded only when no kept set has the same sources.
    func set(for revision: LoadedRevision, scope: String, sources: [BlueprintSource]) -> BlueprintSet {
        let apiDigest = BlueprintSet.sourcesDigest(Array(sources.dropFirst(revision.sources.count)))
        let hit = lock.withLock { () -> BlueprintSet? in
            guard let index = entries.firstIndex(where: { entry in
                guard entry.scope == scope, entry.apiDigest == apiDigest else { return false }
                if let commit = revision.commit { return entry.commit == commit }
                return entry.commit == nil && entry.set.sourcesDigest == BlueprintSet.sourcesDigest(sources)
            }) else { return nil }
            let entry = entries.remove(at: index)
            entries.insert(entry, at: 0)
            return entry.set
        }
        if let hit { return hit }
        let set = BlueprintSet.load(sources, parallelism: .cores)
        lock.withLock {
            entries.removeAll { $0.scope == scope && $0.commit == revision.commit && $0.apiDigest == apiDigest }
            entries.insert(Entry(scope: scope, commit: revision.commit, apiDigest: apiDigest, set: set), at: 0)
            if entries.count > capacity { entries.removeLast(entries.count - capacity) }
        }
        return set
    }
}

/// Revisions loaded for a fleet's loops: targets reading one repository, ref and path share one
/// clone, one fetch every `freshness` at most, and one copy of the files (docs/fleet.md,
/// Memory). A tick asked for explicitly (webhook, API, a changed targets file) fetches anew.
public final class SharedRevisions: @unchecked Sendable {
    private final class Entry: @unchecked Sendable {
        var outcome: Result<LoadedRevision, Error>
        var at: ContinuousClock.Instant
        init(_ outcome: Result<LoadedRevision, Error>) {
            self.outcome = outcome
            at = .now
        }
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    /// One lock per repository clone (or directory): targets asking at once wait for one fetch
    /// and take its result, instead of each fetching in turn (libgit2's own exclusion is
    /// `GitRepository.withCached`'s).
    private var gates: [String: NSLock] = [:]
    let freshness: Duration

    public init(freshness: Duration = .seconds(5)) { self.freshness = freshness }

    /// The revision at `location`, fetched unless another target fetched it less than
    /// `freshness` ago (a failed fetch is remembered as long). Blocking.
    /// - Throws: what `BlueprintLoader.load` throws.
    func load(_ location: BlueprintLocation, fresh: Bool, reusing previous: LoadedRevision?) throws -> LoadedRevision {
        let (key, gateKey) = Self.keys(location)
        let gate = lock.withLock { () -> NSLock in
            if let gate = gates[gateKey] { return gate }
            let gate = NSLock()
            gates[gateKey] = gate
            return gate
        }
        gate.lock()
        defer { gate.unlock() }
        let known = lock.withLock { entries[key] }
        if !fresh, let known, ContinuousClock.now - known.at < freshness { return try known.outcome.get() }
        let outcome = Result { try BlueprintLoader.load(location, reusing: (try? known?.outcome.get()) ?? previous) }
        lock.withLock { entries[key] = Entry(outcome) }
        return try outcome.get()
    }

    /// A location's identity (what the loaded files depend on) and its clone's.
    static func keys(_ location: BlueprintLocation) -> (location: String, clone: String) {
        switch location {
        case .directory(let path):
            return ("dir\u{0}" + path, "dir\u{0}" + path)
        case .git(let repository, let ref, let path, let cacheDirectory, _):
            let clone = "git\u{0}" + repository + "\u{0}" + cacheDirectory
            return (clone + "\u{0}" + (ref ?? "") + "\u{0}" + (path ?? ""), clone)
        }
    }
}
