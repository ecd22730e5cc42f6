import Foundation

/// Functions (docs/blueprints.md, Functions): created before the tables whose defaults, checks
/// and policies call them; replaced in place (`CREATE OR REPLACE`) when PostgreSQL allows it,
/// else dropped and created with the triggers and policies that use them dropped first and
/// created again after; their EXECUTE privileges and owner set; dropped after the tables.
/// Procedures, aggregates and SQL-standard bodies (`BEGIN ATOMIC`) stay unsupported.
public enum FunctionKind: ObjectKind {
    public static let type = Change.ObjectType.function
    public static let catalogs = ["pg_proc"]
    public static let summary: [(action: Change.Action, participle: String)] = [(.create, "created"), (.alter, "changed"), (.drop, "dropped")]
    /// v1 the input argument types, v2 `{arguments, result, language, volatility, definer,
    /// strict, parallel, owner, config (one per line), argument defaults}`, v3 the body, v4 the
    /// triggers and policies that use it (`trigger|policy \t schema \t table \t name`) and
    /// other dependents described, v5 the roles holding EXECUTE, v6 each argument's mode
    /// letter and type, v7 the argument names.
    public static let introspection: IntrospectionPart? = IntrospectionPart(code: "f", select: """
        n.nspname, NULL, p.proname,
               coalesce((SELECT array_agg(format_type(u.t, NULL) ORDER BY u.o) FROM unnest(p.proargtypes) WITH ORDINALITY u(t, o)), '{}')::text,
               ARRAY[pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname, p.provolatile::text, p.prosecdef::text,
                     p.proisstrict::text, p.proparallel::text, pg_get_userbyid(p.proowner),
                     coalesce(array_to_string(p.proconfig, E'\\n'), ''), coalesce(pg_get_expr(p.proargdefaults, 0), '')]::text,
               p.prosrc,
               (SELECT array_agg(x.d ORDER BY x.d) FROM (
                  -- One scan of what references the function (pg_depend_reference_index), then
                  -- each dependent by its class: filtering on classid first let the planner walk
                  -- every trigger's dependency for every function (20 s at 10,000 triggers).
                  SELECT CASE
                    WHEN dp.classid = 'pg_trigger'::regclass THEN
                      (SELECT 'trigger' || E'\\t' || tn.nspname || E'\\t' || tc.relname || E'\\t' || tg.tgname
                         FROM pg_trigger tg JOIN pg_class tc ON tc.oid = tg.tgrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                        WHERE tg.oid = dp.objid)
                    WHEN dp.classid = 'pg_policy'::regclass THEN
                      (SELECT 'policy' || E'\\t' || pn.nspname || E'\\t' || pc.relname || E'\\t' || pol.polname
                         FROM pg_policy pol JOIN pg_class pc ON pc.oid = pol.polrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                        WHERE pol.oid = dp.objid)
                    WHEN dp.classid = 'pg_rewrite'::regclass THEN
                      (SELECT 'view' || E'\\t' || vn.nspname || E'\\t' || v.relname
                         FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
                        WHERE r.oid = dp.objid)
                    WHEN dp.deptype = 'n' AND dp.classid <> 'pg_proc'::regclass THEN
                      'other' || E'\\t' || pg_describe_object(dp.classid, dp.objid, dp.objsubid)
                  END AS d
                  FROM pg_depend dp WHERE dp.refclassid = 'pg_proc'::regclass AND dp.refobjid = p.oid) x
                WHERE x.d IS NOT NULL)::text,
               (SELECT array_agg(CASE WHEN x.grantee = 0 THEN 'public' ELSE pg_get_userbyid(x.grantee) END || ':execute'
                                 || \(Privilege.grantOptionSQL))
                  FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                  WHERE x.grantee <> p.proowner AND x.privilege_type = 'EXECUTE')::text,
               (SELECT array_agg(coalesce(p.proargmodes[u.o]::text, 'i') || format_type(u.t, NULL) ORDER BY u.o)
                  FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, o))::text,
               p.proargnames::text
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
          WHERE n.nspname = ANY($1::text[]) AND p.prokind = 'f' AND p.prosqlbody IS NULL
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        """)

    public static func read(_ row: CatalogRow, into reader: inout CatalogReader) {
        let attributes = row.array(1) ?? []
        guard attributes.count == 10 else { return }
        let key = FunctionKey(name: QualifiedName(schema: row.schema, name: row.name), arguments: row.array(0) ?? [])
        let modes: [Character: FunctionObject.Argument.Mode] = ["i": .in, "o": .out, "b": .inout, "v": .variadic, "t": .out]
        let names = row.array(6) ?? []
        var arguments = (row.array(5) ?? []).enumerated().map { index, text in
            FunctionObject.Argument(name: index < names.count && !names[index].isEmpty ? names[index] : nil, type: String(text.dropFirst()),
                                    mode: text.first.flatMap { modes[$0] } ?? .in)
        }
        // The defaults belong to the last input arguments, in order.
        let defaults = SQLSplit.expressions(attributes[9])
        let inputs = arguments.indices.filter { arguments[$0].mode != .out }
        for (index, value) in zip(inputs.suffix(defaults.count), defaults) { arguments[index].defaultExpression = value }
        var dependents = FunctionDependents()
        for entry in row.array(3) ?? [] {
            let parts = entry.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch (parts.first, parts.count) {
            case ("trigger", 4): dependents.triggers.append(TriggerKey(table: QualifiedName(schema: parts[1], name: parts[2]), name: parts[3]))
            case ("policy", 4): dependents.policies.append(.member(.policy, of: QualifiedName(schema: parts[1], name: parts[2]), parts[3]))
            case ("view", 3): dependents.views.append(QualifiedName(schema: parts[1], name: parts[2]))
            default: dependents.others.append(parts.dropFirst().joined(separator: " "))
            }
        }
        let result = attributes[1]
        let returnsTable = result.hasPrefix("TABLE(")
        var function = FunctionObject(
            key: key, argumentList: attributes[0], result: result, language: attributes[2],
            volatility: attributes[3] == "i" ? .immutable : attributes[3] == "s" ? .stable : .volatile,
            security: attributes[4] == "true" ? .definer : .invoker, strict: attributes[5] == "true",
            parallel: attributes[6] == "s" ? .safe : attributes[6] == "r" ? .restricted : .unsafe,
            config: attributes[8].isEmpty ? [] : attributes[8].split(separator: "\n").map(String.init), body: row[2] ?? "",
            grants: row.privileges(4),
            owner: attributes[7], arguments: arguments, returnsSet: result.hasPrefix("SETOF "),
            returnType: returnsTable ? "record" : result.hasPrefix("SETOF ") ? String(result.dropFirst(6)) : result, returnsTable: returnsTable)
        function.dependents = dependents
        reader.catalog.functions[key] = function
    }

    public static func identities(in catalog: Catalog) -> [ObjectID] { catalog.functions.keys.map(ObjectID.function) }

    /// Scratch copies in `pg_temp`, made after the enums and sequences and before the tables.
    /// Bodies are not checked there (`check_function_bodies` is off for the whole
    /// reconciliation, as pg_dump does): a SQL body may name a table created later.
    public static func scratch(_ catalog: Catalog, schema: String) -> [ScratchStatement] {
        catalog.functions.values.filter { $0.name.schema == schema }.sorted { $0.key < $1.key }.map {
            ScratchStatement(sql: SQLRenderer.createFunction($0, schemaOverride: "pg_temp"), origin: $0.origin)
        }
    }

    /// The server's identity, argument list, result, attributes and config of a scratch copy;
    /// privileges, owner and the text to render stay the blueprint's.
    public static func adopt(_ scratch: FunctionObject, into function: inout FunctionObject) {
        function.key = FunctionKey(name: function.key.name, arguments: scratch.key.arguments)
        function.argumentList = scratch.argumentList
        function.result = scratch.result
        function.language = scratch.language
        function.volatility = scratch.volatility
        function.security = scratch.security
        function.strict = scratch.strict
        function.parallel = scratch.parallel
        function.config = scratch.config
        function.body = scratch.body
    }

    /// The scratch copy of `function` among `scratch` (copies of `schema`'s functions made in
    /// `tempSchema`): the one of its name, or among overloads the one whose types match.
    public static func copy(of function: FunctionObject, in scratch: Catalog, tempSchema: String, desired: Catalog) -> FunctionObject? {
        let candidates = scratch.functions.values.filter { $0.name == QualifiedName(schema: tempSchema, name: function.name.name) }
        let overloads = desired.functions.values.filter { $0.name == function.name }
        if candidates.count == 1 && overloads.count == 1 { return candidates.first }
        return candidates.first { candidate in
            candidate.key.arguments.count == function.key.arguments.count
                && zip(candidate.key.arguments, function.key.arguments).allSatisfy { TypeNames.same($0, $1) }
        }
    }

    /// Whether two functions have one name and, loosely, the same argument types.
    public static func sameSignature(_ a: FunctionObject, _ b: FunctionObject) -> Bool {
        a.name == b.name && a.key.arguments.count == b.key.arguments.count
            && zip(a.key.arguments, b.key.arguments).allSatisfy { TypeNames.same($0, $1) }
    }

    /// The functions of `schema` that `desired` has and `live` has under no signature of theirs,
    /// by key: what a scratch copy or a probe must create before anything calls them.
    public static func new(in desired: Catalog, live: Catalog, schema: String) -> [FunctionObject] {
        desired.functions.values.filter { function in
            function.name.schema == schema && !live.functions.values.contains { sameSignature($0, function) }
        }.sorted { $0.key < $1.key }
    }

    public static func diff(_ context: DiffContext, _ plan: inout PlanBuilder) {
        for key in context.desired.functions.keys.sorted() {
            let want = context.desired.functions[key]!
            let id = ObjectID.function(key)
            guard let have = context.actual.functions[key] else {
                plan.add(.missing, id, .create, phase: .functions, [.createFunction(want, replace: false)], desired: want.attributes,
                         origin: want.origin)
                privilegesAndOwner(want, have: nil, &plan)
                continue
            }
            let onRecreatedEnum = usesRecreatedEnum(want, plan.recreatedEnums)
            if definition(want) != definition(have) || onRecreatedEnum {
                if want.replaceable(from: have) && !onRecreatedEnum {
                    plan.add(.changed, id, .alter, phase: .functions, [.createFunction(want, replace: true)], desired: want.attributes,
                             actual: have.attributes, origin: want.origin)
                } else {
                    recreate(want, have: have, context, &plan)
                }
            }
            if onRecreatedEnum || !want.replaceable(from: have) && definition(want) != definition(have) {
                // A new function has PUBLIC's EXECUTE only: the grants it had are given back
                // unless the blueprint says which it wants.
                var again = want
                again.grants = want.grants ?? have.grants
                privilegesAndOwner(again, have: nil, restoring: want.grants == nil, &plan)
            } else {
                privilegesAndOwner(want, have: have, &plan)
            }
        }
        for key in context.actual.functions.keys.sorted()
        where context.desired.functions[key] == nil && context.managedSchemas.contains(key.name.schema) {
            let have = context.actual.functions[key]!
            // What still calls it (a policy or trigger whose text now resolves to a new
            // signature) goes first and is created again by its kind.
            if context.willDrop(.function(key)) { _ = dropDependents(of: have, origin: nil, context, &plan) }
            plan.removed(.function(key), phase: .dropFunctions, [.dropFunction(key)], hazard: .deletesData,
                         detail: "DROP FUNCTION: whatever calls it (the Data API, a default, a policy, a trigger) fails from then on",
                         actual: have.attributes, context: context)
        }
    }

    /// What is compared of a function besides its privileges and owner.
    static func definition(_ function: FunctionObject) -> FunctionObject {
        var copy = function
        copy.grants = nil
        copy.owner = nil
        return copy
    }

    /// Whether the function takes or returns an enum that is recreated under its own name: it
    /// holds the old type then, which cannot be dropped while it does.
    static func usesRecreatedEnum(_ function: FunctionObject, _ recreated: Set<QualifiedName>) -> Bool {
        guard !recreated.isEmpty else { return false }
        let types = function.key.arguments + function.arguments.map(\.type) + [function.returnType]
        return types.contains { EnumKind.used(by: $0, schema: function.name.schema, among: recreated) != nil }
    }

    /// Drop and create: what PostgreSQL refuses to replace (another result type, renamed
    /// arguments, fewer defaults, an enum recreated under it). The views, triggers and policies
    /// that use it are dropped first (their kinds create them again after), in the same
    /// transaction; other dependents (a default, a check, an index) make the drop fail, which
    /// the plan says as `may_fail`.
    static func recreate(_ want: FunctionObject, have: FunctionObject, _ context: DiffContext, _ plan: inout PlanBuilder) {
        let others = dropDependents(of: have, origin: want.origin, context, &plan)
        let hazards = others.isEmpty ? [] : [Hazard(.mayFail, object: want.key.description,
            detail: "dropped and created again, but used by \(others.joined(separator: "; ")), which PostgreSQL does not let go")]
        var drop = Change(kind: .changed, id: .function(have.key), action: .alter, operations: [.dropFunction(have.key)],
                          actual: have.attributes, hazards: hazards, phase: .dropDependents, origin: want.origin)
        drop.isRecreate = true
        plan.add(drop)
        plan.add(.changed, .function(want.key), .alter, phase: .functions, [.createFunction(want, replace: false)], desired: want.attributes,
                 actual: have.attributes, origin: want.origin)
    }

    /// Drops the views, triggers and policies that use a live function before it is dropped
    /// (their kinds create them again, or put back as they were); returns its other dependents.
    static func dropDependents(of have: FunctionObject, origin: Origin?, _ context: DiffContext, _ plan: inout PlanBuilder) -> [String] {
        let dependents = have.dependents ?? FunctionDependents()
        // Those removed from the blueprints are dropped by their own kinds, before the function.
        func going(_ id: ObjectID, declared: Bool) -> Bool { !declared && context.willDrop(id) }
        // Views calling it, with the views that read them and their triggers, readers first;
        // even one removed from the blueprints goes here, as views are otherwise dropped after
        // functions. ViewKind creates them again (or puts back an undeclared one).
        var views = Set(dependents.views.filter { context.actual.views[$0] != nil && !plan.droppedViews.contains($0) })
        var pending = Array(views)
        while let name = pending.popLast() {
            for reader in context.actual.views[name]?.dependentViews ?? []
            where context.actual.views[reader] != nil && !plan.droppedViews.contains(reader) && views.insert(reader).inserted {
                pending.append(reader)
            }
        }
        for name in ViewKind.dropOrder(views, context.actual.views) {
            for trigger in context.actual.triggers.keys.sorted() where trigger.table == name && plan.droppedTriggers.insert(trigger).inserted {
                var drop = Change(kind: .changed, id: trigger.id, action: .drop, operations: [.dropTrigger(trigger)],
                                  actual: context.actual.triggers[trigger]?.definition, phase: .dropDependents, origin: origin)
                drop.isRecreate = !going(.view(name), declared: context.desired.views[name] != nil)
                plan.add(drop)
            }
            plan.droppedViews.insert(name)
            let view = context.actual.views[name]!
            var drop = Change(kind: .changed, id: .view(name), action: .drop, operations: [.dropView(name, materialized: view.materialized)],
                              actual: view.definition, phase: .dropDependents, origin: origin)
            drop.isRecreate = !going(.view(name), declared: context.desired.views[name] != nil)
            plan.add(drop)
        }
        for trigger in dependents.triggers.sorted()
        where !plan.droppedTriggers.contains(trigger) && !going(trigger.id, declared: context.desired.triggers[trigger] != nil) {
            plan.droppedTriggers.insert(trigger)
            var drop = Change(kind: .changed, id: trigger.id, action: .drop, operations: [.dropTrigger(trigger)],
                              actual: context.actual.triggers[trigger]?.definition, phase: .dropDependents, origin: origin)
            drop.isRecreate = true
            plan.add(drop)
        }
        for policy in dependents.policies.sorted()
        where !plan.droppedPolicies.contains(policy)
            && !going(policy, declared: policy.tableName.flatMap { context.desired.tables[$0]?.policies[policy.name] } != nil) {
            plan.droppedPolicies.insert(policy)
            var drop = Change(kind: .changed, id: policy, action: .drop, operations: [.dropPolicy(policy.name, table: policy.tableName!)],
                              phase: .dropDependents, origin: origin)
            drop.isRecreate = true
            plan.add(drop)
        }
        return dependents.others
    }

    /// As for tables and sequences (GrantKind, OwnerKind): listed roles get exactly EXECUTE or
    /// nothing, PUBLIC among them unless listed; the owner is the blueprint's, or none of the
    /// API roles. `have` nil: the function is (re)created; `restoring`: the grants are the ones
    /// it had, given back (no widening).
    static func privilegesAndOwner(_ want: FunctionObject, have: FunctionObject?, restoring: Bool = false, _ plan: inout PlanBuilder) {
        let key = want.key
        let name = QualifiedName(schema: key.name.schema, name: key.signature)
        if let grants = want.grants {
            GrantKind.add(grants, of: name, current: have.map { $0.grants ?? [:] }, all: FunctionObject.allPrivileges,
                          grant: { .grantOnFunction($0, function: key, role: $1) }, revoke: { .revokeOnFunction($0, function: key, role: $1) },
                          origin: want.origin, widens: want.security == .definer && !restoring, &plan)
        }
        OwnerKind.add(name, want: want.owner, current: have?.owner, isNew: have == nil, operation: { .alterFunctionOwner(key, to: $0) },
                      origin: want.origin, &plan)
    }
}

/// What uses a live function (`pg_depend`): triggers and policies by identity, other objects
/// described.
public struct FunctionDependents: Sendable, Equatable, Codable {
    public var triggers: [TriggerKey] = []
    public var policies: [ObjectID] = []
    /// Views whose query calls it.
    public var views: [QualifiedName] = []
    public var others: [String] = []

    public init(triggers: [TriggerKey] = [], policies: [ObjectID] = [], views: [QualifiedName] = [], others: [String] = []) {
        self.triggers = triggers
        self.policies = policies
        self.views = views
        self.others = others
    }
}

/// Type names as users write them and as `format_type` prints them.
public enum TypeNames {
    static let aliases: [String: String] = [
        "int": "integer", "int4": "integer", "int2": "smallint", "int8": "bigint", "bool": "boolean", "float8": "double precision",
        "float4": "real", "varchar": "character varying", "timestamptz": "timestamp with time zone",
        "timestamp": "timestamp without time zone", "timetz": "time with time zone", "time": "time without time zone",
        "decimal": "numeric", "char": "character",
    ]

    /// Whether `a` and `b` name the same type, loosely (case, spaces, common aliases).
    public static func same(_ a: String, _ b: String) -> Bool { normal(a) == normal(b) }

    static func normal(_ type: String) -> String {
        var text = type.lowercased().trimmingCharacters(in: .whitespaces)
        var suffix = ""
        while text.hasSuffix("[]") {
            suffix += "[]"
            text = String(text.dropLast(2)).trimmingCharacters(in: .whitespaces)
        }
        if let dot = text.lastIndex(of: "."), !text.hasPrefix("\"") { text = String(text[text.index(after: dot)...]) }
        return (aliases[text] ?? text) + suffix
    }
}
