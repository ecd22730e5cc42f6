/// Enum types: created; labels added in place (`ADD VALUE`); recreated when labels are removed
/// or reordered (the columns that use it then change type through text, `ColumnKind`); dropped.
public enum EnumKind: ObjectKind {
    public static let type = Change.ObjectType.enum
    public static let catalogs = ["pg_type", "pg_enum"]
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "e", select: """
        n.nspname, NULL, t.typname,
               (SELECT coalesce(array_agg(e.enumlabel ORDER BY e.enumsortorder), '{}') FROM pg_enum e WHERE e.enumtypid = t.oid)::text,
               NULL, NULL, NULL, NULL, NULL, NULL
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE t.typtype = 'e' AND n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let name = QualifiedName(schema: row.schema, name: row.name)
        reader.catalog.enums[name] = EnumType(name: name, values: row.array(0) ?? [])
    }

    public static func scratch(_ catalog: Catalog, schema: String) -> [ScratchStatement] {
        catalog.enums.values.filter { $0.name.schema == schema }.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createEnum($0, schemaOverride: "pg_temp"), origin: $0.origin)
        }
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.enums.keys.map(ObjectID.enumType) }

    /// The name an enum has while it is recreated.
    static func oldName(_ name: QualifiedName) -> QualifiedName {
        QualifiedName(schema: name.schema, name: "\(name.name)__driftless_old")
    }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for name in context.desired.enums.keys.sorted() {
            let want = context.desired.enums[name]!
            let labels = want.values.joined(separator: ", ")
            guard let have = context.actual.enums[name] else {
                plan.add(.missing, .enumType(name), .create, phase: .enumCreate, [.createEnum(want)], desired: labels, origin: want.origin)
                continue
            }
            guard want.values != have.values else { continue }
            let kept = want.values.filter { have.values.contains($0) }
            if kept == have.values {
                // Only additions, existing labels in their order: ADD VALUE each, after its predecessor.
                var operations: [Operation] = []
                for (index, value) in want.values.enumerated() where !have.values.contains(value) {
                    // A value before every existing one: ADD VALUE ... BEFORE the first old label.
                    let position: Operation.EnumPosition = index == 0 ? .before(have.values[0]) : .after(want.values[index - 1])
                    operations.append(.addEnumValue(name, value: value, position))
                }
                plan.add(.changed, .enumType(name), .alter, phase: .enumValues, operations, desired: labels,
                         actual: have.values.joined(separator: ", "), origin: want.origin)
            } else {
                // Rename the old type away and create the new one; the columns move over
                // (ColumnKind), then the old type is dropped.
                plan.recreatedEnums.insert(name)
                plan.add(.changed, .enumType(name), .alter, phase: .enumValues, [.renameType(name, to: oldName(name).name), .createEnum(want)],
                         desired: labels, actual: have.values.joined(separator: ", "),
                         hazards: [Hazard(.deletesData, object: name.description, detail: "enum labels removed or reordered: the type is recreated and rows holding a removed label fail")],
                         origin: want.origin)
                var dropOld = Change(kind: .changed, id: .enumType(oldName(name)), action: .drop, operations: [.dropType(oldName(name))],
                                     phase: .dropEnums, origin: want.origin)
                dropOld.isRecreate = true
                plan.add(dropOld)
            }
        }
        for name in context.actual.enums.keys.sorted() where context.desired.enums[name] == nil && context.managedSchemas.contains(name.schema) {
            plan.removed(.enumType(name), phase: .dropEnums, [.dropType(name)], hazard: .deletesData, detail: "DROP TYPE",
                         actual: context.actual.enums[name]!.values.joined(separator: ", "), context: context)
        }
    }

    /// The enum of `schema` a column of type `type` uses (itself or as an array), if it is one
    /// of `enums`.
    static func used(by type: String, schema: String, among enums: Set<QualifiedName>) -> QualifiedName? {
        let base = type.hasSuffix("[]") ? String(type.dropLast(2)) : type
        return enums.first { $0.schema == schema && ($0.name == base || $0.description == base) }
    }
}
