// FlowForge — tests for LineNormalizer's masks, whitespace and ANSI handling, and length cap.
// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import FlowForgeDetector

@Suite struct LineNormalizerTests {
    let n = LineNormalizer()

    @Test func varyingRetryLinesNormalizeEqual() {
        let a = n.normalize("attempt 1234 request_id=9f3a7c21 retrying after 250ms")
        let b = n.normalize("attempt 1235 request_id=0b44e1aa retrying after 500ms")
        #expect(a == b)
        #expect(a == "attempt <num> request_id=<var> retrying after <dur>")
    }

    @Test(arguments: [
        ("took 12ms", "took <dur>"), ("took 3.5s", "took <dur>"), ("took 250µs", "took <dur>"),
        ("took 1h30m", "took <dur>"), ("took 12 ms", "took <num> ms"),
        ("value 42 and 3.14", "value <num> and <num>"), ("v1.2.3", "v<num>"),
        ("item42 ready", "item<num> ready"), ("34% done", "<num>% done"),
    ])
    func numbersAndDurations(input: String, expected: String) {
        #expect(n.normalize(input) == expected)
    }

    @Test(arguments: [
        ("ptr 0x7ffd1a2b", "ptr <hex>"), ("ptr 0x1F", "ptr <hex>"), ("commit 3e9a0c1f77", "commit <hex>"),
        ("word facade stays", "word facade stays"), ("id deadbeef stays", "id deadbeef stays"),
        ("id=123456", "id=<num>"),
        ("job 123e4567-e89b-12d3-a456-426614174000 done", "job <uuid> done"),
        ("job F47AC10B-58CC-4372-A567-0E02B2C3D479", "job <uuid>"),
    ])
    func hexAndUUIDs(input: String, expected: String) {
        #expect(n.normalize(input) == expected)
    }

    @Test(arguments: [
        ("2024-05-01T12:34:56.789Z start", "<ts> start"),
        ("2024-05-01T12:34:56+02:00 start", "<ts> start"),
        ("2024-05-01 12:34:56,123 INFO x", "<ts> INFO x"),
        ("2024/05/01 12:34:56 go log", "<ts> go log"),
        ("on 2024-05-01 only", "on <ts> only"),
        ("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\"", "<ip> - - [<ts>] \"GET /\""),
        ("Oct  3 13:55:36 host sshd", "<ts> host sshd"),
        ("at 13:55:36.120 tick", "at <ts> tick"),
    ])
    func timestamps(input: String, expected: String) {
        #expect(n.normalize(input) == expected)
    }

    @Test func ipv4WithAndWithoutPort() {
        #expect(n.normalize("connect 10.0.12.7:5432 refused") == "connect <ip> refused")
        #expect(n.normalize("from 192.168.1.20") == "from <ip>")
    }

    @Test func whitespaceAndControlCollapse() {
        #expect(n.normalize("  a \t\t b   c  \r") == "a b c")
        #expect(n.normalize("") == "")
    }

    @Test func ansiEscapesAreStripped() {
        #expect(n.normalize("\u{1B}[1;31mERROR\u{1B}[0m disk full") == "ERROR disk full")
        #expect(n.normalize("\u{1B}]0;title\u{07}ready") == "ready")
        #expect(n.normalize("\u{1B}[2K\u{1B}[1Gprogress 5") == "progress <num>")
    }

    @Test func lengthIsCappedOnACharacterBoundary() {
        let small = LineNormalizer(maxBytes: 20)
        let out = small.normalize(String(repeating: "é", count: 100))
        #expect(out.utf8.count <= 20)
        #expect(out == String(repeating: "é", count: 10))
        #expect(n.normalize(String(repeating: "x", count: 5000)).utf8.count == 512)
    }

    @Test func invalidUTF8IsDecodedLossily() {
        let out = n.normalize(utf8: [0x61, 0xFF, 0x62])
        #expect(out == "a\u{FFFD}b")
    }
}
