/// The changes of one diff in the order they run (docs/engine.md, Order): a topological order
/// of their dependency edges, ties broken by phase and then by the order the differ found
/// them. Without edges that is phase order; an edge (`Change.dependsOn`) moves a change after
/// the changes of the objects it depends on, whatever their phases.
public struct Plan: Sendable, Equatable {
    public var changes: [Change]

    public init(ordering changes: [Change]) { self.changes = Plan.order(changes) }

    /// Changes already in the order they run (`Online.phases` of an ordered plan).
    public init(inOrder changes: [Change]) { self.changes = changes }

    /// The changes whose statements run.
    public var applied: [Change] { changes.filter { $0.applied && !$0.sql.isEmpty } }

    static func order(_ changes: [Change]) -> [Change] {
        func rank(_ index: Int) -> (Int, Int) { (changes[index].phase.rawValue, index) }
        guard changes.contains(where: { !$0.dependsOn.isEmpty }) else {
            return changes.indices.sorted { rank($0) < rank($1) }.map { changes[$0] }
        }
        var byObject: [ObjectID: [Int]] = [:]
        for (index, change) in changes.enumerated() { byObject[change.id, default: []].append(index) }
        var successors = Array(repeating: [Int](), count: changes.count)
        var pending = Array(repeating: 0, count: changes.count)
        for (index, change) in changes.enumerated() {
            for object in change.dependsOn {
                for before in byObject[object] ?? [] where before != index {
                    successors[before].append(index)
                    pending[index] += 1
                }
            }
        }
        // Kahn's algorithm, always taking the ready change of lowest rank.
        var ready = changes.indices.filter { pending[$0] == 0 }
        var result: [Change] = []
        var done = Array(repeating: false, count: changes.count)
        while !ready.isEmpty {
            let next = ready.indices.min { rank(ready[$0]) < rank(ready[$1]) }!
            let index = ready.remove(at: next)
            done[index] = true
            result.append(changes[index])
            for successor in successors[index] {
                pending[successor] -= 1
                if pending[successor] == 0 { ready.append(successor) }
            }
        }
        // A cycle (no kind declares one): what is left runs in phase order.
        result += changes.indices.filter { !done[$0] }.sorted { rank($0) < rank($1) }.map { changes[$0] }
        return result
    }
}
