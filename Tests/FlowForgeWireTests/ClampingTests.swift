// FlowForge — bounds on the sending side: Event validation, validate() and encode() clamping
// SPDX-License-Identifier: Apache-2.0

import FlowForgeWire
import Testing

@Suite("Encoding bounds")
struct ClampingTests {
    @Test("Event's initializer enforces every bound")
    func eventValidation() throws {
        let long64 = String(repeating: "a", count: 64)
        let long65 = String(repeating: "a", count: 65)
        let nested: Event.Field = Field(key: long64, value: maxString)
        _ = try Event(kind: long64, generation: 0, wallNanos: 0, fields: [nested])
        #expect(throws: WireError(.stringTooLong)) { try Event(kind: long65, generation: 0, wallNanos: 0) }
        #expect(throws: WireError(.stringTooLong)) {
            try Event(kind: "k", generation: 0, wallNanos: 0, fields: [Field(key: long65, value: "")])
        }
        #expect(throws: WireError(.stringTooLong)) {
            try Event(kind: "k", generation: 0, wallNanos: 0, fields: [Field(key: "k", value: maxString + "a")])
        }
        let many = (0..<65).map { Field(key: "k\($0)", value: "") }
        #expect(throws: WireError(.invalidValue("fields"))) { try Event(kind: "k", generation: 0, wallNanos: 0, fields: many) }
        _ = try Event(kind: "k", generation: 0, wallNanos: 0, fields: Array(many.prefix(64)))
        // 64 fields of 1100-byte values: 17 + 64 * (4 + 1 + 1100) = 70737 payload bytes.
        let big = (0..<64).map { _ in Field(key: "k", value: String(repeating: "v", count: 1100)) }
        #expect(throws: WireError(.oversized(70737 + Wire.headerSize))) { try Event(kind: "k", generation: 0, wallNanos: 0, fields: big) }
    }

    @Test("validate() reports what encode() would clamp")
    func validate() throws {
        #expect(throws: WireError(.stringTooLong)) { try Message.stopping(reason: maxString + "x").validate() }
        #expect(throws: WireError(.stringTooLong)) {
            try Message.welcome(runID: maxString + "x", reaperPID: 1, workerPID: 0, generation: 0).validate()
        }
        #expect(throws: WireError(.stringTooLong)) {
            try Message.actionRequest(id: 1, kind: .kill, generation: 0, reason: maxString + "x").validate()
        }
        #expect(throws: WireError(.stringTooLong)) {
            try Message.actionResult(id: 1, outcome: .rejected, detail: maxString + "x").validate()
        }
        #expect(throws: WireError(.invalidValue("bytes"))) {
            try Message.output(generation: 1, stream: .stdout, bytes: [UInt8](repeating: 0, count: Message.maxOutputChunk + 1)).validate()
        }
        #expect(throws: WireError(.invalidValue("pids"))) {
            try SpawnerMessage.scanResult(pids: [UInt32](repeating: 1, count: SpawnerMessage.maxScanPIDs + 1)).validate()
        }
        #expect(throws: WireError(.stringTooLong)) { try SpawnerMessage.failed(errno: 1, detail: maxString + "x").validate() }
    }

    @Test("encode() clamps over-long values deterministically into a valid frame")
    func clamping() throws {
        // "ab" + 2000 × "€": the 4096-byte cut falls inside a "€", so 1364 of them survive.
        let long = "ab" + String(repeating: "€", count: 2000)
        let expected = "ab" + String(repeating: "€", count: 1364)
        #expect(try Message.decode(Message.stopping(reason: long).encode()) == .stopping(reason: expected))
        #expect(try Message.decode(Message.actionResult(id: 3, outcome: .completed, detail: long).encode())
                == .actionResult(id: 3, outcome: .completed, detail: expected))
        #expect(try SpawnerMessage.decode(SpawnerMessage.failed(errno: 2, detail: long).encode()) == .failed(errno: 2, detail: expected))
        #expect(Wire.truncatedUTF8(long, maxBytes: Wire.maxStringBytes) == expected)

        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        let output = Message.output(generation: 9, stream: .stderr, bytes: bytes).encode()
        #expect(output.count == Wire.maxFrameSize)
        #expect(try Message.decode(output) == .output(generation: 9, stream: .stderr, bytes: Array(bytes.prefix(Message.maxOutputChunk))))

        let pids = (0..<20_000).map { UInt32($0) }
        #expect(try SpawnerMessage.decode(SpawnerMessage.scanResult(pids: pids).encode())
                == .scanResult(pids: Array(pids.prefix(SpawnerMessage.maxScanPIDs))))
    }
}
