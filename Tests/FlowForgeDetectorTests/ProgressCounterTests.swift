// FlowForge — progress counters: which `N/M` tokens count, and which runs of them are progress.
// SPDX-License-Identifier: Apache-2.0
@testable import FlowForgeDetector
import Testing

@Suite struct ProgressCounterTests {
    @Test(arguments: [
        ("loaded chunk 17/160 (71.4 MB) in 100ms", ProgressCounter(done: 17, total: 160)),
        ("[3/12] Compiling parser.swift", ProgressCounter(done: 3, total: 12)),
        ("step 4/10: calling tool", ProgressCounter(done: 4, total: 10)),
        ("0/5 done", ProgressCounter(done: 0, total: 5)),
        ("5/5", ProgressCounter(done: 5, total: 5)),
        ("date 2024/05/01 then 7/9", ProgressCounter(done: 7, total: 9)),
    ])
    func counters(_ line: String, _ expected: ProgressCounter) {
        #expect(ProgressCounter.find(in: line) == expected)
    }

    @Test(arguments: [
        "no numbers here", "path invoices/2024/report.pdf", "date 2024/05/01", "ratio 1/3.0", "v1/2", "6/5 over",
        "divide 5/0", "a/b", "10/Oct/2000:13:55:36", "1234567890123/9999999999999", "x 3/ y", "3 /4",
    ])
    func notCounters(_ line: String) {
        #expect(ProgressCounter.find(in: line) == nil)
    }

    private func progressLines(_ lines: [String]) -> Int {
        let n = LineNormalizer()
        return OutputSignals(lines: lines.map { (shape: n.normalize($0), structured: false, progress: ProgressCounter.find(in: $0)) })
            .progressCount
    }

    @Test func anAdvancingCounterIsProgress() {
        let lines = (1...160).map { "loaded chunk \($0)/160 (\(Double($0) * 4.2) MB) in \(90 + $0 % 20)ms" }
        #expect(progressLines(lines) == 160)
        // Repeated values are fine (two lines per chunk), as long as it never goes back.
        #expect(progressLines((2...100).map { "chunk \($0 / 2)/50 written" }) == 99)
    }

    @Test func aStuckOrCyclingCounterIsNot() {
        #expect(progressLines(Array(repeating: "step 3/10: retrying tool call search(query=TODO)", count: 100)) == 0)
        let retries = (0..<100).map { "attempt \($0 % 5 + 1)/5 failed: connection refused" }
        #expect(progressLines(retries) == 0)
        // One line of the shape without a counter spoils the shape.
        #expect(progressLines((1...50).map { "chunk \($0)/50" } + ["chunk done"]) == 50)
        #expect(progressLines((1...50).map { "item \($0)/50 ok" } + ["item 51/50 ok"]) == 0) // same shape, no counter
    }

    @Test func aCounterMayStartOverAfterALongCompletedStretch() {
        let file1 = (1...40).map { "loading: chunk \($0)/40" }
        let file2 = (1...30).map { "loading: chunk \($0)/95" }
        #expect(progressLines(file1 + file2) == 70)
        // Starting over before the total, or after a short stretch, is a loop.
        #expect(progressLines(Array((1...40).map { "chunk \($0)/80" }) + (1...10).map { "chunk \($0)/80" }) == 0)
        let shortRounds = (0..<60).map { "try \($0 % 10 + 1)/10" }
        #expect(progressLines(shortRounds) == 0)
    }
}

@Suite struct ProgressDecisionTests {
    /// The known false positive of the first pilot (scripts/profiles/progress_batch.py): a full-CPU ETL job
    /// whose progress lines differ only in numbers.
    @Test func fullCPUBatchJobPrintingProgressIsHealthy() throws {
        var s = Scenario()
        s.run(seconds: 16, cpuPercent: 100, linesPerSecond: 10) { i in
            "loaded chunk \(i + 1)/160 (\(Double(i + 1) * 4.2) MB) in \(100 + i % 7)ms"
        }
        let v = try s.verdict()
        #expect(!v.isRunaway, "\(v.reason)")
        #expect(v.reason.contains("progress lines (a counter advancing toward a fixed total) exempt"), "\(v.reason)")
    }

    @Test func fullCPURetryLoopWithAnAttemptCounterIsARunaway() throws {
        var s = Scenario()
        s.run(seconds: 30, cpuPercent: 100, linesPerSecond: 10) { i in "attempt \(i % 5 + 1)/5: tool call search(query=TODO) failed" }
        let v = try s.verdict()
        #expect(v.isRunaway, "\(v.reason)")
    }
}
