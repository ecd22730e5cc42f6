/// Schemas: created when a blueprint names one the database lacks; never dropped.
public enum SchemaKind: ObjectKind {
    public static let type = Change.ObjectType.schema
    public static let catalogs = ["pg_namespace"]
    /// Summaries never counted schemas.
    public static let summary: [(action: Change.Action, participle: String)] = []
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "s", select: """
        nspname AS schema, NULL AS tbl, NULL AS name, NULL AS v1, NULL AS v2, NULL AS v3, NULL AS v4, NULL AS v5, NULL AS v6, NULL AS v7
          FROM pg_namespace WHERE nspname = ANY($1::text[])
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) { reader.existingSchemas.insert(row.schema) }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for schema in context.managedSchemas.sorted() where !context.existingSchemas.contains(schema) {
            plan.add(.missing, .schema(schema), .create, phase: .schema, [.createSchema(schema)], desired: "schema")
        }
    }
}
