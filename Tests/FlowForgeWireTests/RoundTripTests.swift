// FlowForge — round-trip tests for every message of both families
// SPDX-License-Identifier: Apache-2.0

import FlowForgeWire
import Testing

@Suite("Round trips")
struct RoundTripTests {
    @Test("every Message case round-trips, boundary sizes included")
    func messageRoundTrip() throws {
        let samples = try messageSamples()
        #expect(Set(samples.map(\.typeCode)).count == 12, "a Message case has no sample")
        for message in samples {
            let bytes = message.encode()
            #expect(bytes.count <= Wire.maxFrameSize)
            #expect(try Message.decode(bytes) == message)
            #expect(try bytes.withUnsafeBytes { try Message.decode($0) } == message)
            #expect(try Message.decode(bytes[...]) == message)
            #expect(try Message.decode(bytes).encode() == bytes)
            try message.validate()
        }
    }

    @Test("every SpawnerMessage case round-trips, boundary sizes included")
    func spawnerRoundTrip() throws {
        #expect(Set(spawnerSamples.map(\.typeCode)).count == 12, "a SpawnerMessage case has no sample")
        for message in spawnerSamples {
            let bytes = message.encode()
            #expect(bytes.count <= Wire.maxFrameSize)
            #expect(try SpawnerMessage.decode(bytes) == message)
            #expect(try bytes.withUnsafeBytes { try SpawnerMessage.decode($0) } == message)
            #expect(try SpawnerMessage.decode(bytes[...]) == message)
            try message.validate()
        }
    }

    @Test("header layout: magic, version, type code, big-endian payload length")
    func headerLayout() throws {
        let bytes = Message.hello(role: .api, pid: 0x0102_0304).encode()
        #expect(bytes == [0x46, 0x46, 1, 1, 0, 0, 0, 5, 2, 1, 2, 3, 4])
        let header = try bytes.withUnsafeBytes { try FrameHeader.parse($0) }
        #expect(header.typeCode == 1)
        #expect(header.payloadLength == 5)
    }

    @Test("type codes are pinned: changing one is a protocol change")
    func pinnedTypeCodes() throws {
        let event = try Event(kind: "", generation: 0, wallNanos: 0)
        let messages: [(Message, UInt8)] = [
            (.hello(role: .api, pid: 0), 1), (.welcome(runID: "", reaperPID: 0, workerPID: 0, generation: 0), 2),
            (.heartbeat, 3), (.workerStarted(generation: 0, pid: 0, pgid: 0, startedAtNanos: 0), 4),
            (.workerExited(generation: 0, pid: 0, exit: ExitReport(kind: .exited, code: 0)), 5),
            (.output(generation: 0, stream: .stdout, bytes: []), 6), (.outputDropped(totalBytes: 0), 7),
            (.actionRequest(id: 0, kind: .kill, generation: 0, reason: ""), 8),
            (.actionResult(id: 0, outcome: .accepted, detail: ""), 9), (.event(event), 10),
            (.stopping(reason: ""), 11), (.testForbiddenSyscall, 12),
        ]
        for (message, code) in messages {
            #expect(message.typeCode == code)
            #expect(message.encode()[3] == code)
        }
        let spawner: [(SpawnerMessage, UInt8)] = [
            (.spawnWorker(generation: 0), 64), (.spawnAgent(role: .api), 65), (.scan, 66),
            (.removeCgroup(generation: 0), 67), (.finish, 68), (.spawned(pid: 0, hasCgroup: false), 96),
            (.scanResult(pids: []), 97), (.failed(errno: 0, detail: ""), 98),
        ]
        for (message, code) in spawner {
            #expect(message.typeCode == code)
            #expect(message.encode()[3] == code)
        }
        #expect([AgentRole.detector, .api].map(\.rawValue) == [1, 2])
        #expect([ExitKind.exited, .signaled].map(\.rawValue) == [1, 2])
        #expect([OutputStream.stdout, .stderr].map(\.rawValue) == [1, 2])
        #expect([ActionKind.restart, .kill].map(\.rawValue) == [1, 2])
        #expect([ActionOutcome.accepted, .rejected, .completed].map(\.rawValue) == [1, 2, 3])
    }

    @Test("largest output chunk, scan result and event fit the frame exactly as computed")
    func maximalFrames() throws {
        #expect(Message.maxOutputChunk == 65519)
        let output = Message.output(generation: 1, stream: .stderr, bytes: [UInt8](repeating: 0xAB, count: Message.maxOutputChunk))
        #expect(output.encode().count == Wire.maxFrameSize)
        #expect(try largestEvent().fields.count == 64)
        #expect(Message.event(try largestEvent()).encode().count == Wire.maxFrameSize)
        let scan = SpawnerMessage.scanResult(pids: [UInt32](repeating: 7, count: SpawnerMessage.maxScanPIDs))
        #expect(scan.encode().count == Wire.headerSize + 2 + 4 * SpawnerMessage.maxScanPIDs)
    }

    @Test("type codes are in disjoint family ranges")
    func typeCodeRanges() throws {
        for message in try messageSamples() {
            #expect(Message.typeCodes.contains(message.typeCode))
        }
        for message in spawnerSamples {
            #expect(SpawnerMessage.typeCodes.contains(message.typeCode))
        }
        #expect(!Message.typeCodes.overlaps(SpawnerMessage.typeCodes))
    }

    @Test("encode(into:) appends a frame and reuses the buffer")
    func encodeInto() {
        var buffer: [UInt8] = [9, 9]
        Message.heartbeat.encode(into: &buffer)
        SpawnerMessage.scan.encode(into: &buffer)
        #expect(buffer == [9, 9] + Message.heartbeat.encode() + SpawnerMessage.scan.encode())
    }

    @Test("contiguous, raw-pointer and non-contiguous inputs decode alike")
    func inputShapes() throws {
        let message = Message.actionResult(id: 5, outcome: .completed, detail: "ok €")
        let bytes = message.encode()
        #expect(try Message.decode(bytes.lazy.map { $0 }) == message)
        #expect(try Message.decode(ContiguousArray(bytes)) == message)
        let padded = [0xEE] + bytes + [0xEE]
        #expect(try Message.decode(padded[1..<(padded.count - 1)]) == message)
        #expect(throws: WireError(.trailingBytes)) { try Message.decode((bytes + [0]).lazy.map { $0 }) }
        // A huge non-contiguous input is cut before copying but still reports the same error.
        let huge = bytes + [UInt8](repeating: 0, count: 3 * Wire.maxFrameSize)
        #expect(throws: WireError(.trailingBytes)) { try Message.decode(huge.lazy.map { $0 }) }
    }
}
