import ArgumentParser
import Crypto
import DriftlessCore
import Foundation
import Postgres
import Reconciler

/// `driftless import`: blueprints that describe an existing schema, one file per table.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Write blueprints that describe an existing database's schema.",
        discussion: "Reads the schema without changing anything; `plan` with the written blueprints finds nothing to do.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "Schema to import.") var schema = "public"
    @Option(help: "Directory to write the blueprints to (created when missing).") var out: String
    @Option(help: "yaml or json.") var format = "yaml"
    @Option(name: .customLong("tenant-id"), help: "tenant_id of the written blueprints (default: derived from the database and schema names).")
    var tenantID: String?

    func validate() throws {
        guard ["yaml", "json"].contains(format) else { throw ValidationError("--format is yaml or json.") }
        if let tenantID, UUID(uuidString: tenantID) == nil { throw ValidationError("--tenant-id must be a UUID.") }
        if let problem = Naming.problem(with: schema) { throw ValidationError("--schema: \(problem)") }
    }

    func run() throws {
        let url = database.databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        let catalog: Catalog
        let databaseName: String
        let apiRoles: Set<String>
        do {
            let connection = try Connection(ConnectionString(url))
            try connection.query("BEGIN")
            defer { connection.rollbackQuietly() }
            try connection.query("SELECT set_config('search_path', $1, true)", [quoteIdentifier(schema)])
            let introspected = try Introspector.introspect(connection, schemas: [schema])
            guard introspected.existingSchemas.contains(schema) else {
                printError("driftless import: schema '\(schema)' does not exist")
                throw ExitCode(1)
            }
            catalog = introspected.catalog
            databaseName = try connection.query("SELECT current_database() AS name").first!.string("name")
            apiRoles = Set(try connection.query("SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')")
                .rows.map { try $0.string("rolname") })
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("driftless import: \(error)")
            throw ExitCode(1)
        }
        let tenant = tenantID ?? Self.derivedTenantID(database: databaseName, schema: schema)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let documents = BlueprintWriter.documents(catalog, schema: schema, tenantID: tenant, roles: apiRoles)
            for (file, document) in documents {
                let text = format == "json" ? document.json() + "\n" : try document.yaml()
                let path = (out as NSString).appendingPathComponent("\(file).\(format)")
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                print("wrote \(path)")
            }
            for skipped in BlueprintWriter.skippedIndexes(catalog, schema: schema) {
                printError("warning: index \(skipped) mixes columns and expressions, which a blueprint cannot describe; it was left out (it stays in the database as an unmanaged object)")
            }
            for table in catalog.tables.values where table.name.schema == schema {
                if let key = table.constraints.values.first(where: { $0.kind == .primaryKey }), key.name != Naming.primaryKey(table: table.name.name) {
                    printError("warning: \(table.name) has primary key \(key.name); Driftless names it \(Naming.primaryKey(table: table.name.name)), so the first apply renames it")
                }
            }
            print("imported \(catalog.tables.values.filter { $0.name.schema == schema }.count) table(s) of schema \(schema) with tenant_id \(tenant)")
        } catch {
            printError("driftless import: \(error)")
            throw ExitCode(1)
        }
    }

    /// A stable UUID from the database and schema names, so importing twice gives the same owner.
    static func derivedTenantID(database: String, schema: String) -> String {
        var bytes = Array(SHA256.hash(data: Data("driftless-import:\(database):\(schema)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50  // version 5 layout: name-based
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.map(String.init).joined(separator: "-")
    }
}
