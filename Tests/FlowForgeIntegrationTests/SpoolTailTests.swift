// FlowForge — a restarted API agent reads only the newest part of its run's spool, line by line.
// SPDX-License-Identifier: Apache-2.0
@testable import FlowForgeAPI
import Foundation
import Testing

@Suite struct SpoolTailTests {
    private func lines(of text: String, window: Int = SpoolTail.window) throws -> [String] {
        let path = NSTemporaryDirectory() + "ff-spooltail-\(UUID().uuidString.prefix(8))"
        defer { unlink(path) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        var out: [String] = []
        SpoolTail.read(fd: open(path, O_RDONLY), window: window) { out.append(String($0)) }
        return out
    }

    @Test func completeLinesOnly() throws {
        #expect(try lines(of: "a\nbb\nccc\n") == ["a", "bb", "ccc"])
        #expect(try lines(of: "a\nbb\nccc") == ["a", "bb"], "the line the reaper is still writing waits")
        #expect(try lines(of: "") == [])
        #expect(try lines(of: "\n\n") == ["", ""])
    }

    @Test func windowStartsAtALineBoundary() throws {
        // 10 lines of 10 bytes; a 35-byte window starts inside line 7: lines 8 to 10 only.
        let text = (1...10).map { String(format: "line %04d", $0) + "\n" }.joined()
        #expect(try lines(of: text, window: 35) == ["line 0008", "line 0009", "line 0010"])
        #expect(try lines(of: text, window: 30) == ["line 0009", "line 0010"], "a window that starts on a boundary skips one line more: it cannot know")
    }

    @Test func linesAcrossChunksAndOverlongLines() throws {
        let long = String(repeating: "x", count: SpoolTail.chunk * 3 + 17)
        #expect(try lines(of: "a\n" + long + "\nb\n") == ["a", long, "b"])
        let tooLong = String(repeating: "y", count: SpoolTail.maxLine + 1)
        #expect(try lines(of: "a\n" + tooLong + "\nb\n") == ["a", "b"])
    }

    /// A spool far larger than the window is read in bounded memory and time: only the window's lines.
    @Test func aLargeSpoolIsReadFromItsTail() throws {
        let path = NSTemporaryDirectory() + "ff-spooltail-big-\(UUID().uuidString.prefix(8))"
        defer { unlink(path) }
        let line = Data((String(repeating: "e", count: 99) + "\n").utf8)
        let block = Data(Array(repeating: line, count: 10_000).joined()) // 1 MB
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        for _ in 0..<8 { handle.write(block) }
        try handle.close()
        var count = 0
        SpoolTail.read(fd: open(path, O_RDONLY), window: 1_000_000) { _ in count += 1 }
        #expect(count == 9_999, "one window's worth of lines, less the partial first one")
    }
}

/// Lines of a spool that are not events cost the dashboard nothing but a count: it stays up, and
/// `/metrics` says how many it skipped.
@Suite struct SkippedSpoolLineMetricTests {
    @Test(.timeLimit(.minutes(1)))
    func dashboardCountsSkippedLines() throws {
        let good = #"{"ts":"2026-11-30T01:00:00.000000Z","run_id":"r-skip","generation":1,"kind":"sample","seq":1,"fields":{}}"#
        let dashboard = try Dashboard(options: []) { runs in
            let text = [good, "not json", #"{"ts":"2026-11-30T01:00:00Z","run_id":"r-skip","generation":-1,"kind":"sample","seq":2,"fields":{}}"#].joined(separator: "\n") + "\n"
            try text.write(toFile: runs + "/r-skip.jsonl", atomically: true, encoding: .utf8)
        }
        let metrics = try dashboard.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("flowforge_spool_lines_skipped_total 2"), "\(metrics.text)")
        #expect(try dashboard.get("/healthz").status == 200)
    }
}
