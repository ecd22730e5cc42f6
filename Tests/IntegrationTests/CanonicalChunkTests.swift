import DriftlessCore
import Foundation
import Postgres
@testable import Reconciler
import Testing
import TestSupport

/// Canonicalization makes the scratch copies of a few hundred tables at a time, each chunk
/// rolled back before the next (docs/engine.md, Canonical through the server): 10,000 tables
/// in one savepoint exhaust the server's lock table. A chunk must hold whatever its copies stand
/// on, so chunks of one table give exactly the catalog one chunk gives.
@Suite("Canonicalization in chunks")
struct CanonicalChunkTests {
    static let files = [
        "a.yaml": document("""
            enums:
              - {name: mood, values: [ok, sad]}
            functions:
              - {name: label, arguments: [{name: v, type: text}], returns: text, language: sql, volatility: immutable, search_path: "", body: "select upper(v)"}
              - name: touch
                returns: trigger
                language: plpgsql
                search_path: ""
                body: "begin return new; end"
              - name: handle_new_user
                returns: trigger
                language: plpgsql
                security: definer
                search_path: ""
                body: "begin return new; end"
            tables:
              - name: people
                columns:
                  - {name: id, type: bigint, primary_key: true}
                  - {name: tenant_id, type: uuid, nullable: false}
                  - {name: mood, type: mood, nullable: false, default: "'ok'"}
                  - {name: name, type: text, default: "label('x')", check: "length(name) > 0"}
                indexes:
                  - {columns: [name], where: "mood <> 'sad'"}
              - name: pets
                columns:
                  - {name: id, type: bigint, primary_key: true}
                  - {name: tenant_id, type: uuid, nullable: false}
                  - {name: owner_id, type: bigint}
                foreign_keys:
                  - {columns: [owner_id], references: {table: people, columns: [id]}}
              - name: activity
                partition_by: {strategy: range, columns: [at]}
                columns:
                  - {name: id, type: bigint, nullable: false}
                  - {name: tenant_id, type: uuid, nullable: false}
                  - {name: at, type: date, nullable: false}
                primary_key: [id, at]
              - name: activity_2026
                partition_of: {table: activity, bound: "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"}
              - name: activity_later
                partition_of: {table: activity, bound: default}
              - name: alone
                columns:
                  - {name: id, type: bigint, primary_key: true}
                  - {name: tenant_id, type: uuid, nullable: false}
            views:
              - {name: cheerful, query: "select id, label(name) as loud from people where mood = 'ok'"}
              - {name: owned, query: "select p.id, c.loud from pets p join cheerful c on c.id = p.owner_id"}
              - name: moods
                query: select mood, count(*) as n from people group by mood
                materialized: true
                indexes:
                  - {columns: [mood], unique: true}
              - name: pet_counts
                query: select owner_id, count(*) as n from pets group by owner_id
                materialized: true
                indexes:
                  - {columns: [owner_id], unique: true}
            triggers:
              - {name: people_touch, table: people, timing: before, events: [{update: [name]}], when: old.name is distinct from new.name, function: touch}
              - {name: alone_touch, table: alone, timing: before, events: [update], when: new.id > 0, function: touch}
              - {name: on_auth_user_created, table: auth.users, timing: after, events: [insert], when: new.email is not null, function: handle_new_user}
            """),
    ]

    @Test func chunksOfOneTableGiveTheCatalogOfOneChunk() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            let set = BlueprintSet.load(Self.files.map { BlueprintSource(path: $0.key, text: $0.value) })
            #expect(set.isValid, "\(set.errors)")
            let written = DesiredCatalog.build(set)
            // What travels together: the partitions with their parent, each view with what it
            // reads, the materialized views with indexes with each other.
            let chunks = Canonicalizer.chunks(written, schema: "public", limit: 1)
            let groups = chunks.map { Set($0.tables.keys.map(\.name)).union($0.views.keys.map(\.name)) }
            #expect(groups.contains(["activity", "activity_2026", "activity_later"]), "\(groups)")
            #expect(groups.contains(["people", "pets", "cheerful", "owned", "moods", "pet_counts"]), "\(groups)")
            #expect(groups.contains(["alone"]), "\(groups)")
            #expect(chunks.count == 3)
            #expect(chunks[0].triggers.keys.contains { $0.table == QualifiedName(schema: "auth", name: "users") })
            #expect(chunks.dropFirst().allSatisfy { $0.triggers.keys.allSatisfy { $0.table.schema == "public" } })

            let connection = try db.connect()
            try connection.query("BEGIN")
            defer { connection.rollbackQuietly() }
            try connection.query("SELECT set_config('check_function_bodies', 'off', true)")
            let whole = try Canonicalizer.canonicalize(written, tablesPerChunk: 1000, connection: connection)
            let chunked = try Canonicalizer.canonicalize(written, tablesPerChunk: 1, connection: connection)
            #expect(whole.rejections.isEmpty && chunked.rejections.isEmpty, "\(whole.rejections.map(\.message)) \(chunked.rejections.map(\.message))")
            #expect(chunked.catalog == whole.catalog)
            // The server's text, not the blueprint's: canonicalization happened in every chunk.
            #expect(chunked.catalog.tables[QualifiedName(schema: "public", name: "alone")]?.columns.first?.type == "bigint")
            #expect(chunked.catalog.triggers.values.first { $0.key.name == "alone_touch" }?.when == "(new.id > 0)")
            #expect(chunked.catalog.views[QualifiedName(schema: "public", name: "owned")]?.columns.isEmpty == false)
            #expect(chunked.catalog.views[QualifiedName(schema: "public", name: "pet_counts")]?.indexes.values.first?.unique == true)
            // Nothing is left behind: every copy was rolled back.
            #expect(try connection.query("SELECT count(*) AS n FROM pg_class WHERE relnamespace = pg_my_temp_schema()").first!.int("n") == 0)
        }
    }

    /// A broken table in a later chunk is reported with its place, as in one chunk.
    @Test func anObjectionInALaterChunkIsReportedWithItsPlace() async throws {
        try await blocking {
            let db = try PostgresCluster.shared().createDatabase()
            var files = Self.files
            files["z.yaml"] = document("""
                tables:
                  - name: zebra
                    columns:
                      - {name: id, type: bigint, primary_key: true}
                      - {name: tenant_id, type: uuid, nullable: false}
                      - {name: stripes, type: int, check: "stripes > nothing_here"}
                """)
            let set = BlueprintSet.load(files.map { BlueprintSource(path: $0.key, text: $0.value) })
            let connection = try db.connect()
            try connection.query("BEGIN")
            defer { connection.rollbackQuietly() }
            let chunked = try Canonicalizer.canonicalize(DesiredCatalog.build(set), tablesPerChunk: 1, connection: connection)
            #expect(chunked.rejections.map(\.message) == ["column \"nothing_here\" does not exist"], "\(chunked.rejections.map(\.message))")
            #expect(chunked.rejections.first?.origin?.file == "z.yaml")
        }
    }
}
