import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// The parts of the routine revisions that stay: the profiles and docs tables, and the RLS of docs.
/// A view over docs (a column type change under it in revision 3), and a view reading it.
private func views(titles: Bool = true) -> String {
    """
    views:
      - name: doc_titles
        query: select id, org_id\(titles ? ", title" : "") from docs where title is not null
        comment: Documents with a title
        grants: {anon: [], authenticated: [select]}
      - name: doc_counts
        query: select org_id, count(*) as n from doc_titles group by org_id
    """
}

private func tables(orgType: String, feeling: Bool = true, ticket: Bool = true) -> String {
    """
    tables:
      - name: profiles
        columns:
          - {name: id, type: uuid, primary_key: true}
          - {name: email, type: text}
    \(feeling ? "      - {name: feeling, type: mood}\n" : "")\(ticket ? "      - {name: ticket, type: bigint, default: \"nextval('ticket_seq')\"}\n" : "")      - {name: updated_at, type: timestamptz}
      - name: docs
        columns:
          - {name: id, type: bigint, primary_key: true, identity: always}
          - {name: org_id, type: \(orgType), nullable: false}
          - {name: title, type: text}
        rls:
          policies:
            - {name: Members read docs., command: select, roles: [authenticated], using: can_see(org_id)}
    """
}

private let handleNewUser = """
      - name: handle_new_user
        returns: trigger
        language: plpgsql
        security: definer
        search_path: ""
        body: |
          begin
            insert into public.profiles (id, email) values (new.id, new.email);
            return new;
          end
        grants: {anon: [], authenticated: []}
    """

private func canSee(_ type: String) -> String {
    """
      - name: can_see
        arguments: [{name: p_org, type: \(type)}]
        returns: boolean
        language: sql
        volatility: stable
        search_path: ""
        body: select p_org > 0
        grants: {anon: [], authenticated: [execute]}
    """
}

/// A function a trigger's WHEN calls: its argument type changes in revision 3 (a new signature
/// under the trigger).
private func worth(_ type: String) -> String {
    """
      - name: worth
        arguments: [{name: p, type: \(type)}]
        returns: boolean
        language: sql
        volatility: immutable
        search_path: ""
        body: select p is not null
    """
}

private func cheer(_ result: String) -> String {
    """
      - name: cheer
        arguments: [{name: m, type: mood}]
        returns: \(result)
        language: sql
        volatility: immutable
        search_path: ""
        body: select m::text
    """
}

/// Six revisions that add, change and drop functions, triggers, views, sequences and
/// extensions (docs/blueprints.md, Functions, Triggers, Views, Sequences, Extensions), with what
/// PostgreSQL refuses while dependents exist: a column type change under a view (read by
/// another view) and under a policy that calls a function, an enum label removed under a
/// function taking the enum, a function's signature changed under a trigger's WHEN, a view
/// losing a column (drop and create with its reader), a trigger moved to another function,
/// results changed.
let routineRevisions: [[String: String]] = [
    // 1: everything added.
    ["app.yaml": document("""
        \(views())
        extensions:
          - {name: pg_trgm, schema: extensions}
        enums:
          - {name: mood, values: [happy, sad, meh]}
        sequences:
          - {name: ticket_seq, start: 100}
        \(tables(orgType: "integer"))
        functions:
        \(handleNewUser)
          - name: touch
            returns: trigger
            language: plpgsql
            search_path: ""
            body: begin new.updated_at := now(); return new; end
        \(canSee("integer"))
        \(cheer("text"))
        triggers:
          - {name: on_auth_user_created, table: auth.users, timing: after, events: [insert], function: handle_new_user}
          - {name: profiles_touch, table: profiles, timing: before, events: [{update: [email]}], function: touch}
        """)],
    // 2: bodies and attributes changed in place, a trigger's events and WHEN, a sequence's settings.
    ["app.yaml": document("""
        \(views())
        extensions:
          - {name: pg_trgm, schema: extensions}
        enums:
          - {name: mood, values: [happy, sad, meh]}
        sequences:
          - {name: ticket_seq, start: 100, increment: 2, cache: 10}
        \(tables(orgType: "integer"))
        functions:
        \(worth("text"))
        \(handleNewUser.replacingOccurrences(of: "(id, email) values (new.id, new.email)", with: "(id, email, feeling) values (new.id, new.email, 'happy')"))
          - name: touch
            returns: trigger
            language: plpgsql
            volatility: volatile
            search_path: ""
            body: begin new.updated_at := clock_timestamp(); return new; end
        \(canSee("integer"))
        \(cheer("text"))
        triggers:
          - {name: on_auth_user_created, table: auth.users, timing: after, events: [insert], function: handle_new_user, when: new.email is not null}
          - {name: profiles_touch, table: profiles, timing: before, events: [insert, {update: [email, feeling]}], when: worth(new.email), function: touch}
        """)],
    // 3: a column type change under a policy that calls a function whose signature changes with it.
    ["app.yaml": document("""
        \(views())
        extensions:
          - {name: pg_trgm, schema: extensions}
        enums:
          - {name: mood, values: [happy, sad, meh]}
        sequences:
          - {name: ticket_seq, start: 100, increment: 2, cache: 10}
        \(tables(orgType: "bigint"))
        functions:
        \(worth("character varying"))
        \(handleNewUser)
          - name: touch
            returns: trigger
            language: plpgsql
            search_path: ""
            body: begin new.updated_at := clock_timestamp(); return new; end
        \(canSee("bigint"))
        \(cheer("text"))
        triggers:
          - {name: on_auth_user_created, table: auth.users, timing: after, events: [insert], function: handle_new_user, when: new.email is not null}
          - {name: profiles_touch, table: profiles, timing: before, events: [insert, {update: [email, feeling]}], when: "worth(new.email::character varying)", function: touch}
        """)],
    // 4: an enum label removed under a function that takes the enum; a result type changed.
    ["app.yaml": document("""
        \(views(titles: false))
        extensions:
          - {name: pg_trgm, schema: extensions}
        enums:
          - {name: mood, values: [happy, sad]}
        sequences:
          - {name: ticket_seq, start: 100, increment: 2, cache: 10}
        \(tables(orgType: "bigint"))
        functions:
        \(worth("character varying"))
        \(handleNewUser)
          - name: touch
            returns: trigger
            language: plpgsql
            search_path: ""
            body: begin new.updated_at := clock_timestamp(); return new; end
        \(canSee("bigint"))
        \(cheer("character varying"))
        triggers:
          - {name: on_auth_user_created, table: auth.users, timing: after, events: [insert], function: handle_new_user, when: new.email is not null}
          - {name: profiles_touch, table: profiles, timing: before, events: [insert, {update: [email, feeling]}], when: "worth(new.email::character varying)", function: touch}
        """)],
    // 5: the trigger moves to another function and the old one goes; the extension goes; the
    //    auth.users trigger is disabled.
    ["app.yaml": document("""
        \(views(titles: false))
        enums:
          - {name: mood, values: [happy, sad]}
        sequences:
          - {name: ticket_seq, start: 100, increment: 2, cache: 10}
        \(tables(orgType: "bigint"))
        functions:
        \(worth("character varying"))
        \(handleNewUser)
          - name: set_updated_at
            returns: trigger
            language: plpgsql
            search_path: ""
            body: begin new.updated_at := now(); return new; end
        \(canSee("bigint"))
        \(cheer("character varying"))
        triggers:
          - {name: on_auth_user_created, table: auth.users, timing: after, events: [insert], function: handle_new_user, enabled: disabled}
          - {name: profiles_touch, table: profiles, timing: before, events: [insert, update], function: set_updated_at}
        """)],
    // 6: the auth.users trigger and its function, the sequence and the column drawing from it,
    //    and cheer go; a statement-level trigger with arguments arrives on docs.
    ["app.yaml": document("""
        enums:
          - {name: mood, values: [happy, sad]}
        \(tables(orgType: "bigint", ticket: false))
        functions:
          - name: set_updated_at
            returns: trigger
            language: plpgsql
            search_path: ""
            body: begin new.updated_at := now(); return new; end
          - name: audit
            returns: trigger
            language: plpgsql
            search_path: ""
            body: begin raise notice '% %', tg_argv[0], tg_op; return null; end
        \(canSee("bigint"))
        triggers:
          - {name: profiles_touch, table: profiles, timing: before, events: [insert, update], function: set_updated_at}
          - {name: docs_audit, table: docs, timing: after, events: [insert, delete, truncate], level: statement, function: audit, arguments: [docs]}
        """)],
]

@Suite("Functions, triggers, sequences and extensions against a real database")
struct RoutineTests {
    /// Everything of `public` the engine reads, and every extension.
    func catalog(_ db: TestDatabase) throws -> Catalog { try liveCatalog(db) }

    @Test(arguments: SupabaseProject.allCases)
    func sixRevisionsConvergeAndMatchAFreshApply(kind: SupabaseProject) async throws {
        try await blocking {
            let cluster = try PostgresCluster.shared()
            let db = try cluster.createDatabase(prefix: "routines", kind: kind)
            for (index, files) in routineRevisions.enumerated() {
                let applied = try reconcile(db, files, allow: [.deletesData, .rewritesTable], revision: "r\(index + 1)")
                #expect(applied.result.status == .ok, "revision \(index + 1): \(applied.result.summary) \(applied.result.errors)")
                let replan = try reconcile(db, files, apply: false, revision: "r\(index + 1)")
                #expect(replan.result.status == .noop, "revision \(index + 1) re-plan: \(replan.changes.map { "\($0.object): \($0.statements)" })")
            }
            let fresh = try cluster.createDatabase(prefix: "routines_once", kind: kind)
            let once = try reconcile(fresh, routineRevisions.last!)
            #expect(once.result.status == .ok, "\(once.result.errors)")
            let (stepwise, direct) = (try catalog(db), try catalog(fresh))
            #expect(stepwise.tables == direct.tables)
            #expect(stepwise.enums == direct.enums)
            #expect(stepwise.sequences == direct.sequences)
            #expect(stepwise.functions == direct.functions)
            #expect(stepwise.functions.keys.map(\.description).sorted()
                    == ["public.audit()", "public.can_see(bigint)", "public.set_updated_at()"])
            #expect(stepwise.triggers == direct.triggers)
            #expect(stepwise.extensions == direct.extensions)
            #expect(stepwise.views == direct.views && stepwise.views.isEmpty)
            #expect(stepwise.extensions["pg_trgm"] == nil)
            let migra = ConvergenceTests()
            let (forth, back) = (try migra.migra(db, fresh, schema: "public"), try migra.migra(fresh, db, schema: "public"))
            #expect(forth.isEmpty, "\(forth)")
            #expect(back.isEmpty, "\(back)")
        }
    }

    /// A database holding every kind (an extension, an enum, a sequence, functions, triggers on
    /// its tables and on auth.users, views, policies calling a function) imported: the blueprints
    /// validate, plan nothing against it, and applied to an empty project give the same schema.
    @Test(arguments: SupabaseProject.allCases)
    func aDatabaseWithEveryKindRoundTripsThroughImport(kind: SupabaseProject) async throws {
        try await blocking {
            let cluster = try PostgresCluster.shared()
            let original = try cluster.createDatabase(prefix: "routines_import", kind: kind)
            #expect(try reconcile(original, routineRevisions[2], allow: [.deletesData, .rewritesTable]).result.status == .ok)
            let out = try write([:])
            func run(_ arguments: [String]) throws -> ProcessOutput {
                try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments, check: false)
            }
            let imported = try run(["import", "--database-url", original.url, "--out", out])
            #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
            for file in ["extensions", "enums", "sequences", "functions", "triggers", "views"] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(file).yaml"), "\(file).yaml")
            }
            #expect(try run(["validate", "--blueprints", out]).status == 0)
            let plan = try run(["plan", "--blueprints", out, "--database-url", original.url])
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
            let copy = try cluster.createDatabase(prefix: "routines_copy", kind: kind)
            let applied = try run(["apply", "--blueprints", out, "--database-url", copy.url, "--allow", "relaxes_security"])
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let (want, have) = (try catalog(original), try catalog(copy))
            #expect(have.tables == want.tables && have.enums == want.enums && have.sequences == want.sequences)
            #expect(have.functions == want.functions && have.triggers == want.triggers && have.views == want.views)
            #expect(have.extensions == want.extensions)
            let migra = ConvergenceTests()
            let (forth, back) = (try migra.migra(original, copy, schema: "public"), try migra.migra(copy, original, schema: "public"))
            #expect(forth.isEmpty, "\(forth)")
            #expect(back.isEmpty, "\(back)")
        }
    }

    /// The handle_new_user trigger fires as written, and a function's EXECUTE is as declared.
    @Test func theAuthTriggerRunsAndExecuteIsAsDeclared() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "routines_run")
            let applied = try reconcile(db, routineRevisions[0])
            #expect(applied.result.status == .ok, "\(applied.result.errors)")
            let connection = try db.connect()
            try connection.query("INSERT INTO auth.users (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com')")
            #expect(try connection.query("SELECT count(*) AS n FROM public.profiles WHERE email = 'a@example.com'").first!.int("n") == 1)
            let execute = try connection.query("""
                SELECT has_function_privilege('anon', 'public.handle_new_user()', 'EXECUTE') AS anon_new_user,
                       has_function_privilege('authenticated', 'public.can_see(integer)', 'EXECUTE') AS authenticated_can_see,
                       has_function_privilege('anon', 'public.can_see(integer)', 'EXECUTE') AS anon_can_see
                """).first!
            #expect(try !execute.bool("anon_new_user") && execute.bool("authenticated_can_see") && !execute.bool("anon_can_see"))
        }
    }

    /// Drift made by hand in each kind is reported, noticed by the steady-state check (never
    /// answered noop from the fingerprint), and corrected.
    @Test func handMadeDriftInEachKindIsReportedAndCorrected() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "routines_drift")
            let files = routineRevisions[1]
            #expect(try reconcile(db, files).result.status == .ok)
            // Converged and recorded: the next apply answers from the fingerprint.
            #expect(try reconcile(db, files).result.status == .noop)
            let edits: [(String, Change.ObjectType, String)] = [
                ("CREATE OR REPLACE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS 'begin return new; end'",
                 .function, "public.touch()"),
                ("DROP TRIGGER on_auth_user_created ON auth.users", .trigger, "auth.users.on_auth_user_created"),
                ("ALTER TABLE public.profiles DISABLE TRIGGER profiles_touch", .trigger, "public.profiles.profiles_touch"),
                ("ALTER SEQUENCE public.ticket_seq INCREMENT BY 5", .sequence, "public.ticket_seq"),
                ("GRANT EXECUTE ON FUNCTION public.handle_new_user() TO anon", .grant, "public.handle_new_user().anon"),
                ("DROP EXTENSION pg_trgm", .extension, "pg_trgm"),
                ("CREATE OR REPLACE VIEW public.doc_titles AS SELECT id, org_id, title FROM docs", .view, "public.doc_titles"),
                ("COMMENT ON VIEW public.doc_titles IS 'by hand'", .comment, "public.doc_titles"),
            ]
            for (statement, type, object) in edits {
                try db.connect().query(statement)
                let drift = try ProcessRunner.run(RepositoryPaths.driftlessExecutable,
                                                  ["drift", "--blueprints", try write(files), "--database-url", db.url, "--format", "json"], check: false)
                #expect(drift.status == 2, "\(statement): \(drift.stdout)")
                let report = try JSONDecoder().decode(DriftReportJSON.self, from: Data(drift.stdout.utf8))
                #expect(report.items.contains { $0.object_type == type.rawValue && $0.object == object }, "\(statement): \(drift.stdout)")
                let corrected = try reconcile(db, files)
                #expect(corrected.result.status == .ok, "\(statement): \(corrected.result.summary) \(corrected.result.errors)")
                #expect(try reconcile(db, files, apply: false).result.status == .noop, "\(statement) not corrected")
            }
        }
    }

    /// A view naming its table with the schema (`public.notes`, as Supabase's guides write
    /// queries) is looked up there, not among the scratch copies: on an empty database it is
    /// planned, applied and then nothing is left to do (plan used to refuse it).
    @Test func aViewNamingANewTableWithItsSchemaIsPlannedAndApplied() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "routines_view")
            let files = ["app.yaml": document("""
                tables:
                  - name: notes
                    columns:
                      - {name: id, type: bigint, primary_key: true}
                      - {name: body, type: text}
                views:
                  - name: bodies
                    query: select n.id, n.body from public.notes n
                """)]
            let planned = try reconcile(db, files, apply: false).result
            #expect(planned.status == .ok, "\(planned.summary) \(planned.errors)")
            let applied = try reconcile(db, files).result
            #expect(applied.status == .ok, "\(applied.summary) \(applied.errors)")
            #expect(try reconcile(db, files, apply: false).result.status == .noop)
            let columns = try db.connect().query("SELECT string_agg(attname, ',' ORDER BY attnum) AS names FROM pg_attribute WHERE attrelid = 'public.bodies'::regclass")
            #expect(try columns.first!.string("names") == "id,body")
        }
    }

    /// What only the server can say is said with the blueprint's place: a view selecting a
    /// column its table lacks, on a new table and on an existing one.
    @Test func aViewOfAMissingColumnIsRefusedWithItsLocation() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "routines_view")
            let files = ["app.yaml": document("""
                tables:
                  - name: notes
                    columns:
                      - {name: id, type: bigint, primary_key: true}
                views:
                  - name: broken
                    query: select id, body from notes
                """)]
            for apply in [false, true] {
                let result = try reconcile(db, files, apply: apply).result
                #expect(result.status == .blocked, "\(result.summary)")
                let error = try #require(result.errors.first { $0.code == "server_rejected" }, "\(result.errors)")
                #expect(error.path == "$.views[0]" && error.line == 8 && error.message.contains("body"), "\(error)")
            }
            #expect(try db.connect().query("SELECT to_regclass('public.notes') IS NULL AS absent").first!.bool("absent"))
        }
    }

    /// Writes `files` to a new directory and returns it.
    func write(_ files: [String: String]) throws -> String {
        let directory = NSTemporaryDirectory() + "driftless-routines-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        return directory
    }
}
