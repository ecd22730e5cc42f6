import DriftlessCore
import Foundation
import Postgres

/// Reads Supabase Storage (docs/blueprints.md, Storage): the buckets and the policies on
/// `storage.objects`, and the canonical form of declared policies (created on a copy of
/// `storage.objects` in `pg_temp` inside a rolled-back savepoint, as every other kind's
/// scratch copies are). Read only when some blueprint declares `storage`.
public enum StorageCatalog {
    /// Whether the database has Supabase's storage tables.
    static func present(_ connection: Connection) throws -> Bool {
        try connection.query("SELECT to_regclass('storage.buckets') IS NOT NULL AND to_regclass('storage.objects') IS NOT NULL AS present")
            .first!.bool("present")
    }

    /// The live buckets and every policy on `storage.objects`; nil without a storage schema.
    /// - Throws: `PostgresError`.
    public static func read(_ connection: Connection) throws -> StorageState? {
        guard try present(connection) else { return nil }
        var state = StorageState(policies: try policies(on: "storage.objects", connection))
        // to_jsonb: file_size_limit and allowed_mime_types came with later Storage versions;
        // a project without them has no limit and any type.
        let rows = try connection.query("""
            SELECT b.id, coalesce(b.public, false) AS public, to_jsonb(b) ->> 'file_size_limit' AS file_size_limit,
                   (to_jsonb(b) -> 'allowed_mime_types')::text AS allowed_mime_types,
                   EXISTS (SELECT FROM storage.objects o WHERE o.bucket_id = b.id) AS has_objects
              FROM storage.buckets b
            """).rows
        for row in rows {
            let id = try row.string("id")
            let types = try row.text("allowed_mime_types").flatMap { $0 == "null" ? nil : try JSONDecoder().decode([String].self, from: Data($0.utf8)) }
            state.buckets[id] = Bucket(id: id, isPublic: try row.bool("public"), fileSizeLimit: try row.text("file_size_limit").flatMap { Int64($0) },
                                       allowedMimeTypes: types, hasObjects: try row.bool("has_objects"))
        }
        return state
    }

    /// The policies on `table` as the server prints them with an empty search_path (every
    /// name qualified but pg_catalog's), which both sides of the comparison share.
    static func policies(on table: String, _ connection: Connection) throws -> [String: Policy] {
        let previous = try connection.query("SELECT current_setting('search_path') AS previous, set_config('search_path', '', true)")
            .first!.string("previous")
        let rows = try connection.query("""
            SELECT p.polname, p.polcmd::text AS command, p.polpermissive AS permissive,
                   (SELECT json_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END) FROM unnest(p.polroles) r)::text AS roles,
                   pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
                   obj_description(p.oid, 'pg_policy') AS comment
              FROM pg_policy p WHERE p.polrelid = $1::regclass
            """, [table]).rows
        try connection.query("SELECT set_config('search_path', $1, true)", [previous])
        var policies: [String: Policy] = [:]
        for row in rows {
            let name = try row.string("polname")
            let roles = try row.text("roles").map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) }
            policies[name] = PolicyKind.policy(
                name: name, command: try row.text("command"), permissive: try row.bool("permissive"), roles: roles,
                using: try row.text("using"), withCheck: try row.text("with_check"), comment: try row.text("comment"))
        }
        return policies
    }

    /// The declared policies as the server prints them, or its objections. Created under the
    /// transaction's search_path (the one the real statements run under) on a copy of
    /// `storage.objects`, read back, rolled back.
    /// - Throws: `PostgresError` for what is not the blueprint's fault.
    static func canonicalize(_ storage: inout StorageState, checker: inout StatementGuard.Checker,
                             _ connection: Connection) throws -> [Canonicalizer.Rejection] {
        guard !storage.policies.isEmpty, try present(connection) else { return [] }
        let statements = storage.policies.values.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createPolicy($0, on: StorageState.objects, schemaOverride: "pg_temp"), origin: $0.origin)
        }
        var rejections: [Canonicalizer.Rejection] = []
        for statement in statements {
            do { try checker.check(statement.sql) } catch { rejections.append(Canonicalizer.Rejection(origin: statement.origin, violation: error)) }
        }
        guard rejections.isEmpty else { return rejections }
        try connection.query("SAVEPOINT driftless_storage")
        do {
            try connection.query("CREATE TEMP TABLE objects (LIKE storage.objects)")
            rejections += try statements.compactMap { try Canonicalizer.runAlone($0, connection) }
            for (name, copy) in try policies(on: "pg_temp.objects", connection) {
                storage.policies[name]?.using = copy.using
                storage.policies[name]?.withCheck = copy.withCheck
                storage.policies[name]?.roles = copy.roles
            }
            try connection.query("ROLLBACK TO SAVEPOINT driftless_storage")
        } catch {
            _ = try? connection.query("ROLLBACK TO SAVEPOINT driftless_storage")
            throw error
        }
        return rejections
    }
}
