// FlowForge — tests for OutputWindow signals: repetition, cycles, entropy, distinct lines, structure.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing
@testable import FlowForgeDetector

@Suite struct OutputWindowTests {
    func window(_ lines: [String], capacity: Int = 200) -> OutputWindow {
        var w = OutputWindow(capacity: capacity)
        for (i, line) in lines.enumerated() { w.append(line, at: UInt64(i + 1) * 1_000_000) }
        return w
    }

    @Test func entropyOfKnownStrings() {
        #expect(ShannonEntropy.bitsPerChar(of: "aaaa") == 0)
        #expect(abs(ShannonEntropy.bitsPerChar(of: "abab") - 1.0) < 1e-12)
        #expect(abs(ShannonEntropy.bitsPerChar(of: "abcd") - 2.0) < 1e-12)
        #expect(ShannonEntropy.bitsPerChar(of: "") == 0)
        // Window entropy is over the normalized text, without line breaks.
        #expect(window(["ab", "ba"]).entropyBitsPerChar == 1.0)
        #expect(window(["zzzz", "zz"]).entropyBitsPerChar == 0)
    }

    @Test func pureLog2MatchesFoundation() {
        for x in [1e-9, 0.001, 0.1, 0.25, 0.3333, 0.5, 0.999, 1, 2, 3, 1000, 123_456.789] {
            #expect(abs(PureMath.log2(x) - Foundation.log2(x)) < 1e-12)
        }
    }

    @Test func repetitionCountsLinesSeenEarlier() {
        let w = window(["a 1", "b", "a 2", "a 3"])
        #expect(w.repetitionRatio == 0.5)
        #expect(w.distinctLineRatio == 0.5)
        #expect(window(Array(repeating: "same", count: 200)).repetitionRatio == 199.0 / 200.0)
        #expect(window([]).repetitionRatio == 0)
    }

    @Test func windowKeepsOnlyTheLastNLines() {
        var lines = (0..<50).map { "unique \(Lines.word($0))" }
        lines += Array(repeating: "tail", count: 10)
        let w = window(lines, capacity: 10)
        #expect(w.lineCount == 10)
        #expect(w.repetitionRatio == 0.9)
        #expect(w.lastLineAt == 60_000_000)
        #expect(w.entries.first?.shape == "tail")
    }

    @Test func detectsSmallestCycle() {
        let loop = ["connect <num>", "refused", "sleep"]
        let lines = ["boot", "config loaded"] + (0..<30).map { loop[$0 % 3] }
        let cycle = window(lines).cycle
        #expect(cycle?.period == 3)
        #expect(cycle?.repetitions == 10)
        #expect(cycle?.lineCount == 30)
        #expect(cycle?.explainedFraction == 30.0 / 32.0)
        #expect(window(Array(repeating: "x", count: 5)).cycle?.period == 1)
    }

    @Test func cycleNeedsThreeRepetitions() {
        #expect(window(["a", "b", "a", "b"]).cycle == nil)
        #expect(window(["a", "b", "a", "b", "a", "b"]).cycle?.period == 2)
        #expect(window((0..<40).map { "line \(Lines.word($0))" }).cycle == nil)
    }

    @Test func tablesAreStructuredAndExempt() {
        var lines = ["| id | load | mem |", "|----|------|-----|"]
        lines += (0..<30).map { "| \($0) | \(Double($0) / 10) | \($0 * 64) |" }
        lines.append("+-----+------+")
        let w = window(lines)
        #expect(w.structuredFraction == 1.0)
        #expect(w.repetitionRatio == 0)
        #expect(w.signals().unstructuredCount == 0)
    }

    @Test func codeFencesAreStructured() {
        let lines = ["here is the code:", "```swift", "let x = 1", "let x = 1", "```", "done"]
        let s = window(lines).signals()
        #expect(s.unstructuredCount == 2)
        #expect(s.structuredFraction == 4.0 / 6.0)
    }

    /// JSON records used to be exempt when their key set changed, which hid JSON agent loops; they are now
    /// compared field by field (`JSONRecord`), and never structured.
    @Test func jsonRecordsAreNotStructured() {
        var c = StructureClassifier()
        #expect(c.isStructured(#"{"id": 1, "cpu": 2.5}"#) == false)
        #expect(c.isStructured(#"{"id": 2, "mem": {"rss": 1}}"#) == false)
        #expect(c.isStructured("plain text") == false)
    }

    @Test func signalsSinceFiltersByTime() {
        let w = window((0..<10).map { "varied \(Lines.word($0))" } + Array(repeating: "loop", count: 10))
        #expect(w.signals(since: 11_000_000).repetitionRatio == 0.9)
        #expect(w.signals().repetitionRatio == 0.45)
    }

    @Test func activityAndResetTrackSilence() {
        var w = OutputWindow(startedAt: 1_000_000_000)
        #expect(w.silenceSeconds(at: 4_000_000_000) == 3)
        w.noteActivity(at: 3_000_000_000)
        #expect(w.silenceSeconds(at: 4_000_000_000) == 1)
        w.append("x", at: 3_500_000_000)
        w.reset(at: 5_000_000_000)
        #expect(w.lineCount == 0 && w.lastLineAt == nil)
        #expect(w.silenceSeconds(at: 4_000_000_000) == 0)
    }
}
