// FlowForge — nothing is lost when the store's writer dies: SIGKILL the dashboard mid-incident, find every
// event of the run in the store exactly once.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeStore
import FlowForgeTestSupport
import Foundation
import GRDB
import Testing

@Suite("Store durability", .serialized)
struct StoreDurabilityTests {
    /// The dashboard ingests run spools; it is SIGKILLed once it has stored part of a run that is still producing
    /// events, then restarted. The first writer must have stored events and moved the spool's offset with them
    /// before it dies (else the restart would only show a first ingestion, not a resume), the run must add
    /// events while no writer runs, and after the restart every event of the spool is in the store once: none
    /// missing (the spool offset only moves with the insert, in one transaction) and none twice
    /// (UNIQUE (run_id, seq)), with the offset at the spool's end.
    @Test(.timeLimit(.minutes(1)))
    func sigkilledWriterLosesNothingAndDuplicatesNothing() throws {
        let ff = try Supervised(["--shadow-mode", "--max-cpu", "30"] + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        let state = ff.dir + "/state"
        let db = state + "/flowforge.db"
        func spool() -> String? {
            ((try? FileManager.default.contentsOfDirectory(atPath: state + "/runs")) ?? []).first { $0.hasSuffix(".jsonl") }
                .map { state + "/runs/" + $0 }
        }
        func spoolLines() -> [Substring] {
            guard let spool = spool(), let text = try? String(contentsOfFile: spool, encoding: .utf8) else { return [] }
            return text.split(separator: "\n")
        }
        #expect(eventually(timeout: 20) { spoolLines().contains { $0.contains("\"incident.opened\"") } })
        let spoolPath = try #require(spool())

        let first = try DashboardProcess(stateDir: state)
        #expect(eventually(timeout: 15) { (StoredProgress(db: db, spool: spoolPath)?.offset ?? 0) > 0 },
                "the first dashboard never stored anything: \(first.log)")
        first.killHard()
        let atKill = try #require(StoredProgress(db: db, spool: spoolPath), "the store cannot be read after the SIGKILL")
        #expect(atKill.events > 0 && atKill.offset > 0, "\(atKill)")
        // More events arrive while no writer runs.
        #expect(eventually(timeout: 10) { spoolLines().count >= atKill.events + 4 }, "the run stopped writing its spool")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        let lines = spoolLines()
        let seqs = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int }
        #expect(seqs.count == lines.count && Set(seqs).count == seqs.count, "the spool numbers every event once")
        #expect(lines.count > atKill.events, "nothing was left for the restarted writer")

        let second = try DashboardProcess(stateDir: state)
        defer { second.stop() }
        let store = try Store(path: db)
        #expect(eventually(timeout: 10) { (try? store.eventCount()) == lines.count },
                "store has \((try? store.eventCount()) ?? -1) of \(lines.count) events; dashboard log: \(second.log)")
        let resumed = try #require(StoredProgress(db: db, spool: spoolPath))
        let spoolSize = (try? FileManager.default.attributesOfItem(atPath: spoolPath)[.size] as? Int) ?? -1
        #expect(resumed.offset == spoolSize && resumed.offset > atKill.offset, "offset \(atKill.offset) at the kill, now \(resumed.offset) of \(spoolSize)")
        #expect(resumed.events == lines.count && resumed.distinctSeqs == lines.count, "\(resumed)")
        print("store durability: at the SIGKILL \(atKill); after the restart \(resumed), of \(lines.count) spool lines")
        // Ingesting the same spool again changes nothing.
        #expect(try store.ingest(spool: spoolPath) == 0)
        #expect(try store.eventCount() == lines.count)
        let incident = try #require(try store.incidents(limit: 10, before: nil).first)
        let chain = try #require(try store.chain(incident: incident.id))
        #expect(chain.contains { $0.kind == "incident.opened" } && chain.contains { $0.kind == "policy.decision" })
    }

    /// A spool larger than the ingest chunk (1 MiB) is ingested a chunk at a time: every event exactly once,
    /// a line longer than a chunk skipped, a half-written last line left for the next pass.
    @Test(.timeLimit(.minutes(1)))
    func largeSpoolsAreIngestedInChunks() throws {
        let dir = try makeTemporaryDirectory("ff-chunks")
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func event(_ seq: Int) -> String {
            let padding = String(repeating: "x", count: 200)
            return #"{"ts":"2026-11-30T01:00:00.000000Z","run_id":"r-chunks","generation":1,"kind":"sample","seq":\#(seq),"fields":{"cpu_percent":1.0,"output":"\#(padding)"}}"#
        }
        var text = (1...6000).map(event).joined(separator: "\n") + "\n"
        text += String(repeating: "y", count: (1 << 20) + 4096) + "\n" // longer than a chunk: not an event
        text += (6001...9000).map(event).joined(separator: "\n") + "\n"
        let spool = dir + "/runs/r-chunks.jsonl"
        try (text + #"{"ts":"2026-11-30T01:00"#).write(toFile: spool, atomically: true, encoding: .utf8)
        #expect(text.utf8.count > 3 << 20)
        let store = try Store(path: dir + "/flowforge.db")
        var seen = 0
        #expect(try store.ingest(runsDirectory: dir + "/runs") { _ in seen += 1 } == 9000)
        #expect(seen == 9000)
        #expect(try store.eventCount() == 9000)
        #expect(try store.ingest(spool: spool) == 0, "nothing new, nothing twice")
        // The half-written line completes: only it is new.
        let handle = try #require(FileHandle(forWritingAtPath: spool))
        handle.seekToEndOfFile()
        handle.write(Data(#":00.000000Z","run_id":"r-chunks","generation":1,"kind":"sample","seq":9001,"fields":{}}"#.utf8 + [0x0A]))
        try handle.close()
        #expect(try store.ingest(spool: spool) == 1)
        #expect(try store.eventCount() == 9001)
    }
}

/// What the store holds of one spool, read straight from SQLite (not through `Store`, which would migrate).
struct StoredProgress: CustomStringConvertible {
    let events: Int
    let distinctSeqs: Int
    let offset: Int

    /// nil until the dashboard has created the store.
    init?(db path: String, spool: String) {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        guard let queue = try? DatabaseQueue(path: path, configuration: config),
              let row = try? queue.read({ db in
                  try Row.fetchOne(db, sql: """
                      SELECT (SELECT COUNT(*) FROM events) AS events,
                             (SELECT COUNT(*) FROM (SELECT DISTINCT run_id, seq FROM events)) AS seqs,
                             (SELECT offset FROM spool_offsets WHERE path = ?) AS offset
                      """, arguments: [spool])
              }) else { return nil }
        events = row["events"] ?? 0
        distinctSeqs = row["seqs"] ?? 0
        offset = row["offset"] ?? 0
    }

    var description: String { "\(events) events (\(distinctSeqs) distinct), spool offset \(offset)" }
}
