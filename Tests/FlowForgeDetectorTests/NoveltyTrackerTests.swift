// FlowForge — tests for what counts as new output: identities, counters, volatile keys, JSON fields.
// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import FlowForgeDetector

@Suite struct NoveltyTrackerTests {
    /// Which of `lines` the tracker calls new, in order.
    func novel(_ lines: [String]) -> [Bool] {
        var tracker = NoveltyTracker()
        let normalizer = LineNormalizer()
        return lines.map { tracker.observe(normalizer.analyze(JSONRecord.canonical($0) ?? $0)).novel }
    }

    func hex(_ i: Int, _ n: Int = 12) -> String {
        var x = UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15 | 1
        var s = ""
        for k in 0..<n {
            let d = Int(x & 0xF)
            x = x >> 4 | x << 60
            s.append(Array("0123456789abcdef")[k == 0 ? 10 + d % 6 : (k == 1 ? d % 10 : d)])
        }
        return s
    }

    @Test func exactRepeatsAreNotNew() {
        #expect(novel(Array(repeating: "calling tool search_docs(query='retry policy') again", count: 5))
            == [true, false, false, false, false])
    }

    @Test func countersTimestampsDurationsAndRequestIDsAreIgnored() {
        let lines = (0..<6).map { "2026-12-07 02:19:\(10 + $0),123 attempt \(1234 + $0) request_id=\(hex($0, 8)) retrying in \(100 * ($0 + 1) % 700)ms" }
        // The counter slot is part of the first identity only; from the second line on all are the same.
        #expect(novel(lines) == [true, true, false, false, false, false])
    }

    @Test func newIDsAndMeasurementsAreNew() {
        let consumer = (0..<5).map { "INFO consumer-3 processed job \(hex($0)) (\($0 % 3 + 10) items, 4410B) in 81ms; acked, total=\(141 + $0)" }
        #expect(novel(consumer).allSatisfy { $0 })
        let training = (0..<5).map { "epoch 2 step \(1340 + $0) loss=0.43\($0 * 7 % 10)\($0) grad_norm=1.9\($0) lr=2.9e-04" }
        #expect(novel(training).allSatisfy { $0 })
    }

    @Test func idsThatGrowIrregularlyAreNotCounters() {
        // Session ids and pids grow, but not by a fixed step: each one is new.
        let lines = [3054617, 3054622, 3054623, 3054640, 3054641].map { "Session: \($0) initialized by client WindowsUpdateAgent." }
        #expect(novel(lines).allSatisfy { $0 })
    }

    @Test func aRetryCounterThatStartsOverRepeats() {
        let lines = (0..<12).map { "attempt \($0 % 5 + 1)/5: fetch_document(id='doc-42') failed, retrying" }
        // 1/5 ... 5/5 look like a counter at first; once it starts over the slot counts, the second round
        // learns 2/5 ... 5/5, and from then on every attempt repeats.
        #expect(novel(lines) == [true, true, false, false, false, false, true, true, true, true, false, false])
    }

    @Test func jsonIsComparedFieldByField() {
        let call = { (step: Int, id: String) in
            #"{"ts": 17650000\#(step).5, "step": \#(step), "request_id": "\#(id)", "type": "tool_call", "name": "read_file", "args": {"path": "src/app.yaml"}}"#
        }
        #expect(novel((0..<4).map { call($0, hex($0)) }) == [true, false, false, false])
        // Key order does not matter.
        #expect(JSONRecord.canonical(#"{"b": 1, "a": {"y": [1, 2], "x": "s"}}"#) == "a.x=s a.y=[1,2] b=1")
        #expect(JSONRecord.canonical(#"{"msg": "order processed", "order_id": "ord_1", "ms": 61}"#)
            == "msg=order processed order_id=ord_1")
        let orders = (0..<4).map { #"{"ts": 1765000000.\#($0), "msg": "order processed", "order_id": "ord_\#(hex($0, 10))", "amount": 1\#($0).5}"# }
        #expect(novel(orders).allSatisfy { $0 })
    }

    @Test func notJSONIsLeftAlone() {
        #expect(JSONRecord.canonical("{not json}") == nil)
        #expect(JSONRecord.canonical(#"{"a": 1} trailing"#) == nil)
        #expect(JSONRecord.canonical(#"{"a": "unterminated}"#) == nil)
        #expect(JSONRecord.canonical("{}") == "")
        #expect(JSONRecord.canonical(String(repeating: "[", count: 40)) == nil)
        #expect(JSONRecord.canonical(#"{"a":"# + String(repeating: "{\"a\":", count: 20) + "1" + String(repeating: "}", count: 21)) == nil)
    }

    @Test func vocabulary() {
        #expect(Vocabulary.of("ERROR fetch failed: 503 Service Unavailable; retrying") == [.failure, .retry])
        #expect(Vocabulary.of("processed job 3f9a in 81ms; acked") == [.completion])
        #expect(Vocabulary.of("GET /index.html 200 5123") == [.completion])
        #expect(Vocabulary.of("error: file not found") == [.failure])
        #expect(Vocabulary.of("loaded 503ms of audio") == [.completion])
        #expect(Vocabulary.of("planner: thinking about the plan") == [])
        #expect(Vocabulary.of("ConnectionError: broker unavailable").contains(.failure))
    }

    @Test func recordsGroupATraceback() {
        var r = RecordAssembler()
        var out: [RecordAssembler.Record] = []
        let tb = ["Traceback (most recent call last):", "  File \"w.py\", line 4, in <module>", "    run()",
                  "ValueError: bad"]
        for (i, line) in (["starting"] + tb + tb + ["done"]).enumerated() { out += r.push(line, at: UInt64(i)) }
        out += r.flush(now: 100_000_000_000)
        #expect(out.map(\.lines) == [1, 4, 4, 1])
        #expect(out[1].text == tb.joined(separator: "\n"))
        // A traceback still being written is held at a flush; a plain line is not.
        var held = RecordAssembler()
        _ = held.push("Traceback (most recent call last):", at: 10)
        #expect(held.flush(now: 20).isEmpty)
        #expect(held.flush(now: 2_000_000_000).count == 1)
        // Java: the exception line then its frames.
        var java = RecordAssembler()
        var j: [RecordAssembler.Record] = []
        for line in ["java.io.IOException: refused", "\tat a.B.c(B.java:1)", "Caused by: x", "\tat d.E.f(E.java:2)", "next"] {
            j += java.push(line, at: 0)
        }
        #expect(j.map(\.lines) == [4])
    }
}
