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
            try check(chart: RepositoryPaths.root + "/charts/driftless", ["", RepositoryPaths.root + "/charts/driftless/ci/all-options-values.yaml",
                                                                         RepositoryPaths.root + "/charts/driftless/ci/fleet-values.yaml"])
        }
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        struct Entry: Decodable {
            var kinds: [String]; var notes: String?; var args: [String]?; var env: [String]?
            var ingress_paths: [String]?; var session_affinity: String?
        }
        let report = try JSONDecoder().decode([String: Entry].self, from: Data(output.stdout.utf8))
        #expect(report["defaults"]?.kinds == ["ConfigMap", "Deployment", "Service", "ServiceAccount"])
        #expect(report["all-options-values.yaml"]?.kinds == ["ConfigMap", "Deployment", "Ingress", "Service", "ServiceAccount", "ServiceMonitor"])
        // The Ingress routes the dashboard only: never /v1/, /metrics or the probes.
        let paths = report["all-options-values.yaml"]?.ingress_paths ?? []
        #expect(Set(paths) == ["/", "/login", "/logout", "/dashboard.css", "/dashboard.js", "/targets"], "\(paths)")
        // Several fleet replicas: a browser stays on the one that holds its session.
        #expect(report["fleet-values.yaml"]?.session_affinity == "ClientIP")
        #expect(report["defaults"]?.session_affinity == "None")
        #expect(report["all-options-values.yaml"]?.notes?.contains("/v1/status") == true)
        #expect(report["defaults"]?.notes?.contains("/metrics") == true)
        // The fleet: a StatefulSet whose pods take their shard from their ordinal (docs/fleet.md).
        let fleet = report["fleet-values.yaml"]
        #expect(fleet?.kinds == ["ConfigMap", "Service", "ServiceAccount", "StatefulSet"], "\(output.stdout)")
        let args = fleet?.args ?? []
        for expected in ["--targets=/etc/driftless/targets/targets.yaml", "--shards=3", "--shard=auto", "--concurrency=16", "--online"] {
            #expect(args.contains(expected), "\(expected) missing from \(args)")
        }
        #expect(!args.contains { $0.hasPrefix("--repo") })
        #expect(fleet?.env?.contains("PROD_EU_DATABASE_URL") == true && fleet?.env?.contains("DATABASE_URL") == false)
        #expect(report["defaults"]?.args?.contains("--lock-retries=3") == true && report["defaults"]?.args?.contains("--max-blocker-age=1m") == true)
        #expect(report["defaults"]?.args?.contains("--reconcile-deadline=15m") == true)
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
