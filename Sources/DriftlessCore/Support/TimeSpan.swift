/// A duration written as `500ms`, `5s`, `2m` or `1h` (the form every duration flag takes).
public struct TimeSpan: Sendable, Hashable, CustomStringConvertible {
    /// The length in milliseconds.
    public let milliseconds: Int

    public init(milliseconds: Int) { self.milliseconds = milliseconds }

    /// Parses `500ms`, `5s`, `2m`, `1h` (a whole number and a unit); `nil` for anything else.
    public init?(parsing text: String) {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "5ms" also ends in "s": only accept the unit when what precedes it is all digits.
            guard !number.isEmpty, number.allSatisfy(\.isASCII), let value = Int(number), value >= 0 else { continue }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            self.milliseconds = product
            return
        }
        return nil
    }

    public var seconds: Double { Double(milliseconds) / 1000 }

    /// The value as PostgreSQL's `SET lock_timeout` accepts it.
    public var postgresSetting: String { "\(milliseconds)ms" }

    public var description: String {
        if milliseconds % 3_600_000 == 0 && milliseconds > 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 && milliseconds > 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 && milliseconds > 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
