import Foundation
import Testing
import TestSupport

/// The `driftless` executable as a user runs it: exit codes and output.
@Suite("driftless command line")
struct CommandLineTests {
    func driftless(_ arguments: String...) throws -> ProcessOutput {
        try ProcessRunner.run(RepositoryPaths.driftlessExecutable, arguments, check: false)
    }

    @Test func helpListsEveryCommandOfTheInterface() async throws {
        let output = try await blocking { try driftless("--help") }
        #expect(output.status == 0)
        for command in ["validate", "plan", "apply", "drift", "history", "run", "import", "verify-rls"] {
            #expect(output.stdout.contains("  \(command) "), "missing \(command)")
        }
    }

    @Test func badArgumentsAreRefusedWithAUsageError() async throws {
        let output = try await blocking { try driftless("run", "--drift-mode", "sometimes") }
        #expect(output.status == 64)
        #expect(output.stderr.contains("--drift-mode is correct or warn"))
        let duration = try await blocking { try driftless("plan", "--lock-timeout", "5 seconds") }
        #expect(duration.status == 64)
        for depth in ["0", "1001", "many"] {
            let pipeline = try await blocking { try driftless("apply", "--pipeline-depth", depth) }
            #expect(pipeline.status == 64)
            #expect(pipeline.stderr.contains("--pipeline-depth"))
        }
    }

    @Test func validatePassesOnTheExamples() async throws {
        let output = try await blocking { try driftless("validate", "--blueprints", RepositoryPaths.root + "/examples/saas/blueprints") }
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("valid: 7 files, 0 errors"))
    }

    @Test func validateReportsEveryErrorLikeACompiler() async throws {
        let directory = NSTemporaryDirectory() + "driftless-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "version: 1\ntenant_id: nope\ntables:\n  - name: \"T\\tX\"\n    columns: [{name: a, type: text}]\n"
            .write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        try "{\"version\": 1,".write(toFile: directory + "/b.json", atomically: true, encoding: .utf8)

        let human = try await blocking { try driftless("validate", "--blueprints", directory) }
        #expect(human.status == 1)
        #expect(human.stdout.contains("\(directory)/a.yaml:2:12: error[invalid_uuid]"))
        #expect(human.stdout.contains("\(directory)/a.yaml:4:11: error[invalid_name]"))
        #expect(human.stdout.contains("\(directory)/b.json:1:"))

        let json = try await blocking { try driftless("validate", "--blueprints", directory, "--format", "json") }
        #expect(json.status == 1)
        struct Report: Decodable {
            struct Error: Decodable { var code: String; var file: String?; var line: Int?; var column: Int?; var path: String?; var message: String }
            var valid: Bool
            var files: Int
            var errors: [Error]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        #expect(!report.valid)
        #expect(report.files == 2)
        #expect(Set(report.errors.map(\.code)) == ["invalid_uuid", "invalid_name", "parse_error"])
        #expect(report.errors.allSatisfy { $0.file != nil && $0.line != nil && $0.path != nil })
    }

    @Test func validateReadsBlueprintsFromAGitCommit() async throws {
        let output = try await blocking { () -> ProcessOutput in
            let fixture = try GitFixture()
            try fixture.write("db/t.yaml", "version: 1\ntenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\ntables: [{name: t, columns: [{name: a, type: text}]}]\n")
            let good = try fixture.commit("good")
            try fixture.write("db/t.yaml", "version: 1\n")
            try fixture.commit("bad")
            let atGood = try driftless("validate", "--repo", fixture.path, "--ref", good, "--path", "db")
            #expect(atGood.status == 0, "\(atGood.stdout)")
            return try driftless("validate", "--repo", fixture.path, "--ref", "main", "--path", "db")
        }
        #expect(output.status == 1)
        #expect(output.stdout.contains("db/t.yaml:1:1: error[missing_field]"))
    }
}
