import DriftlessCore
import Foundation
import Postgres
import Reconciler
import Testing
import TestSupport

/// Realtime against a real database (docs/blueprints.md, Realtime): a table added to the
/// publication `supabase_realtime`, given full replica identity, taken out again; a removal by
/// hand is drift and is put back; the publication's other tables are never touched.
@Suite("Realtime: the supabase_realtime publication and replica identity")
struct RealtimeTests {
    static func files(_ messages: String) -> [String: String] {
        ["chat.yaml": document("""
            tables:
              - name: messages
                columns:
                  - {name: id, type: bigint, primary_key: true}
                  - {name: body, type: text}
            \(messages.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
              - name: rooms
                columns:
                  - {name: id, type: bigint, primary_key: true}
            """)]
    }

    /// The tables of the publication, as `schema.table`.
    func published(_ connection: Connection) throws -> Set<String> {
        Set(try connection.query("SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = 'supabase_realtime'")
            .rows.map { try $0.string("t") })
    }

    func identity(_ connection: Connection, _ table: String) throws -> String {
        try connection.query("SELECT relreplident::text AS r FROM pg_class WHERE oid = $1::regclass", [table]).first!.string("r")
    }

    @Test(arguments: SupabaseProject.allCases)
    func aTableJoinsRealtimeChangesIdentityIsPutBackAndLeaves(kind: SupabaseProject) async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "realtime", kind: kind)
            let connection = try db.connect()
            // Someone else's tables in the publication: one outside the managed schemas, and one
            // the blueprints manage without saying anything about Realtime.
            try connection.simpleQuery("""
                CREATE SCHEMA other; CREATE TABLE other.audit (id int PRIMARY KEY);
                CREATE TABLE public.rooms (id bigint PRIMARY KEY);
                ALTER PUBLICATION supabase_realtime ADD TABLE other.audit, public.rooms
                """)
            let others: Set<String> = ["other.audit", "public.rooms"]

            let joined = try reconcile(db, Self.files("realtime: true")).result
            #expect(joined.status == .ok, "\(joined.errors)")
            #expect(try published(connection) == others.union(["public.messages"]))
            #expect(joined.warnings.contains { $0.code == "realtime_replica_identity" && $0.object == "chat.yaml:8 $.tables[0].realtime" }, "\(joined.warnings)")

            let full = try reconcile(db, Self.files("realtime: true\nreplica_identity: full")).result
            #expect(full.status == .ok, "\(full.errors)")
            #expect(full.statements == ["ALTER TABLE \"public\".\"messages\" REPLICA IDENTITY FULL"])
            #expect(try identity(connection, "public.messages") == "f")
            #expect(!full.warnings.contains { $0.code == "realtime_replica_identity" })
            #expect(try reconcile(db, Self.files("realtime: true\nreplica_identity: full")).result.status == .noop)
            #expect(try reconcile(db, Self.files("realtime: true\nreplica_identity: full")).result.status == .noop)

            // Taken out by hand: drift, noticed by the steady-state check, and put back.
            try connection.query("ALTER PUBLICATION supabase_realtime DROP TABLE public.messages")
            let set = BlueprintSet.load(Self.files("realtime: true\nreplica_identity: full").map { BlueprintSource(path: $0.key, text: $0.value) })
            let report = try Reconciler(blueprints: set, revision: "r", options: ReconcileOptions()).drift(connection)
            let item = try #require(report.items.first { $0.objectType == .publication }, "\(report.items)")
            #expect(item.object == "public.messages" && item.kind == .changed && item.actual == "not in supabase_realtime")
            #expect(item.fix == "ALTER PUBLICATION supabase_realtime ADD TABLE \"public\".\"messages\"")
            #expect(report.items.count == 1, "\(report.items)")
            let putBack = try reconcile(db, Self.files("realtime: true\nreplica_identity: full")).result
            #expect(putBack.status == .ok)
            #expect(try published(connection) == others.union(["public.messages"]))

            let left = try reconcile(db, Self.files("realtime: false\nreplica_identity: full")).result
            #expect(left.status == .ok, "\(left.errors)")
            #expect(left.statements == ["ALTER PUBLICATION supabase_realtime DROP TABLE \"public\".\"messages\""])
            #expect(try published(connection) == others)
            #expect(try reconcile(db, Self.files("realtime: false\nreplica_identity: full"), apply: false).result.status == .noop)
        }
    }

    /// A database without the publication gets one, `FOR TABLE` only, when a blueprint first
    /// wants a table in it; an identity by a unique index is set after the index exists.
    @Test func theMissingPublicationIsCreatedWithOnlyTheDeclaredTables() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase(prefix: "realtime_new")
            let connection = try db.connect()
            try connection.simpleQuery("DROP PUBLICATION supabase_realtime; CREATE TABLE bystander (id int PRIMARY KEY)")
            let files = ["chat.yaml": document("""
                tables:
                  - name: messages
                    realtime: true
                    replica_identity: {index: messages_code_idx}
                    columns:
                      - {name: id, type: bigint, primary_key: true}
                      - {name: code, type: text, nullable: false}
                    indexes:
                      - {name: messages_code_idx, columns: [code], unique: true}
                """)]
            let result = try reconcile(db, files).result
            #expect(result.status == .ok, "\(result.errors)")
            let publication = try connection.query("SELECT puballtables FROM pg_publication WHERE pubname = 'supabase_realtime'").first
            #expect(try publication?.bool("puballtables") == false)
            #expect(try published(connection) == ["public.messages"])
            #expect(try identity(connection, "public.messages") == "i")
            let index = try connection.query("""
                SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = 'public.messages'::regclass AND x.indisreplident
                """).first
            #expect(try index?.string("name") == "messages_code_idx")
            #expect(try reconcile(db, files, apply: false).result.status == .noop)
        }
    }
}
