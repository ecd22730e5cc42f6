import DriftlessCore
import Foundation
import Postgres

/// Reads the managed schemas from the catalogs into a `Catalog`, in one round trip: the server
/// builds the whole answer as JSON. Objects owned by extensions are left out.
public enum Introspector {
    static let query = """
        WITH rel AS (
          SELECT c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relacl
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        )
        SELECT json_build_object(
          'schemas', (SELECT coalesce(json_agg(nspname), '[]') FROM pg_namespace WHERE nspname = ANY($1::text[])),
          'tables', (SELECT coalesce(json_agg(json_build_object(
              'schema', rel.nspname, 'name', rel.relname, 'rls', rel.relrowsecurity, 'force', rel.relforcerowsecurity,
              'comment', obj_description(rel.oid, 'pg_class'),
              'columns', (SELECT coalesce(json_agg(json_build_object(
                  'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
                  'default', pg_get_expr(ad.adbin, ad.adrelid), 'identity', a.attidentity,
                  'comment', col_description(rel.oid, a.attnum)) ORDER BY a.attnum), '[]')
                FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped),
              'grants', (SELECT coalesce(json_agg(json_build_object(
                  'role', CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END,
                  'privilege', lower(x.privilege_type))), '[]')
                FROM aclexplode(rel.relacl) x)
            )), '[]') FROM rel),
          'constraints', (SELECT coalesce(json_agg(json_build_object(
              'schema', rel.nspname, 'table', rel.relname, 'name', con.conname, 'type', con.contype,
              'columns', (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
                FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
              'expression', CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
              'ref_schema', rn.nspname, 'ref_table', rc.relname,
              'ref_columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum),
              'on_delete', con.confdeltype, 'on_update', con.confupdtype)), '[]')
            FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid
            LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
            WHERE con.contype IN ('p', 'u', 'c', 'f')),
          'indexes', (SELECT coalesce(json_agg(json_build_object(
              'schema', rel.nspname, 'table', rel.relname, 'name', i.relname, 'method', am.amname, 'unique', x.indisunique,
              'keys', (SELECT json_agg(pg_get_indexdef(x.indexrelid, k, true) ORDER BY k) FROM generate_series(1, x.indnkeyatts) k),
              'predicate', pg_get_expr(x.indpred, x.indrelid))), '[]')
            FROM pg_index x JOIN rel ON rel.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
            WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x'))),
          'policies', (SELECT coalesce(json_agg(json_build_object(
              'schema', rel.nspname, 'table', rel.relname, 'name', p.polname, 'command', p.polcmd, 'permissive', p.polpermissive,
              'roles', (SELECT json_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END) FROM unnest(p.polroles) r),
              'using', pg_get_expr(p.polqual, p.polrelid), 'with_check', pg_get_expr(p.polwithcheck, p.polrelid))), '[]')
            FROM pg_policy p JOIN rel ON rel.oid = p.polrelid),
          'enums', (SELECT coalesce(json_agg(json_build_object(
              'schema', n.nspname, 'name', t.typname,
              'values', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]') FROM pg_enum e WHERE e.enumtypid = t.oid))), '[]')
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typtype = 'e' AND n.nspname = ANY($1::text[])
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'))
        ) AS catalog
        """

    /// What the database has in `schemas`, and which of them exist.
    /// - Throws: `PostgresError` from the server.
    public static func introspect(_ connection: Connection, schemas: [String]) throws -> (catalog: Catalog, existingSchemas: Set<String>) {
        let row = try connection.query(query, ["{" + schemas.map { "\"\($0)\"" }.joined(separator: ",") + "}"]).first
        let raw = try row!.json("catalog", as: RawCatalog.self)
        return (raw.catalog, Set(raw.schemas))
    }
}

/// The JSON shape of the introspection query.
struct RawCatalog: Decodable {
    struct RawColumn: Decodable {
        var name: String, type: String, not_null: Bool, `default`: String?, identity: String, comment: String?
    }
    struct RawGrant: Decodable { var role: String, privilege: String }
    struct RawTable: Decodable {
        var schema: String, name: String, rls: Bool, force: Bool, comment: String?, columns: [RawColumn], grants: [RawGrant]
    }
    struct RawConstraint: Decodable {
        var schema: String, table: String, name: String, type: String, columns: [String], expression: String?
        var ref_schema: String?, ref_table: String?, ref_columns: [String]?, on_delete: String, on_update: String
    }
    struct RawIndex: Decodable {
        var schema: String, table: String, name: String, method: String, unique: Bool, keys: [String], predicate: String?
    }
    struct RawPolicy: Decodable {
        var schema: String, table: String, name: String, command: String, permissive: Bool, roles: [String]?
        var using: String?, with_check: String?
    }
    struct RawEnum: Decodable { var schema: String, name: String, values: [String] }

    var schemas: [String]
    var tables: [RawTable]
    var constraints: [RawConstraint]
    var indexes: [RawIndex]
    var policies: [RawPolicy]
    var enums: [RawEnum]

    var catalog: Catalog {
        var catalog = Catalog()
        for raw in enums {
            let name = QualifiedName(schema: raw.schema, name: raw.name)
            catalog.enums[name] = EnumType(name: name, values: raw.values)
        }
        for raw in tables {
            let name = QualifiedName(schema: raw.schema, name: raw.name)
            var grants: [String: Set<String>] = [:]
            for grant in raw.grants { grants[grant.role, default: []].insert(grant.privilege) }
            catalog.tables[name] = Table(
                name: name,
                columns: raw.columns.map {
                    Column(name: $0.name, type: $0.type, notNull: $0.not_null, defaultExpression: $0.default,
                           identity: $0.identity == "a" ? .always : ($0.identity == "d" ? .byDefault : nil), comment: $0.comment)
                },
                rlsEnabled: raw.rls, rlsForced: raw.force, grants: grants, comment: raw.comment)
        }
        for raw in constraints {
            let table = QualifiedName(schema: raw.schema, name: raw.table)
            let kind: Constraint.Kind = switch raw.type {
            case "p": .primaryKey
            case "u": .unique
            case "c": .check
            default: .foreignKey
            }
            let referenced = raw.ref_table.map { QualifiedName(schema: raw.ref_schema ?? raw.schema, name: $0) }
            catalog.tables[table]?.constraints[raw.name] = Constraint(
                name: raw.name, kind: kind, columns: kind == .check ? [] : raw.columns, expression: raw.expression,
                referencedTable: referenced, referencedColumns: raw.ref_columns,
                onDelete: kind == .foreignKey ? RawCatalog.action(raw.on_delete) : nil,
                onUpdate: kind == .foreignKey ? RawCatalog.action(raw.on_update) : nil)
        }
        for raw in indexes {
            let table = QualifiedName(schema: raw.schema, name: raw.table)
            catalog.tables[table]?.indexes[raw.name] = Index(
                name: raw.name, method: IndexMethod(rawValue: raw.method) ?? .btree, keys: raw.keys, unique: raw.unique,
                predicate: raw.predicate)
        }
        for raw in policies {
            let table = QualifiedName(schema: raw.schema, name: raw.table)
            let command: PolicyCommand = switch raw.command {
            case "r": .select
            case "a": .insert
            case "w": .update
            case "d": .delete
            default: .all
            }
            catalog.tables[table]?.policies[raw.name] = Policy(
                name: raw.name, command: command, roles: Set(raw.roles ?? ["public"]), permissive: raw.permissive,
                using: raw.using, withCheck: raw.with_check)
        }
        return catalog
    }

    static func action(_ code: String) -> ReferentialAction {
        switch code {
        case "r": .restrict
        case "c": .cascade
        case "n": .setNull
        case "d": .setDefault
        default: .noAction
        }
    }
}
