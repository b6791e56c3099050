// FlowForge — encoding and decoding of reaper <-> spawner messages
// SPDX-License-Identifier: Apache-2.0

extension SpawnerMessage: FrameCodable {
    /// Encodes this message as one frame.
    ///
    /// Never traps and always yields a frame `decode` accepts. Values over a wire bound are
    /// clamped deterministically instead: `detail` is cut at a Unicode scalar boundary to
    /// `Wire.maxStringBytes`, and `pids` to their first `maxScanPIDs`. Call `validate()`
    /// first to refuse instead of clamping.
    public func encode() -> [UInt8] {
        encodeFrame()
    }

    /// Appends this message's frame to `buffer` (same rules as `encode()`), reusing its capacity.
    public func encode(into buffer: inout [UInt8]) {
        encodeFrame(into: &buffer)
    }

    /// Decodes exactly one frame from a received datagram.
    public static func decode(_ frame: UnsafeRawBufferPointer) throws(WireError) -> SpawnerMessage {
        try decodeFrame(frame)
    }

    /// Decodes exactly one frame from any byte collection (contiguous storage is read in place).
    public static func decode(_ bytes: some Collection<UInt8>) throws(WireError) -> SpawnerMessage {
        try decodeFrame(bytes)
    }

    /// Throws the error `encode()` would otherwise avoid by clamping: `stringTooLong` for an
    /// over-long `detail`, `invalidValue("pids")` for more than `maxScanPIDs` pids.
    public func validate() throws(WireError) {
        switch self {
        case .scanResult(let pids):
            guard pids.count <= SpawnerMessage.maxScanPIDs else { throw .invalidValue("pids") }
        case .failed(_, let detail):
            guard detail.utf8.count <= Wire.maxStringBytes else { throw .stringTooLong }
        case .spawnWorker, .spawnAgent, .scan, .removeCgroup, .finish, .spawned, .activity, .activityResult, .openSpool, .spoolOpened:
            break
        }
    }

    var payloadSizeHint: Int {
        switch self {
        case .spawnWorker, .removeCgroup, .activity, .openSpool, .spoolOpened: 4
        case .activityResult: 28
        case .spawnAgent: 1
        case .scan, .finish: 0
        case .spawned: 5
        case .scanResult(let pids): 2 + 4 * min(pids.count, SpawnerMessage.maxScanPIDs)
        case .failed(_, let detail): 4 + wireStringSize(detail)
        }
    }

    func encodePayload(into writer: inout ByteWriter) {
        switch self {
        case let .spawnWorker(generation):
            writer.writeU32(generation)
        case let .spawnAgent(role):
            writer.writeU8(role.rawValue)
        case .scan, .finish:
            break
        case let .removeCgroup(generation), let .activity(generation), let .openSpool(generation), let .spoolOpened(generation):
            writer.writeU32(generation)
        case let .activityResult(syscalls, bytes, switches, processes):
            writer.writeU64(syscalls)
            writer.writeU64(bytes)
            writer.writeU64(switches)
            writer.writeU32(processes)
        case let .spawned(pid, hasCgroup):
            writer.writeU32(pid)
            writer.writeBool(hasCgroup)
        case let .scanResult(pids):
            writer.writeU32Array(pids, maxCount: SpawnerMessage.maxScanPIDs)
        case let .failed(errno, detail):
            writer.writeI32(errno)
            writer.writeString(detail)
        }
    }

    static func decodePayload(typeCode: UInt8, from reader: inout ByteReader) throws(WireError) -> SpawnerMessage {
        guard let code = TypeCode(rawValue: typeCode) else { throw WireError(.unknownType(typeCode)) }
        switch code {
        case .spawnWorker:
            return .spawnWorker(generation: try reader.readU32())
        case .spawnAgent:
            return .spawnAgent(role: try reader.readEnum(AgentRole.self, field: "role"))
        case .scan:
            return .scan
        case .removeCgroup:
            return .removeCgroup(generation: try reader.readU32())
        case .finish:
            return .finish
        case .activity:
            return .activity(generation: try reader.readU32())
        case .openSpool:
            return .openSpool(segment: try reader.readU32())
        case .spoolOpened:
            return .spoolOpened(segment: try reader.readU32())
        case .activityResult:
            let syscalls = try reader.readU64()
            let bytes = try reader.readU64()
            let switches = try reader.readU64()
            return .activityResult(syscalls: syscalls, bytes: bytes, switches: switches, processes: try reader.readU32())
        case .spawned:
            let pid = try reader.readU32()
            return .spawned(pid: pid, hasCgroup: try reader.readBool(field: "hasCgroup"))
        case .scanResult:
            return .scanResult(pids: try reader.readU32Array(maxCount: maxScanPIDs, field: "pids"))
        case .failed:
            let errno = try reader.readI32()
            return .failed(errno: errno, detail: try reader.readString())
        }
    }
}
