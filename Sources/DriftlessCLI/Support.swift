import ArgumentParser
import DriftlessCore
import Foundation
import GitSource
import Reconciler

extension SourceOptions {
    /// The blueprint location these options name (default `./blueprints`).
    var location: BlueprintLocation {
        if let repo {
            let cache = gitCache ?? FileManager.default.homeDirectoryForCurrentUser
                .appendingPathComponent(".cache/driftless/git").path
            return .git(repository: repo, ref: ref, path: path, cacheDirectory: cache, credentials: .fromEnvironment())
        }
        return .directory(blueprints ?? "blueprints")
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Encodes a value as pretty JSON with sorted keys, as every `--format json` prints.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Whether standard output is a terminal (colour only then).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
