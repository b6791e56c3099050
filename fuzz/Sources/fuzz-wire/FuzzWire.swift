// FlowForge — fuzz target: every decode entry point the reaper, the spawner and the agents use on another
// process's datagrams (FrameHeader.parse, Message.decode, SpawnerMessage.decode).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import FuzzSupport

/// Properties, for any bytes:
/// - no decoder traps; at most one message family accepts a datagram (their type codes are disjoint);
/// - an accepted frame is at most `Wire.maxFrameSize` bytes, its header says exactly its length, and its type
///   code is in its family's range;
/// - `encode(decode(x)) == x` (the decoder is strict, so the encoding is canonical), and `validate()` agrees;
/// - a decoded `.event` passes the checking `Event.init` unchanged (decoder and initializer enforce one bound);
/// - the generic entry points (an array, a non-contiguous collection) answer exactly as the raw pointer does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = UnsafeRawBufferPointer(start: data, count: size)
    let header = Result { () throws(WireError) -> FrameHeader in try FrameHeader.parse(frame) }
    let message = Result { () throws(WireError) -> Message in try Message.decode(frame) }
    let spawner = Result { () throws(WireError) -> SpawnerMessage in try SpawnerMessage.decode(frame) }

    if case .success(let h) = header {
        fuzzCheck(size <= Wire.maxFrameSize, "header accepted a \(size)-byte frame")
        fuzzCheck(h.payloadLength == size - Wire.headerSize, "header length \(h.payloadLength) for \(size) bytes")
    }
    if case .success(let m) = message {
        accepted(frame, typeCode: m.typeCode, family: Message.typeCodes, header: header)
        fuzzCheck(m.encode().elementsEqual(frame), "Message re-encodes differently: \(m) from \(fuzzHex(frame))")
        fuzzCheck((try? m.validate()) != nil, "decoded Message fails validate(): \(m)")
        if case .event(let e) = m {
            let checked = try? Event(kind: e.kind, generation: e.generation, wallNanos: e.wallNanos, fields: e.fields)
            fuzzCheck(checked == e, "decoded event refused by Event.init: \(e)")
        }
    }
    if case .success(let s) = spawner {
        accepted(frame, typeCode: s.typeCode, family: SpawnerMessage.typeCodes, header: header)
        fuzzCheck(s.encode().elementsEqual(frame), "SpawnerMessage re-encodes differently: \(s) from \(fuzzHex(frame))")
        fuzzCheck((try? s.validate()) != nil, "decoded SpawnerMessage fails validate(): \(s)")
    }
    if case .success = message, case .success = spawner { fuzzFail("both families accepted \(fuzzHex(frame))") }

    let bytes = Array(frame)
    let viaArray = Result { () throws(WireError) -> Message in try Message.decode(bytes) }
    let viaLazy = Result { () throws(WireError) -> SpawnerMessage in try SpawnerMessage.decode(bytes.lazy.map { $0 }) }
    let lazyMessage = Result { () throws(WireError) -> Message in try Message.decode(bytes.lazy.map { $0 }) }
    fuzzCheck(viaArray == message, "array decode \(viaArray) differs from pointer decode \(message)")
    fuzzCheck(viaLazy == spawner, "non-contiguous decode \(viaLazy) differs from pointer decode \(spawner)")
    fuzzCheck(lazyMessage == message, "non-contiguous decode \(lazyMessage) differs from pointer decode \(message)")
    return 0
}

private func accepted(_ frame: UnsafeRawBufferPointer, typeCode: UInt8, family: ClosedRange<UInt8>,
                      header: Result<FrameHeader, WireError>) {
    fuzzCheck(frame.count <= Wire.maxFrameSize, "accepted a \(frame.count)-byte frame")
    fuzzCheck(family.contains(typeCode), "type code \(typeCode) outside \(family)")
    guard case .success(let h) = header else { fuzzFail("accepted a frame whose header fails") }
    fuzzCheck(h.typeCode == typeCode, "header type \(h.typeCode), message type \(typeCode)")
}
