// FlowForge — end-to-end detector scenarios: what must fire and what must not.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing
@testable import FlowForgeDetector

@Suite struct RunawayMustFireTests {
    @Test func exactRepeatsAtHighCPU() throws {
        var s = Scenario()
        s.run(seconds: 5, cpuPercent: 30, linesPerSecond: 4, line: Lines.progress)
        s.run(seconds: 15, cpuPercent: 97, linesPerSecond: 20) { _ in "ERROR upstream closed connection, retrying" }
        let v = try s.verdict()
        #expect(v.isRunaway)
        #expect(v.kind == .repetitiveOutput)
        #expect(v.confidence >= 0.95)
        #expect(v.reason.hasPrefix("runaway (repetitive output): CPU 97% for 15.0s (>= 85%); nothing new for "))
        #expect(v.reason.contains("records in a row repeat 1 record with the same values"))
        #expect(v.reason.contains("saying failure or retry, e.g. \"ERROR upstream closed connection, retrying\""))
        #expect(v.reason.contains("of 200 lines share a template (threshold 80%)"))
        #expect(v.reason.contains("entropy "))
        #expect(v.reason.contains("bits/char (healthy >= 2.5)"))
        #expect(v.reason.hasSuffix("confidence " + FixedDecimal.format(v.confidence, digits: 2)))
    }

    @Test func varyingRepeatsAtHighCPU() throws {
        var s = Scenario()
        s.run(seconds: 14, cpuPercent: 99, linesPerSecond: 10) { i in
            "attempt \(i) request_id=\(Lines.hex8(i)) retrying after \(i * 37 % 900 + 10)ms"
        }
        let v = try s.verdict()
        #expect(v.isRunaway)
        #expect(v.kind == .repetitiveOutput)
        #expect(v.repetition > 0.95)
    }

    @Test func threeLineCycleAtHighCPU() throws {
        var s = Scenario()
        let loop = ["GET /api/v1/jobs/\u{1B}[33m%d\u{1B}[0m -> 503", "backing off for %dms", "reconnecting to broker at 10.0.0.%d:5672"]
        s.run(seconds: 16, cpuPercent: 95, linesPerSecond: 6) { i in
            loop[i % 3].replacingPercentD(with: i)
        }
        let v = try s.verdict()
        #expect(v.isRunaway)
        #expect(v.kind == .cycle)
        #expect(v.cycle?.period == 3)
        // Every attempt names another job and broker, so no record repeats with the same values; the
        // three-template cycle that asks to reconnect is a retry loop all the same.
        #expect(v.reason.contains("a retry loop: "))
    }

    @Test func silentSpinPastTheSilenceWindow() throws {
        var s = Scenario()
        s.run(seconds: 45, cpuPercent: 100)
        let v = try s.verdict()
        #expect(v.isRunaway)
        #expect(v.kind == .silentSpin)
        #expect(v.silenceSeconds == 45)
        #expect(v.reason.contains("no output for 45.0s (silence threshold 30.0s)"))
    }

    @Test func silentSpinAfterEarlierOutput() throws {
        var s = Scenario()
        s.run(seconds: 5, cpuPercent: 40, linesPerSecond: 5, line: Lines.compiler)
        s.run(seconds: 40, cpuPercent: 99)
        let v = try s.verdict()
        #expect(v.kind == .silentSpin)
    }

    @Test func multiProcessTreeOnTwoCores() throws {
        var s = Scenario()
        s.run(seconds: 20, cpuPercent: 190, linesPerSecond: 8) { i in "worker \(i % 2): queue empty, polling again" }
        let v = try s.verdict(cores: 2)
        #expect(v.isRunaway)
        #expect(abs(v.cpuPercent - 190) < 0.5)
        #expect(v.reason.contains("CPU 190% for 20.0s"))
        // A two-core threshold works too, and is still exceeded.
        #expect(try s.verdict(DetectionThresholds(maxCPU: 170), cores: 2).isRunaway)
    }

    @Test func repeatedJSONEventWithSameKeysIsNotExempt() throws {
        var s = Scenario()
        s.run(seconds: 15, cpuPercent: 98, linesPerSecond: 10) { i in
            #"{"level":"error","msg":"lock busy","attempt":\#(i),"ts":"2024-05-01T10:00:\#(i % 50 + 10)Z"}"#
        }
        let v = try s.verdict()
        #expect(v.isRunaway)
        #expect(v.kind == .repetitiveOutput)
    }

}
@Suite struct RunawayMustNotFireTests {
    let loopLine = "ERROR upstream closed connection, retrying"

    /// Low entropy alone is not a loop: a growing bar of dots says something new every line. (It used to be
    /// a rule on its own; entropy now only adds confidence to a loop found by sameness.)
    @Test func lowEntropyOutputAtHighCPU() throws {
        var s = Scenario()
        s.run(seconds: 15, cpuPercent: 98, linesPerSecond: 5) { i in String(repeating: ".", count: 10 + i) + "=" }
        let v = try s.verdict()
        #expect(!v.isRunaway, "\(v.reason)")
        #expect(v.entropy < 1)
        #expect(v.repetition == 0)
    }

    /// A queue consumer logging one templated line per job (issue 9's first example): new job ids and an
    /// advancing total are progress, however alike the lines look.
    @Test func templatedConsumerAtFullCPU() throws {
        var s = Scenario()
        s.run(seconds: 40, cpuPercent: 100, linesPerSecond: 10) { i in
            "INFO consumer-3 processed job \(Lines.hex8(i))e2b7 (\(i % 17 + 3) items, \(i * 131 % 9000)B) in \(i % 90 + 5)ms; acked, total=\(141 + i)"
        }
        let v = try s.verdict()
        #expect(!v.isRunaway, "\(v.reason)")
        #expect(v.reason.contains("the newest record carries new values: progress"), "\(v.reason)")
    }

    /// The same line with completion words, nothing else changing, is a worker reporting work done.
    @Test func repeatedCompletionLineIsProgress() throws {
        var s = Scenario()
        s.run(seconds: 30, cpuPercent: 100, linesPerSecond: 10) { _ in "batch processed; acked" }
        let v = try s.verdict()
        #expect(!v.isRunaway, "\(v.reason)")
        #expect(v.reason.contains("but they report completed work: progress"), "\(v.reason)")
    }

    @Test func shortCPUBursts() throws {
        var s = Scenario()
        for _ in 0..<6 {
            s.run(seconds: 6, cpuPercent: 100, linesPerSecond: 10) { _ in loopLine }
            s.run(seconds: 3, cpuPercent: 15, linesPerSecond: 10) { _ in loopLine }
        }
        s.run(seconds: 8, cpuPercent: 100, linesPerSecond: 10) { _ in loopLine }
        let v = try s.verdict()
        #expect(!v.isRunaway)
        #expect(v.kind == .healthy)
        #expect(v.confidence == 0)
        #expect(v.reason.hasPrefix("healthy: CPU 100% for 8.0s (>= 85% needed for 10.0s)"))
    }

    @Test func startupCompile() throws {
        var s = Scenario()
        s.run(seconds: 60, cpuPercent: 180, linesPerSecond: 3, line: Lines.compiler)
        let v = try s.verdict(cores: 2)
        #expect(!v.isRunaway)
        #expect(v.repetition < 0.2)
        #expect(v.entropy > 2.5)
    }

    @Test func oneTimeSpike() throws {
        var s = Scenario()
        s.run(seconds: 20, cpuPercent: 5, linesPerSecond: 2) { _ in loopLine }
        s.run(seconds: 1, cpuPercent: 400, linesPerSecond: 2) { _ in loopLine }
        s.run(seconds: 20, cpuPercent: 5, linesPerSecond: 2) { _ in loopLine }
        let v = try s.verdict(cores: 4)
        #expect(!v.isRunaway)
        #expect(s.cpu.peak(overSeconds: 30) == 400)
    }

    @Test func sustainedCPUWithVariedInformativeOutput() throws {
        var s = Scenario()
        s.run(seconds: 120, cpuPercent: 99, linesPerSecond: 5, line: Lines.progress)
        let v = try s.verdict()
        #expect(!v.isRunaway)
        #expect(v.kind == .healthy)
        #expect(v.repetition < 0.2)
        #expect(v.cycle == nil)
    }

    @Test func repetitiveHeartbeatAtLowCPU() throws {
        var s = Scenario()
        s.run(seconds: 300, cpuPercent: 2, linesPerSecond: 1) { i in "heartbeat ok seq=\(i) at 2024-05-01T10:00:00Z" }
        let v = try s.verdict()
        #expect(!v.isRunaway)
        #expect(v.repetition >= 0.9)
        #expect(v.reason.hasPrefix("healthy: CPU 2% (below 85%)"))
    }

    @Test func tableDumpAtHighCPU() throws {
        var s = Scenario()
        s.run(seconds: 30, cpuPercent: 98, linesPerSecond: 20) { i in
            i % 50 == 0 ? "+-------+--------+----------+" : "| \(i) | \(Double(i) / 8) | 0x\(String(i * 977, radix: 16)) |"
        }
        let v = try s.verdict()
        #expect(!v.isRunaway)
        #expect(v.reason.contains("structured line"))
    }

    /// JSON records are compared field by field: a dump of measurements repeats its templates (a 3-line
    /// cycle of shapes) but every record carries new values.
    @Test func jsonRecordsDumpWithVaryingKeysAtHighCPU() throws {
        let shapes = [#"{"id":%d,"cpu":%d}"#, #"{"id":%d,"mem":%d,"swap":0}"#, #"{"id":%d,"disk":"sda","iops":%d}"#]
        var s = Scenario()
        s.run(seconds: 30, cpuPercent: 98, linesPerSecond: 20) { i in
            shapes[i % 3].replacingPercentD(with: i).replacingOccurrences(of: ":\(i)}", with: ":\(i * 7919 % 1013)}")
        }
        let v = try s.verdict()
        #expect(!v.isRunaway, "\(v.reason)")
        #expect(OutputCycle.detect(in: s.window.entries.map(\.shape))?.period == 3)
    }

    /// The same JSON event with the same values (timestamps and step counters aside) is a loop.
    @Test func jsonAgentLoopIsARunaway() throws {
        var s = Scenario()
        s.run(seconds: 14, cpuPercent: 99, linesPerSecond: 10) { i in
            i % 2 == 0
                ? #"{"ts": 17650000\#(i).25, "step": \#(i / 2), "type": "tool_call", "name": "read_file", "args": {"path": "src/app.yaml"}}"#
                : #"{"ts": 17650000\#(i).75, "step": \#(i / 2), "type": "observation", "error": "FileNotFoundError: src/app.yaml"}"#
        }
        let v = try s.verdict()
        #expect(v.isRunaway, "\(v.reason)")
        #expect(v.kind == .cycle)
        #expect(v.reason.contains("repeat 2 records in a 2-record cycle with the same values"), "\(v.reason)")
    }

    @Test func silenceShorterThanTheWindow() throws {
        var s = Scenario()
        s.run(seconds: 25, cpuPercent: 100)
        let v = try s.verdict()
        #expect(!v.isRunaway)
        #expect(v.reason.contains("0 lines of output (text signals need 20)"))
    }

    @Test func staleRepetitionBeforeTheHighCPURunIsIgnored() throws {
        var s = Scenario()
        s.run(seconds: 10, cpuPercent: 20, linesPerSecond: 20) { _ in "loading shard" }
        s.run(seconds: 15, cpuPercent: 100, linesPerSecond: 4, line: Lines.progress)
        #expect(try !s.verdict().isRunaway)
    }
}

@Suite struct ConfidenceTests {
    @Test func confidenceGrowsWithDurationAndCPUMargin() throws {
        var s = Scenario()
        s.run(seconds: 11, cpuPercent: 88, linesPerSecond: 10) { _ in "spin" }
        let early = try s.verdict()
        s.run(seconds: 4, cpuPercent: 88, linesPerSecond: 10) { _ in "spin" }
        let longer = try s.verdict()
        s.run(seconds: 10, cpuPercent: 120, linesPerSecond: 10) { _ in "spin" }
        let hotter = try s.verdict()
        #expect(early.confidence < longer.confidence)
        #expect(longer.confidence < hotter.confidence)
        #expect(hotter.confidence <= 1)
        #expect(early.isRunaway)
    }

    @Test func atTheThresholdsConfidenceIsBelowTheDefaultMinimum() throws {
        var s = Scenario()
        // Exactly 80% repetition (3 fresh lines, 17 copies of one line) with CPU right at 85% for 10 s.
        s.run(seconds: 10, cpuPercent: 85, linesPerSecond: 2) { i in i % 7 == 3 ? "fresh \(Lines.word(i))" : "again" }
        let v = try s.verdict()
        #expect(!v.isRunaway)
        #expect(v.kind == .healthy)
        #expect(abs(v.repetition - 0.8) < 1e-9)
        #expect(abs(v.confidence - 0.75) < 0.02) // 85% of the lines ask to retry ("again"): a little past the threshold
        #expect(v.reason.hasPrefix("suspect, not acted on: "))
        #expect(v.reason.contains("below required 0.80"))
        #expect(try s.verdict(DetectionThresholds(minConfidence: 0.7)).isRunaway)
    }
}

extension String {
    /// Replaces each `%d` with `value` (no Foundation formatting needed).
    func replacingPercentD(with value: Int) -> String {
        split(separator: "%d", omittingEmptySubsequences: false).joined(separator: String(value))
    }
}
