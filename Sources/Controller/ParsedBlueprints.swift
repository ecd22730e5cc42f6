import DriftlessCore
import Foundation

/// The last parsed and validated blueprint set, reused while the sources are byte for byte the
/// same: a tick at an unchanged revision does not decode a thousand files again.
final class ParsedBlueprints: @unchecked Sendable {
    private let lock = NSLock()
    private var last: BlueprintSet?

    /// The set of `sources`, decoded only when they differ from the last call's.
    func set(for sources: [BlueprintSource]) -> BlueprintSet {
        let digest = BlueprintSet.sourcesDigest(sources)
        if let hit = lock.withLock({ last }), hit.sourcesDigest == digest { return hit }
        let set = BlueprintSet.load(sources)
        lock.withLock { last = set }
        return set
    }
}
