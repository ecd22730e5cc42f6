import DriftlessCore
import Postgres

/// The desired state of a database, assembled the same way for every entry point (reconcile.md,
/// The desired state, assembled once): the revision's git (or directory) blueprints plus every
/// stored API blueprint. `plan`, `apply`, `drift`, `verify-rls`, `import --check`, the loop,
/// `GET /v1/drift` and `POST /v1/blueprints` all call it, so none of them plans to drop an API
/// tenant's objects because it read only git.
public enum DesiredState {
    /// The stored API blueprints one desired state was assembled from (all of them but
    /// `excluding`'s, whose new document stands in for its stored one).
    public struct StoredBlueprints: Sendable, Equatable {
        public var digest: String
        public var excluding: String?
    }

    /// The sources of the desired state: `revision` plus the stored API blueprints (as
    /// `api/<tenant_id>.json`), with `replacing`'s stored document swapped for its new one (a
    /// `POST /v1/blueprints` being reconciled). A role that may not read the history schema
    /// sees none stored.
    /// - Throws: `PostgresError` other than a refused read of the history schema.
    public static func sources(revision: [BlueprintSource], history: History, _ connection: Connection,
                               replacing: (tenant: String, document: BlueprintSource)? = nil) throws -> [BlueprintSource] {
        try read(revision: revision, history: history, connection, replacing: replacing).sources
    }

    /// `sources`, and what `apply` checks under its lock: the stored API blueprints it read.
    /// Read before the lock, they may change before it is taken (a tenant posting meanwhile);
    /// a reconciliation that planned without the new document would drop that tenant's tables
    /// or be blocked by their drop, so `apply` answers `retry` instead (`ReconcileOptions.stored`).
    /// - Throws: `PostgresError` other than a refused read of the history schema.
    public static func read(revision: [BlueprintSource], history: History, _ connection: Connection,
                            replacing: (tenant: String, document: BlueprintSource)? = nil) throws -> (sources: [BlueprintSource], stored: StoredBlueprints) {
        var stored: [BlueprintSource] = []
        do {
            stored = try history.storedAPIBlueprints(connection, excluding: replacing?.tenant)
        } catch let error as PostgresError where error.sqlstate == "42501" {
            stored = []
        }
        let sources = revision + stored + (replacing.map { [$0.document] } ?? [])
        return (sources, StoredBlueprints(digest: BlueprintSet.sourcesDigest(stored), excluding: replacing?.tenant))
    }

    /// The decoded and validated set of `sources(revision:history:_:replacing:)`.
    /// - Throws: `PostgresError`.
    public static func assemble(revision: [BlueprintSource], history: History, _ connection: Connection,
                                replacing: (tenant: String, document: BlueprintSource)? = nil) throws -> BlueprintSet {
        BlueprintSet.load(try sources(revision: revision, history: history, connection, replacing: replacing), parallelism: .cores)
    }
}
