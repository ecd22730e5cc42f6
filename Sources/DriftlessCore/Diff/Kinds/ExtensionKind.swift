/// Extensions (docs/blueprints.md, Extensions): created (`IF NOT EXISTS`, in the declared
/// schema), updated to a declared version, moved to the declared schema; dropped only when an
/// earlier reconciliation created it and no blueprint lists it any more (`deletes_data`). An
/// extension nobody declared is never reported or dropped: most belong to the platform.
public enum ExtensionKind: ObjectKind {
    public static let type = Change.ObjectType.extension
    public static let catalogs = ["pg_extension"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.alter, "changed"), (.drop, "dropped")]
    /// Every extension of the database, whatever the schema (v1 its version).
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "x", select: """
        n.nspname, NULL, e.extname, e.extversion, NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        reader.catalog.extensions[row.name] = ExtensionObject(name: row.name, schema: row.schema, version: row[0])
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.extensions.values.map(\.id) }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for name in context.desired.extensions.keys.sorted() {
            let want = context.desired.extensions[name]!
            guard let have = context.actual.extensions[name] else {
                plan.add(.missing, want.id, .create, phase: .extensions, [.createExtension(want)], desired: describe(want), origin: want.origin)
                continue
            }
            if want.schema != have.schema {
                plan.add(.changed, want.id, .alter, phase: .extensions, [.moveExtension(name, to: want.schema)], desired: describe(want),
                         actual: describe(have),
                         hazards: [Hazard(.mayFail, object: name, detail: "ALTER EXTENSION ... SET SCHEMA: not every extension can move")],
                         origin: want.origin)
            }
            if let version = want.version, version != have.version {
                plan.add(.changed, want.id, .alter, phase: .extensions, [.updateExtension(name, to: version)], desired: describe(want),
                         actual: describe(have), origin: want.origin)
            }
        }
        for name in context.actual.extensions.keys.sorted() where context.desired.extensions[name] == nil {
            let have = context.actual.extensions[name]!
            guard context.previouslyManaged.contains(have.id) else { continue }
            plan.removed(have.id, phase: .dropExtensions, [.dropExtension(name)], hazard: .deletesData,
                         detail: "DROP EXTENSION: its types, functions and the data held in them go with it", actual: describe(have),
                         context: context)
        }
    }

    static func describe(_ extensionObject: ExtensionObject) -> String {
        "in schema \(extensionObject.schema)" + (extensionObject.version.map { ", version \($0)" } ?? "")
    }
}
