// FlowForge — nothing is lost when the store's writer dies: SIGKILL the dashboard mid-incident, find every
// event of the run in the store exactly once.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeStore
import Foundation
import Testing

@Suite("Store durability", .serialized)
struct StoreDurabilityTests {
    /// The dashboard ingests run spools; it is SIGKILLed while an incident is still producing events, then
    /// restarted. Every event of the spool must be in the store once: none missing (the spool offset only
    /// moves with the insert, in one transaction) and none twice (UNIQUE (run_id, seq)).
    @Test(.timeLimit(.minutes(1)))
    func sigkilledWriterLosesNothingAndDuplicatesNothing() throws {
        let ff = try Supervised(["--shadow-mode", "--max-cpu", "30"] + fast + ["--"] + spinningWorker)
        defer { ff.signal(SIGKILL) }
        let state = ff.dir + "/state"
        let port = 21_000 + Int(getpid() % 5000)
        func startDashboard() throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
            p.arguments = ["dashboard", "--listen", "127.0.0.1:\(port)"]
            p.environment = ProcessInfo.processInfo.environment.merging(["FLOWFORGE_STATE_DIR": state]) { _, b in b }
            let log = state + "/dashboard-test.log"
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let handle = FileHandle(forWritingAtPath: log)
            handle?.seekToEndOfFile()
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            return p
        }
        let spools = { (try? FileManager.default.contentsOfDirectory(atPath: state + "/runs"))?.filter { $0.hasSuffix(".jsonl") } ?? [] }
        #expect(eventually(timeout: 20) {
            spools().first.map { (try? String(contentsOfFile: state + "/runs/" + $0, encoding: .utf8))?.contains("incident.opened") == true } ?? false
        })
        let first = try startDashboard()
        usleep(1_500_000) // it ingests once a second, while the worker keeps producing samples
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        usleep(1_000_000) // more events arrive while no writer runs
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        let second = try startDashboard()
        defer { kill(second.processIdentifier, SIGTERM); second.waitUntilExit() }
        let spool = try #require(spools().first)
        let lines = try String(contentsOfFile: state + "/runs/" + spool, encoding: .utf8).split(separator: "\n")
        let seqs = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int }
        #expect(seqs.count == lines.count && Set(seqs).count == seqs.count, "the spool numbers every event once")
        let store = try Store(path: state + "/flowforge.db")
        #expect(eventually(timeout: 10) { (try? store.eventCount()) == lines.count },
                "store has \((try? store.eventCount()) ?? -1) of \(lines.count) events; dashboard log: \((try? String(contentsOfFile: state + "/dashboard-test.log", encoding: .utf8)) ?? "")")
        // Ingesting the same spool again changes nothing.
        _ = try store.ingest(spool: state + "/runs/" + spool)
        #expect(try store.eventCount() == lines.count)
        let incident = try #require(try store.incidents(limit: 10, before: nil).first)
        let chain = try #require(try store.chain(incident: incident.id))
        #expect(chain.contains { $0.kind == "incident.opened" } && chain.contains { $0.kind == "policy.decision" })
    }

    /// A spool larger than the ingest chunk (1 MiB) is ingested a chunk at a time: every event exactly once,
    /// a line longer than a chunk skipped, a half-written last line left for the next pass.
    @Test(.timeLimit(.minutes(1)))
    func largeSpoolsAreIngestedInChunks() throws {
        let dir = NSTemporaryDirectory() + "ff-chunks-\(getpid())"
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
