import Crypto
import DriftlessCore
import Foundation

/// The last parsed and validated blueprint set, reused while the sources are byte for byte the
/// same: a tick at an unchanged revision does not decode a thousand files again.
final class ParsedBlueprints: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (key: SHA256.Digest, set: BlueprintSet)?

    /// The set of `sources`, decoded only when they differ from the last call's.
    func set(for sources: [BlueprintSource]) -> BlueprintSet {
        var hasher = SHA256()
        for source in sources.sorted(by: { $0.path < $1.path }) {
            hasher.update(data: Data("\(source.path)\u{0}\(source.displayPath)\u{0}\(source.contents.count)\u{0}".utf8))
            hasher.update(data: source.contents)
        }
        let key = hasher.finalize()
        if let hit = lock.withLock({ last }), hit.key == key { return hit.set }
        let set = BlueprintSet.load(sources)
        lock.withLock { last = (key, set) }
        return set
    }
}
