/// Sequences other than identity columns' (docs/blueprints.md, Sequences): created before the
/// tables whose defaults draw from them, altered in place (never restarted: the current value
/// is data), owned by a column after the tables exist and before anything is dropped, their
/// privileges and owner set, dropped after the tables.
public enum SequenceKind: ObjectKind {
    public static let type = Change.ObjectType.sequence
    public static let catalogs = ["pg_class", "pg_sequence", "pg_depend"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.alter, "changed"), (.drop, "dropped")]
    /// v1 the type, v2 `{start, increment, min, max, cache}`, v3 cycle, v4 and v5 the owning
    /// table and column, v6 the owner, v7 the privileges as `role:privilege`. Identity columns'
    /// sequences belong to their column (ColumnKind); extension members are never in scope.
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "q", select: """
        n.nspname, NULL, c.relname, format_type(s.seqtypid, NULL),
               ARRAY[s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache]::text, s.seqcycle::text,
               (SELECT t.relname FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
                   AND d.refobjsubid > 0),
               (SELECT a.attname FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'),
               pg_get_userbyid(c.relowner),
               (SELECT array_agg(CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END || ':' || lower(x.privilege_type)
                                  || \(Privilege.grantOptionSQL))
                  FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner)::text
          FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND (d.deptype = 'e' OR (d.deptype = 'i' AND d.refclassid = 'pg_class'::regclass)))
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let name = QualifiedName(schema: row.schema, name: row.name)
        let numbers = (row.array(1) ?? []).compactMap { Int64($0) }
        guard numbers.count == 5 else { return }
        let grants = row.privileges(6)
        let ownedBy = row[3].flatMap { table in
            row[4].map { SequenceObject.Owner(table: QualifiedName(schema: row.schema, name: table), column: $0) }
        }
        reader.catalog.sequences[name] = SequenceObject(
            name: name, type: row[0] ?? "bigint", start: numbers[0], increment: numbers[1], min: numbers[2], max: numbers[3],
            cache: numbers[4], cycle: row[2] == "true", ownedBy: ownedBy, grants: grants, owner: row[5])
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.sequences.keys.map(ObjectID.sequence) }

    /// Built before the tables, so a default calling `nextval('invoice_number_seq')` finds it.
    public static func scratch(_ catalog: Catalog, schema: String) -> [ScratchStatement] {
        catalog.sequences.values.filter { $0.name.schema == schema }.sorted { $0.name < $1.name }.map {
            ScratchStatement(sql: SQLRenderer.createSequence($0, schemaOverride: "pg_temp"), origin: $0.origin)
        }
    }

    /// The server's settings of a scratch copy; ownership, privileges and owner stay the
    /// blueprint's (the scratch copy has none of them).
    public static func adopt(_ scratch: SequenceObject, into sequence: inout SequenceObject) {
        sequence.type = scratch.type
        sequence.start = scratch.start
        sequence.increment = scratch.increment
        sequence.min = scratch.min
        sequence.max = scratch.max
        sequence.cache = scratch.cache
        sequence.cycle = scratch.cycle
    }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for name in context.desired.sequences.keys.sorted() {
            let want = context.desired.sequences[name]!
            let id = ObjectID.sequence(name)
            guard let have = context.actual.sequences[name] else {
                plan.add(.missing, id, .create, phase: .sequences, [.createSequence(want)], desired: want.settings, origin: want.origin)
                if let owner = want.ownedBy {
                    plan.add(.missing, id, .create, phase: .sequenceOwnership, [.setSequenceOwner(name, column: owner)],
                             desired: "owned by \(owner.table.name).\(owner.column)", origin: want.origin)
                }
                privilegesAndOwner(want, have: nil, &plan)
                continue
            }
            if want.settings != have.settings {
                plan.add(.changed, id, .alter, phase: .sequences, [.alterSequence(want)], desired: want.settings, actual: have.settings,
                         hazards: hazards(want, have), origin: want.origin)
            }
            if want.ownedBy != have.ownedBy {
                plan.add(.changed, id, .alter, phase: .sequenceOwnership, [.setSequenceOwner(name, column: want.ownedBy)],
                         desired: ownerText(want.ownedBy), actual: ownerText(have.ownedBy), origin: want.origin)
            }
            privilegesAndOwner(want, have: have, &plan)
        }
        for name in context.actual.sequences.keys.sorted()
        where context.desired.sequences[name] == nil && context.managedSchemas.contains(name.schema) {
            let have = context.actual.sequences[name]!
            plan.removed(.sequence(name), phase: .dropSequences, [.dropSequence(name)], hazard: .deletesData,
                         detail: "DROP SEQUENCE: its current value is lost, and a new one would count again from its start",
                         actual: have.settings, context: context)
        }
    }

    static func ownerText(_ owner: SequenceObject.Owner?) -> String {
        owner.map { "owned by \($0.table.name).\($0.column)" } ?? "owned by no column"
    }

    /// An ALTER that can hand out numbers again is `deletes_data` (duplicate keys); one whose
    /// range may no longer hold the current value is `may_fail`.
    static func hazards(_ want: SequenceObject, _ have: SequenceObject) -> [Hazard] {
        let object = want.name.description
        var hazards: [Hazard] = []
        if (want.increment > 0) != (have.increment > 0) {
            hazards.append(Hazard(.deletesData, object: object, detail: "the increment changes sign: it counts back over numbers already handed out"))
        }
        if want.cycle && !have.cycle {
            hazards.append(Hazard(.deletesData, object: object, detail: "CYCLE: at its end it starts again with numbers already handed out"))
        }
        if want.min > have.min || want.max < have.max {
            hazards.append(Hazard(.mayFail, object: object, detail: "the range narrows to \(want.min)..\(want.max): the current value may be outside it"))
        }
        return hazards
    }

    /// As for tables (GrantKind, OwnerKind): the listed roles get exactly their privileges;
    /// the owner is the blueprint's, or at least none of the API roles (unless a column owns it).
    static func privilegesAndOwner(_ want: SequenceObject, have: SequenceObject?, _ plan: inout PlanBuilder) {
        let name = want.name
        if let grants = want.grants {
            GrantKind.add(grants, of: name, current: have.map { $0.grants ?? [:] }, all: SequenceObject.allPrivileges,
                          grant: { .grantOnSequence($0, sequence: name, role: $1) }, revoke: { .revokeOnSequence($0, sequence: name, role: $1) },
                          origin: want.origin, &plan)
        }
        // A sequence owned by a column belongs to that table's owner: PostgreSQL moves it with
        // the table and refuses to give it to anyone else.
        guard want.ownedBy == nil && have?.ownedBy == nil else { return }
        OwnerKind.add(name, want: want.owner, current: have?.owner, isNew: have == nil, operation: { .alterSequenceRole(name, to: $0) },
                      origin: want.origin, &plan)
    }
}
