// FlowForge — a long run's spool is bounded: it rotates into segments at a size limit and the oldest are
// deleted while the run goes on; the dashboard's store ingests the segments in order.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeStore
import FlowForgeTestSupport
import Foundation
import Testing

@Suite("Spool rotation", .serialized)
struct SpoolRotationTests {
    @Test(.timeLimit(.minutes(1)))
    func liveRunRotatesAndPrunesItsSpool() throws {
        let state = NSTemporaryDirectory() + "ff-rotate-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let chatty = "i=0; while true; do i=$((i+1)); echo \"line $i with some words\"; sleep 0.005; done"
        let ff = try Supervised(["--spool-segment-mb", "0.01", "--spool-keep-segments", "2", "--sample-interval", "0.05",
                                 "--log-level", "warn", "--", "sh", "-c", chatty], env: ["FLOWFORGE_STATE_DIR": state])
        defer { ff.signal(SIGKILL) }
        let runs = state + "/runs"
        func spools() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).filter { $0.hasSuffix(".jsonl") } }
        var most = 0
        #expect(eventually(timeout: 30) {
            most = max(most, spools().count)
            return spools().contains { $0.hasSuffix(".5.jsonl") }
        }, "no fifth segment: \(spools())")
        ff.signal(SIGTERM)
        #expect(ff.waitForExit())
        #expect(ff.exitCode == 120)
        #expect(most <= 2, "more than --spool-keep-segments at once: \(most)")
        let names = spools().sorted()
        #expect(names.count == 2, "\(names)")
        #expect(!names.contains { $0.range(of: #"-[0-9a-f]{8}\.jsonl$"#, options: .regularExpression) != nil }, "segment 1 was pruned")
        // The kept segments hold a gapless tail of the run's events, ending with its end.
        let newest = names.max { (Int($0.split(separator: ".").dropLast().last ?? "") ?? 0) < (Int($1.split(separator: ".").dropLast().last ?? "") ?? 0) }!
        let older = names.first { $0 != newest }!
        let events = readEvents(runs + "/" + older) + readEvents(runs + "/" + newest)
        let seqs = events.compactMap { $0["seq"] as? Int }
        #expect(!seqs.isEmpty && seqs == Array(seqs[0]..<(seqs[0] + seqs.count)), "gaps or disorder in \(seqs)")
        #expect(seqs.first ?? 0 > 1, "older events were pruned")
        #expect(events.last?["kind"] as? String == "teardown.finished")
        for name in names {
            let size = (try FileManager.default.attributesOfItem(atPath: runs + "/" + name)[.size] as? NSNumber)?.intValue ?? 0
            #expect(size < 10_486 + 8_192, "\(name): \(size) bytes, segment limit 10 KiB plus one event")
            let mode = (try FileManager.default.attributesOfItem(atPath: runs + "/" + name)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode.map { $0 & 0o777 } == 0o600)
        }
        // The store ingests the segments in order, each event once.
        let store = try Store(path: state + "/flowforge.db")
        try store.ingest(runsDirectory: runs)
        try store.ingest(runsDirectory: runs)
        #expect(try store.eventCount() == events.count)
    }
}
