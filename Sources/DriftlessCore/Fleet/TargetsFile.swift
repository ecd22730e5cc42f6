/// `driftless run --targets targets.yaml` (fleet.md, Targets; docs/fleet.md): many databases
/// reconciled from one install. Read like a blueprint: every error at once, each with file,
/// line, column and JSON path. Secrets never come from this file: a target names the
/// environment variable or the file that holds its database URL.
public struct FleetTarget: Sendable, Hashable {
    public enum DatabaseURLSource: Sendable, Hashable {
        case environment(String)
        case file(String)
    }

    public var name: String
    public var databaseURL: DatabaseURLSource
    /// A git repository (with ref and path), or a local directory.
    public var repo: String?
    public var ref: String?
    public var path: String?
    public var blueprints: String?
    public var interval = TimeSpan(milliseconds: 60_000)
    /// Rollout order: a new revision reaches wave k once every target of the waves below has it.
    public var wave = 1
    public var allow: Set<HazardKind> = []
    public var driftMode = "correct"
    public var online = false
    public var suspend = false

    /// The shard (of `shards`) that reconciles this target (fleet.md, Sharding over replicas).
    public func shard(of shards: Int) -> Int { Sharding.shard(of: name, shards: shards) }
}

/// The targets file, decoded and validated.
public struct TargetsFile: Sendable, Equatable {
    public var targets: [FleetTarget]

    /// Fields a target (or `defaults`) may set.
    static let fields = ["name", "database_url_env", "database_url_file", "repo", "ref", "path", "blueprints", "interval", "wave",
                         "allow", "drift_mode", "online", "suspend"]

    /// The file's targets, or every problem found (nil then).
    public static func decode(file: String, text: String) -> (file: TargetsFile?, diagnostics: [Diagnostic]) {
        let root: SourceNode?
        do {
            root = try SourceParser.parse(text)
        } catch let failure as SourceParseFailure {
            return (nil, [Diagnostic(code: failure.code, message: failure.message, file: file, line: failure.line, column: failure.column, path: "$")])
        } catch {
            return (nil, [Diagnostic(code: "parse_error", message: "\(error)", file: file, path: "$")])
        }
        var reader = TargetsReader(file: file)
        let targets = reader.read(root)
        return (reader.diagnostics.isEmpty ? TargetsFile(targets: targets) : nil, reader.diagnostics)
    }
}

/// Walks a targets file; every problem is recorded with its position.
private struct TargetsReader {
    let file: String
    var diagnostics: [Diagnostic] = []

    mutating func error(_ code: String, _ message: String, _ path: String, _ node: SourceNode?) {
        diagnostics.append(Diagnostic(code: code, message: message, file: file, line: node?.mark?.line, column: node?.mark?.column, path: path))
    }

    /// The mapping's fields; unknown ones reported (with a suggestion), `database_url` refused.
    mutating func mapping(_ node: SourceNode, _ path: String, allowed: [String], what: String) -> [String: SourceNode] {
        guard case .mapping(let pairs, _) = node else {
            error("bad_value", "expected \(what) (a mapping), found \(node.kindName)", path, node)
            return [:]
        }
        var fields: [String: SourceNode] = [:]
        for pair in pairs {
            if pair.key == "database_url" || pair.key == "password" {
                error("secret_in_targets_file", "a secret never goes in the targets file: name the environment variable (database_url_env) or the file (database_url_file) that holds it",
                      "\(path).\(pair.key)", pair.value)
                continue
            }
            guard allowed.contains(pair.key) else {
                var message = "unknown field '\(pair.key)' in \(what)"
                if let suggestion = closest(pair.key, in: allowed) { message += "; did you mean '\(suggestion)'?" }
                diagnostics.append(Diagnostic(code: "unknown_field", message: message, file: file, line: pair.keyMark?.line,
                                              column: pair.keyMark?.column, path: "\(path).\(pair.key)"))
                continue
            }
            if !pair.value.isNull { fields[pair.key] = pair.value }
        }
        return fields
    }

    mutating func scalar(_ node: SourceNode?, _ path: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            error("bad_value", "expected a string, found \(node.kindName)", path, node)
            return nil
        }
        return scalar.text
    }

    mutating func read(_ root: SourceNode?) -> [FleetTarget] {
        guard let root else {
            diagnostics.append(Diagnostic(code: "empty_document", message: "the targets file is empty: it needs `version: 1` and `targets`", file: file, path: "$"))
            return []
        }
        let top = mapping(root, "$", allowed: ["version", "defaults", "targets"], what: "a targets file")
        if scalar(top["version"], "$.version") != "1" {
            error(top["version"] == nil ? "missing_field" : "unsupported_version", "`version` must be 1", "$.version", top["version"] ?? root)
        }
        let defaults = top["defaults"].map { mapping($0, "$.defaults", allowed: TargetsFile.fields.filter { $0 != "name" }, what: "defaults") } ?? [:]
        guard let list = top["targets"] else {
            error("missing_field", "`targets` lists the databases to reconcile", "$.targets", root)
            return []
        }
        guard case .sequence(let items, _) = list else {
            error("bad_value", "expected a list of targets, found \(list.kindName)", "$.targets", list)
            return []
        }
        var targets: [FleetTarget] = []
        var seen: [String: String] = [:]
        for (index, item) in items.enumerated() {
            let path = "$.targets[\(index)]"
            let own = mapping(item, path, allowed: TargetsFile.fields, what: "a target")
            // A name used twice is an error even when the first target has errors of its own.
            if let nameNode = own["name"], case .scalar(let name) = nameNode {
                if let first = seen[name.text] {
                    error("duplicate_target", "target '\(name.text)' is already defined at \(first)", "\(path).name", nameNode)
                    continue
                }
                seen[name.text] = path
            }
            guard let target = target(own, defaults: defaults, path: path, node: item) else { continue }
            targets.append(target)
        }
        return targets
    }

    /// One target: its own fields over the defaults.
    mutating func target(_ own: [String: SourceNode], defaults: [String: SourceNode], path: String, node: SourceNode) -> FleetTarget? {
        // Where a value came from, for the error's location.
        func field(_ key: String) -> (node: SourceNode, path: String)? {
            if let value = own[key] { return (value, "\(path).\(key)") }
            if let value = defaults[key] { return (value, "$.defaults.\(key)") }
            return nil
        }
        let errorsBefore = diagnostics.count
        guard let nameNode = own["name"], let name = scalar(nameNode, "\(path).name") else {
            error("missing_field", "a target needs a `name`", "\(path).name", node)
            return nil
        }
        if !Sharding.isValidName(name) {
            error("invalid_target_name", "'\(name)' is not a target name: lowercase letters, digits and '-', starting with a letter or digit, at most 63",
                  "\(path).name", nameNode)
        }
        var url: FleetTarget.DatabaseURLSource?
        switch (field("database_url_env"), field("database_url_file")) {
        case (let env?, nil): url = scalar(env.node, env.path).map { .environment($0) }
        case (nil, let file?): url = scalar(file.node, file.path).map { .file($0) }
        case (.some, .some):
            error("ambiguous_database_url", "give database_url_env or database_url_file, not both", path, node)
        case (nil, nil):
            error("missing_database_url", "target '\(name)' needs database_url_env (an environment variable) or database_url_file (a file) holding its database URL",
                  path, node)
        }
        var target = FleetTarget(name: name, databaseURL: url ?? .environment(""))
        target.repo = field("repo").flatMap { scalar($0.node, $0.path) }
        target.ref = field("ref").flatMap { scalar($0.node, $0.path) }
        target.path = field("path").flatMap { scalar($0.node, $0.path) }
        target.blueprints = field("blueprints").flatMap { scalar($0.node, $0.path) }
        // A target's own source wins over the defaults' other kind of source.
        if own["blueprints"] != nil && own["repo"] == nil { target.repo = nil; target.ref = nil }
        if own["repo"] != nil && own["blueprints"] == nil { target.blueprints = nil }
        if target.repo != nil && target.blueprints != nil {
            error("ambiguous_source", "target '\(name)' has both a repo and a blueprints directory: give one", path, node)
        } else if target.repo == nil && target.blueprints == nil {
            error("missing_source", "target '\(name)' needs `repo` (with ref and path) or `blueprints` (a local directory)", path, node)
        }
        if let interval = field("interval") {
            if let text = scalar(interval.node, interval.path) {
                if let span = TimeSpan(parsing: text), span.milliseconds > 0 { target.interval = span } else {
                    error("bad_duration", "'\(text)' is not a duration like 30s, 5m or 1h", interval.path, interval.node)
                }
            }
        }
        if let wave = field("wave"), let text = scalar(wave.node, wave.path) {
            if let number = Int(text), number >= 1 { target.wave = number } else {
                error("bad_wave", "a wave is a whole number from 1", wave.path, wave.node)
            }
        }
        if let allow = field("allow") {
            if case .sequence(let items, _) = allow.node {
                for (index, item) in items.enumerated() {
                    guard let word = scalar(item, "\(allow.path)[\(index)]") else { continue }
                    if let hazard = HazardKind(rawValue: word) { target.allow.insert(hazard) } else {
                        error("unknown_hazard", "unknown hazard '\(word)' (known: \(HazardKind.allCases.map(\.rawValue).joined(separator: ", ")))",
                              "\(allow.path)[\(index)]", item)
                    }
                }
            } else {
                error("bad_value", "expected a list of hazards, found \(allow.node.kindName)", allow.path, allow.node)
            }
        }
        if let mode = field("drift_mode"), let text = scalar(mode.node, mode.path) {
            if text == "correct" || text == "warn" { target.driftMode = text } else {
                error("bad_drift_mode", "drift_mode is correct or warn, not '\(text)'", mode.path, mode.node)
            }
        }
        for (key, assign) in [("online", { (t: inout FleetTarget, v: Bool) in t.online = v }), ("suspend", { (t: inout FleetTarget, v: Bool) in t.suspend = v })] {
            guard let value = field(key), let text = scalar(value.node, value.path) else { continue }
            switch text {
            case "true": assign(&target, true)
            case "false": assign(&target, false)
            default: error("bad_value", "expected true or false, found '\(text)'", value.path, value.node)
            }
        }
        return diagnostics.count == errorsBefore ? target : nil
    }
}

/// Which replica reconciles which target (fleet.md, Sharding over replicas).
public enum Sharding {
    /// `fnv1a64(name) mod shards`.
    public static func shard(of name: String, shards: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int(hash % UInt64(max(1, shards)))
    }

    /// `--shard auto`: the ordinal a StatefulSet puts at the end of the pod's host name
    /// (`driftless-2` → 2), or nil.
    public static func ordinal(hostname: String) -> Int? {
        guard let dash = hostname.lastIndex(of: "-") else { return nil }
        let digits = hostname[hostname.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// `^[a-z0-9][a-z0-9-]{0,62}$`.
    public static func isValidName(_ name: String) -> Bool {
        let characters = Array(name.utf8)
        guard (1...63).contains(characters.count) else { return false }
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || (!first && byte == 45)
        }
        return characters.enumerated().allSatisfy { allowed($0.element, first: $0.offset == 0) }
    }
}

/// Waves (fleet.md, Waves): a new revision reaches a target of wave k only once every target
/// of the waves below has an `ok` or `noop` history row at that revision; a `blocked` or
/// `failed` one there halts every later wave.
public enum Rollout {
    /// What a target's own history says about one revision.
    public struct Progress: Sendable, Equatable {
        public var target: String
        public var wave: Int
        /// The newest status recorded at the revision, nil when none (or the database did not answer).
        public var status: ReconcileStatus?
        public var suspended: Bool

        public init(target: String, wave: Int, status: ReconcileStatus?, suspended: Bool = false) {
            self.target = target
            self.wave = wave
            self.status = status
            self.suspended = suspended
        }
    }

    public enum Gate: Sendable, Equatable {
        case open
        /// Targets of lower waves that do not have the revision yet.
        case waiting([String])
        /// A target of a lower wave is blocked or failed at the revision.
        case halted(target: String, status: ReconcileStatus)
    }

    /// Whether a target of `wave` may reconcile the revision `others` report on. A suspended
    /// target neither holds back nor halts the waves after it.
    public static func gate(wave: Int, others: [Progress]) -> Gate {
        let lower = others.filter { $0.wave < wave && !$0.suspended }.sorted { ($0.wave, $0.target) < ($1.wave, $1.target) }
        if let stuck = lower.first(where: { $0.status == .blocked || $0.status == .failed }) {
            return .halted(target: stuck.target, status: stuck.status!)
        }
        let missing = lower.filter { $0.status != .ok && $0.status != .noop }.map(\.target)
        return missing.isEmpty ? .open : .waiting(missing)
    }
}
