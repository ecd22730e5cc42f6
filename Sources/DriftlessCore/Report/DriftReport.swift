import Foundation

/// Desired (canonical) vs actual, without changing anything (reconcile.md, Drift report).
public struct DriftReport: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        public var kind: Change.Kind
        public var objectType: Change.ObjectType
        public var object: String
        public var desired: String?
        public var actual: String?
        public var fix: String
        public var hazards: [HazardKind]

        enum CodingKeys: String, CodingKey {
            case kind, object, desired, actual, fix, hazards
            case objectType = "object_type"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(objectType, forKey: .objectType)
            try container.encode(object, forKey: .object)
            try container.encode(desired, forKey: .desired)
            try container.encode(actual, forKey: .actual)
            try container.encode(fix, forKey: .fix)
            try container.encode(hazards, forKey: .hazards)
        }
    }

    public struct RLSGap: Sendable, Codable, Equatable {
        public enum Problem: String, Sendable, Codable {
            case rlsDisabled = "rls_disabled"
            case tenantPolicyMissing = "tenant_policy_missing"
            case policyChanged = "policy_changed"
            case policyExistsRLSDisabled = "policy_exists_rls_disabled"
        }
        public var table: String
        public var problem: Problem

        public init(table: String, problem: Problem) {
            self.table = table
            self.problem = problem
        }
    }

    public struct Counts: Sendable, Codable, Equatable {
        public var missing: Int
        public var changed: Int
        public var unmanaged: Int
        /// Objects no kind models yet: reported, never changed, and not drift.
        public var unsupported: Int = 0

        init(_ items: [Item]) {
            missing = items.filter { $0.kind == .missing }.count
            changed = items.filter { $0.kind == .changed }.count
            unmanaged = items.filter { $0.kind == .unmanaged }.count
            unsupported = items.filter { $0.kind == .unsupported }.count
        }
    }

    public var inSync: Bool
    public var revision: String?
    public var checkedAt: String
    public var items: [Item]
    public var rlsGaps: [RLSGap]
    public var summary: Counts
    /// RLS lints of the live managed tables.
    public var warnings: [Lint] = []
    /// What anon and authenticated reach in the database beyond (gained) or short of (lost)
    /// what the blueprints give them (reconcile.md, Exposure).
    public var exposure: [ExposureEntry] = []

    enum CodingKeys: String, CodingKey {
        case revision, items, summary, warnings, exposure
        case inSync = "in_sync", checkedAt = "checked_at", rlsGaps = "rls_gaps"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inSync, forKey: .inSync)
        try container.encode(revision, forKey: .revision)
        try container.encode(checkedAt, forKey: .checkedAt)
        try container.encode(items, forKey: .items)
        try container.encode(rlsGaps, forKey: .rlsGaps)
        try container.encode(summary, forKey: .summary)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(exposure, forKey: .exposure)
    }

    /// Builds the report from a plan's changes and the two catalogs.
    public static func build(changes: [Change], desired: Catalog, actual: Catalog, revision: String?, checkedAt: Date = Date()) -> DriftReport {
        var items = changes.filter { !$0.isRecreate }.map { change in
            Item(kind: change.kind, objectType: change.objectType, object: change.object, desired: change.desired,
                 actual: change.actual, fix: change.statements.joined(separator: ";\n"),
                 hazards: Array(Set(change.hazards.map(\.hazard))).sorted())
        }
        // What no kind models is said, never silently ignored, and never drift: nothing the
        // blueprints say can change it (docs/engine.md, Unsupported objects).
        let managed = desired.schemas
        items += actual.unsupported.filter { managed.contains($0.schema) }.map {
            Item(kind: .unsupported, objectType: $0.type, object: $0.description, desired: nil,
                 actual: "exists; Driftless does not model \($0.type.rawValue.replacingOccurrences(of: "_", with: " "))s yet and never changes or drops it",
                 fix: "", hazards: [])
        }
        var gaps: [RLSGap] = []
        for change in changes {
            guard let table = change.table, !change.isRecreate else { continue }
            let enablesRLS = change.operations.contains { if case .enableRLS(true, _) = $0 { return true } else { return false } }
            if change.objectType == .rls && enablesRLS {
                gaps.append(RLSGap(table: table.description, problem: .rlsDisabled))
            } else if change.objectType == .policy && change.kind == .missing {
                if desired.tables[table]?.policies[change.id.name]?.generated == true {
                    gaps.append(RLSGap(table: table.description, problem: .tenantPolicyMissing))
                }
            } else if change.objectType == .policy && change.kind == .changed && change.action != .drop {
                gaps.append(RLSGap(table: table.description, problem: .policyChanged))
            }
        }
        for (name, table) in actual.tables where !table.rlsEnabled && !table.policies.isEmpty {
            gaps.append(RLSGap(table: name.description, problem: .policyExistsRLSDisabled))
        }
        var unique: [RLSGap] = []
        for gap in gaps where !unique.contains(gap) { unique.append(gap) }
        unique.sort { ($0.table, $0.problem.rawValue) < ($1.table, $1.problem.rawValue) }
        return DriftReport(
            inSync: items.allSatisfy { $0.kind == .unsupported } && unique.isEmpty, revision: revision,
            checkedAt: Timestamp.string(checkedAt), items: items, rlsGaps: unique, summary: Counts(items),
            exposure: Exposure.between(Exposure.project(actual, desired: desired, changes: changes), actual))
    }

    /// The report about `tables` alone (a tenant caller reads its own tables only): items of
    /// other objects, their RLS gaps and lints are left out, and the counts follow.
    public func restricted(toTables tables: Set<String>) -> DriftReport {
        func mine(_ object: String) -> Bool {
            tables.contains(object) || tables.contains { object.hasPrefix($0 + ".") }
        }
        var report = self
        report.items = items.filter { mine($0.object) }
        report.rlsGaps = rlsGaps.filter { tables.contains($0.table) }
        report.warnings = warnings.filter { mine($0.object) }
        report.exposure = exposure.filter { $0.kind == "table" && tables.contains($0.object) }
        report.summary = Counts(report.items)
        report.inSync = report.items.allSatisfy { $0.kind == .unsupported } && report.rlsGaps.isEmpty
        return report
    }

    /// One line: "in sync" or "drift: 1 missing, 2 changed, 1 unmanaged; 1 RLS gap".
    public var summaryLine: String {
        let unsupported = summary.unsupported > 0 ? " (\(summary.unsupported) unsupported object\(summary.unsupported == 1 ? "" : "s") left alone)" : ""
        if inSync { return "in sync\(revision.map { " with \($0)" } ?? "")\(unsupported)" }
        var line = "drift: \(summary.missing) missing, \(summary.changed) changed, \(summary.unmanaged) unmanaged"
        if !rlsGaps.isEmpty { line += "; \(rlsGaps.count) RLS gap\(rlsGaps.count == 1 ? "" : "s")" }
        return line + unsupported
    }

    /// An aligned table grouped by table, for a terminal (ANSI colour when `colour`).
    public func human(colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var lines: [String] = []
        let groups = Dictionary(grouping: items) { item -> String in
            let parts = item.object.split(separator: ".")
            return parts.count >= 2 ? "\(parts[0]).\(parts[1])" : item.object
        }
        let kindWidth = 11
        let typeWidth = max(10, items.map(\.objectType.rawValue.count).max() ?? 0)
        let objectWidth = min(48, max(6, items.map(\.object.count).max() ?? 0))
        for group in groups.keys.sorted() {
            lines.append(paint(group, "1"))
            for item in groups[group]! {
                let kindText = item.kind.rawValue.padding(toLength: kindWidth, withPad: " ", startingAt: 0)
                let colourCode = item.kind == .missing ? "32" : (item.kind == .changed ? "33" : (item.kind == .unsupported ? "2" : "35"))
                var line = "  " + paint(kindText, colourCode) + " "
                line += item.objectType.rawValue.padding(toLength: typeWidth, withPad: " ", startingAt: 0) + " "
                line += item.object.padding(toLength: objectWidth, withPad: " ", startingAt: 0)
                line += "  desired: \(item.desired ?? "-")  actual: \(item.actual ?? "-")"
                if !item.hazards.isEmpty { line += paint("  [\(item.hazards.map(\.rawValue).joined(separator: ", "))]", "31") }
                lines.append(line)
            }
        }
        for gap in rlsGaps { lines.append(paint("rls gap", "31") + ": \(gap.table) \(gap.problem.rawValue)") }
        for lint in warnings { lines.append(paint("warning[\(lint.code)]", "33") + ": \(lint.message)") }
        if !exposure.isEmpty {
            lines.append(paint("who can reach what (the database against the blueprints)", "1"))
            lines += exposure.map { "  " + paint($0.change == .gained ? "+" : "-", $0.change == .gained ? "31" : "32") + " " + $0.sentence }
        }
        lines.append(paint(summaryLine, inSync ? "32" : "33"))
        return lines.joined(separator: "\n")
    }

    /// A pull-request comment: summary line, table of items, fix SQL folded away.
    public var markdown: String {
        var lines = ["### Driftless drift report", "", "**\(summaryLine)**", ""]
        if !items.isEmpty {
            lines += ["| kind | type | object | desired | actual | hazards |", "|---|---|---|---|---|---|"]
            for item in items {
                let cells = [item.kind.rawValue, item.objectType.rawValue, "`\(item.object)`", item.desired ?? "", item.actual ?? "",
                             item.hazards.map(\.rawValue).joined(separator: ", ")]
                lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") + " |")
            }
            lines += ["", "<details><summary>Fix SQL</summary>", "", "```sql"]
            lines += items.filter { !$0.fix.isEmpty }.map { $0.fix + ";" }
            lines += ["```", "", "</details>"]
        }
        if !rlsGaps.isEmpty {
            lines += ["", "RLS gaps:"] + rlsGaps.map { "- `\($0.table)`: \($0.problem.rawValue)" }
        }
        lines += Exposure.markdown(exposure, heading: "Who can reach what (the database against the blueprints)")
        return lines.joined(separator: "\n")
    }
}
