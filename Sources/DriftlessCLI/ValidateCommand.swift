import ArgumentParser
import DriftlessCore
import Foundation
import Reconciler

/// `driftless validate`: static validation, every error at once. Exit 0 valid, 1 invalid.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check the blueprints statically and report every error at once.")
    @OptionGroup var source: SourceOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "human or json.") var format: OutputFormat = .human

    func validate() throws {
        guard format == .human || format == .json else { throw ValidationError("validate prints human or json.") }
    }

    func run() throws {
        let report: ValidationReport
        do {
            let revision = try BlueprintLoader.load(source.location)
            report = ValidationReport(BlueprintSet.load(revision.sources, parallelism: .cores))
        } catch {
            report = ValidationReport(loadError: "\(error)")
        }
        print(format == .json ? try jsonText(report) : report.human)
        if !report.valid { throw ExitCode(1) }
    }
}

/// The JSON of `validate --format json`: `{"valid", "files", "errors", "warnings"}`.
struct ValidationReport: Encodable {
    var valid: Bool
    var files: Int
    var errors: [Diagnostic]
    var warnings: [Diagnostic]

    init(_ set: BlueprintSet) {
        valid = set.isValid
        files = set.fileCount
        errors = set.errors
        warnings = set.warnings
    }

    init(loadError: String) {
        valid = false
        files = 0
        errors = [Diagnostic(code: "source_unreadable", message: loadError)]
        warnings = []
    }

    /// Compiler-style lines, then a summary.
    var human: String {
        var lines = (errors + warnings).sorted { ($0.file ?? "", $0.line ?? 0, $0.column ?? 0) < ($1.file ?? "", $1.line ?? 0, $1.column ?? 0) }
            .map(\.description)
        let summary = "\(files) file\(files == 1 ? "" : "s"), \(errors.count) error\(errors.count == 1 ? "" : "s"), \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
        lines.append(valid ? "valid: \(summary)" : "invalid: \(summary)")
        return lines.joined(separator: "\n")
    }
}
