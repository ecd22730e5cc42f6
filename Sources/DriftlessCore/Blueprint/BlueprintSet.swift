import Crypto
import Foundation

/// One blueprint file as read from a directory, a commit or a request.
public struct BlueprintSource: Sendable {
    /// Path relative to the blueprint directory, with `/` separators.
    public var path: String
    /// How messages name the file (`examples/saas/blueprints/projects.yaml`); defaults to `path`.
    public var displayPath: String
    public var contents: Data

    public init(path: String, displayPath: String? = nil, contents: Data) {
        self.path = path
        self.displayPath = displayPath ?? path
        self.contents = contents
    }

    public init(path: String, displayPath: String? = nil, text: String) {
        self.init(path: path, displayPath: displayPath, contents: Data(text.utf8))
    }
}

/// All documents of one revision, validated together.
public struct BlueprintSet: Sendable {
    public var documents: [Blueprint]
    /// Errors and warnings from every file, in file order.
    public var diagnostics: [Diagnostic]
    /// How many files were read.
    public var fileCount: Int
    /// SHA-256 (hex) of the canonical JSON of all documents, in path order.
    public var payloadHash: String
    /// SHA-256 (hex) of the files as bytes, before decoding (`sourcesDigest(_:)`).
    public var sourcesDigest = ""

    /// The tenant a Result of this set names: the smallest `tenant_id` of its documents, or
    /// the nil UUID when there is none (an empty directory).
    public var tenantID: String { documents.map(\.tenantID).min() ?? "00000000-0000-0000-0000-000000000000" }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var isValid: Bool { errors.isEmpty }

    /// Whether a path (relative to the blueprint directory) is a blueprint document:
    /// `*.json`, `*.yaml`, `*.yml`, with no file or folder on the way starting with `.` or `_`.
    public static func isBlueprintPath(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        guard let last = components.last, !components.contains(where: { $0.hasPrefix(".") || $0.hasPrefix("_") }) else {
            return false
        }
        return last.hasSuffix(".json") || last.hasSuffix(".yaml") || last.hasSuffix(".yml")
    }

    /// No files read yet (a placeholder until a set is decoded).
    public static let unread = BlueprintSet(documents: [], diagnostics: [], fileCount: 0, payloadHash: "")

    /// SHA-256 (hex) of the blueprint files among `sources` as bytes (path, display path and
    /// contents, in path order): equal digests decode to equal sets, with equal diagnostics.
    /// Cheap next to decoding, so a caller can recognise a set it has seen before.
    public static func sourcesDigest(_ sources: [BlueprintSource]) -> String {
        var hasher = SHA256()
        for file in sources.filter({ isBlueprintPath($0.path) }).sorted(by: { $0.path < $1.path }) {
            hasher.update(data: Data("\(file.path)\u{0}\(file.displayPath)\u{0}\(file.contents.count)\u{0}".utf8))
            hasher.update(data: file.contents)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Decodes and validates `sources` (files that are not blueprint paths are ignored), files
    /// and fragments spread by `parallelism`.
    public static func load(_ sources: [BlueprintSource], parallelism: Parallelism = .sequential) -> BlueprintSet {
        let files = sources.filter { isBlueprintPath($0.path) }.sorted { $0.path < $1.path }
        var documents: [Blueprint] = []
        var diagnostics: [Diagnostic] = []
        var payloads: [String] = []
        // Files decode independently (YAML parsing is most of a load). Each file's JSON tree is
        // written out as canonical text at once and dropped: 10,000 trees held until the end
        // left the decoded documents scattered over pages the allocator could not give back
        // (docs/operations.md, Memory).
        let decoded = parallelism.map(files) { file -> (blueprint: Blueprint?, diagnostics: [Diagnostic], json: String?) in
            guard let text = String(data: file.contents, encoding: .utf8) else {
                return (nil, [Diagnostic(code: "encoding", message: "the file is not UTF-8 text", file: file.displayPath, path: "$")], nil)
            }
            let file = BlueprintDecoder.decode(file: file.displayPath, text: text)
            return (file.blueprint, file.diagnostics, file.json?.canonical)
        }
        var paths = Set<String>()
        for file in decoded {
            diagnostics += file.diagnostics
            if var blueprint = file.blueprint {
                blueprint.positions.share(&paths)
                documents.append(blueprint)
            }
            if let json = file.json { payloads.append(json) }
        }
        // Documents that decoded are validated even when others did not: every error at once.
        diagnostics += BlueprintValidator.validate(documents, parallelism: parallelism)
        if files.isEmpty {
            diagnostics.append(Diagnostic(.warning, code: "no_blueprints", message: "no *.json, *.yaml or *.yml files were found"))
        }
        // The canonical text of the array of every file's document, `[a,b,...]`, hashed a piece
        // at a time.
        var hasher = SHA256()
        hasher.update(data: Data("[".utf8))
        for (index, json) in payloads.enumerated() {
            if index > 0 { hasher.update(data: Data(",".utf8)) }
            hasher.update(data: Data(json.utf8))
        }
        hasher.update(data: Data("]".utf8))
        let digest = hasher.finalize()
        return BlueprintSet(
            documents: documents, diagnostics: diagnostics, fileCount: files.count,
            payloadHash: digest.map { String(format: "%02x", $0) }.joined(), sourcesDigest: sourcesDigest(sources))
    }
}

