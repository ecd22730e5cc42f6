import DriftlessCore
import Foundation
import Reconciler

/// The last parsed and validated blueprint set, reused while the sources are the same: a tick
/// at an unchanged revision does not decode a thousand files again. A git revision is the same
/// when its commit is (the files of a commit cannot change); other sources are compared byte for
/// byte through `BlueprintSet.sourcesDigest`.
final class ParsedBlueprints: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (commit: String?, apiDigest: String, set: BlueprintSet)?

    /// The set of `sources` (the desired state of `revision`, `DesiredState.sources`), decoded
    /// only when they differ from the last call's.
    func set(for revision: LoadedRevision, sources: [BlueprintSource]) -> BlueprintSet {
        let apiDigest = BlueprintSet.sourcesDigest(Array(sources.dropFirst(revision.sources.count)))
        if let hit = lock.withLock({ last }), hit.apiDigest == apiDigest {
            if let commit = revision.commit, hit.commit == commit { return hit.set }
            if revision.commit == nil, hit.commit == nil, hit.set.sourcesDigest == BlueprintSet.sourcesDigest(sources) {
                return hit.set
            }
        }
        let set = BlueprintSet.load(sources, parallelism: .cores)
        lock.withLock { last = (revision.commit, apiDigest, set) }
        return set
    }
}
