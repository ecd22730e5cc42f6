/// Schemas: created when a blueprint names one the database lacks; never dropped.
public enum SchemaKind: ObjectKind {
    public static let type = Change.ObjectType.schema
    public static let catalogs = ["pg_namespace"]
    /// Summaries never counted schemas.
    public static let summary: [(action: Change.Action, participle: String)] = []

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for schema in context.managedSchemas.sorted() where !context.existingSchemas.contains(schema) {
            plan.add(.missing, .schema(schema), .create, phase: .schema, [.createSchema(schema)], desired: "schema")
        }
    }
}
