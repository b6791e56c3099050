// FlowForge — every WireError code provoked by a crafted frame
// SPDX-License-Identifier: Apache-2.0

import FlowForgeWire
import Testing

/// A crafted input, which decoder it goes to, and the exact error expected.
struct BadFrame: Sendable, CustomTestStringConvertible {
    enum Family: Sendable { case message, spawner }

    let name: String
    let family: Family
    let bytes: [UInt8]
    let expected: WireError.Code

    init(_ name: String, _ family: Family, _ bytes: [UInt8], _ expected: WireError.Code) {
        self.name = name
        self.family = family
        self.bytes = bytes
        self.expected = expected
    }

    var testDescription: String { name }

    func decode() -> WireError? {
        switch family {
        case .message:
            if case .failure(let error) = decodeMessage(bytes) { return error }
        case .spawner:
            if case .failure(let error) = decodeSpawner(bytes) { return error }
        }
        return nil
    }
}

let helloPayload: [UInt8] = [1] + be32(42)
let validHello = frame(1, helloPayload)

let badFrames: [BadFrame] = [
    // truncated
    BadFrame("empty buffer", .message, [], .truncated),
    BadFrame("header cut at 7 bytes", .message, Array(validHello.prefix(7)), .truncated),
    BadFrame("payload shorter than declared", .message, Array(validHello.dropLast()), .truncated),
    BadFrame("hello payload field cut", .message, frame(1, [1, 0, 0, 0]), .truncated),
    BadFrame("string bytes missing", .message, frame(11, be16(10) + Array("abc".utf8)), .truncated),
    BadFrame("output bytes missing", .message, frame(6, be32(1) + [1] + be32(100) + [UInt8](repeating: 0, count: 10)), .truncated),
    BadFrame("output byte count 0xFFFFFFFF", .message, frame(6, be32(1) + [1] + be32(.max)), .truncated),
    BadFrame("event field missing", .message, frame(10, wireString("k") + be32(0) + be64(0) + be16(2) + wireString("a") + wireString("b")), .truncated),
    BadFrame("scan pids missing", .spawner, frame(97, be16(3) + be32(1) + be32(2)), .truncated),
    BadFrame("spawned without flag", .spawner, frame(96, be32(7)), .truncated),
    // trailingBytes
    BadFrame("byte after the frame", .message, validHello + [0], .trailingBytes),
    BadFrame("heartbeat with a payload byte", .message, frame(3, [0]), .trailingBytes),
    BadFrame("hello with an extra payload byte", .message, frame(1, helloPayload + [0]), .trailingBytes),
    BadFrame("finish with a payload byte", .spawner, frame(68, [0]), .trailingBytes),
    BadFrame("spawned with an extra byte", .spawner, frame(96, be32(7) + [1, 1]), .trailingBytes),
    // badMagic
    BadFrame("magic FG", .message, frame(1, helloPayload, magic: [0x46, 0x47]), .badMagic),
    BadFrame("magic zero", .spawner, frame(66, magic: [0, 0]), .badMagic),
    BadFrame("magic swapped case", .message, frame(3, magic: [0x66, 0x66]), .badMagic),
    // unsupportedVersion
    BadFrame("version 0", .message, frame(3, version: 0), .unsupportedVersion(0)),
    BadFrame("version 2", .spawner, frame(66, version: 2), .unsupportedVersion(2)),
    BadFrame("version 255", .message, frame(1, helloPayload, version: 255), .unsupportedVersion(255)),
    // oversized
    BadFrame("length one over the max", .message, frame(6, length: UInt32(Wire.maxPayloadSize + 1)), .oversized(Wire.maxFrameSize + 1)),
    BadFrame("length 0xFFFFFFFF", .spawner, frame(97, length: .max), .oversized(Int(UInt32.max) + Wire.headerSize)),
    BadFrame("oversized with full buffer", .message,
             frame(6, [UInt8](repeating: 0, count: Wire.maxPayloadSize + 1)), .oversized(Wire.maxFrameSize + 1)),
    // unknownType
    BadFrame("message type 0", .message, frame(0), .unknownType(0)),
    BadFrame("message type 13", .message, frame(13), .unknownType(13)),
    BadFrame("message type 63", .message, frame(63), .unknownType(63)),
    BadFrame("message type 255", .message, frame(255), .unknownType(255)),
    BadFrame("spawner frame to Message", .message, SpawnerMessage.scan.encode(), .unknownType(66)),
    BadFrame("spawner type 0", .spawner, frame(0), .unknownType(0)),
    BadFrame("spawner type 71", .spawner, frame(71), .unknownType(71)),
    BadFrame("spawner type 101", .spawner, frame(101), .unknownType(101)),
    BadFrame("spawner type 128", .spawner, frame(128), .unknownType(128)),
    BadFrame("Message frame to spawner", .spawner, Message.heartbeat.encode(), .unknownType(3)),
    // invalidValue
    BadFrame("hello role 0", .message, frame(1, [0] + be32(1)), .invalidValue("role")),
    BadFrame("hello role 3", .message, frame(1, [3] + be32(1)), .invalidValue("role")),
    BadFrame("exit kind 0", .message, frame(5, be32(1) + be32(2) + [0] + be32(0)), .invalidValue("exit.kind")),
    BadFrame("output stream 3", .message, frame(6, be32(1) + [3] + be32(0)), .invalidValue("stream")),
    BadFrame("action kind 3", .message, frame(8, be64(1) + [3] + be32(0) + wireString("")), .invalidValue("kind")),
    BadFrame("action outcome 0", .message, frame(9, be64(1) + [0] + wireString("")), .invalidValue("outcome")),
    BadFrame("event with 65 fields", .message, frame(10, wireString("k") + be32(0) + be64(0) + be16(65)), .invalidValue("fields")),
    BadFrame("spawnAgent role 9", .spawner, frame(65, [9]), .invalidValue("role")),
    BadFrame("spawned flag 2", .spawner, frame(96, be32(7) + [2]), .invalidValue("hasCgroup")),
    BadFrame("spawned flag 0xFF", .spawner, frame(96, be32(7) + [0xFF]), .invalidValue("hasCgroup")),
    BadFrame("scan with 16001 pids", .spawner, frame(97, be16(16001) + [UInt8](repeating: 0, count: 4 * 16001)), .invalidValue("pids")),
    // invalidUTF8
    BadFrame("stopping reason 0xFF", .message, frame(11, wireString([0x61, 0xFF])), .invalidUTF8),
    BadFrame("welcome runID lone continuation", .message, frame(2, wireString([0x80]) + be32(1) + be32(2) + be32(3)), .invalidUTF8),
    BadFrame("event field value surrogate", .message,
             frame(10, wireString("k") + be32(0) + be64(0) + be16(1) + wireString("key") + wireString([0xED, 0xA0, 0x80])), .invalidUTF8),
    BadFrame("failed detail overlong", .spawner, frame(98, be32(1) + wireString([0xC0, 0xAF])), .invalidUTF8),
    // stringTooLong
    BadFrame("stopping reason 4097 bytes", .message, frame(11, wireString([UInt8](repeating: 0x61, count: 4097))), .stringTooLong),
    BadFrame("string length 0xFFFF, bytes absent", .message, frame(11, be16(0xFFFF)), .stringTooLong),
    BadFrame("event kind 65 bytes", .message, frame(10, wireString([UInt8](repeating: 0x61, count: 65)) + be32(0) + be64(0) + be16(0)), .stringTooLong),
    BadFrame("event field key 65 bytes", .message,
             frame(10, wireString("k") + be32(0) + be64(0) + be16(1) + wireString([UInt8](repeating: 0x61, count: 65)) + wireString("v")), .stringTooLong),
    BadFrame("event field value 4097 bytes", .message,
             frame(10, wireString("k") + be32(0) + be64(0) + be16(1) + wireString("key") + wireString([UInt8](repeating: 0x61, count: 4097))), .stringTooLong),
    BadFrame("failed detail 4097 bytes", .spawner, frame(98, be32(1) + wireString([UInt8](repeating: 0x61, count: 4097))), .stringTooLong),
]

@Suite("Decoding errors")
struct ErrorTests {
    @Test("crafted frame fails with the exact code", arguments: badFrames)
    func craftedFrame(_ bad: BadFrame) {
        #expect(bad.decode() == WireError(bad.expected))
    }

    @Test("every error code is provoked by some crafted frame")
    func everyCodeCovered() {
        func tag(_ code: WireError.Code) -> String {
            switch code {
            case .truncated: "truncated"
            case .trailingBytes: "trailingBytes"
            case .badMagic: "badMagic"
            case .unsupportedVersion: "unsupportedVersion"
            case .oversized: "oversized"
            case .unknownType: "unknownType"
            case .invalidValue: "invalidValue"
            case .invalidUTF8: "invalidUTF8"
            case .stringTooLong: "stringTooLong"
            }
        }
        #expect(Set(badFrames.map { tag($0.expected) }).count == 9)
    }

    @Test("each family rejects every frame of the other with unknownType")
    func familiesAreDisjoint() throws {
        for message in try messageSamples() {
            #expect(decodeSpawner(message.encode()) == .failure(WireError(.unknownType(message.typeCode))))
        }
        for message in spawnerSamples {
            #expect(decodeMessage(message.encode()) == .failure(WireError(.unknownType(message.typeCode))))
        }
    }

    @Test("header checks come before type and payload checks")
    func checkOrder() {
        // Bad magic wins over a bad version, a bad version over an oversized length,
        // an oversized length over truncation, framing over an unknown type.
        #expect(decodeMessage(frame(0, magic: [0, 0], version: 9, length: .max)) == .failure(WireError(.badMagic)))
        #expect(decodeMessage(frame(0, version: 9, length: .max)) == .failure(WireError(.unsupportedVersion(9))))
        #expect(decodeMessage(frame(0, length: .max)) == .failure(WireError(.oversized(Int(UInt32.max) + 8))))
        #expect(decodeMessage(frame(0, length: 4)) == .failure(WireError(.truncated)))
        #expect(decodeMessage(frame(0) + [1]) == .failure(WireError(.trailingBytes)))
        #expect(decodeMessage(frame(0)) == .failure(WireError(.unknownType(0))))
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(WireError(.invalidValue("role")).description == "wire: invalid value for role")
        #expect(WireError(.oversized(70000)).description == "wire: oversized frame (70000 bytes)")
    }
}
