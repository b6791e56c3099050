// FlowForge — bounds-checked big-endian reader over a received payload
// SPDX-License-Identifier: Apache-2.0

/// A cursor reading wire primitives from a borrowed buffer; every read is bounds-checked and throws instead of trapping.
///
/// The reader does not own its memory: it must not outlive the buffer it was created from.
struct ByteReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    /// Bytes not yet consumed.
    var remaining: Int { buffer.count - offset }

    /// Whether every byte has been consumed.
    var isAtEnd: Bool { offset == buffer.count }

    /// Throws `trailingBytes` unless every byte has been consumed.
    func expectEnd() throws(WireError) {
        guard isAtEnd else { throw .trailingBytes }
    }

    mutating func readU8() throws(WireError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        let value = buffer[offset]
        offset += 1
        return value
    }

    mutating func readU16() throws(WireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        offset += 2
        return UInt16(bigEndian: raw)
    }

    mutating func readU32() throws(WireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(bigEndian: raw)
    }

    mutating func readU64() throws(WireError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(bigEndian: raw)
    }

    mutating func readI32() throws(WireError) -> Int32 {
        Int32(bitPattern: try readU32())
    }

    mutating func readI64() throws(WireError) -> Int64 {
        Int64(bitPattern: try readU64())
    }

    /// A Bool is one byte, exactly 0 or 1.
    mutating func readBool(field: String) throws(WireError) -> Bool {
        switch try readU8() {
        case 0: return false
        case 1: return true
        default: throw .invalidValue(field)
        }
    }

    /// A Double is its IEEE-754 bit pattern as a big-endian u64; `finite` rejects NaN and infinities.
    mutating func readDouble(field: String, finite: Bool) throws(WireError) -> Double {
        let value = Double(bitPattern: try readU64())
        if finite, !value.isFinite { throw .invalidValue(field) }
        return value
    }

    /// A one-byte enumeration code mapped through `init(rawValue:)`.
    mutating func readEnum<E: RawRepresentable>(_: E.Type, field: String) throws(WireError) -> E
    where E.RawValue == UInt8 {
        guard let value = E(rawValue: try readU8()) else { throw .invalidValue(field) }
        return value
    }

    /// A string is a u16 byte length plus that many bytes of strict UTF-8, at most `maxBytes` long.
    mutating func readString(maxBytes: Int = Wire.maxStringBytes) throws(WireError) -> String {
        let count = Int(try readU16())
        guard count <= maxBytes else { throw .stringTooLong }
        guard count <= remaining else { throw .truncated }
        if count == 0 { return "" }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        guard UTF8Validation.isValid(bytes) else { throw .invalidUTF8 }
        offset += count
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Raw bytes are a u32 length plus that many bytes.
    mutating func readBytes() throws(WireError) -> [UInt8] {
        let declared = try readU32()
        guard declared <= UInt32(clamping: remaining) else { throw .truncated }
        let count = Int(declared)  // <= remaining, so it fits
        let bytes = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
        offset += count
        return bytes
    }

    /// An array of u32 is a u16 count (at most `maxCount`) plus that many big-endian u32.
    mutating func readU32Array(maxCount: Int, field: String) throws(WireError) -> [UInt32] {
        let count = Int(try readU16())
        guard count <= maxCount else { throw .invalidValue(field) }
        guard count * 4 <= remaining else { throw .truncated }
        let start = offset
        let source = buffer
        let values = [UInt32](unsafeUninitializedCapacity: count) { dest, initialized in
            for i in 0..<count {
                let raw = source.loadUnaligned(fromByteOffset: start + i * 4, as: UInt32.self)
                dest.initializeElement(at: i, to: UInt32(bigEndian: raw))
            }
            initialized = count
        }
        offset += count * 4
        return values
    }
}
