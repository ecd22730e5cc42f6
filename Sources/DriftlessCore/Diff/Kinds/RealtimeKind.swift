/// Realtime (docs/blueprints.md, Realtime): a table's membership in the publication
/// `supabase_realtime` and its replica identity. Only tables whose blueprint says `realtime` or
/// `replica_identity` are touched; the publication's other tables are never read as drift and
/// never removed. The publication is created (empty, then given tables one by one) when a
/// blueprint wants a table in it and the database has none; it is never dropped and never made
/// `FOR ALL TABLES`.
public enum RealtimeKind: ObjectKind {
    public static let type = Change.ObjectType.publication
    /// The replica identity is `pg_class.relreplident` and `pg_index.indisreplident`.
    public static let catalogs = ["pg_class", "pg_index", "pg_publication", "pg_publication_rel", "pg_publication_namespace"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "published"), (.alter, "changed")]
    public static let nouns = (one: "Realtime setting", many: "Realtime settings")
    public static let publication = "supabase_realtime"

    /// One row per managed table (v1 `relreplident`, v2 the replica identity index, v3 whether
    /// the table is published: listed, in a listed schema or under `FOR ALL TABLES`), and one for
    /// the publication itself (name only, v1 `puballtables`).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "m", select: """
        rel.nspname, rel.relname, NULL, rel.relreplident::text,
               (SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = rel.oid AND x.indisreplident),
               EXISTS (SELECT 1 FROM pg_publication p WHERE p.pubname = '\(publication)'
                         AND (p.puballtables
                              OR EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prpubid = p.oid AND pr.prrelid = rel.oid)
                              OR EXISTS (SELECT 1 FROM pg_publication_namespace pn WHERE pn.pnpubid = p.oid AND pn.pnnspid = rel.relnamespace)))::text,
               NULL, NULL, NULL, NULL
          FROM rel
        UNION ALL
        SELECT 'm', NULL, NULL, p.pubname, p.puballtables::text, NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_publication p WHERE p.pubname = '\(publication)'
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        guard row.values[2] != nil else {
            reader.catalog.realtimePublication = RealtimePublication(allTables: row[0] == "true")
            return
        }
        let identity: ReplicaIdentity
        switch row[0] {
        case "f": identity = .full
        case "n": identity = .nothing
        // An index identity whose index was dropped sends nothing, as NOTHING does.
        case "i": identity = row[1].map(ReplicaIdentity.index) ?? .nothing
        default: identity = .default
        }
        reader.realtime[row.table] = (row[2] == "true", identity)
    }

    /// The publication, when a blueprint wants a table in it and the database has none.
    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        guard context.actual.realtimePublication == nil,
              let first = context.desired.tables.values.filter({ $0.realtime == true }).min(by: { $0.name < $1.name }) else { return }
        plan.add(.missing, ObjectID(kind: .publication, schema: publication, name: ""), .create, phase: .rls, [.createRealtimePublication],
                 desired: "FOR TABLE only", origin: first.origin)
    }

    /// With `--prune` the blueprints are all there is: a table whose blueprint leaves `realtime`
    /// or `replica_identity` out leaves the publication and gets the default identity (but for a
    /// `FOR ALL TABLES` publication, which no table can leave).
    public static func diff(_ pair: TablePair, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let name = pair.name
        let allTables = context.actual.realtimePublication?.allTables == true
        let wantIdentity = pair.want.replicaIdentity ?? (context.prune ? .default : nil)
        let wantMember = pair.want.realtime ?? (context.prune && !allTables ? false : nil)
        if let want = wantIdentity, want != (pair.isNew ? .default : pair.have.replicaIdentity ?? .default) {
            plan.add(pair.isNew ? .missing : .changed, .table(name), .alter, phase: .rls, [.setReplicaIdentity(name, want)],
                     desired: "replica identity \(want)", actual: pair.isNew ? nil : "replica identity \(pair.have.replicaIdentity ?? .default)",
                     origin: pair.want.origin)
        }
        if let want = wantMember, want != (pair.isNew ? allTables : pair.have.realtime ?? false) {
            // Under FOR ALL TABLES no table can be added or removed: PostgreSQL refuses, and says why.
            let hazards = allTables
                ? [Hazard(.mayFail, object: name.description, detail: "\(publication) is FOR ALL TABLES: no table can leave it")] : []
            plan.add(want && pair.isNew ? .missing : .changed, .property(.publication, of: name), want ? .create : .drop, phase: .rls,
                     [.publish(name, want)], desired: want ? "in \(publication)" : "not in \(publication)",
                     actual: pair.isNew ? nil : want ? "not in \(publication)" : "in \(publication)", hazards: hazards, origin: pair.want.origin)
        }
    }
}
