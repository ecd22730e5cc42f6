/// Storage statements (docs/blueprints.md, Storage): buckets are rows of `storage.buckets`,
/// written as Supabase's Storage API writes them (the name is the id).
extension SQLRenderer {
    public static func createBucket(_ bucket: Bucket) -> SQL {
        "INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES (\(literal: bucket.id), \(literal: bucket.id), \(settings(bucket)))"
    }

    public static func updateBucket(_ bucket: Bucket) -> SQL {
        "UPDATE storage.buckets SET (public, file_size_limit, allowed_mime_types) = ROW(\(settings(bucket))) WHERE id = \(literal: bucket.id)"
    }

    /// Deletes the bucket only while it holds no object (a concurrent upload keeps it).
    public static func deleteBucket(_ id: String) -> SQL {
        "DELETE FROM storage.buckets WHERE id = \(literal: id) AND NOT EXISTS (SELECT FROM storage.objects WHERE bucket_id = \(literal: id))"
    }

    /// `public, file_size_limit, allowed_mime_types` as values.
    static func settings(_ bucket: Bucket) -> SQL {
        let limit: SQL = bucket.fileSizeLimit.map { "\(keyword: String($0))" } ?? "NULL::bigint"
        let types: SQL = bucket.allowedMimeTypes.map { types in
            types.isEmpty ? "'{}'::text[]" : "ARRAY[\(SQL.joined(types.map { "\(literal: $0)" }, separator: ", "))]::text[]"
        } ?? "NULL::text[]"
        return "\(keyword: bucket.isPublic ? "true" : "false"), \(limit), \(types)"
    }
}
