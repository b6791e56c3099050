// FlowForge — encoding and decoding of reaper <-> agent messages
// SPDX-License-Identifier: Apache-2.0

extension Message: FrameCodable {
    /// Encodes this message as one frame.
    ///
    /// Never traps and always yields a frame `decode` accepts. Values over a wire bound are
    /// clamped deterministically instead: strings are cut at a Unicode scalar boundary to
    /// `Wire.maxStringBytes`, and `output` bytes to their first `maxOutputChunk`. `Event`s are
    /// validated when created and never need clamping. Call `validate()` first to refuse
    /// instead of clamping.
    public func encode() -> [UInt8] {
        encodeFrame()
    }

    /// Appends this message's frame to `buffer` (same rules as `encode()`), reusing its capacity.
    public func encode(into buffer: inout [UInt8]) {
        encodeFrame(into: &buffer)
    }

    /// Decodes exactly one frame from a received datagram.
    public static func decode(_ frame: UnsafeRawBufferPointer) throws(WireError) -> Message {
        try decodeFrame(frame)
    }

    /// Decodes exactly one frame from any byte collection (contiguous storage is read in place).
    public static func decode(_ bytes: some Collection<UInt8>) throws(WireError) -> Message {
        try decodeFrame(bytes)
    }

    /// Throws the error `encode()` would otherwise avoid by clamping: `stringTooLong` for an
    /// over-long string, `invalidValue("bytes")` for an output chunk over `maxOutputChunk`.
    public func validate() throws(WireError) {
        switch self {
        case .welcome(let runID, _, _, _):
            try Message.check(runID)
        case .output(_, _, let bytes):
            guard bytes.count <= Message.maxOutputChunk else { throw .invalidValue("bytes") }
        case .actionRequest(_, _, _, let reason):
            try Message.check(reason)
        case .actionResult(_, _, let detail):
            try Message.check(detail)
        case .stopping(let reason):
            try Message.check(reason)
        case .hello, .heartbeat, .workerStarted, .workerExited, .outputDropped, .event, .testForbiddenSyscall:
            break
        }
    }

    private static func check(_ string: String) throws(WireError) {
        guard string.utf8.count <= Wire.maxStringBytes else { throw .stringTooLong }
    }

    var payloadSizeHint: Int {
        switch self {
        case .hello: 5
        case .welcome(let runID, _, _, _): wireStringSize(runID) + 12
        case .heartbeat, .testForbiddenSyscall: 0
        case .workerStarted: 20
        case .workerExited: 13
        case .output(_, _, let bytes): 9 + min(bytes.count, Message.maxOutputChunk)
        case .outputDropped: 8
        case .actionRequest(_, _, _, let reason): 13 + wireStringSize(reason)
        case .actionResult(_, _, let detail): 9 + wireStringSize(detail)
        case .event(let event): event.encodedSize
        case .stopping(let reason): wireStringSize(reason)
        }
    }

    func encodePayload(into writer: inout ByteWriter) {
        switch self {
        case let .hello(role, pid):
            writer.writeU8(role.rawValue)
            writer.writeU32(pid)
        case let .welcome(runID, reaperPID, workerPID, generation):
            writer.writeString(runID)
            writer.writeU32(reaperPID)
            writer.writeU32(workerPID)
            writer.writeU32(generation)
        case .heartbeat, .testForbiddenSyscall:
            break
        case let .workerStarted(generation, pid, pgid, startedAtNanos):
            writer.writeU32(generation)
            writer.writeU32(pid)
            writer.writeU32(pgid)
            writer.writeU64(startedAtNanos)
        case let .workerExited(generation, pid, exit):
            writer.writeU32(generation)
            writer.writeU32(pid)
            writer.writeU8(exit.kind.rawValue)
            writer.writeI32(exit.code)
        case let .output(generation, stream, bytes):
            writer.writeU32(generation)
            writer.writeU8(stream.rawValue)
            writer.writeBytes(bytes, maxCount: Message.maxOutputChunk)
        case let .outputDropped(totalBytes):
            writer.writeU64(totalBytes)
        case let .actionRequest(id, kind, generation, reason):
            writer.writeU64(id)
            writer.writeU8(kind.rawValue)
            writer.writeU32(generation)
            writer.writeString(reason)
        case let .actionResult(id, outcome, detail):
            writer.writeU64(id)
            writer.writeU8(outcome.rawValue)
            writer.writeString(detail)
        case let .event(event):
            event.encode(into: &writer)
        case let .stopping(reason):
            writer.writeString(reason)
        }
    }

    static func decodePayload(typeCode: UInt8, from reader: inout ByteReader) throws(WireError) -> Message {
        guard let code = TypeCode(rawValue: typeCode) else { throw WireError(.unknownType(typeCode)) }
        switch code {
        case .hello:
            let role = try reader.readEnum(AgentRole.self, field: "role")
            return .hello(role: role, pid: try reader.readU32())
        case .welcome:
            let runID = try reader.readString()
            let reaperPID = try reader.readU32()
            let workerPID = try reader.readU32()
            let generation = try reader.readU32()
            return .welcome(runID: runID, reaperPID: reaperPID, workerPID: workerPID, generation: generation)
        case .heartbeat:
            return .heartbeat
        case .workerStarted:
            let generation = try reader.readU32()
            let pid = try reader.readU32()
            let pgid = try reader.readU32()
            let startedAtNanos = try reader.readU64()
            return .workerStarted(generation: generation, pid: pid, pgid: pgid, startedAtNanos: startedAtNanos)
        case .workerExited:
            let generation = try reader.readU32()
            let pid = try reader.readU32()
            let kind = try reader.readEnum(ExitKind.self, field: "exit.kind")
            let code = try reader.readI32()
            return .workerExited(generation: generation, pid: pid, exit: ExitReport(kind: kind, code: code))
        case .output:
            let generation = try reader.readU32()
            let stream = try reader.readEnum(OutputStream.self, field: "stream")
            // The frame bound already keeps this within maxOutputChunk.
            return .output(generation: generation, stream: stream, bytes: try reader.readBytes())
        case .outputDropped:
            return .outputDropped(totalBytes: try reader.readU64())
        case .actionRequest:
            let id = try reader.readU64()
            let kind = try reader.readEnum(ActionKind.self, field: "kind")
            let generation = try reader.readU32()
            let reason = try reader.readString()
            return .actionRequest(id: id, kind: kind, generation: generation, reason: reason)
        case .actionResult:
            let id = try reader.readU64()
            let outcome = try reader.readEnum(ActionOutcome.self, field: "outcome")
            return .actionResult(id: id, outcome: outcome, detail: try reader.readString())
        case .event:
            return .event(try Event.decode(from: &reader))
        case .stopping:
            return .stopping(reason: try reader.readString())
        case .testForbiddenSyscall:
            return .testForbiddenSyscall
        }
    }
}
