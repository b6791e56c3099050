// FlowForge — the 8-byte frame header: validation on receive, writing on send
// SPDX-License-Identifier: Apache-2.0

/// The validated header of one received frame: its type code and payload length.
///
/// Layout: bytes 0-1 magic "FF", byte 2 `Wire.version`, byte 3 type code,
/// bytes 4-7 payload length as a big-endian UInt32.
public struct FrameHeader: Sendable, Equatable {
    /// The message type code (byte 3); not yet checked against a message family.
    public let typeCode: UInt8

    /// The payload length in bytes (bytes 4-7); at most `Wire.maxPayloadSize`.
    public let payloadLength: Int

    /// Checks the framing of a whole datagram and returns its header.
    ///
    /// Checks, in this order: at least `Wire.headerSize` bytes (`truncated`), magic (`badMagic`),
    /// version (`unsupportedVersion`), declared size within `Wire.maxFrameSize` (`oversized`),
    /// and buffer size exactly header + payload (`truncated` / `trailingBytes`).
    /// The type code and payload are left to the message family's decoder.
    public static func parse(_ frame: UnsafeRawBufferPointer) throws(WireError) -> FrameHeader {
        guard frame.count >= Wire.headerSize else { throw .truncated }
        guard frame[0] == Wire.magic0, frame[1] == Wire.magic1 else { throw WireError(.badMagic) }
        guard frame[2] == Wire.version else { throw WireError(.unsupportedVersion(frame[2])) }
        let declared = UInt32(bigEndian: frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard declared <= UInt32(Wire.maxPayloadSize) else {
            throw WireError(.oversized(Int(clamping: UInt64(declared) + UInt64(Wire.headerSize))))
        }
        let payloadLength = Int(declared)  // <= maxPayloadSize, so it fits
        let total = Wire.headerSize + payloadLength
        if frame.count < total { throw .truncated }
        if frame.count > total { throw .trailingBytes }
        return FrameHeader(typeCode: frame[3], payloadLength: payloadLength)
    }
}

extension ByteWriter {
    /// Appends a header with a placeholder length; returns the frame's start offset for `endFrame`.
    mutating func beginFrame(typeCode: UInt8) -> Int {
        let start = bytes.count
        bytes.append(Wire.magic0)
        bytes.append(Wire.magic1)
        bytes.append(Wire.version)
        bytes.append(typeCode)
        writeU32(0)
        return start
    }

    /// Patches the payload length of the frame begun at `start`.
    mutating func endFrame(start: Int) {
        let length = bytes.count - start - Wire.headerSize
        assert(length >= 0 && length <= Wire.maxPayloadSize, "frame payload exceeds Wire.maxPayloadSize")
        let value = UInt32(truncatingIfNeeded: length)
        bytes[start + 4] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[start + 5] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[start + 6] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[start + 7] = UInt8(truncatingIfNeeded: value)
    }
}
