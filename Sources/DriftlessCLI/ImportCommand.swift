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
    @Option(help: "Directory to write the blueprints to (created when missing).") var out: String?
    @Option(help: "Write nothing; exit 2 when the database has objects the blueprints in this directory lack.")
    var check: String?
    @Option(help: "yaml or json.") var format = "yaml"
    @Option(name: .customLong("tenant-id"), help: "tenant_id of the written blueprints (default: derived from the database and schema names).")
    var tenantID: String?

    func validate() throws {
        guard ["yaml", "json"].contains(format) else { throw ValidationError("--format is yaml or json.") }
        if let tenantID, UUID(uuidString: tenantID) == nil { throw ValidationError("--tenant-id must be a UUID.") }
        if let problem = Naming.problem(with: schema) { throw ValidationError("--schema: \(problem)") }
        guard (out == nil) != (check == nil) else { throw ValidationError("Give either --out DIR (write) or --check DIR (compare).") }
    }

    var url: String { database.databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "" }

    func run() throws {
        if let check { return try runCheck(check) }
        let catalog: Catalog
        let storage: StorageState?
        let databaseName: String
        let apiRoles: Set<String>
        let applyingRole: String
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
            storage = try StorageCatalog.read(connection)
            let identity = try connection.query("SELECT current_database() AS name, current_user AS role").first!
            databaseName = try identity.string("name")
            applyingRole = try identity.string("role")
            apiRoles = Set(try connection.query("SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')")
                .rows.map { try $0.string("rolname") })
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("driftless import: \(error)")
            throw ExitCode(1)
        }
        let tenant = tenantID ?? Self.derivedTenantID(database: databaseName, schema: schema)
        let tenantTables = recogniseTenantTables(catalog, tenant: tenant, roles: apiRoles)
        let out = out!
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var documents = BlueprintWriter.documents(catalog, schema: schema, tenantID: tenant, roles: apiRoles, tenantTables: tenantTables,
                                                      applyingRole: applyingRole)
            // Buckets and storage.objects policies, in a file of their own (the same name whichever
            // schema is imported, so importing two schemas into one directory writes it once).
            if let storage, let document = BlueprintWriter.storage(storage, tenantID: tenant) { documents.append(("storage", document)) }
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
            for line in Self.report(catalog, schema: schema, tenantTables: tenantTables) { print(line) }
            print("tenant_id of the written blueprints: \(tenant)")
        } catch {
            printError("driftless import: \(error)")
            throw ExitCode(1)
        }
    }

    /// Per kind, what was written and what was found but cannot be represented (and so stays
    /// in the database untouched: drift reports it as `unsupported`, `--prune` never drops it).
    static func report(_ catalog: Catalog, schema: String, tenantTables: Set<QualifiedName>) -> [String] {
        let tables = catalog.tables.values.filter { $0.name.schema == schema }
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        var lines = [
            "wrote " + [
                count(tables.count, "table", "tables") + " (\(tenantTables.count) as tenant tables)",
                count(catalog.enums.keys.filter { $0.schema == schema }.count, "enum", "enums"),
                count(catalog.sequences.keys.filter { $0.schema == schema }.count, "sequence", "sequences"),
                count(catalog.functions.keys.filter { $0.name.schema == schema }.count, "function", "functions"),
                count(catalog.views.keys.filter { $0.schema == schema }.count, "view", "views"),
                count(catalog.triggers.values.filter { $0.table.schema == schema || ($0.function.schema == schema && catalog.tables[$0.table] == nil) }.count,
                      "trigger", "triggers"),
                count(tables.reduce(0) { $0 + $1.columns.count }, "column", "columns"),
                count(tables.reduce(0) { $0 + $1.constraints.count }, "constraint", "constraints"),
                count(tables.reduce(0) { $0 + $1.indexes.count }, "index", "indexes"),
                count(tables.reduce(0) { $0 + $1.policies.count }, "policy", "policies"),
                count(tables.filter { $0.grants != nil }.count, "grant list", "grant lists"),
            ].joined(separator: ", "),
        ]
        let unsupported = catalog.unsupported.filter { $0.schema == schema }
        for (type, objects) in Dictionary(grouping: unsupported, by: \.type).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let names = objects.map(\.description)
            lines.append("cannot represent \(objects.count) \(type.rawValue.replacingOccurrences(of: "_", with: " "))\(objects.count == 1 ? "" : "s") yet, left as they are: \(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? ", ..." : "")")
        }
        return lines
    }

    /// The tables whose live policies are exactly what Driftless generates for a tenant table:
    /// written with `tenant_policies: auto` and without copies of the generated policies. Proved,
    /// not guessed: the blueprints written that way are planned against the database, and a
    /// table with any change left in that plan keeps its policies written out.
    func recogniseTenantTables(_ catalog: Catalog, tenant: String, roles: Set<String>) -> Set<QualifiedName> {
        let defaultTenancy = Tenancy()
        let candidates = Set(catalog.tables.values.filter { table in
            table.name.schema == schema && table.rlsEnabled && table.column(defaultTenancy.column) != nil
                && BlueprintWriter.generatedPolicyNames(table.name.name).isSubset(of: Set(table.policies.keys))
        }.map(\.name))
        guard !candidates.isEmpty else { return [] }
        let trial = BlueprintWriter.documents(catalog, schema: schema, tenantID: tenant, roles: roles, tenantTables: candidates)
        let set = BlueprintSet.load(trial.map { BlueprintSource(path: "\($0.file).json", text: $0.document.json()) })
        guard set.isValid, let connection = try? Connection(ConnectionString(url)) else { return [] }
        var options = ReconcileOptions()
        options.fullCheck = true
        let outcome = Reconciler(blueprints: set, revision: "import", options: options).plan(connection)
        guard outcome.result.errors.isEmpty else { return [] }
        let touched = Set(outcome.changes.filter { $0.kind != .unmanaged }.compactMap(\.table))
        return candidates.subtracting(touched)
    }

    /// `import --check DIR`: the database's objects the blueprints of DIR (with the stored API
    /// blueprints: the desired state is assembled as for `drift`) lack. Exit 2 when there are any.
    func runCheck(_ directory: String) throws {
        let connection: Connection
        let blueprints: BlueprintSet
        do {
            let revision = try BlueprintLoader.load(.directory(directory))
            connection = try Connection(ConnectionString(url))
            blueprints = BlueprintSet.load(try DesiredState.sources(revision: revision.sources, history: History(), connection), parallelism: .cores)
        } catch {
            printError("driftless import --check: \(error)")
            throw ExitCode(1)
        }
        guard blueprints.isValid else {
            print(ValidationReport(blueprints).human)
            throw ExitCode(1)
        }
        var options = ReconcileOptions()
        options.fullCheck = true
        let report: DriftReport
        do {
            report = try Reconciler(blueprints: blueprints, revision: "import-check", options: options).drift(connection)
        } catch {
            printError("driftless import --check: \(error)")
            throw ExitCode(1)
        }
        let lacking = report.items.filter { $0.kind == .unmanaged }
        for item in lacking { print("not in the blueprints: \(item.objectType.rawValue) \(item.object)") }
        for item in report.items where item.kind == .unsupported {
            print("not representable yet: \(item.objectType.rawValue) \(item.object)")
        }
        print(lacking.isEmpty ? "the blueprints describe every object Driftless can represent"
                              : "\(lacking.count) object(s) the blueprints lack; run import --out to write them")
        if !lacking.isEmpty { throw ExitCode(2) }
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
