import Foundation
import Testing
import TestSupport

/// charts/driftless rendered and linted by Helm's own engine (helm-python-sdk) and every
/// manifest validated by kubernetes-validate --strict, for the default values and for a values
/// file that turns every option on.
@Suite("Helm chart")
struct ChartTests {
    func check(chart: String, _ valueFiles: [String]) throws -> ProcessOutput {
        let bin = (RepositoryPaths.python as NSString).deletingLastPathComponent
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        return try ProcessRunner.run(
            RepositoryPaths.python, [RepositoryPaths.root + "/Tests/chart/check_chart.py", chart] + valueFiles,
            environment: environment, check: false)
    }

    @Test func rendersLintsAndValidatesWithDefaultAndFullValues() async throws {
        let output = try await blocking {
            try check(chart: RepositoryPaths.root + "/charts/driftless", ["", RepositoryPaths.root + "/charts/driftless/ci/all-options-values.yaml"])
        }
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        struct Entry: Decodable { var kinds: [String]; var notes: String? }
        let report = try JSONDecoder().decode([String: Entry].self, from: Data(output.stdout.utf8))
        #expect(report["defaults"]?.kinds == ["ConfigMap", "Deployment", "Service", "ServiceAccount"])
        #expect(report["all-options-values.yaml"]?.kinds == ["ConfigMap", "Deployment", "Service", "ServiceAccount", "ServiceMonitor"])
        #expect(report["all-options-values.yaml"]?.notes?.contains("/v1/status") == true)
        #expect(report["defaults"]?.notes?.contains("/metrics") == true)
    }

    @Test func anInvalidManifestIsCaught() async throws {
        // The same check on a copy of the chart with a misspelt Deployment field must fail.
        let copy = NSTemporaryDirectory() + "driftless-chart-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: RepositoryPaths.root + "/charts/driftless", toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let deployment = copy + "/templates/deployment.yaml"
        let text = try String(contentsOfFile: deployment, encoding: .utf8)
        try text.replacingOccurrences(of: "  replicas: {{ .Values.replicaCount }}", with: "  replicass: {{ .Values.replicaCount }}")
            .write(toFile: deployment, atomically: true, encoding: .utf8)
        let output = try await blocking { try check(chart: copy, [""]) }
        #expect(output.status == 1)
        #expect(output.stdout.contains("replicass"))
    }
}
