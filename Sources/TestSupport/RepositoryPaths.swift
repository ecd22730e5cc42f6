import Foundation

/// Paths inside this repository, for tests that read fixtures, examples and schemas.
public enum RepositoryPaths {
    /// The repository root (found from this source file's location).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `driftless` executable built next to the test bundle.
    public static var driftlessExecutable: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // Linux runs DriftlessPackageTests.xctest directly; macOS runs a bundle inside it.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("driftless").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return root + "/.build/debug/driftless"
    }

    /// A Python with the `jsonschema` package: `DRIFTLESS_TEST_PYTHON` (set by scripts/test), else python3.
    public static var python: String {
        ProcessInfo.processInfo.environment["DRIFTLESS_TEST_PYTHON"] ?? ProcessRunner.which("python3") ?? "/usr/bin/python3"
    }

    /// Every file under `relative` (recursively), sorted.
    public static func files(under relative: String) -> [String] {
        let base = root + "/" + relative
        let enumerator = FileManager.default.enumerator(atPath: base)
        var result: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(base + "/" + path)
            }
        }
        return result.sorted()
    }
}
