/// Storage (docs/blueprints.md, Storage): the rows of `storage.buckets` and the policies on
/// `storage.objects` that the blueprints declare. Nothing else there is touched: a policy
/// nobody declared is neither reported nor dropped, the table's RLS flags stay as Supabase
/// set them, and a bucket is dropped only with `--prune` and only while it holds no object.
/// A blueprint with `storage` against a database without the storage schema fails before
/// this kind runs (`Reconciler.compute`).
public enum StorageKind: ObjectKind {
    public static let type = Change.ObjectType.bucket
    /// Its policies are rows of `pg_policy`; buckets are rows of a table, not of a system
    /// catalog. The steady-state fingerprint reads both (the policies of `storage.objects`, not
    /// of a managed table) by a part of its own when blueprints declare storage (`SteadyState`).
    public static let catalogs = ["pg_policy"]
    public static let nouns = (one: "Storage object", many: "Storage objects")
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.alter, "changed"), (.drop, "dropped")]

    public static func bucketID(_ id: String) -> ObjectID { ObjectID(kind: .bucket, schema: "storage", name: id) }
    public static func policyID(_ name: String) -> ObjectID { .member(.policy, of: StorageState.objects, name) }

    public static func identities(in catalog: Catalog) -> [ObjectID] {
        guard let storage = catalog.storage else { return [] }
        return storage.buckets.keys.map(bucketID) + storage.policies.keys.map(policyID)
    }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        guard let want = context.desired.storage, let have = context.actual.storage else { return }
        buckets(want.buckets, have.buckets, context, &plan)
        policies(want.policies, have.policies, written: context.source?.storage?.policies ?? want.policies, context, &plan)
    }

    static func buckets(_ want: [String: Bucket], _ have: [String: Bucket], _ context: DiffContext, _ plan: inout PlanBuilder) {
        for id in want.keys.sorted() {
            let bucket = want[id]!
            guard let existing = have[id] else {
                plan.add(.missing, bucketID(id), .create, phase: .rls, [.createBucket(bucket)], desired: describe(bucket), origin: bucket.origin)
                continue
            }
            guard existing != bucket else { continue }
            // A private bucket made public serves every file in it to anyone with its URL.
            let hazards = bucket.isPublic && !existing.isPublic
                ? [Hazard(.relaxesSecurity, object: bucketID(id).description, detail: "a private bucket made public")] : []
            plan.add(.changed, bucketID(id), .alter, phase: .rls, [.updateBucket(bucket)], desired: describe(bucket),
                     actual: describe(existing), hazards: hazards, origin: bucket.origin)
        }
        for id in have.keys.sorted() where want[id] == nil {
            let bucket = have[id]!
            // Only --prune drops a bucket, and never one that holds objects (they are data).
            plan.add(Change(kind: .unmanaged, id: bucketID(id), action: .drop, operations: bucket.hasObjects ? [] : [.deleteBucket(id)],
                            actual: describe(bucket) + (bucket.hasObjects ? ", holds objects: never dropped" : ""),
                            applied: context.prune && !bucket.hasObjects, phase: .dropPolicies))
        }
    }

    static func policies(_ want: [String: Policy], _ have: [String: Policy], written: [String: Policy], _ context: DiffContext,
                         _ plan: inout PlanBuilder) {
        let table = StorageState.objects
        for name in want.keys.sorted() {
            let policy = want[name]!
            let statement = written[name] ?? policy
            let id = policyID(name)
            if let existing = have[name] {
                if existing != policy {
                    let inPlace = policy.command == existing.command && policy.permissive == existing.permissive
                        && (policy.using == nil) == (existing.using == nil) && (policy.withCheck == nil) == (existing.withCheck == nil)
                    plan.add(.changed, id, .alter, phase: .policies,
                             inPlace ? [.alterPolicy(statement, table: table)] : [.dropPolicy(name, table: table), .createPolicy(statement, table: table)],
                             desired: Describe.policy(policy), actual: Describe.policy(existing), origin: policy.origin)
                }
                if policy.comment != existing.comment {
                    plan.add(.changed, ObjectID.member(.comment, of: table, "policy \(name)"), .alter, phase: .comments,
                             [.commentOnPolicy(name, table: table, policy.comment)], desired: policy.comment, actual: existing.comment,
                             origin: policy.origin)
                }
            } else {
                plan.add(.missing, id, .create, phase: .policies, [.createPolicy(statement, table: table)], desired: Describe.policy(policy),
                         origin: policy.origin)
                if let comment = policy.comment {
                    plan.add(.missing, ObjectID.member(.comment, of: table, "policy \(name)"), .create, phase: .comments,
                             [.commentOnPolicy(name, table: table, comment)], desired: comment, origin: policy.origin)
                }
            }
        }
        // Only a policy an earlier reconciliation created goes when its declaration goes.
        for name in have.keys.sorted() where want[name] == nil && context.previouslyManaged.contains(policyID(name)) {
            let policy = have[name]!
            plan.removed(policyID(name), phase: .dropPolicies, [.dropPolicy(name, table: table)],
                         hazard: policy.permissive ? nil : .relaxesSecurity, detail: policy.permissive ? "DROP" : "DROP of a restrictive policy",
                         actual: Describe.policy(policy), context: context)
        }
    }

    static func describe(_ bucket: Bucket) -> String {
        var parts = [bucket.isPublic ? "public" : "private"]
        parts.append(bucket.fileSizeLimit.map { "file_size_limit \($0)" } ?? "no size limit")
        parts.append(bucket.allowedMimeTypes.map { "allowed_mime_types \($0.joined(separator: ", "))" } ?? "any type")
        return parts.joined(separator: ", ")
    }
}
