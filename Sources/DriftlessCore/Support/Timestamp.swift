import Foundation

/// RFC 3339 timestamps in UTC (`2026-12-07T02:04:05Z`), as every report, status and log line
/// writes them. Foundation's ISO8601FormatStyle, not ISO8601DateFormatter: the latter builds an
/// ICU formatter on each use (130 µs; it was a fifth of a fleet's noop tick, docs/benchmarks.md),
/// the style formats in under a microsecond with the same output.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}
