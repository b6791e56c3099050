// FlowForge — the RFC 3339 parser behind `?before=` and spool ingestion, on untrusted input.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAPI
import FlowForgeModel
import FlowForgeStore
import Foundation
import Testing

@Suite struct TimelineTimestampTests {
    @Test func parsesRFC3339() {
        #expect(TimelineEvent.parseNanos("1970-01-01T00:00:00Z") == 0)
        #expect(TimelineEvent.parseNanos("2026-12-07T02:19:24.5Z") == 1_796_609_964_500_000_000)
        #expect(TimelineEvent.parseNanos("2026-12-07T03:19:24.5+01:00") == 1_796_609_964_500_000_000)
        #expect(TimelineEvent.parseNanos("2262-04-11T23:47:16Z") == 9_223_372_036_000_000_000)
    }

    /// Regression: `GET /timeline?before=9999-01-01T00:00:00Z` killed the dashboard (and a run's API agent)
    /// with SIGILL, an integer overflow trap converting the seconds to Int64 nanoseconds. Times that do not
    /// fit (after 2262-04-11T23:47:16.854775807Z, or far before 1970) are now nil, which the route answers 400.
    @Test(arguments: ["9999-01-01T00:00:00Z", "2263-01-01T00:00:00Z", "2262-04-11T23:47:17Z", "0000-01-01T00:00:00Z",
                      "9999-12-31T23:59:60.999999999-23:59"])
    func timesThatDoNotFitAreRejected(_ ts: String) {
        #expect(TimelineEvent.parseNanos(ts) == nil)
    }
}

@Suite struct SpoolLineTests {
    /// Regression: a spool line with `"generation": -1` trapped in `UInt32(_:)` and crash-looped the
    /// dashboard's ingestion and the API agent. Out-of-range generations and sequence numbers make the line
    /// not an event (ingestion skips and counts it); good lines still parse.
    @Test(arguments: [#""generation":-1"#, #""generation":4294967296"#, #""generation":1,"seq":-5"#])
    func outOfRangeNumbersAreNotEvents(_ numbers: String) {
        let line = #"{"ts":"2026-12-07T02:19:24Z","run_id":"r1","kind":"sample",\#(numbers),"fields":{}}"#
        #expect(TimelineEvent(jsonLine: Substring(line)) == nil)
    }

    /// Regression (found by the spool-line fuzzer): a score of `1e999` parsed to infinity, which JSON cannot
    /// carry, and one such line emptied `/timeline` and its drilldown. Non-finite scores are left out.
    @Test func nonFiniteScoresStayOutOfTheJSON() throws {
        let line = #"{"ts":"2026-12-07T02:19:24Z","run_id":"r1","generation":1,"kind":"incident.opened","seq":3,"incident_id":"r1-1","fields":{"incident_id":"r1-1","cpu_percent":"1e999","entropy":"nan","confidence":"-1e999"}}"#
        let event = try #require(TimelineEvent(jsonLine: Substring(line)))
        #expect(JSONSerialization.isValidJSONObject(event.json))
        let summaries = Timeline.incidents([event])
        #expect(!summaries.isEmpty)
        for summary in summaries { #expect(JSONSerialization.isValidJSONObject(summary.json)) }
    }

    @Test func aGoodLineParses() {
        let line = #"{"ts":"2026-12-07T02:19:24Z","run_id":"r1","generation":4294967295,"kind":"sample","seq":7,"fields":{"cpu_percent":99.5}}"#
        let event = TimelineEvent(jsonLine: Substring(line))
        #expect(event?.generation == .max && event?.seq == 7 && event?.fields["cpu_percent"] == "99.5")
    }
}

@Suite struct SpoolIngestionTests {
    /// A spool is untrusted: lines that are not events (not JSON, an out-of-range generation) are skipped and
    /// reported with their count, the good events around them are stored, and ingesting again stores nothing
    /// twice.
    @Test func badLinesAreSkippedAndCounted() throws {
        let dir = NSTemporaryDirectory() + "ff-spool-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = { (seq: Int) in
            #"{"ts":"2026-12-07T02:19:2\#(seq)Z","run_id":"r1","generation":1,"kind":"worker.started","seq":\#(seq),"fields":{"pid":42}}"#
        }
        let lines = [good(1), "not json", #"{"ts":"2026-12-07T02:19:24Z","run_id":"r1","generation":-1,"kind":"sample","seq":2,"fields":{}}"#, good(3)]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/runs/r1.jsonl", atomically: true, encoding: .utf8)
        let store = try Store(path: dir + "/flowforge.db")
        var skipped = 0
        let stored = try store.ingest(runsDirectory: dir + "/runs", skipped: { _, n in skipped += n })
        #expect(stored == 2)
        #expect(skipped == 2)
        #expect(try store.ingest(runsDirectory: dir + "/runs") == 0)
    }
}
