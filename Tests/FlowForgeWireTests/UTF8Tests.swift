// FlowForge — strict UTF-8 acceptance and rejection on the wire
// SPDX-License-Identifier: Apache-2.0

import FlowForgeWire
import Testing

/// A byte sequence placed inside a `stopping` reason.
struct UTF8Case: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    var testDescription: String { name }
    init(_ name: String, _ bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

let invalidUTF8Cases: [UTF8Case] = [
    UTF8Case("overlong NUL C0 80", [0xC0, 0x80]),
    UTF8Case("overlong '/' C0 AF", [0xC0, 0xAF]),
    UTF8Case("overlong C1 BF", [0xC1, 0xBF]),
    UTF8Case("overlong 3-byte E0 80 AF", [0xE0, 0x80, 0xAF]),
    UTF8Case("overlong 3-byte E0 9F BF", [0xE0, 0x9F, 0xBF]),
    UTF8Case("overlong 4-byte F0 80 80 AF", [0xF0, 0x80, 0x80, 0xAF]),
    UTF8Case("overlong 4-byte F0 8F BF BF", [0xF0, 0x8F, 0xBF, 0xBF]),
    UTF8Case("high surrogate ED A0 80", [0xED, 0xA0, 0x80]),
    UTF8Case("low surrogate ED BF BF", [0xED, 0xBF, 0xBF]),
    UTF8Case("surrogate pair as CESU-8", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
    UTF8Case("above U+10FFFF F4 90 80 80", [0xF4, 0x90, 0x80, 0x80]),
    UTF8Case("lead F5", [0xF5, 0x80, 0x80, 0x80]),
    UTF8Case("lead FF", [0xFF]),
    UTF8Case("lead FE", [0x61, 0xFE, 0x61]),
    UTF8Case("lone continuation 80", [0x80]),
    UTF8Case("continuation after ASCII", [0x61, 0x62, 0xBF]),
    UTF8Case("truncated 2-byte at end", [0x61, 0xC3]),
    UTF8Case("truncated 3-byte at end", [0xE2, 0x82]),
    UTF8Case("truncated 4-byte at end", [0xF0, 0x9F, 0x98]),
    UTF8Case("truncated 3-byte mid-string", [0xE2, 0x82, 0x61]),
    UTF8Case("truncated 4-byte mid-string", [0xF0, 0x9F, 0x61, 0x61]),
    UTF8Case("bad byte after 8 ASCII", Array("abcdefgh".utf8) + [0x80]),
    UTF8Case("bad byte after 16 ASCII", Array("abcdefghijklmnop".utf8) + [0xC0, 0x80] + Array("qrstuvwx".utf8)),
]

let validUTF8Cases: [UTF8Case] = [
    UTF8Case("empty", []),
    UTF8Case("NUL", [0x00]),
    UTF8Case("U+007F", [0x7F]),
    UTF8Case("U+0080", [0xC2, 0x80]),
    UTF8Case("U+07FF", [0xDF, 0xBF]),
    UTF8Case("U+0800", [0xE0, 0xA0, 0x80]),
    UTF8Case("U+D7FF", [0xED, 0x9F, 0xBF]),
    UTF8Case("U+E000", [0xEE, 0x80, 0x80]),
    UTF8Case("U+FFFD", [0xEF, 0xBF, 0xBD]),
    UTF8Case("U+FFFF", [0xEF, 0xBF, 0xBF]),
    UTF8Case("U+10000", [0xF0, 0x90, 0x80, 0x80]),
    UTF8Case("U+10FFFF", [0xF4, 0x8F, 0xBF, 0xBF]),
    UTF8Case("BOM kept", [0xEF, 0xBB, 0xBF, 0x61]),
    UTF8Case("mixed long", Array("abcdefgh€😀ijklmnop é\u{0}xyz".utf8)),
]

@Suite("UTF-8")
struct UTF8Tests {
    @Test("invalid UTF-8 is rejected, not repaired", arguments: invalidUTF8Cases)
    func rejects(_ c: UTF8Case) {
        #expect(decodeMessage(frame(11, wireString(c.bytes))) == .failure(WireError(.invalidUTF8)))
        #expect(decodeSpawner(frame(98, be32(0) + wireString(c.bytes))) == .failure(WireError(.invalidUTF8)))
    }

    @Test("valid UTF-8 decodes byte for byte", arguments: validUTF8Cases)
    func accepts(_ c: UTF8Case) throws {
        let bytes = frame(11, wireString(c.bytes))
        let message = try Message.decode(bytes)
        guard case .stopping(let reason) = message else {
            Issue.record("decoded \(message)")
            return
        }
        #expect(Array(reason.utf8) == c.bytes)
        #expect(message.encode() == bytes)
    }

    @Test("agrees with the standard library's strict validation on random bytes")
    func agreesWithStandardLibrary() {
        guard #available(macOS 15, *) else { return }  // String(validating:as:)
        var rng = SplitMix64(seed: 0x5EED_0001)
        // Bytes biased towards lead/continuation boundaries.
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var accepted = 0
        for iteration in 0..<30_000 {
            let count = rng.below(14)
            let bytes = (0..<count).map { _ in rng.chance(3, in: 4) ? rng.pick(interesting) : rng.byte() }
            let expected = String(validating: bytes, as: UTF8.self)
            let result = decodeMessage(frame(11, wireString(bytes)))
            switch (expected, result) {
            case (let string?, .success(.stopping(let reason))):
                #expect(reason == string)
                accepted += 1
            case (nil, .failure(WireError(.invalidUTF8))):
                break
            default:
                Issue.record("iteration \(iteration): stdlib \(String(describing: expected)) vs wire \(result) for \(hex(bytes))")
                return
            }
        }
        #expect(accepted > 1000)
    }

    @Test("truncatedUTF8 cuts at a scalar boundary")
    func truncation() {
        #expect(Wire.truncatedUTF8("€€", maxBytes: 6) == "€€")
        #expect(Wire.truncatedUTF8("€€", maxBytes: 5) == "€")
        #expect(Wire.truncatedUTF8("€€", maxBytes: 4) == "€")
        #expect(Wire.truncatedUTF8("€€", maxBytes: 3) == "€")
        #expect(Wire.truncatedUTF8("€€", maxBytes: 2) == "")
        #expect(Wire.truncatedUTF8("a😀", maxBytes: 4) == "a")
        #expect(Wire.truncatedUTF8("a😀", maxBytes: 5) == "a😀")
        #expect(Wire.truncatedUTF8("abc", maxBytes: 0) == "")
        #expect(Wire.truncatedUTF8("abc", maxBytes: -1) == "")
    }
}
