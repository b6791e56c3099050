// FlowForge — tests for LineAssembler: chunk boundaries, CRLF, per-stream buffers, caps, lossy UTF-8.
// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import FlowForgeDetector

@Suite struct LineAssemblerTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func splitsLinesAcrossChunkBoundaries() {
        var a = LineAssembler()
        #expect(a.append(bytes("hel"), from: .stdout).isEmpty)
        #expect(a.append(bytes("lo\nwor"), from: .stdout).map(\.text) == ["hello"])
        #expect(a.append(bytes("ld\n\nx"), from: .stdout).map(\.text) == ["world", ""])
        #expect(a.pendingByteCount(.stdout) == 1)
        #expect(a.flush() == [AssembledLine(source: .stdout, text: "x", truncated: true)])
    }

    @Test func crlfIsStrippedEvenWhenSplit() {
        var a = LineAssembler()
        #expect(a.append(bytes("one\r\ntwo\r"), from: .stdout).map(\.text) == ["one"])
        #expect(a.append(bytes("\n"), from: .stdout).map(\.text) == ["two"])
    }

    @Test func streamsAreAssembledIndependently() {
        var a = LineAssembler()
        _ = a.append(bytes("out-"), from: .stdout)
        #expect(a.append(bytes("err\n"), from: .stderr) == [AssembledLine(source: .stderr, text: "err")])
        #expect(a.append(bytes("done\n"), from: .stdout) == [AssembledLine(source: .stdout, text: "out-done")])
    }

    @Test func acceptsArraySlices() {
        var a = LineAssembler()
        let chunk = bytes("xxabc\nyy")
        #expect(a.append(chunk[2...], from: .stdout).map(\.text) == ["abc"])
    }

    @Test func multiByteCharacterSplitAcrossChunksDecodesWhole() {
        var a = LineAssembler()
        let euro = bytes("€")  // E2 82 AC
        _ = a.append(euro[0..<1], from: .stdout)
        #expect(a.append(Array(euro[1...]) + [0x0A], from: .stdout).map(\.text) == ["€"])
    }

    @Test func invalidUTF8IsReplaced() {
        var a = LineAssembler()
        #expect(a.append([0x6F, 0xC3, 0x28, 0x0A], from: .stderr).map(\.text) == ["o\u{FFFD}("])
    }

    @Test func overlongPartialLineIsFlushedAtTheCap() {
        var a = LineAssembler(maxLineBytes: 10)
        let lines = a.append(bytes(String(repeating: "a", count: 25)), from: .stdout)
        #expect(lines.map(\.text) == [String(repeating: "a", count: 10), String(repeating: "a", count: 10)])
        #expect(lines.allSatisfy { $0.truncated })
        #expect(a.pendingByteCount(.stdout) == 5)
        #expect(a.append(bytes("\n"), from: .stdout).map(\.text) == ["aaaaa"])
    }

    @Test func capBacksUpToACharacterBoundary() {
        var a = LineAssembler(maxLineBytes: 10)
        // 9 ASCII bytes then "é" (2 bytes) straddles the cap at byte 10.
        let lines = a.append(bytes("123456789é\n"), from: .stdout)
        #expect(lines.map(\.text) == ["123456789", "é"])
    }

    @Test func resetDropsPartialLines() {
        var a = LineAssembler()
        _ = a.append(bytes("stale"), from: .stdout)
        a.reset()
        #expect(a.flush().isEmpty)
    }
}
