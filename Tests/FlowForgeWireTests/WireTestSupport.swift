// FlowForge — frame builders, boundary samples and random generators for the wire tests
// SPDX-License-Identifier: Apache-2.0

import FlowForgeWire

// MARK: - Crafting raw frames

func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }

/// A wire string: u16 length + raw bytes (not validated, so tests can craft bad ones).
func wireString(_ bytes: [UInt8]) -> [UInt8] { be16(UInt16(bytes.count)) + bytes }
func wireString(_ s: String) -> [UInt8] { wireString(Array(s.utf8)) }

/// A frame around `payload`; every header field can be overridden to craft broken frames.
func frame(
    _ type: UInt8, _ payload: [UInt8] = [],
    magic: [UInt8] = [0x46, 0x46], version: UInt8 = Wire.version, length: UInt32? = nil
) -> [UInt8] {
    magic + [version, type] + be32(length ?? UInt32(payload.count)) + payload
}

/// Decodes through the raw-pointer entry point the reaper uses after recvmsg.
func decodeMessage(_ bytes: [UInt8]) -> Result<Message, WireError> {
    bytes.withUnsafeBytes { buffer in
        Result { () throws(WireError) -> Message in try Message.decode(buffer) }
    }
}

/// Decodes through the raw-pointer entry point the reaper uses after recvmsg.
func decodeSpawner(_ bytes: [UInt8]) -> Result<SpawnerMessage, WireError> {
    bytes.withUnsafeBytes { buffer in
        Result { () throws(WireError) -> SpawnerMessage in try SpawnerMessage.decode(buffer) }
    }
}

func hex(_ bytes: [UInt8], limit: Int = 96) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    for b in bytes.prefix(limit) {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return bytes.count > limit ? out + "…(\(bytes.count) bytes)" : out
}

// MARK: - Boundary samples of every case

/// A string of exactly `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte scalars.
func mixedString(bytes: Int) -> String {
    let pieces = ["é", "€", "😀", "a"]
    var s = ""
    var used = 0
    var i = 0
    while used < bytes {
        let piece = pieces[i % pieces.count]
        let n = piece.utf8.count
        if used + n <= bytes {
            s += piece
            used += n
        } else {
            s += "z"
            used += 1
        }
        i += 1
    }
    return s
}

let maxString = String(repeating: "x", count: Wire.maxStringBytes)
let maxMixedString = mixedString(bytes: Wire.maxStringBytes)

/// The largest event: 64-byte kind, 64 fields with 64-byte keys, filling the frame exactly.
func largestEvent() throws -> Event {
    let kind = String(repeating: "k", count: Event.maxKindBytes)
    // 16 fixed + kind, then 4 + key + value per field.
    let fixed = 2 + kind.utf8.count + 4 + 8 + 2
    let perFieldOverhead = 4 + Field.maxKeyBytes
    let budget = Event.maxEncodedSize - fixed - Event.maxFields * perFieldOverhead
    let base = budget / Event.maxFields
    var fields: [Field] = []
    for i in 0..<Event.maxFields {
        let key = mixedString(bytes: Field.maxKeyBytes - 2) + String(i % 10) + "k"
        let extra = i == Event.maxFields - 1 ? budget - base * Event.maxFields : 0
        fields.append(Field(key: key, value: mixedString(bytes: base + extra)))
    }
    return try Event(kind: kind, generation: .max, wallNanos: .min, fields: fields)
}

func messageSamples() throws -> [Message] {
    [
        .hello(role: .detector, pid: 0),
        .hello(role: .api, pid: .max),
        .welcome(runID: "", reaperPID: 0, workerPID: 0, generation: 0),
        .welcome(runID: "run-2024-01-01", reaperPID: 1, workerPID: 4242, generation: 7),
        .welcome(runID: maxString, reaperPID: .max, workerPID: .max, generation: .max),
        .welcome(runID: maxMixedString, reaperPID: 2, workerPID: 3, generation: 4),
        .heartbeat,
        .workerStarted(generation: 0, pid: 0, pgid: 0, startedAtNanos: 0),
        .workerStarted(generation: .max, pid: .max, pgid: .max, startedAtNanos: .max),
        .workerExited(generation: 1, pid: 99, exit: ExitReport(kind: .exited, code: 0)),
        .workerExited(generation: 2, pid: 100, exit: ExitReport(kind: .signaled, code: 9)),
        .workerExited(generation: .max, pid: .max, exit: ExitReport(kind: .exited, code: .min)),
        .output(generation: 1, stream: .stdout, bytes: []),
        .output(generation: 1, stream: .stderr, bytes: [0]),
        .output(generation: .max, stream: .stdout, bytes: (0..<Message.maxOutputChunk).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
        .outputDropped(totalBytes: 0),
        .outputDropped(totalBytes: .max),
        .actionRequest(id: 0, kind: .restart, generation: 0, reason: ""),
        .actionRequest(id: .max, kind: .kill, generation: .max, reason: maxMixedString),
        .actionResult(id: 1, outcome: .accepted, detail: ""),
        .actionResult(id: 2, outcome: .rejected, detail: "worker not running"),
        .actionResult(id: .max, outcome: .completed, detail: maxString),
        .event(try Event(kind: "", generation: 0, wallNanos: 0)),
        .event(try Event(kind: "worker.restarted", generation: 3, wallNanos: 1_700_000_000_000_000_000,
                         fields: [Field(key: "reason", value: "cpu"), Field(key: "", value: ""), Field(key: "ünï", value: "€😀\u{0}")])),
        .event(try Event(kind: String(repeating: "k", count: 64), generation: 1, wallNanos: -1,
                         fields: (0..<64).map { Field(key: String(repeating: "q", count: 64), value: "v\($0)") })),
        .event(try largestEvent()),
        .stopping(reason: ""),
        .stopping(reason: "SIGTERM received"),
        .stopping(reason: maxString),
        .testForbiddenSyscall,
    ]
}

let spawnerSamples: [SpawnerMessage] = [
    .spawnWorker(generation: 0),
    .spawnWorker(generation: .max),
    .spawnAgent(role: .detector),
    .spawnAgent(role: .api),
    .scan,
    .removeCgroup(generation: 0),
    .removeCgroup(generation: .max),
    .finish,
    .activity(generation: 1),
    .activity(generation: .max),
    .openSpool(segment: 2),
    .openSpool(segment: .max),
    .spoolOpened(segment: 2),
    .spoolOpened(segment: .max),
    .activityResult(syscalls: 0, bytes: 0, switches: 0, processes: 0),
    .activityResult(syscalls: .max, bytes: .max, switches: .max, processes: .max),
    .spawned(pid: 1, hasCgroup: true),
    .spawned(pid: .max, hasCgroup: false),
    .scanResult(pids: []),
    .scanResult(pids: [1]),
    .scanResult(pids: (0..<UInt32(SpawnerMessage.maxScanPIDs)).map { $0 &* 2_654_435_761 }),
    .failed(errno: 0, detail: ""),
    .failed(errno: -1, detail: "clone3: EPERM"),
    .failed(errno: .max, detail: maxMixedString),
    .failed(errno: .min, detail: maxString),
]

// MARK: - Random valid values

private let extremeU32: [UInt32] = [.max, .max - 1, 0x8000_0000]
private let extremeU64: [UInt64] = [0, 1, .max, 1 << 63]
/// 1- to 4-byte scalars at the UTF-8 encoding boundaries.
private let sampleScalars: [[UInt8]] = ["a", "Z", "0", " ", "\u{0}", "\u{7F}", "é", "\u{80}", "\u{7FF}", "€", "\u{800}",
                                        "\u{FFFF}", "\u{D7FF}", "\u{E000}", "😀", "\u{10000}", "\u{10FFFF}"].map { Array($0.utf8) }

extension SplitMix64 {
    mutating func pick<T>(_ values: [T]) -> T {
        values[below(values.count)]
    }

    /// Mostly small numbers, sometimes extremes, so boundaries get exercised.
    mutating func u32() -> UInt32 {
        switch below(4) {
        case 0: UInt32(below(4))
        case 1: pick(extremeU32)
        default: UInt32(truncatingIfNeeded: next())
        }
    }

    mutating func u64() -> UInt64 {
        chance(1, in: 4) ? pick(extremeU64) : next()
    }

    /// A valid string of at most `maxBytes` UTF-8 bytes; usually short, rarely at the limit.
    mutating func string(maxBytes: Int) -> String {
        let target: Int
        switch below(400) {
        case 0: target = maxBytes
        case 1...7: target = below(maxBytes + 1)
        default: target = below(min(maxBytes, 24) + 1)
        }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(target)
        while utf8.count < target {
            let piece = pick(sampleScalars)
            guard utf8.count + piece.count <= target else {
                utf8.append(0x61)
                continue
            }
            utf8.append(contentsOf: piece)
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    mutating func bytes(max: Int) -> [UInt8] {
        let count: Int
        switch below(400) {
        case 0: count = max
        case 1...3: count = below(max + 1)
        default: count = below(33)
        }
        var out = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            var word = next()
            for _ in 0..<8 where i < count {
                out[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        return out
    }

    mutating func event() -> Event {
        let count: Int
        switch below(50) {
        case 0: count = Event.maxFields
        default: count = below(6)
        }
        var fields: [Field] = []
        var budget = Event.maxEncodedSize - 80 - count * (4 + Field.maxKeyBytes)
        for _ in 0..<count {
            let value = string(maxBytes: min(Field.maxValueBytes, max(0, budget / max(count, 1))))
            budget -= value.utf8.count
            fields.append(Field(key: string(maxBytes: Field.maxKeyBytes), value: value))
        }
        do {
            return try Event(kind: string(maxBytes: Event.maxKindBytes), generation: u32(), wallNanos: Int64(bitPattern: u64()), fields: fields)
        } catch {
            fatalError("generator built an invalid event: \(error)")
        }
    }

    mutating func message() -> Message {
        switch below(12) {
        case 0: .hello(role: pick(AgentRole.allCases), pid: u32())
        case 1: .welcome(runID: string(maxBytes: Wire.maxStringBytes), reaperPID: u32(), workerPID: u32(), generation: u32())
        case 2: .heartbeat
        case 3: .workerStarted(generation: u32(), pid: u32(), pgid: u32(), startedAtNanos: u64())
        case 4: .workerExited(generation: u32(), pid: u32(), exit: ExitReport(kind: pick(ExitKind.allCases), code: Int32(bitPattern: u32())))
        case 5: .output(generation: u32(), stream: pick(OutputStream.allCases), bytes: bytes(max: Message.maxOutputChunk))
        case 6: .outputDropped(totalBytes: u64())
        case 7: .actionRequest(id: u64(), kind: pick(ActionKind.allCases), generation: u32(), reason: string(maxBytes: Wire.maxStringBytes))
        case 8: .actionResult(id: u64(), outcome: pick(ActionOutcome.allCases), detail: string(maxBytes: Wire.maxStringBytes))
        case 9: .event(event())
        case 10: .stopping(reason: string(maxBytes: Wire.maxStringBytes))
        default: .testForbiddenSyscall
        }
    }

    mutating func spawnerMessage() -> SpawnerMessage {
        switch below(12) {
        case 10: .openSpool(segment: u32())
        case 11: .spoolOpened(segment: u32())
        case 8: .activity(generation: u32())
        case 9: .activityResult(syscalls: u64(), bytes: u64(), switches: u64(), processes: u32())
        case 0: .spawnWorker(generation: u32())
        case 1: .spawnAgent(role: pick(AgentRole.allCases))
        case 2: .scan
        case 3: .removeCgroup(generation: u32())
        case 4: .finish
        case 5: .spawned(pid: u32(), hasCgroup: chance(1, in: 2))
        case 6:
            .scanResult(pids: (0..<(chance(1, in: 500) ? SpawnerMessage.maxScanPIDs : below(12))).map { _ in u32() })
        default: .failed(errno: Int32(bitPattern: u32()), detail: string(maxBytes: Wire.maxStringBytes))
        }
    }
}
