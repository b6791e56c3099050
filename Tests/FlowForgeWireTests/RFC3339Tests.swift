// FlowForge — the RFC 3339 parser on untrusted text: the edges fuzz-timestamp checks, as fixed cases.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Testing

@Suite("RFC 3339 parsing")
struct RFC3339Tests {
    static let valid: [(String, Int64)] = [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-12-07T02:19:24.5Z", 1_796_609_964_500_000_000),
        ("2026-12-07T03:19:24.5+01:00", 1_796_609_964_500_000_000),
        ("2026-12-07t02:19:24.5z", 1_796_609_964_500_000_000),
        ("2026-12-07T02:19:24.123456789999Z", 1_796_609_964_123_456_789),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000_000),  // a leap second reads as the next second
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000_000),
        ("2262-04-11T23:47:16.854775807Z", .max),
        ("1677-09-21T00:12:43.145224192Z", .min),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ nanos: Int64) {
        #expect(Event.parseRFC3339(text) == nanos)
    }

    /// Regression (found by fuzz-timestamp): times in the last second before `Int64.min` nanoseconds's second,
    /// 1677-09-21T00:12:43.145224192Z to 00:12:44Z, parsed as nil although they fit, because the whole seconds
    /// (-9223372037) were scaled to nanoseconds before the fraction was added, and overflowed. So
    /// `parse(format(t))` failed for such `t`; the value is exact because the formatter floors to microseconds.
    @Test func theSecondAboveInt64MinParses() {
        #expect(Event.rfc3339(wallNanos: -9_223_372_036_854_031_617) == "1677-09-21T00:12:43.145968Z")
        #expect(Event.parseRFC3339("1677-09-21T00:12:43.145968Z") == -9_223_372_036_854_032_000)
        #expect(Event.parseRFC3339("1677-09-21T00:12:43.5Z") == -9_223_372_036_500_000_000)
        #expect(Event.parseRFC3339("1677-09-21T00:12:43.145224191Z") == nil, "one nanosecond below Int64.min")
        #expect(Event.parseRFC3339("1677-09-21T00:12:42.9Z") == nil)
    }

    /// Days a month does not have and offsets past 23:59 are not times: they were read as the days after
    /// (2026-02-31 as 2026-03-03) and as offsets of up to 99:99, so `?before=` meant a time nobody wrote.
    /// fuzz-timestamp's property: text in the formatter's own shape that parses formats back to itself.
    @Test(arguments: ["2026-02-31T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                      "2026-12-07T02:19:24+24:00", "2026-12-07T02:19:24-00:60", "2026-00-10T00:00:00Z",
                      "2026-12-07T02:19:24.Z", "2026-12-07T02:19:24", "2026-12-07T02:19:61Z", "9999-01-01T00:00:00Z"])
    func refuses(_ text: String) {
        #expect(Event.parseRFC3339(text) == nil)
    }

    /// The property the fuzzer checks for every Int64, at the edges: formatting then parsing gives the time
    /// back, floored to the microsecond, and nil only where that floor is below `Int64.min`.
    static let edges: [Int64] = [.min, .min + 192, .min + 1_000, .min + 1_000_000_000, -1, 0, 999, .max - 1, .max]

    @Test(arguments: edges)
    func formatThenParse(_ t: Int64) {
        let below = (t % 1000 + 1000) % 1000
        let (floor, overflow) = t.subtractingReportingOverflow(below)
        #expect(Event.parseRFC3339(Event.rfc3339(wallNanos: t)) == (overflow ? nil : floor))
    }
}
