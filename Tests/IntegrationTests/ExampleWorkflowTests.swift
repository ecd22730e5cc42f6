import Foundation
import Testing
import TestSupport

/// The GitHub Actions examples (examples/github-actions; production.md, Plan files): they are
/// YAML a runner can read, the plan workflow keeps the plan file it made and the apply workflow
/// applies that file, and every flag they pass is one the command really has.
@Suite("GitHub Actions examples")
struct ExampleWorkflowTests {
    /// The `run:` scripts of a workflow, read by a YAML parser (PyYAML).
    func scripts(_ name: String) throws -> [String] {
        let path = RepositoryPaths.root + "/examples/github-actions/" + name
        let output = try ProcessRunner.run(RepositoryPaths.python, ["-c", """
            import json, sys, yaml
            workflow = yaml.safe_load(open(sys.argv[1]))
            print(json.dumps([step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]))
            """, path])
        return try JSONDecoder().decode([String].self, from: Data(output.stdout.utf8)).filter { !$0.isEmpty }
    }

    /// Every `driftless <command> --flag` of `scripts`, checked against the command's --help.
    func checkFlags(_ scripts: [String]) throws -> [String] {
        var commands: [String] = []
        for line in scripts.flatMap({ $0.split(separator: "\n") }) {
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ").map(String.init)
            guard words.first == "driftless", words.count > 1 else { continue }
            commands.append(line.trimmingCharacters(in: .whitespaces))
            let help = try ProcessRunner.run(RepositoryPaths.driftlessExecutable, [words[1], "--help"]).stdout
            for flag in words.dropFirst(2) where flag.hasPrefix("--") {
                #expect(help.contains(flag), "driftless \(words[1]) has no \(flag)")
            }
        }
        return commands
    }

    @Test func thePlanIsPostedAndKeptAndTheMergeAppliesThatFile() throws {
        let plan = try checkFlags(try scripts("driftless-plan.yml"))
        let apply = try checkFlags(try scripts("driftless-apply.yml"))
        #expect(plan.contains { $0.hasPrefix("driftless plan ") && $0.contains("--out \"$RUNNER_TEMP/plan.json\"") && $0.contains("--format markdown") },
                "\(plan)")
        #expect(apply.contains { $0.hasPrefix("driftless apply --plan \"$RUNNER_TEMP/reviewed/plan.json\"") }, "\(apply)")
        let workflow = try String(contentsOfFile: RepositoryPaths.root + "/examples/github-actions/driftless-plan.yml", encoding: .utf8)
        let merge = try String(contentsOfFile: RepositoryPaths.root + "/examples/github-actions/driftless-apply.yml", encoding: .utf8)
        #expect(workflow.contains("name: driftless-plan") && merge.contains("name: driftless-plan"))
        #expect(merge.contains("github.event.pull_request.merged == true"))
    }
}
