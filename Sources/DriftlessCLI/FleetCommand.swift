import ArgumentParser
import BlockingIO
import Controller
import DriftlessCore
import Foundation
import Postgres
import Reconciler

/// `driftless fleet status|plan --targets targets.yaml` (fleet.md, Status and metrics): the
/// fleet's table from the command line, read from each target's own database.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "Many databases from one targets file: status (from each history) and plan.",
        subcommands: [FleetStatusCommand.self, FleetPlanCommand.self])
}

/// One line of the fleet's table.
struct FleetRow: Codable {
    var target: String
    var wave: Int
    var shard: Int
    var revision: String?
    var status: String
    var summary: String
    var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case target, wave, shard, revision, status, summary
        case finishedAt = "finished_at"
    }
}

struct FleetOptions: ParsableArguments {
    @Option(help: "The targets file (fleet.md, Targets).") var targets: String
    @Option(help: "How many replicas share the targets (for the shard column).") var shards = 1
    @Option(name: .customLong("git-cache"), help: "Directory for cached clones of the targets' repositories.") var gitCache: String?
    @Option(help: "human or json.") var format = "human"

    func load() throws -> [FleetTarget] {
        do {
            return try LoadedTargets.read(targets).all
        } catch {
            printError("driftless fleet: \(error)")
            throw ExitCode(1)
        }
    }

    /// Each target's row, at most eight targets at once, on the blocking pool (BlockingIO).
    func rows(_ targets: [FleetTarget], _ row: @escaping @Sendable (FleetTarget) -> FleetRow) -> [FleetRow] {
        let all = waitForValue {
            await withTaskGroup(of: (Int, FleetRow).self) { group -> [FleetRow] in
                var rows = [FleetRow?](repeating: nil, count: targets.count)
                var next = 0
                func start() {
                    guard next < targets.count else { return }
                    let index = next
                    let target = targets[index]
                    next += 1
                    group.addTask { (index, (try? await BlockingIO.run(name: "driftless-fleet") { row(target) }) ?? FleetRow(
                        target: target.name, wave: target.wave, shard: 0, status: "unreachable", summary: "interrupted")) }
                }
                for _ in 0..<8 { start() }
                while let (index, answer) = await group.next() {
                    rows[index] = answer
                    start()
                }
                return rows.compactMap { $0 }
            }
        }
        return all
    }

    func print(_ rows: [FleetRow]) throws {
        if format == "json" {
            Swift.print(try jsonText(rows))
            return
        }
        Swift.print(["target", "wave", "shard", "status", "revision", "summary"].joined(separator: "\t"))
        for row in rows {
            Swift.print([row.target, String(row.wave), String(row.shard), row.status, row.revision ?? "-", row.summary].joined(separator: "\t"))
        }
    }

    func validate() throws {
        guard ["human", "json"].contains(format) else { throw ValidationError("--format is human or json.") }
        guard shards >= 1 else { throw ValidationError("--shards is a number from 1.") }
    }
}

struct FleetStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Each target's newest history row, read from its database.")
    @OptionGroup var fleet: FleetOptions
    @Option(name: .customLong("history-schema"), help: "Schema of the history table.") var historySchema = "driftless"

    func run() throws {
        let targets = try fleet.load()
        let history = History(schema: historySchema)
        let shards = fleet.shards
        let rows = fleet.rows(targets) { target in
            var row = FleetRow(target: target.name, wave: target.wave, shard: target.shard(of: shards), status: "unreachable", summary: "")
            do {
                let connection = try Connection(ConnectionString(try target.resolveDatabaseURL()))
                if let newest = try history.rows(limit: 1, connection).first {
                    row.status = newest.status
                    row.revision = newest.revision
                    row.summary = newest.summary
                    row.finishedAt = newest.finishedAt
                } else {
                    row.status = "none"
                    row.summary = "no reconciliation recorded"
                }
            } catch {
                row.summary = "\(error)"
            }
            return row
        }
        try fleet.print(rows)
        if rows.contains(where: { $0.status == "unreachable" }) { throw ExitCode(1) }
    }
}

struct FleetPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "What apply would do on each target; changes nothing.")
    @OptionGroup var fleet: FleetOptions

    func run() throws {
        let targets = try fleet.load()
        let shards = fleet.shards
        let cache = fleet.gitCache ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/driftless/git").path
        let rows = fleet.rows(targets) { target in
            var row = FleetRow(target: target.name, wave: target.wave, shard: target.shard(of: shards), status: "unreachable", summary: "")
            do {
                let revision = try BlueprintLoader.load(target.location(gitCache: cache))
                row.revision = revision.revision
                let connection = try Connection(ConnectionString(try target.resolveDatabaseURL()))
                var options = ReconcileOptions()
                options.allowed = target.allow
                options.online = target.online
                let set = try DesiredState.assemble(revision: revision.sources, history: options.history, connection)
                let outcome = Reconciler(blueprints: set, revision: revision.revision, options: options).plan(connection)
                row.status = outcome.result.status.rawValue
                row.summary = outcome.result.summary
            } catch {
                row.summary = "\(error)"
            }
            return row
        }
        try fleet.print(rows)
        // As plan: 0 nothing to do anywhere, 2 changes pending, 3 some target blocked, 1 an error.
        if rows.contains(where: { $0.status == "unreachable" || $0.status == "failed" || $0.status == "retry" }) { throw ExitCode(1) }
        if rows.contains(where: { $0.status == "blocked" }) { throw ExitCode(3) }
        if rows.contains(where: { $0.status == "ok" }) { throw ExitCode(2) }
    }
}
