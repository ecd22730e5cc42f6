import DriftlessCore
import Foundation
import Testing
import TestSupport

/// `schemas/blueprint.schema.json` must agree with the decoder: every example and valid fixture
/// passes it, every structurally invalid fixture fails it (checked by a real JSON Schema
/// validator, Python's jsonschema), and the decoder rejects those too.
@Suite("JSON Schema agrees with the decoder")
struct BlueprintSchemaTests {
    static let checker = """
        import json, sys
        from jsonschema import Draft202012Validator
        schema = json.load(open(sys.argv[1]))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        documents = json.load(open(sys.argv[2]))
        print(json.dumps({name: [e.message for e in validator.iter_errors(doc)] for name, doc in documents.items()}))
        """

    /// Decodes each file with Driftless's own parser and validates the result with jsonschema.
    func schemaErrors(for files: [String]) throws -> [String: [String]] {
        var documents: [String] = []
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let decoded = BlueprintDecoder.decode(file: file, text: text)
            let json = try #require(decoded.json, "\(file) did not parse: \(decoded.diagnostics)")
            documents.append("\(JSONValue.string(file).canonical):\(json.canonical)")
        }
        let scratch = NSTemporaryDirectory() + "driftless-schema-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try "{\(documents.joined(separator: ","))}".write(toFile: scratch + "/docs.json", atomically: true, encoding: .utf8)
        try Self.checker.write(toFile: scratch + "/check.py", atomically: true, encoding: .utf8)
        let output = try ProcessRunner.run(
            RepositoryPaths.python,
            [scratch + "/check.py", RepositoryPaths.root + "/schemas/blueprint.schema.json", scratch + "/docs.json"])
        return try JSONDecoder().decode([String: [String]].self, from: Data(output.stdout.utf8))
    }

    @Test func examplesAndValidFixturesPass() async throws {
        let files = RepositoryPaths.files(under: "examples").filter { BlueprintSet.isBlueprintPath($0) && $0.contains("/blueprints/") }
            + RepositoryPaths.files(under: "Tests/Fixtures/valid")
        #expect(files.count >= 9)
        let results = try await blocking { try schemaErrors(for: files) }
        for file in files {
            #expect(results[file] == [], "\(file): \(results[file] ?? ["missing"])")
        }
        // And the decoder with its validator agrees they are valid.
        for directory in ["examples/saas/blueprints", "Tests/Fixtures/valid"] {
            let sources = try RepositoryPaths.files(under: directory).map {
                BlueprintSource(path: String($0.dropFirst(RepositoryPaths.root.count + 1)), contents: try Data(contentsOf: URL(fileURLWithPath: $0)))
            }
            let set = BlueprintSet.load(sources)
            #expect(set.errors.isEmpty, "\(directory): \(set.errors.map(\.description))")
        }
    }

    @Test func structurallyInvalidFixturesFailBoth() async throws {
        let files = RepositoryPaths.files(under: "Tests/Fixtures/schema-invalid")
        #expect(files.count >= 12)
        let results = try await blocking { try schemaErrors(for: files) }
        for file in files {
            #expect((results[file] ?? []).isEmpty == false, "the schema accepted \(file)")
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let set = BlueprintSet.load([BlueprintSource(path: "x.yaml", text: text)])
            #expect(!set.isValid, "the decoder accepted \(file)")
        }
    }
}
