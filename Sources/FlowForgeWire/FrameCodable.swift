// FlowForge — shared encode/decode plumbing for the message families
// SPDX-License-Identifier: Apache-2.0

/// A message family that maps to and from one frame.
protocol FrameCodable {
    /// The frame type code of this value.
    var typeCode: UInt8 { get }

    /// A capacity hint for the payload (exact unless clamping applies).
    var payloadSizeHint: Int { get }

    /// Appends the payload fields.
    func encodePayload(into writer: inout ByteWriter)

    /// Decodes the payload of a frame whose header carried `typeCode`; throws `unknownType` for codes outside the family.
    static func decodePayload(typeCode: UInt8, from reader: inout ByteReader) throws(WireError) -> Self
}

extension FrameCodable {
    func encodeFrame(into buffer: inout [UInt8]) {
        var writer = ByteWriter()
        swap(&writer.bytes, &buffer)
        let start = writer.beginFrame(typeCode: typeCode)
        encodePayload(into: &writer)
        writer.endFrame(start: start)
        swap(&writer.bytes, &buffer)
    }

    func encodeFrame() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Wire.headerSize + min(payloadSizeHint, Wire.maxPayloadSize))
        encodeFrame(into: &buffer)
        return buffer
    }

    static func decodeFrame(_ frame: UnsafeRawBufferPointer) throws(WireError) -> Self {
        let header = try FrameHeader.parse(frame)
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: frame[Wire.headerSize...]))
        let value = try decodePayload(typeCode: header.typeCode, from: &reader)
        try reader.expectEnd()
        return value
    }

    static func decodeFrame(_ bytes: some Collection<UInt8>) throws(WireError) -> Self {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WireError) -> Self in try decodeFrame(UnsafeRawBufferPointer(buffer)) }
        }
        if let contiguous { return try contiguous.get() }
        // Anything longer than a maximal frame fails the same way after the first maxFrameSize + 1 bytes.
        let copy = [UInt8](bytes.prefix(Wire.maxFrameSize + 1))
        let result = copy.withUnsafeBytes { buffer in
            Result { () throws(WireError) -> Self in try decodeFrame(buffer) }
        }
        return try result.get()
    }
}

/// UTF-8 length of `string` once clamped to `maxBytes`, for size hints.
@inline(__always)
func wireStringSize(_ string: String, maxBytes: Int = Wire.maxStringBytes) -> Int {
    2 + min(string.utf8.count, maxBytes)
}
