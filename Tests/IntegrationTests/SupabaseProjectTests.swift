import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// A realistic Supabase project schema, written as SQL (Tests/Fixtures/projects).
struct SupabaseProjectSchema: Sendable, CustomTestStringConvertible {
    var name: String
    /// Tables imported as tenant tables.
    var tenantTables: [String] = []
    /// Kinds of object the import must say it cannot represent yet.
    var unsupported: Set<Change.ObjectType> = []
    /// What the blueprints rely on but cannot hold yet, created before the imported blueprints
    /// are applied to an empty database.
    var prerequisites = ""
    /// Per imported file, text it must hold (what plain tables would lose: partitioning,
    /// deferrability).
    var written: [String: [String]] = [:]

    var sql: String {
        get throws { try String(contentsOfFile: RepositoryPaths.root + "/Tests/Fixtures/projects/\(name).sql", encoding: .utf8) }
    }
    var testDescription: String { name }

    static let all: [SupabaseProjectSchema] = [
        SupabaseProjectSchema(name: "todo-list"),
        SupabaseProjectSchema(
            name: "user-management",
            written: [
                "functions": ["name: handle_new_user", "security: definer", "search_path: ''", "returns: trigger"],
                "triggers": ["name: on_auth_user_created", "table: auth.users", "function: handle_new_user"],
            ]),
        SupabaseProjectSchema(
            name: "slack-clone",
            written: ["functions": ["name: authorize", "type: app_permission", "volatility: stable"],
                      "channels": ["realtime: true"], "messages": ["realtime: true"]]),
        SupabaseProjectSchema(name: "subscription-payments", written: ["products": ["realtime: true"], "prices": ["realtime: true"]]),
        SupabaseProjectSchema(
            name: "multi-tenant", tenantTables: ["projects", "tasks"],
            written: [
                "activity": ["partition_by:", "strategy: range", "deferrable: true", "initially_deferred: true"],
                "activity_2026_q4": ["partition_of:", "table: activity", "FOR VALUES FROM ("],
                "activity_default": ["partition_of:", "bound: default"],
                "views": ["name: project_overview", "query:"],
                "sequences": ["name: invoice_number_seq", "start: 1000", "name: organizations_invoice_prefix_seq", "owned_by: organizations.invoice_prefix"],
            ]),
    ]
}

/// The must-show of real projects (docs/engine.md, Testing): each schema loaded on both kinds
/// of Supabase project is imported, validates, plans nothing, drifts nothing; the imported
/// blueprints applied to an empty project give the same catalog; and verify-rls proves its
/// tenant tables both ways.
@Suite("Real Supabase project schemas: import, validate, plan nothing, apply elsewhere")
struct SupabaseProjectTests {
    static let cases = SupabaseProjectSchema.all.flatMap { project in SupabaseProject.allCases.map { (project, $0) } }

    func run(_ arguments: [String]) throws -> ProcessOutput {
        try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments, check: false)
    }

    @Test(arguments: cases)
    func importedProjectsRoundTrip(project: SupabaseProjectSchema, kind: SupabaseProject) async throws {
        try await blocking {
            let original = try PostgresCluster.shared().createDatabase(prefix: "project", kind: kind)
            try original.connect().simpleQuery(try project.sql)
            let out = NSTemporaryDirectory() + "driftless-project-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: out) }

            let imported = try run(["import", "--database-url", original.url, "--out", out])
            #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
            #expect(imported.stdout.contains("(\(project.tenantTables.count) as tenant tables)"), "\(imported.stdout)")
            for type in project.unsupported {
                #expect(imported.stdout.contains("cannot represent") && imported.stdout.contains(" \(type.rawValue)"),
                        "\(type) not reported: \(imported.stdout)")
            }
            // Tenant tables come back as tenant tables, without copies of the generated policies.
            for table in project.tenantTables {
                let text = try String(contentsOfFile: "\(out)/\(table).yaml", encoding: .utf8)
                #expect(!text.contains("tenant_policies") && !text.contains("\(table)_tenant_select"), "\(text)")
            }

            for (file, fragments) in project.written {
                let text = try String(contentsOfFile: "\(out)/\(file).yaml", encoding: .utf8)
                for fragment in fragments { #expect(text.contains(fragment), "\(file): no \(fragment) in\n\(text)") }
            }

            let validated = try run(["validate", "--blueprints", out])
            #expect(validated.status == 0, "\(validated.stdout)")
            let plan = try run(["plan", "--blueprints", out, "--database-url", original.url])
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
            let drift = try run(["drift", "--blueprints", out, "--database-url", original.url, "--format", "json"])
            #expect(drift.status == 0, "\(drift.stdout)\(drift.stderr)")
            let report = try JSONDecoder().decode(DriftReportJSON.self, from: Data(drift.stdout.utf8))
            #expect(report.in_sync)
            #expect(Set(report.items.filter { $0.kind == "unsupported" }.map(\.object_type)) == Set(project.unsupported.map(\.rawValue)))
            let check = try run(["import", "--database-url", original.url, "--check", out])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

            // The imported blueprints applied to an empty project of the same kind.
            let empty = try PostgresCluster.shared().createDatabase(prefix: "copy", kind: kind)
            if !project.prerequisites.isEmpty { try empty.connect().simpleQuery(project.prerequisites) }
            let applied = try run(["apply", "--blueprints", out, "--database-url", empty.url, "--allow", "relaxes_security"])
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let want = try liveCatalog(original)
            let have = try liveCatalog(empty)
            #expect(Set(have.tables.keys) == Set(want.tables.keys))
            for (name, table) in want.tables {
                #expect(have.tables[name] == table, "\(name) differs")
                // Policy comments are not part of a policy's definition: compared apart.
                #expect(have.tables[name]?.policies.mapValues(\.comment) == table.policies.mapValues(\.comment), "\(name) policy comments")
            }
            #expect(have.enums == want.enums)
            #expect(have.sequences == want.sequences)
            #expect(have.functions == want.functions)
            #expect(have.triggers == want.triggers)
            #expect(have.views == want.views)
            let again = try run(["plan", "--blueprints", out, "--database-url", empty.url])
            #expect(again.status == 0, "\(again.stdout)")

            // Both sides of tenant isolation, on the original and on the copy.
            guard !project.tenantTables.isEmpty else { return }
            let set = try BlueprintSet.load(FileManager.default.contentsOfDirectory(atPath: out).map {
                BlueprintSource(path: $0, text: try String(contentsOfFile: "\(out)/\($0)", encoding: .utf8))
            })
            for db in [original, empty] {
                let verification = try RLSVerifier(blueprints: set).verify(db.connect())
                #expect(Set(verification.tables.map(\.table)) == Set(project.tenantTables.map { "public.\($0)" }))
                #expect(verification.isolated, "\(verification.tables.map { "\($0.table): \($0.status) \($0.reason ?? "") \($0.checks.filter { !$0.passed })" })")
            }
        }
    }
}

/// The fields of a drift report these tests read.
struct DriftReportJSON: Decodable {
    struct Item: Decodable {
        var kind: String
        var object_type: String
        var object: String
    }
    var in_sync: Bool
    var items: [Item]
}
