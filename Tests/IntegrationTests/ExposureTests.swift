import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// Who can reach what (reconcile.md, Exposure) against a real database: a plan that grants
/// anon select on a table, one that makes a view definer and one that lets anon execute a
/// definer function each list the widening; a plan that only adds a column lists none; apply
/// reports it from the catalog after its DDL, and drift lists a grant made by hand.
@Suite("Exposure: what anon and authenticated gain and lose")
struct ExposureTests {
    static func files(anonSelect: Bool = false, definerView: Bool = false, anonExecute: Bool = false, extraColumn: Bool = false) -> [String: String] {
        ["notes.yaml": document("""
            tables:
              - name: notes
                columns:
                  - {name: id, type: bigint, primary_key: true}
                  - {name: body, type: text}
                  - {name: published, type: boolean, nullable: false, default: 'false'}
            \(extraColumn ? "      - {name: title, type: text}\n" : "")    grants: {anon: [\(anonSelect ? "select" : "")], authenticated: [select]}
                rls:
                  policies:
                    - {name: Published notes are readable., command: select, roles: [anon, authenticated], using: published}
            views:
              - name: published_notes
                query: select id, body from notes where published
                security_invoker: \(definerView ? "false" : "true")
                grants: {anon: [select], authenticated: [select]}
            functions:
              - name: note_count
                returns: bigint
                language: sql
                security: definer
                search_path: ''
                body: select count(*) from public.notes
                grants: {anon: [\(anonExecute ? "execute" : "")], authenticated: [execute]}
            """)]
    }

    @Test(arguments: SupabaseProject.allCases)
    func wideningsAreListedAndAColumnListsNone(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "exposure", kind: kind)
            let first = try reconcile(db, Self.files(), allow: [.relaxesSecurity]).result
            #expect(first.status == .ok, "\(first.summary) \(first.hazards)")
            // The first apply creates them: the roles gain what the blueprints give them (anon the
            // invoker view only, which is a relaxes_security grant, allowed here).
            #expect(first.exposure.allSatisfy { $0.change == .gained && ($0.role == "authenticated" || $0.object == "public.published_notes") },
                    "\(first.exposure)")
            #expect(first.exposure.contains { $0.object == "public.notes" && $0.privileges == ["select"] && $0.rls == "enabled"
                && $0.policies == ["Published notes are readable."] }, "\(first.exposure)")

            let grant = try reconcile(db, Self.files(anonSelect: true), apply: false).result
            #expect(grant.exposure == [ExposureEntry(role: "anon", object: "public.notes", kind: "table", change: .gained, privileges: ["select"],
                                                     rls: "enabled", policies: ["Published notes are readable."])], "\(grant.exposure)")

            let definer = try reconcile(db, Self.files(definerView: true), apply: false).result
            #expect(definer.exposure == ["anon", "authenticated"].map {
                ExposureEntry(role: $0, object: "public.published_notes", kind: "view", change: .gained, privileges: ["select"], rls: "security definer")
            }, "\(definer.exposure)")

            let execute = try reconcile(db, Self.files(anonExecute: true), apply: false).result
            #expect(execute.exposure == [ExposureEntry(role: "anon", object: "public.note_count()", kind: "function", change: .gained,
                                                       privileges: ["execute"], rls: "security definer")], "\(execute.exposure)")

            let column = try reconcile(db, Self.files(extraColumn: true), apply: false)
            #expect(column.result.status == .ok && column.changes.contains { $0.objectType == .column })
            #expect(column.result.exposure.isEmpty, "\(column.result.exposure)")

            // Applied: the Result says the same, read from the catalog after the DDL.
            let applied = try reconcile(db, Self.files(anonSelect: true), allow: [.relaxesSecurity]).result
            #expect(applied.status == .ok, "\(applied.errors)")
            #expect(applied.exposure == grant.exposure, "\(applied.exposure)")
            let back = try reconcile(db, Self.files()).result
            #expect(back.exposure.map { "\($0.role) \($0.change.rawValue) \($0.privileges)" } == ["anon lost [\"select\"]"], "\(back.exposure)")

            // By hand: anon may delete, which RLS still stops (nothing listed)...
            try db.connect().query("GRANT DELETE ON public.notes TO anon")
            let set = BlueprintSet.load(Self.files().map { BlueprintSource(path: $0.key, text: $0.value) })
            var options = ReconcileOptions()
            options.fullCheck = true
            #expect(try Reconciler(blueprints: set, revision: "r", options: options).drift(db.connect()).exposure.isEmpty)
            // ...until RLS goes too. Drift lists what the database gives beyond the blueprints.
            try db.connect().query("ALTER TABLE public.notes DISABLE ROW LEVEL SECURITY")
            let report = try Reconciler(blueprints: set, revision: "r", options: options).drift(db.connect())
            #expect(report.exposure == [ExposureEntry(role: "anon", object: "public.notes", kind: "table", change: .gained, privileges: ["delete"],
                                                      rls: "disabled"),
                                        ExposureEntry(role: "authenticated", object: "public.notes", kind: "table", change: .gained,
                                                      privileges: ["select"], rls: "disabled")], "\(report.exposure)")
            #expect(report.markdown.contains("Who can reach what"))
        }
    }
}
